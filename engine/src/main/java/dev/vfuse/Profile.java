package dev.vfuse;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Where the time of a run goes: every step of the planned (fused) graph, timed over several runs.
 * Made by {@link Model#profile}. Per step ({@link Layer}): the kernel and vector width that ran
 * it, its shapes, FLOPs, the bytes it must move, and its median time. Per run ({@link Run}): when
 * each step started and how long it took, and ({@link ThreadSpan}) which threads ran its tasks
 * when a kernel split it over the model's threads: what {@link #toChromeTrace()} draws.
 *
 * <p>The steps' medians add up to about the median run ({@link #coverage()} says how closely), the
 * rest being the executor's own work between steps and the noise of medians.
 *
 * @param layers the steps in execution order
 * @param runs how many runs were timed
 * @param medianRunNanos the median wall time of a whole profiled run
 * @param backend the kernels that ran, e.g. {@code simd(512-bit, 16 floats)}
 * @param threads the model's intra-op threads (the caller included)
 * @param callerThread the name of the thread that ran the profile, on which runs and steps are
 * @param timeline each timed run, in order
 * @param spans per-thread work of the steps whose kernels handed out tasks, every run
 */
public record Profile(List<Layer> layers, int runs, long medianRunNanos, String backend, int threads, String callerThread,
    List<Run> timeline, List<ThreadSpan> spans) {

  /**
   * One step of the planned graph.
   *
   * @param node the node's name (a fused node keeps the name of its convolution)
   * @param op the operator ({@code Conv} also for a conv with fused parts; {@code ConvBlocked} on
   *     the channel-blocked layout)
   * @param fused what the fused node does after its operator, e.g. {@code [Add, Relu]} (BatchNorms
   *     folded into the weights leave no trace at run time; the fusion report has them)
   * @param kernel the prepared kernel that ran it (for example {@code F32DwConvBlocked},
   *     {@code F32Conv3x3Winograd}), or "" for the backend's plain methods
   * @param calls the backend methods the step called, by implementation: {@code simd.binary} for
   *     the Vector API's, {@code reference.resize2d} for the scalar reference's; empty when it calls
   *     none (a prepared kernel, or data the operator moves itself)
   * @param vectorBits the Vector API width that ran it, 0 for scalar code, −1 for a step that calls
   *     no kernel (shape and copy operators)
   * @param inputShapes the shapes of its inputs (empty for an absent optional input)
   * @param outputShape the shape of its first output
   * @param flops floating-point operations of a convolution or matrix product (two per
   *     multiply-add), 0 for other operators
   * @param bytes the bytes it moves at least: every input (weights included) read once and every
   *     output written once
   * @param medianNanos the median of its wall time over the runs
   */
  public record Layer(String node, String op, List<String> fused, String kernel, List<String> calls, int vectorBits,
      List<int[]> inputShapes, int[] outputShape, long flops, long bytes, long medianNanos) {

    public Layer {
      fused = List.copyOf(fused);
      calls = List.copyOf(calls);
      inputShapes = List.copyOf(inputShapes);
    }

    /** GFLOP/s at the median time, 0 for a step that does no counted work. */
    public double gflopsPerSecond() {
      return medianNanos == 0 ? 0 : (double) flops / medianNanos;
    }

    /** FLOPs per byte moved: where the step sits on a roofline's x axis. */
    public double flopsPerByte() {
      return bytes == 0 ? 0 : (double) flops / bytes;
    }

    /** The op with its fused parts, {@code Conv+Add+Relu}. */
    public String opWithFused() {
      return fused.isEmpty() ? op : op + "+" + String.join("+", fused);
    }

    /** The prepared kernel, else the backend methods called, else "-". */
    public String kernelOrCalls() {
      return !kernel.isEmpty() ? kernel : calls.isEmpty() ? "-" : String.join("+", calls);
    }

    /** {@code 512}, {@code scalar} or {@code -}. */
    public String vector() {
      return vectorBits > 0 ? Integer.toString(vectorBits) : vectorBits == 0 ? "scalar" : "-";
    }
  }

  /**
   * One timed run, times relative to the first run's start.
   *
   * @param startNanos when the run started
   * @param nanos its wall time
   * @param stepStartNanos when each step started, in plan order
   * @param stepNanos each step's wall time on the calling thread
   */
  public record Run(long startNanos, long nanos, long[] stepStartNanos, long[] stepNanos) {
    /** The steps' times added: the part of the run the steps explain. */
    public long stepsNanos() {
      return Arrays.stream(stepNanos).sum();
    }
  }

  /**
   * The work one thread did on one step of one run, when the step's kernel split it into tasks
   * over the model's threads: from its first task's start to its last task's end (relative to the
   * first run's start), the time inside tasks, and how many tasks it ran.
   */
  public record ThreadSpan(int run, int step, String thread, long startNanos, long endNanos, long busyNanos, int tasks) {}

  public Profile {
    layers = List.copyOf(layers);
    timeline = List.copyOf(timeline);
    spans = List.copyOf(spans);
  }

  /** The sum of the steps' medians over the median run: near 1 when the steps explain the run. */
  public double coverage() {
    return medianRunNanos == 0 ? 0 : (double) stepsMedianNanos() / medianRunNanos;
  }

  /** The steps' medians added: the total of a table's rows. */
  public long stepsMedianNanos() {
    long sum = 0;
    for (Layer layer : layers) {
      sum += layer.medianNanos();
    }
    return sum;
  }

  /** Over all runs, the steps' times added over the runs' times: the share of the trace the steps fill. */
  public double stepsShareOfRuns() {
    long steps = 0;
    long runs = 0;
    for (Run run : timeline) {
      steps += run.stepsNanos();
      runs += run.nanos();
    }
    return runs == 0 ? 0 : (double) steps / runs;
  }

  /** The layers, slowest first. */
  public List<Layer> slowestFirst() {
    List<Layer> sorted = new ArrayList<>(layers);
    sorted.sort(Comparator.comparingLong(Layer::medianNanos).reversed());
    return sorted;
  }

  /** Node names longer than this are cut in {@link #table}. */
  private static final int NODE_WIDTH = 64;

  /** {@link #table(MachineProbe)} without the peak column. */
  public String table() {
    return table(null);
  }

  /**
   * A plain-text table, slowest first: node, op and fused parts, kernel, vector width, first input
   * and output shape, median µs, share of the median run, GFLOP, GFLOP/s, % of peak (with a
   * probe: of {@code threads} cores' peak), MB moved and FLOPs per byte; then how closely the rows
   * add up to the median run.
   */
  public String table(MachineProbe probe) {
    String nl = System.lineSeparator();
    StringBuilder out = new StringBuilder();
    int nodeWidth = Math.min(NODE_WIDTH, layers.stream().mapToInt(l -> l.node().length()).max().orElse(4));
    nodeWidth = Math.max(nodeWidth, 4);
    String row = "%-" + nodeWidth + "s %-22s %-26s %6s %-16s %-16s ";
    out.append(String.format(Locale.ROOT, row + "%9s %6s %7s %8s %6s %8s %7s%n", "node", "op",
        "kernel", "vec", "input", "output", "median us", "share", "GFLOP", "GFLOP/s", "%peak", "MB", "FLOP/B"));
    for (Layer layer : slowestFirst()) {
      String peak = probe == null || layer.flops() == 0 ? "-"
          : String.format(Locale.ROOT, "%.1f", 100 * layer.gflopsPerSecond() / (probe.peakGflops() * threads));
      out.append(String.format(Locale.ROOT, row + "%9.1f %5.1f%% %7.3f %8.1f %6s %8.3f %7.1f%n",
          clip(layer.node(), nodeWidth), clip(layer.opWithFused(), 22), clip(layer.kernelOrCalls(), 26), layer.vector(),
          shape(layer.inputShapes().isEmpty() ? new int[0] : layer.inputShapes().get(0)), shape(layer.outputShape()),
          layer.medianNanos() / 1e3, 100.0 * layer.medianNanos() / medianRunNanos, layer.flops() / 1e9,
          layer.gflopsPerSecond(), peak, layer.bytes() / 1e6, layer.flopsPerByte()));
    }
    long total = stepsMedianNanos();
    out.append(String.format(Locale.ROOT, "rows add up to %.1f us, the median run is %.1f us over %d runs: %.1f%% of it "
        + "(%+.1f%%)%s", total / 1e3, medianRunNanos / 1e3, runs, 100 * coverage(), 100 * (coverage() - 1), nl));
    return out.toString();
  }

  /**
   * The rows as CSV, in execution order, one header line: node, op, fused, kernel, vector_bits,
   * input_shapes, output_shape, median_us, share, flops, gflops_per_s, peak_percent (empty without a
   * probe or for uncounted work), bytes, flops_per_byte. Shapes are written {@code 1x3x224x224},
   * several separated by {@code ;}.
   */
  public String toCsv(MachineProbe probe) {
    StringBuilder out = new StringBuilder(
        "node,op,fused,kernel,vector_bits,input_shapes,output_shape,median_us,share,flops,gflops_per_s,peak_percent,bytes,flops_per_byte\n");
    for (Layer l : layers) {
      String peak = probe == null || l.flops() == 0 ? ""
          : String.format(Locale.ROOT, "%.3f", 100 * l.gflopsPerSecond() / (probe.peakGflops() * threads));
      out.append(String.join(",", csv(l.node()), csv(l.op()), csv(String.join("+", l.fused())), csv(l.kernelOrCalls()),
          Integer.toString(l.vectorBits()), csv(l.inputShapes().stream().map(Profile::csvShape).collect(Collectors.joining(";"))),
          csvShape(l.outputShape()), String.format(Locale.ROOT, "%.3f", l.medianNanos() / 1e3),
          String.format(Locale.ROOT, "%.5f", (double) l.medianNanos() / medianRunNanos), Long.toString(l.flops()),
          String.format(Locale.ROOT, "%.3f", l.gflopsPerSecond()), peak, Long.toString(l.bytes()),
          String.format(Locale.ROOT, "%.4f", l.flopsPerByte()))).append('\n');
    }
    return out.toString();
  }

  /**
   * The runs in Chrome's trace-event format (JSON; opens in Perfetto and chrome://tracing): one
   * complete event ({@code "ph": "X"}) per run (category {@code run}) and per step and run
   * (category {@code step}, on the calling thread, with op, kernel, FLOPs and bytes in
   * {@code args}), and, for each step a kernel split over the model's threads, one per thread
   * that ran tasks of it (category {@code tasks}, on that thread's {@code tid}, with the task count
   * and the time inside tasks). Thread names come as metadata events. Times in µs.
   */
  public String toChromeTrace() {
    Map<String, Integer> tids = new LinkedHashMap<>();
    tids.put(callerThread, 1);
    for (ThreadSpan s : spans) {
      tids.putIfAbsent(s.thread(), tids.size() + 1);
    }
    List<String> events = new ArrayList<>();
    events.add("{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"tid\":1,\"args\":{\"name\":\"vfuse " + json(backend)
        + ", " + threads + " thread(s)\"}}");
    tids.forEach((name, tid) -> events.add("{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":" + tid
        + ",\"args\":{\"name\":\"" + json(name) + "\"}}"));
    for (int r = 0; r < timeline.size(); r++) {
      Run run = timeline.get(r);
      events.add(event("run " + r, "run", 1, run.startNanos(), run.nanos(), "\"run\":" + r));
      for (int s = 0; s < layers.size(); s++) {
        Layer l = layers.get(s);
        events.add(event(l.node(), "step", 1, run.stepStartNanos()[s], run.stepNanos()[s], "\"run\":" + r + ",\"op\":\""
            + json(l.opWithFused()) + "\",\"kernel\":\"" + json(l.kernelOrCalls()) + "\",\"vector\":\"" + l.vector()
            + "\",\"flops\":" + l.flops() + ",\"bytes\":" + l.bytes()));
      }
    }
    for (ThreadSpan s : spans) {
      events.add(event(layers.get(s.step()).node(), "tasks", tids.get(s.thread()), s.startNanos(), s.endNanos() - s.startNanos(),
          "\"run\":" + s.run() + ",\"tasks\":" + s.tasks() + ",\"busy_us\":" + micros(s.busyNanos())));
    }
    return "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n" + String.join(",\n", events) + "\n]}\n";
  }

  private static String event(String name, String category, int tid, long startNanos, long nanos, String args) {
    return "{\"name\":\"" + json(name) + "\",\"cat\":\"" + category + "\",\"ph\":\"X\",\"pid\":1,\"tid\":" + tid + ",\"ts\":"
        + micros(startNanos) + ",\"dur\":" + micros(nanos) + ",\"args\":{" + args + "}}";
  }

  private static String micros(long nanos) {
    return String.format(Locale.ROOT, "%.3f", nanos / 1e3);
  }

  private static String json(String s) {
    StringBuilder out = new StringBuilder();
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        default -> {
          if (c < 0x20) {
            out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.toString();
  }

  private static String csv(String s) {
    return s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
  }

  private static String csvShape(int[] shape) {
    return Arrays.stream(shape).mapToObj(Integer::toString).collect(Collectors.joining("x"));
  }

  private static String shape(int[] shape) {
    return Arrays.toString(shape).replace(" ", "");
  }

  private static String clip(String s, int width) {
    return s.length() <= width ? s : s.substring(0, width - 1) + "…";
  }
}
