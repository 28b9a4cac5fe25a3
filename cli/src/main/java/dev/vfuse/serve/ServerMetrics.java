package dev.vfuse.serve;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;

/**
 * The counters {@code GET /metrics} reports, in the Prometheus text format (version 0.0.4): requests
 * by route and status, errors, rejections, queue depth, requests in flight, model runs and the
 * samples they carried, and a latency histogram of infer requests. Lock-free; a scrape reads each
 * counter once, so a scrape during load is consistent per counter, not across counters.
 */
final class ServerMetrics {
  /** Latency bucket bounds in seconds, from a small model's milliseconds to a slow model's seconds. */
  private static final double[] BUCKETS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

  private final String model;
  private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> rejected = new ConcurrentHashMap<>();
  private final LongAdder errors = new LongAdder();
  private final LongAdder runs = new LongAdder();
  private final LongAdder samples = new LongAdder();
  private final LongAdder[] latencyBuckets = new LongAdder[BUCKETS.length + 1];
  private final LongAdder latencyCount = new LongAdder();
  private final AtomicLong latencyNanos = new AtomicLong();
  private final AtomicLong inFlight = new AtomicLong();
  private volatile IntSupplier queueDepth = () -> 0;

  ServerMetrics(String model) {
    this.model = model;
    for (int i = 0; i < latencyBuckets.length; i++) {
      latencyBuckets[i] = new LongAdder();
    }
  }

  void queueDepth(IntSupplier depth) {
    this.queueDepth = depth;
  }

  void started() {
    inFlight.incrementAndGet();
  }

  /** One answered request; infer requests also go into the latency histogram. */
  void finished(String route, int status, long nanos) {
    inFlight.decrementAndGet();
    requests.computeIfAbsent(route + "\u0000" + status, k -> new LongAdder()).increment();
    if (status >= 400) {
      errors.increment();
    }
    if (route.equals("infer")) {
      double seconds = nanos / 1e9;
      int b = 0;
      while (b < BUCKETS.length && seconds > BUCKETS[b]) {
        b++;
      }
      latencyBuckets[b].increment();
      latencyCount.increment();
      latencyNanos.addAndGet(nanos);
    }
  }

  void rejected(String reason) {
    rejected.computeIfAbsent(reason, k -> new LongAdder()).increment();
  }

  void modelRun(int samplesInRun) {
    runs.increment();
    samples.add(samplesInRun);
  }

  long inFlight() {
    return inFlight.get();
  }

  /** The Prometheus text exposition. */
  String render() {
    StringBuilder out = new StringBuilder();
    String m = "model=\"" + escape(model) + "\"";
    out.append("# HELP vfuse_requests_total HTTP requests answered, by route and status code.\n");
    out.append("# TYPE vfuse_requests_total counter\n");
    for (Map.Entry<String, LongAdder> e : new TreeMap<>(requests).entrySet()) {
      String[] key = e.getKey().split("\u0000");
      out.append("vfuse_requests_total{").append(m).append(",route=\"").append(key[0]).append("\",code=\"").append(key[1])
          .append("\"} ").append(e.getValue().sum()).append('\n');
    }
    counter(out, "vfuse_request_errors_total", "Requests answered with a 4xx or 5xx status.", m, errors.sum());
    out.append("# HELP vfuse_rejected_total Infer requests refused with 503, by reason.\n");
    out.append("# TYPE vfuse_rejected_total counter\n");
    for (Map.Entry<String, LongAdder> e : new TreeMap<>(rejected).entrySet()) {
      out.append("vfuse_rejected_total{").append(m).append(",reason=\"").append(e.getKey()).append("\"} ")
          .append(e.getValue().sum()).append('\n');
    }
    gauge(out, "vfuse_queue_depth", "Infer requests waiting for a worker.", m, queueDepth.getAsInt());
    gauge(out, "vfuse_requests_in_flight", "Requests being read, queued, run or answered.", m, inFlight.get());
    counter(out, "vfuse_model_runs_total", "Model runs (a batched run counts once).", m, runs.sum());
    counter(out, "vfuse_model_run_samples_total", "Samples (axis 0) the model runs carried.", m, samples.sum());
    out.append("# HELP vfuse_request_duration_seconds Infer request latency, from the handler taking the request to its answer being ready to write.\n");
    out.append("# TYPE vfuse_request_duration_seconds histogram\n");
    long cumulative = 0;
    for (int b = 0; b <= BUCKETS.length; b++) {
      cumulative += latencyBuckets[b].sum();
      String le = b < BUCKETS.length ? number(BUCKETS[b]) : "+Inf";
      out.append("vfuse_request_duration_seconds_bucket{").append(m).append(",le=\"").append(le).append("\"} ")
          .append(cumulative).append('\n');
    }
    out.append("vfuse_request_duration_seconds_sum{").append(m).append("} ").append(number(latencyNanos.get() / 1e9)).append('\n');
    out.append("vfuse_request_duration_seconds_count{").append(m).append("} ").append(latencyCount.sum()).append('\n');
    return out.toString();
  }

  private static void counter(StringBuilder out, String name, String help, String labels, long value) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n');
    out.append("# TYPE ").append(name).append(" counter\n");
    out.append(name).append('{').append(labels).append("} ").append(value).append('\n');
  }

  private static void gauge(StringBuilder out, String name, String help, String labels, long value) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n');
    out.append("# TYPE ").append(name).append(" gauge\n");
    out.append(name).append('{').append(labels).append("} ").append(value).append('\n');
  }

  private static String number(double v) {
    return Double.toString(v);
  }

  private static String escape(String label) {
    return label.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }
}
