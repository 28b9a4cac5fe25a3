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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * The short load test that runs in {@code mvn verify}: 16 concurrent loopback clients, 24
 * requests each, a seeded mix of good requests (JSON and {@code .npy}, 1 or 2 samples) and bad
 * ones (wrong shape, wrong datatype, malformed JSON, unknown model, body too large). Every good
 * answer equals {@link Model#run} on the same input bit for bit and carries its request's id;
 * every bad one gets its 4xx; every request gets exactly one answer, and the model ran exactly the
 * good requests' samples (nothing lost, nothing run twice). With batching on and off. Counts are
 * bounded; nothing is timed.
 */
class ServeLoadTest {
  private static final int CLIENTS = 16;
  private static final int REQUESTS_PER_CLIENT = 24;
  /**
   * Small enough that a too-large body (this plus a good one, at most about 22 kB) stays under the
   * 64 KiB the JDK server drains before closing: a larger unread rest would reset the connection,
   * and the client might lose the 413 to the reset.
   */
  private static final long MAX_BODY = 16 * 1024;
  private static final String INFER = "/v2/models/classifier/infer";

  @TempDir static Path dir;
  private static Model model;

  @BeforeAll
  static void load() throws Exception {
    model = Model.load(TinyModels.classifier(dir), ModelOptions.defaults());
  }

  @AfterAll
  static void close() {
    model.close();
  }

  /** What a client sends and what it must get back. */
  private enum Kind {
    GOOD_JSON(200), GOOD_NPY(200), WRONG_SHAPE(400), WRONG_DATATYPE(400), MALFORMED(400), UNKNOWN_MODEL(404), TOO_LARGE(413);

    final int status;

    Kind(int status) {
      this.status = status;
    }

    static Kind pick(Random random) {
      int r = random.nextInt(20);
      return r < 10 ? GOOD_JSON : r < 13 ? GOOD_NPY : values()[2 + (r - 13) % 5];
    }
  }

  @ParameterizedTest(name = "workers={0} max-batch={1}")
  @CsvSource({"1, 8", "2, 1"})
  void concurrentMixedRequestsAllAnsweredCorrectlyOnce(int workers, int maxBatch) throws Exception {
    InferenceServer server = InferenceServer.start(model, new ServerConfig(0, "classifier", workers, maxBatch, 64, MAX_BODY), "test");
    Map<String, Integer> answered = new ConcurrentHashMap<>();
    AtomicLong goodSamples = new AtomicLong();
    AtomicLong inferPosts = new AtomicLong();
    ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int c = 0; c < CLIENTS; c++) {
        int client = c;
        done.add(clients.submit(() -> {
          runClient(client, new ServeClient(server.port()), answered, goodSamples, inferPosts);
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get(120, TimeUnit.SECONDS);
      }
      assertThat(answered).as("one answer per request").hasSize(CLIENTS * REQUESTS_PER_CLIENT);
      String metrics = new ServeClient(server.port()).get("/metrics").body();
      assertThat(counter(metrics, "vfuse_model_run_samples_total{model=\"classifier\"}"))
          .as("the model ran exactly the good requests' samples").isEqualTo(goodSamples.get());
      assertThat(sumOf(metrics, "vfuse_requests_total\\{model=\"classifier\",route=\"infer\",code=\"\\d+\"\\}"))
          .as("infer requests the server counted").isEqualTo(inferPosts.get());
      assertThat(metrics).doesNotContain("reason=\"queue_full\"");
    } finally {
      clients.shutdownNow();
      server.shutdown(Duration.ofSeconds(10));
    }
  }

  private static void runClient(int client, ServeClient http, Map<String, Integer> answered, AtomicLong goodSamples,
      AtomicLong inferPosts) throws Exception {
    Random random = new Random(1000 + client);
    for (int i = 0; i < REQUESTS_PER_CLIENT; i++) {
      String id = "c" + client + "-" + i;
      Kind kind = Kind.pick(random);
      int samples = 1 + random.nextInt(2);
      Tensor x = ServeClient.randomTensor(random, samples, TinyModels.CLASSIFIER_SAMPLE[0], TinyModels.CLASSIFIER_SAMPLE[1],
          TinyModels.CLASSIFIER_SAMPLE[2]);
      String json = ServeClient.inferJson(id, "x", x);
      int status;
      String what = id + " " + kind;
      switch (kind) {
        case GOOD_JSON -> {
          HttpResponse<String> r = http.post(INFER, json);
          status = r.statusCode();
          assertThat(status).as("%s: %s", what, r.body()).isEqualTo(200);
          assertThat(r.body()).as(what).contains("\"id\":\"" + id + "\"");
          assertThat(ServeClient.firstOutputData(r.body())).as(what).containsExactly(model.run(x).floats());
          goodSamples.addAndGet(samples);
        }
        case GOOD_NPY -> {
          HttpResponse<byte[]> r = http.postBytes(INFER, "application/x-npy", Npy.toBytes(x));
          status = r.statusCode();
          assertThat(status).as(what).isEqualTo(200);
          assertThat(Npy.read(r.body(), id).floats()).as(what).containsExactly(model.run(x).floats());
          goodSamples.addAndGet(samples);
        }
        case WRONG_SHAPE -> status = expectError(http.post(INFER, json.replace("[" + samples + ", 3, 8, 8]",
            "[" + samples + ", 3, 16, 4]")), kind, "input 'x' must have shape", what);
        case WRONG_DATATYPE -> status = expectError(http.post(INFER, json.replace("FP32", "FP16")), kind,
            "datatype FP16 is not supported", what);
        case MALFORMED -> status = expectError(http.post(INFER, json.substring(0, json.length() / 2)), kind,
            "malformed JSON", what);
        case UNKNOWN_MODEL -> status = expectError(http.post("/v2/models/other/infer", json), kind, "unknown model 'other'", what);
        case TOO_LARGE -> status = expectError(http.post(INFER, json + " ".repeat((int) MAX_BODY)), kind,
            "larger than " + MAX_BODY, what);
        default -> throw new IllegalStateException(kind.name());
      }
      if (kind != Kind.UNKNOWN_MODEL) {
        inferPosts.incrementAndGet();
      }
      assertThat(answered.put(id, status)).as("%s answered twice", id).isNull();
    }
  }

  private static int expectError(HttpResponse<String> r, Kind kind, String message, String what) {
    assertThat(r.statusCode()).as("%s: %s", what, r.body()).isEqualTo(kind.status);
    assertThat(r.body()).as(what).startsWith("{\"error\":").contains(message);
    return r.statusCode();
  }

  private static long counter(String metrics, String series) {
    return sumOf(metrics, Pattern.quote(series));
  }

  private static long sumOf(String metrics, String seriesRegex) {
    Matcher m = Pattern.compile("(?m)^" + seriesRegex + " (\\d+)$").matcher(metrics);
    long sum = 0;
    boolean found = false;
    while (m.find()) {
      sum += Long.parseLong(m.group(1));
      found = true;
    }
    assertThat(found).as("series %s in%n%s", seriesRegex, metrics).isTrue();
    return sum;
  }
}
