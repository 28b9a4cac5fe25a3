package dev.vfuse.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.vfuse.Model;
import dev.vfuse.ModelOptions;
import dev.vfuse.Tensor;
import dev.vfuse.io.Npy;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The long form of the server load test: latency (p50, p99) and throughput of {@code vfuse serve}
 * on torchvision's mobilenet_v2 (the torch fixture, its axis 0 made dynamic so that requests can be
 * joined), with 1 and 2 intra-op threads, batching off and on, under closed-loop clients on
 * loopback. It asserts only that every request got 200; the numbers are printed, for
 * docs/BENCHMARKS.md. Off unless asked for:
 *
 * <pre>
 * mvn -B -ntp -pl cli -am test -Dsurefire.failIfNoSpecifiedTests=false -Dtest=ServeBenchmark \
 *     -Dvfuse.serve.bench=SECONDS_PER_ROW [-Dvfuse.serve.bench.clients=8]
 * </pre>
 */
@EnabledIfSystemProperty(named = "vfuse.serve.bench", matches = "\\d+")
class ServeBenchmark {
  private static final String INFER = "/v2/models/mobilenet_v2/infer";

  @Test
  void mobilenetV2LatencyAndThroughput() throws Exception {
    String fixtures = System.getenv("VFUSE_FIXTURES");
    Path file = fixtures == null ? null : Path.of(fixtures, "mobilenet_v2_op13", "model.onnx");
    assumeTrue(file != null && Files.isRegularFile(file), "mobilenet_v2 fixture missing: run scripts/fixtures.sh");
    byte[] onnx = withDynamicBatch(Files.readAllBytes(file));
    int seconds = Integer.getInteger("vfuse.serve.bench");
    int clients = Integer.getInteger("vfuse.serve.bench.clients", 8);
    Tensor image = ServeClient.randomTensor(new Random(1), 1, 3, 224, 224);
    byte[] npy = Npy.toBytes(image);
    StringBuilder table = new StringBuilder(String.format(Locale.ROOT,
        "%n| threads | max batch | body | clients | requests | p50 ms | p99 ms | req/s | samples per run |%n|---|---|---|---|---|---|---|---|---|%n"));
    boolean first = true;
    for (int threads : new int[] {1, 2}) {
      try (Model model = Model.load(onnx, ModelOptions.defaults().withThreads(threads))) {
        String json = ServeClient.inferJson(null, model.inputs().get(0).name(), image);
        table.append(String.format(Locale.ROOT, "threads=%d: %s%n", threads, batchedAgainstAlone(model)));
        for (int maxBatch : new int[] {1, 8}) {
          for (boolean useJson : threads == 1 && maxBatch == 1 ? new boolean[] {false, true} : new boolean[] {false}) {
            InferenceServer server = InferenceServer.start(model,
                new ServerConfig(0, "mobilenet_v2", 1, maxBatch, 64, 64L << 20), "bench");
            try {
              ServeClient client = new ServeClient(server.port());
              Body body = useJson ? () -> client.post(INFER, json).statusCode()
                  : () -> client.postBytes(INFER, "application/x-npy", npy).statusCode();
              run(body, clients, first ? Math.max(10, seconds) : Math.max(3, seconds / 3)); // JIT warm-up, not counted
              first = false;
              long[] before = runsAndSamples(client);
              Result r = run(body, clients, seconds);
              long[] after = runsAndSamples(client);
              double perRun = (after[1] - before[1]) / (double) Math.max(1, after[0] - before[0]);
              table.append(String.format(Locale.ROOT, "| %d | %d | %s | %d | %d | %.1f | %.1f | %.1f | %.2f |%n", threads,
                  maxBatch, useJson ? "JSON" : ".npy", clients, r.latenciesNanos.length, r.percentile(50), r.percentile(99),
                  r.latenciesNanos.length / r.seconds, perRun));
            } finally {
              server.shutdown(Duration.ofSeconds(30));
            }
          }
        }
      }
    }
    System.out.println(table);
  }

