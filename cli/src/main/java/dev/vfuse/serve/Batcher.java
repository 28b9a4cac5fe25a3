package dev.vfuse.serve;

import dev.vfuse.ElementType;
import dev.vfuse.InvalidInputException;
import dev.vfuse.Model;
import dev.vfuse.Tensor;
import dev.vfuse.ValueInfo;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The bounded queue between the HTTP handlers and the model, and the worker threads that run it.
 *
 * <p>Why a queue and not a run per handler thread: the number of model runs at once stays at
 * {@code workers} however many clients connect (each run already uses the model's intra-op
 * threads), and requests that wait together can be joined into one run. A worker takes the oldest
 * request and, when the model's batch axis is dynamic, joins the requests queued right behind it
 * whose inputs match in everything but axis 0, up to {@code maxBatch} samples; it never waits for
 * more to arrive, so batching adds no latency when the server is idle. The joined run's outputs are
 * split along axis 0. If a joined run refuses its input, each request runs alone so that only the
 * bad one fails; if its outputs do not split (an output whose axis 0 is not the batch), batching
 * is turned off for good and each request runs alone.
 */
final class Batcher implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Batcher.class.getName());

  /** One request's inputs, its number of samples (axis 0 when batching), and where its outputs go. */
  record Job(Map<String, Tensor> inputs, int samples, CompletableFuture<Map<String, Tensor>> result) {}

  /** A job still queued when the server stops. */
  static final class ShuttingDownException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ShuttingDownException() {
      super("the server is shutting down");
    }
  }

  /** What runs the model: {@link Model#run(Map)}, or in tests a stand-in that can hold a worker. */
  @FunctionalInterface
  interface Runner {
    Map<String, Tensor> run(Map<String, Tensor> inputs) throws Exception;
  }

  private final Runner runner;
  private final ArrayBlockingQueue<Job> queue;
  private final int maxBatch;
  private final ServerMetrics metrics;
  private final Object joinLock = new Object();
  private final List<Thread> workers = new ArrayList<>();
  private volatile boolean batching;
  private volatile boolean stopped;

  Batcher(Model model, Runner runner, ServerConfig config, ServerMetrics metrics) {
    this.runner = runner;
    this.queue = new ArrayBlockingQueue<>(config.maxQueue());
    this.maxBatch = config.maxBatch();
    this.metrics = metrics;
    this.batching = config.maxBatch() > 1 && batchAxisIsDynamic(model);
    for (int i = 0; i < config.workers(); i++) {
      Thread t = new Thread(this::work, "vfuse-serve-worker-" + i);
      t.setDaemon(true);
      workers.add(t);
    }
    workers.forEach(Thread::start);
  }

  /**
   * Whether requests can be joined: every input has a dynamic axis 0 (with one name, when there are
   * several inputs, so that the model itself holds them to one size), and every output has a
   * dynamic axis 0 or no declared shape (then the split checks it at run time).
   */
  static boolean batchAxisIsDynamic(Model model) {
    java.util.Set<String> names = new java.util.HashSet<>();
    for (ValueInfo in : model.inputs()) {
      if (in.rank() == 0 || in.dims().get(0) >= 0) {
        return false;
      }
      names.add(String.valueOf(in.dimNames().get(0)));
    }
    if (model.inputs().size() > 1 && (names.size() > 1 || names.contains("?") || names.contains("null"))) {
      return false;
    }
    for (ValueInfo out : model.outputs()) {
      if (out.rank() > 0 && out.dims().get(0) >= 0) {
        return false;
      }
    }
    return true;
  }

  boolean batching() {
    return batching;
  }

  /** Queues a job; false when the queue is full. */
  boolean offer(Job job) {
    return !stopped && queue.offer(job);
  }

  int queued() {
    return queue.size();
  }

  private void work() {
    while (!stopped) {
      Job first;
      try {
        first = queue.poll(200, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        return;
      }
      if (first != null) {
        List<Job> batch = join(first);
        try {
          run(batch);
        } catch (Throwable t) { // a worker never dies with requests waiting on it
          LOG.log(Level.ERROR, "a batch of " + batch.size() + " requests failed", t);
          batch.forEach(job -> job.result().completeExceptionally(t));
        }
      }
    }
  }

  /** The first job and the compatible ones queued right behind it, up to maxBatch samples. */
  private List<Job> join(Job first) {
    List<Job> batch = new ArrayList<>(List.of(first));
    if (!batching) {
      return batch;
    }
    int samples = first.samples();
    synchronized (joinLock) { // peek and poll as one step among the workers
      Job next;
      while ((next = queue.peek()) != null && samples + next.samples() <= maxBatch && joinable(first, next)) {
        batch.add(queue.poll());
        samples += next.samples();
      }
    }
    return batch;
  }

  /** Same input names, element types and shapes except axis 0. */
  private static boolean joinable(Job a, Job b) {
    if (!a.inputs().keySet().equals(b.inputs().keySet())) {
      return false;
    }
    for (Map.Entry<String, Tensor> e : a.inputs().entrySet()) {
      Tensor x = e.getValue();
      Tensor y = b.inputs().get(e.getKey());
      int[] xs = x.shape();
      int[] ys = y.shape();
      if (x.elementType() != y.elementType() || xs.length != ys.length || xs.length == 0
          || !Arrays.equals(xs, 1, xs.length, ys, 1, ys.length)) {
        return false;
      }
    }
    return true;
  }

  private void run(List<Job> batch) {
    if (batch.size() == 1) {
      runAlone(batch.get(0));
      return;
    }
    int total = batch.stream().mapToInt(Job::samples).sum();
    Map<String, Tensor> outputs;
    try {
      outputs = timedRun(concat(batch), total);
    } catch (InvalidInputException e) {
      batch.forEach(this::runAlone); // only the request at fault fails
      return;
    } catch (Throwable t) {
      batch.forEach(job -> job.result().completeExceptionally(t));
      return;
    }
    for (Map.Entry<String, Tensor> out : outputs.entrySet()) {
      Tensor t = out.getValue();
      if (t.rank() == 0 || t.dim(0) != total) {
        LOG.log(Level.WARNING, "batching off: output ''{0}'' has shape {1} for a batch of {2} samples; each request runs alone",
            out.getKey(), Arrays.toString(t.shape()), total);
        batching = false;
        batch.forEach(this::runAlone);
        return;
      }
    }
    Map<String, Object> values = new LinkedHashMap<>(); // each output's array, copied out once
    for (Map.Entry<String, Tensor> out : outputs.entrySet()) {
      Tensor t = out.getValue();
      values.put(out.getKey(), t.elementType() == ElementType.INT64 ? t.longs() : t.floats());
    }
    int offset = 0;
    for (Job job : batch) {
      Map<String, Tensor> mine = new LinkedHashMap<>();
      for (Map.Entry<String, Tensor> out : outputs.entrySet()) {
        mine.put(out.getKey(), slice(out.getValue().shape(), values.get(out.getKey()), offset, job.samples(), total));
      }
      offset += job.samples();
      job.result().complete(mine);
    }
  }

  private void runAlone(Job job) {
    try {
      job.result().complete(timedRun(job.inputs(), job.samples()));
    } catch (Throwable t) {
      job.result().completeExceptionally(t);
    }
  }

  private Map<String, Tensor> timedRun(Map<String, Tensor> inputs, int samples) throws Exception {
    Map<String, Tensor> out = runner.run(inputs);
    metrics.modelRun(samples);
    return out;
  }

  /** The jobs' inputs joined along axis 0, in job order. */
  private static Map<String, Tensor> concat(List<Job> batch) {
    Map<String, Tensor> joined = new LinkedHashMap<>();
    for (String name : batch.get(0).inputs().keySet()) {
      Tensor first = batch.get(0).inputs().get(name);
      int[] shape = first.shape();
      int rows = 0;
      for (Job job : batch) {
        rows += job.inputs().get(name).dim(0);
      }
      shape[0] = rows;
      int n = Math.multiplyExact(rows, first.size() / first.dim(0));
      if (first.elementType() == ElementType.INT64) {
        long[] data = new long[n];
        int at = 0;
        for (Job job : batch) {
          long[] part = job.inputs().get(name).longs();
          System.arraycopy(part, 0, data, at, part.length);
          at += part.length;
        }
        joined.put(name, Tensor.ofLongs(shape, data));
      } else {
        float[] data = new float[n];
        int at = 0;
        for (Job job : batch) {
          Tensor part = job.inputs().get(name);
          float[] values = part.floats();
          System.arraycopy(values, 0, data, at, values.length);
          at += values.length;
        }
        joined.put(name, Tensor.ofFloats(shape, data));
      }
    }
    return joined;
  }

  /** Rows [offset, offset + rows) of axis 0 of an output of {@code shape} (axis 0 {@code total}) and {@code data}. */
  private static Tensor slice(int[] shape, Object data, int offset, int rows, int total) {
    int rowSize = (data instanceof long[] l ? l.length : ((float[]) data).length) / total;
    int[] part = shape.clone();
    part[0] = rows;
    int from = offset * rowSize;
    int to = from + rows * rowSize;
    return data instanceof long[] l
        ? Tensor.ofLongs(part, Arrays.copyOfRange(l, from, to))
        : Tensor.ofFloats(part, Arrays.copyOfRange((float[]) data, from, to));
  }

  /** Stops the workers after their current run; jobs still queued fail with {@link ShuttingDownException}. */
  @Override
  public void close() {
    stopped = true;
    for (Thread t : workers) {
      try {
        t.join(TimeUnit.SECONDS.toMillis(30));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    Job left;
    while ((left = queue.poll()) != null) {
      left.result().completeExceptionally(new ShuttingDownException());
    }
  }
}
