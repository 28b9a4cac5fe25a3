package dev.vfuse.serve;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.Model;
import dev.vfuse.ModelOptions;
import dev.vfuse.Tensor;
import dev.vfuse.cli.TinyModels;
import dev.vfuse.io.Npy;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The v2 endpoints on loopback with a small classifier ([N, 3, 8, 8] → [N, 5]): answers equal to
 * {@link Model#run} bit for bit, each kind of bad request refused with its status and a message
 * that names the problem, the full queue (503 with Retry-After), batching, graceful shutdown and
 * the metrics. Workers are held deterministically with a runner that waits on a semaphore, never
 * with timing.
 */
class InferenceServerTest {
  private static final String INFER = "/v2/models/classifier/infer";

  @TempDir static Path dir;
  private static Model model;
  /** Clients that block on a held worker: a thread each, whatever the common pool's size. */
  private static final java.util.concurrent.ExecutorService CLIENTS = java.util.concurrent.Executors.newCachedThreadPool();
  private final List<InferenceServer> servers = new ArrayList<>();

  @BeforeAll
  static void load() throws Exception {
    model = Model.load(TinyModels.classifier(dir), ModelOptions.defaults());
  }

  @AfterAll
  static void close() {
    CLIENTS.shutdownNow();
    model.close();
  }

  @AfterEach
  void stopServers() {
    servers.forEach(s -> s.shutdown(Duration.ofSeconds(5)));
  }

  private ServeClient start(ServerConfig config) throws Exception {
    return start(config, model::run);
  }

  private ServeClient start(ServerConfig config, Batcher.Runner runner) throws Exception {
    InferenceServer server = InferenceServer.start(model, runner, config, "test");
    servers.add(server);
    return new ServeClient(server.port());
  }

  private static ServerConfig config(int workers, int maxBatch, int maxQueue, long maxBody) {
    return new ServerConfig(0, "classifier", workers, maxBatch, maxQueue, maxBody);
  }

  private static ServerConfig defaults() {
    return config(1, 1, 16, 1 << 20);
  }

  @Test
  void healthAndMetadata() throws Exception {
    ServeClient client = start(defaults());
    assertThat(client.get("/v2/health/live").body()).isEqualTo("{\"live\":true}");
    assertThat(client.get("/v2/health/ready").body()).isEqualTo("{\"ready\":true}");
    assertThat(client.get("/v2/models/classifier/ready").body()).isEqualTo("{\"ready\":true}");
    assertThat(client.get("/v2").body()).isEqualTo("{\"name\":\"vfuse\",\"version\":\"test\",\"extensions\":[]}");
    HttpResponse<String> meta = client.get("/v2/models/classifier");
    assertThat(meta.statusCode()).isEqualTo(200);
    assertThat(meta.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(meta.body()).isEqualTo("{\"name\":\"classifier\",\"versions\":[],\"platform\":\"onnx\","
        + "\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[-1,3,8,8]}],"
        + "\"outputs\":[{\"name\":\"y\",\"datatype\":\"FP32\",\"shape\":[-1,5]}]}");
    HttpResponse<String> unknown = client.get("/v2/models/resnet");
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.body()).isEqualTo("{\"error\":\"unknown model 'resnet'; this server serves 'classifier'\"}");
    assertThat(client.get("/nothing").statusCode()).isEqualTo(404);
  }

  @Test
  void jsonAndNpyAnswersEqualModelRun() throws Exception {
    ServeClient client = start(defaults());
    Tensor x = ServeClient.randomTensor(new Random(7), 2, 3, 8, 8);
    float[] expected = model.run(x).floats();

    HttpResponse<String> flat = client.post(INFER, ServeClient.inferJson("r1", "x", x));
    assertThat(flat.statusCode()).as(flat.body()).isEqualTo(200);
    assertThat(flat.body()).startsWith("{\"model_name\":\"classifier\",\"id\":\"r1\",\"outputs\":[{\"name\":\"y\","
        + "\"datatype\":\"FP32\",\"shape\":[2,5],\"data\":[");
    assertThat(ServeClient.firstOutputData(flat.body())).containsExactly(expected);

    String nested = ServeClient.inferJson(null, "x", x).replace("\"data\":[", "\"data\":[[").replace("]}]}", "]]}]}");
    HttpResponse<String> nestedAnswer = client.post(INFER, nested);
    assertThat(nestedAnswer.statusCode()).as(nestedAnswer.body()).isEqualTo(200);
    assertThat(ServeClient.firstOutputData(nestedAnswer.body())).containsExactly(expected);

    HttpResponse<byte[]> npy = client.postBytes(INFER, "application/x-npy", Npy.toBytes(x));
    assertThat(npy.statusCode()).isEqualTo(200);
    assertThat(npy.headers().firstValue("Content-Type")).hasValue("application/x-npy");
    Tensor y = Npy.read(npy.body(), "response");
    assertThat(y.shape()).containsExactly(2, 5);
    assertThat(y.floats()).containsExactly(expected);
  }

  @Test
  void badRequestsGetTheirStatusAndAMessageAndTheServerKeepsServing() throws Exception {
    ServeClient client = start(config(1, 1, 16, 4096));
    Tensor x = ServeClient.randomTensor(new Random(11), 1, 3, 8, 8);
    String good = ServeClient.inferJson(null, "x", x);
    record Bad(String body, int status, String message) {}
    List<Bad> cases = List.of(
        new Bad(good.replace("[1, 3, 8, 8]", "[1, 3, 8, 9]"), 400, "needs 216 values, data has 192"),
        new Bad(ServeClient.inferJson(null, "x", ServeClient.randomTensor(new Random(1), 1, 3, 4, 4)), 400,
            "input 'x' must have shape x: FLOAT32 [N, 3, 8, 8], got [1, 3, 4, 4]"),
        new Bad(good.replace("FP32", "FP16"), 400, "datatype FP16 is not supported"),
        new Bad(good.replace("FP32", "INT64"), 400, "a value is not INT64"),
        new Bad(good.replace("\"name\":\"x\"", "\"name\":\"z\""), 400, "unknown input 'z'"),
        new Bad(good.substring(0, good.length() - 3), 400, "malformed JSON"),
        new Bad("{\"inputs\":[]}", 400, "missing input 'x'"),
        new Bad("{\"id\":\"a\"}", 400, "the request has no \\\"inputs\\\""),
        new Bad("[1,2]", 400, "malformed JSON: Expected BEGIN_OBJECT but was BEGIN_ARRAY"),
        new Bad(good.replace("\"data\":[", "\"data\":[\"1\","), 400, "data must hold numbers"),
        new Bad(good.replace("]}]}", "]}],\"outputs\":[{\"name\":\"logits\"}]}"), 400, "unknown output 'logits'"),
        new Bad(good + "{}", 400, "malformed JSON"),
        new Bad("x".repeat(5000), 413, "the body is larger than 4096 bytes"));
    for (Bad bad : cases) {
      HttpResponse<String> r = client.post(INFER, bad.body());
      assertThat(r.statusCode()).as("%s -> %s", abbreviate(bad.body()), r.body()).isEqualTo(bad.status());
      assertThat(r.body()).as(abbreviate(bad.body())).startsWith("{\"error\":\"").contains(bad.message());
    }
    HttpResponse<byte[]> garbageNpy = client.postBytes(INFER, "application/x-npy", new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
    assertThat(garbageNpy.statusCode()).isEqualTo(400);
    assertThat(new String(garbageNpy.body())).contains("not a NumPy .npy file");
    HttpResponse<String> wrongMethod = client.get(INFER);
    assertThat(wrongMethod.statusCode()).isEqualTo(405);
    assertThat(wrongMethod.body()).contains("GET is not allowed here; use POST");
    assertThat(client.post("/v2/models/other/infer", good).statusCode()).isEqualTo(404);

    HttpResponse<String> after = client.post(INFER, good);
    assertThat(after.statusCode()).isEqualTo(200);
    assertThat(ServeClient.firstOutputData(after.body())).containsExactly(model.run(x).floats());
  }

  /** A runner that tells when a run starts and runs only when the test lets it. */
  private static final class HeldRunner implements Batcher.Runner {
    final Semaphore started = new Semaphore(0);
    final Semaphore release = new Semaphore(0);
    final List<Integer> batchSizes = new java.util.concurrent.CopyOnWriteArrayList<>();

    @Override
    public Map<String, Tensor> run(Map<String, Tensor> inputs) throws Exception {
      batchSizes.add(inputs.get("x").dim(0));
      started.release();
      if (!release.tryAcquire(60, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the test never released the run");
      }
      return model.run(inputs);
    }
  }

  private static void awaitQueued(InferenceServer server, int n) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (server.queued() != n) {
      assertThat(System.nanoTime()).as("queue depth never reached %d", n).isLessThan(deadline);
      Thread.sleep(5);
    }
  }

  @Test
  void batchingNeedsADynamicAxis0() throws Exception {
    assertThat(Batcher.batchAxisIsDynamic(model)).isTrue();
    try (Model fixed = Model.load(TinyModels.relu(dir), ModelOptions.defaults())) {
      assertThat(Batcher.batchAxisIsDynamic(fixed)).isFalse();
      InferenceServer server = InferenceServer.start(fixed, new ServerConfig(0, "relu", 1, 8, 4, 1 << 20), "test");
      servers.add(server);
      assertThat(server.batching()).as("max batch 8 on a fixed axis 0").isFalse();
    }
  }

  @Test
  void fullQueueAnswers503WithRetryAfter() throws Exception {
    HeldRunner held = new HeldRunner();
    ServeClient client = start(config(1, 1, 1, 1 << 20), held);
    InferenceServer server = servers.get(0);
    String body = ServeClient.inferJson(null, "x", ServeClient.randomTensor(new Random(3), 1, 3, 8, 8));
    CompletableFuture<HttpResponse<String>> running = CompletableFuture.supplyAsync(() -> post(client, body), CLIENTS);
    assertThat(held.started.tryAcquire(30, TimeUnit.SECONDS)).isTrue();
    CompletableFuture<HttpResponse<String>> waiting = CompletableFuture.supplyAsync(() -> post(client, body), CLIENTS);
    awaitQueued(server, 1);

    HttpResponse<String> refused = client.post(INFER, body);
    assertThat(refused.statusCode()).isEqualTo(503);
    assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
    assertThat(refused.body()).isEqualTo("{\"error\":\"the queue is full (1 requests waiting); retry later\"}");
    assertThat(client.get("/metrics").body()).contains("vfuse_queue_depth{model=\"classifier\"} 1",
        "vfuse_rejected_total{model=\"classifier\",reason=\"queue_full\"} 1");

    held.release.release(2);
    assertThat(running.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    assertThat(waiting.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
  }

  @Test
  void requestsWaitingTogetherRunAsOneBatchAndGetTheirOwnRows() throws Exception {
    HeldRunner held = new HeldRunner();
    ServeClient client = start(config(1, 8, 16, 1 << 20), held);
    InferenceServer server = servers.get(0);
    assertThat(server.batching()).isTrue();
    Random random = new Random(5);
    Tensor first = ServeClient.randomTensor(random, 1, 3, 8, 8);
    CompletableFuture<HttpResponse<String>> blocking = CompletableFuture.supplyAsync(
        () -> post(client, ServeClient.inferJson(null, "x", first)), CLIENTS);
    assertThat(held.started.tryAcquire(30, TimeUnit.SECONDS)).isTrue();
    List<Tensor> inputs = List.of(ServeClient.randomTensor(random, 1, 3, 8, 8), ServeClient.randomTensor(random, 2, 3, 8, 8),
        ServeClient.randomTensor(random, 1, 3, 8, 8));
    List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
    for (int i = 0; i < inputs.size(); i++) {
      String body = ServeClient.inferJson("b" + i, "x", inputs.get(i));
      answers.add(CompletableFuture.supplyAsync(() -> post(client, body), CLIENTS));
      awaitQueued(server, i + 1); // queued in this order
    }
    held.release.release(2);
    assertThat(blocking.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    for (int i = 0; i < inputs.size(); i++) {
      HttpResponse<String> r = answers.get(i).get(30, TimeUnit.SECONDS);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(r.body()).contains("\"id\":\"b" + i + "\"");
      assertThat(ServeClient.firstOutputData(r.body())).as("request %d", i).containsExactly(model.run(inputs.get(i)).floats());
    }
    assertThat(held.batchSizes).containsExactly(1, 4);
    assertThat(client.get("/metrics").body()).contains("vfuse_model_runs_total{model=\"classifier\"} 2",
        "vfuse_model_run_samples_total{model=\"classifier\"} 5");
  }

  @Test
  void shutdownFinishesRequestsInFlightAndRefusesNewOnes() throws Exception {
    HeldRunner held = new HeldRunner();
    ServeClient client = start(config(1, 1, 4, 1 << 20), held);
    InferenceServer server = servers.get(0);
    String body = ServeClient.inferJson(null, "x", ServeClient.randomTensor(new Random(9), 1, 3, 8, 8));
    CompletableFuture<HttpResponse<String>> inFlight = CompletableFuture.supplyAsync(() -> post(client, body), CLIENTS);
    assertThat(held.started.tryAcquire(30, TimeUnit.SECONDS)).isTrue();

    CountDownLatch stopped = new CountDownLatch(1);
    Thread stopper = new Thread(() -> {
      server.shutdown(Duration.ofSeconds(30));
      stopped.countDown();
    });
    stopper.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (client.get("/v2/health/ready").statusCode() != 503) {
      assertThat(System.nanoTime()).as("readiness never turned 503").isLessThan(deadline);
      Thread.sleep(5);
    }
    HttpResponse<String> refused = client.post(INFER, body);
    assertThat(refused.statusCode()).isEqualTo(503);
    assertThat(refused.body()).contains("the server is shutting down");
    assertThat(stopped.getCount()).as("shutdown waits for the request in flight").isEqualTo(1);

    held.release.release();
    assertThat(inFlight.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    assertThat(stopped.await(30, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void metricsCountRequestsErrorsAndLatency() throws Exception {
    ServeClient client = start(defaults());
    String good = ServeClient.inferJson(null, "x", ServeClient.randomTensor(new Random(2), 1, 3, 8, 8));
    for (int i = 0; i < 3; i++) {
      assertThat(client.post(INFER, good).statusCode()).isEqualTo(200);
    }
    assertThat(client.post(INFER, "{").statusCode()).isEqualTo(400);
    HttpResponse<String> metrics = client.get("/metrics");
    assertThat(metrics.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
    assertThat(metrics.body()).contains(
        "# TYPE vfuse_requests_total counter",
        "vfuse_requests_total{model=\"classifier\",route=\"infer\",code=\"200\"} 3",
        "vfuse_requests_total{model=\"classifier\",route=\"infer\",code=\"400\"} 1",
        "vfuse_request_errors_total{model=\"classifier\"} 1",
        "vfuse_queue_depth{model=\"classifier\"} 0",
        "vfuse_model_runs_total{model=\"classifier\"} 3",
        "# TYPE vfuse_request_duration_seconds histogram",
        "vfuse_request_duration_seconds_bucket{model=\"classifier\",le=\"+Inf\"} 4",
        "vfuse_request_duration_seconds_count{model=\"classifier\"} 4");
  }

  private static HttpResponse<String> post(ServeClient client, String body) {
    try {
      return client.post(INFER, body);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String abbreviate(String s) {
    return s.length() <= 120 ? s : s.substring(0, 60) + "…" + s.substring(s.length() - 60);
  }
}