  /** How far a joined run's rows are from the same images run alone (what batching changes in the answers). */
  private static String batchedAgainstAlone(Model model) throws Exception {
    Random random = new Random(2);
    Tensor a = ServeClient.randomTensor(random, 1, 3, 224, 224);
    Tensor b = ServeClient.randomTensor(random, 1, 3, 224, 224);
    float[] joinedInput = Arrays.copyOf(a.floats(), a.size() * 2);
    System.arraycopy(b.floats(), 0, joinedInput, a.size(), b.size());
    float[] joined = model.run(Tensor.ofFloats(new int[] {2, 3, 224, 224}, joinedInput)).floats();
    float[] alone = Arrays.copyOf(model.run(a).floats(), joined.length);
    System.arraycopy(model.run(b).floats(), 0, alone, joined.length / 2, joined.length / 2);
    double maxDiff = 0;
    double maxAbs = 0;
    for (int i = 0; i < joined.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(joined[i] - alone[i]));
      maxAbs = Math.max(maxAbs, Math.abs(alone[i]));
    }
    return String.format(Locale.ROOT, "batch of 2 against each alone: bit-identical %s, max |diff| %.3g (max |output| %.3g)",
        Arrays.equals(joined, alone), maxDiff, maxAbs);
  }

  @FunctionalInterface
  private interface Body {
    int send() throws Exception;
  }

  private record Result(long[] latenciesNanos, double seconds) {
    double percentile(int p) {
      long[] sorted = latenciesNanos.clone();
      Arrays.sort(sorted);
      int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
      return sorted[Math.max(0, i)] / 1e6;
    }
  }

  /** {@code clients} closed-loop clients for {@code seconds}; every answer must be 200. */
  private static Result run(Body body, int clients, int seconds) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    long start = System.nanoTime();
    long end = start + TimeUnit.SECONDS.toNanos(seconds);
    try {
      List<Future<long[]>> futures = new java.util.ArrayList<>();
      for (int c = 0; c < clients; c++) {
        futures.add(pool.submit(() -> {
          long[] latencies = new long[1024];
          int n = 0;
          while (System.nanoTime() < end) {
            long t0 = System.nanoTime();
            int status = body.send();
            long t1 = System.nanoTime();
            assertThat(status).isEqualTo(200);
            if (n == latencies.length) {
              latencies = Arrays.copyOf(latencies, n * 2);
            }
            latencies[n++] = t1 - t0;
          }
          return Arrays.copyOf(latencies, n);
        }));
      }
      long[] all = new long[0];
      for (Future<long[]> f : futures) {
        long[] part = f.get(seconds + 120L, TimeUnit.SECONDS);
        long[] joined = Arrays.copyOf(all, all.length + part.length);
        System.arraycopy(part, 0, joined, all.length, part.length);
        all = joined;
      }
      return new Result(all, (System.nanoTime() - start) / 1e9);
    } finally {
      pool.shutdownNow();
    }
  }

  private static long[] runsAndSamples(ServeClient client) throws Exception {
    HttpResponse<String> metrics = client.get("/metrics");
    return new long[] {value(metrics.body(), "vfuse_model_runs_total"), value(metrics.body(), "vfuse_model_run_samples_total")};
  }

  private static long value(String metrics, String name) {
    Matcher m = Pattern.compile("(?m)^" + name + "\\{[^}]*\\} (\\d+)$").matcher(metrics);
    assertThat(m.find()).as(name).isTrue();
    return Long.parseLong(m.group(1));
  }

  /** The model with axis 0 of its graph inputs and outputs renamed to the dynamic "N" (and intermediate shapes dropped). */
  static byte[] withDynamicBatch(byte[] onnx) throws IOException {
    ModelProto model = ModelProto.parseFrom(onnx);
    GraphProto.Builder g = model.getGraph().toBuilder();
    Set<String> weights = g.getInitializerList().stream().map(TensorProto::getName).collect(Collectors.toSet());
    for (int i = 0; i < g.getInputCount(); i++) {
      if (!weights.contains(g.getInput(i).getName())) {
        g.setInput(i, dynamicAxis0(g.getInput(i)));
      }
    }
    for (int i = 0; i < g.getOutputCount(); i++) {
      g.setOutput(i, dynamicAxis0(g.getOutput(i)));
    }
    g.clearValueInfo();
    return model.toBuilder().setGraph(g).build().toByteArray();
  }

  private static ValueInfoProto dynamicAxis0(ValueInfoProto v) {
    ValueInfoProto.Builder b = v.toBuilder();
    TensorShapeProto.Builder shape = b.getTypeBuilder().getTensorTypeBuilder().getShapeBuilder();
    shape.setDim(0, TensorShapeProto.Dimension.newBuilder().setDimParam("N"));
    return b.build();
  }
}
