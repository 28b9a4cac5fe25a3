package dev.vfuse.jmh;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.vfuse.Tensor;
import dev.vfuse.io.Npy;
import java.io.Reader;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * ONNX Runtime's own per-node times for a model, in the shape of {@code vfuse profile}'s table, so
 * that the two engines can be compared layer by layer on the same input and machine state:
 *
 * <pre>
 *   java --enable-native-access=ALL-UNNAMED -cp jmh/target/benchmarks.jar \
 *       dev.vfuse.jmh.OrtProfile MODEL.onnx INPUT.npy [RUNS [THREADS]]
 * </pre>
 *
 * A session with all graph optimizations and profiling on runs the model RUNS times after as many
 * warm-up runs; the trace (Chrome trace-event JSON, one "Node" event per kernel and run, {@code dur}
 * in µs) is read back and each node's median over the timed runs printed, largest first, with
 * the sum of the medians and the median whole run as ONNX Runtime's profiler saw it. The profiler
 * itself costs ONNX Runtime some time: compare shares and the large layers, not the last
 * microsecond. The trace file is deleted afterwards.
 */
public final class OrtProfile {
  private OrtProfile() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println("usage: OrtProfile MODEL.onnx INPUT.npy [RUNS [THREADS]]");
      System.exit(2);
    }
    Path model = Path.of(args[0]);
    Tensor input = Npy.read(Path.of(args[1]));
    int runs = args.length > 2 ? Integer.parseInt(args[2]) : 300;
    int threads = args.length > 3 ? Integer.parseInt(args[3]) : 1;
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    Path prefix = Files.createTempFile("ort-profile", "");
    Path trace;
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      options.setIntraOpNumThreads(threads);
      options.setInterOpNumThreads(1);
      options.enableProfiling(prefix.toString());
      try (OrtSession session = env.createSession(Files.readAllBytes(model), options)) {
        String name = session.getInputNames().iterator().next();
        try (OnnxTensor tensor = OnnxTensor.createTensor(env, FloatBuffer.wrap(input.floats()),
            Arrays.stream(input.shape()).asLongStream().toArray())) {
          for (int i = 0; i < 2 * runs; i++) {
            session.run(Map.of(name, tensor)).close();
          }
        }
        trace = Path.of(session.endProfiling());
      }
    } finally {
      Files.deleteIfExists(prefix);
    }
    try {
      print(model, threads, runs, trace);
    } finally {
      Files.deleteIfExists(trace);
    }
  }

  /** Per node (in the order first seen): op type and its durations, one per run. */
  private record NodeTimes(String op, List<Double> micros) {}

  private static void print(Path model, int threads, int runs, Path trace) throws Exception {
    Map<String, NodeTimes> nodes = new LinkedHashMap<>();
    List<Double> wholeRuns = new ArrayList<>();
    try (Reader reader = Files.newBufferedReader(trace)) {
      JsonArray events = JsonParser.parseReader(reader).getAsJsonArray();
      for (JsonElement element : events) {
        JsonObject event = element.getAsJsonObject();
        String category = event.has("cat") ? event.get("cat").getAsString() : "";
        String eventName = event.has("name") ? event.get("name").getAsString() : "";
        double dur = event.has("dur") ? event.get("dur").getAsDouble() : 0;
        if (category.equals("Node") && eventName.endsWith("_kernel_time")) {
          String node = eventName.substring(0, eventName.length() - "_kernel_time".length());
          JsonObject eventArgs = event.getAsJsonObject("args");
          String op = eventArgs != null && eventArgs.has("op_name") ? eventArgs.get("op_name").getAsString() : "?";
          nodes.computeIfAbsent(node, n -> new NodeTimes(op, new ArrayList<>())).micros().add(dur);
        } else if (category.equals("Session") && eventName.equals("model_run")) {
          wholeRuns.add(dur);
        }
      }
    }
    record Row(String node, String op, double median) {}
    List<Row> rows = new ArrayList<>();
    double sum = 0;
    for (Map.Entry<String, NodeTimes> e : nodes.entrySet()) {
      List<Double> all = e.getValue().micros();
      double median = medianOfLast(all, Math.min(runs, all.size()));
      rows.add(new Row(e.getKey(), e.getValue().op(), median));
      sum += median;
    }
    rows.sort((a, b) -> Double.compare(b.median(), a.median()));
    System.out.printf(Locale.ROOT, "model   %s (onnxruntime, threads=%d, %d timed runs after as many warm-up runs)%n",
        model, threads, runs);
    System.out.printf(Locale.ROOT, "%-60s %-22s %10s %7s%n", "node", "op", "median us", "share");
    for (Row row : rows) {
      System.out.printf(Locale.ROOT, "%-60s %-22s %10.1f %6.1f%%%n", row.node(), row.op(), row.median(),
          100 * row.median() / sum);
    }
    double run = wholeRuns.isEmpty() ? Double.NaN : medianOfLast(wholeRuns, Math.min(runs, wholeRuns.size()));
    System.out.printf(Locale.ROOT, "rows add up to %.1f us, the median run is %.1f us over %d runs%n", sum, run, runs);
  }

  private static double medianOfLast(List<Double> values, int count) {
    double[] tail = values.subList(values.size() - count, values.size()).stream().mapToDouble(Double::doubleValue)
        .toArray();
    Arrays.sort(tail);
    return tail[tail.length / 2];
  }
}
