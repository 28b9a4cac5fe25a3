package dev.vfuse.serve;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.vfuse.InvalidInputException;
import dev.vfuse.Model;
import dev.vfuse.Tensor;
import dev.vfuse.ValueInfo;
import dev.vfuse.VfuseException;
import dev.vfuse.io.Npy;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One loaded model behind the Open Inference Protocol v2 (KServe v2) over HTTP/1.1, on the JDK's
 * {@code com.sun.net.httpserver}.
 *
 * <ul>
 *   <li>{@code GET /v2}, {@code /v2/health/live}, {@code /v2/health/ready}, {@code /v2/models/NAME},
 *       {@code /v2/models/NAME/ready}; {@code GET /metrics} (Prometheus text).
 *   <li>{@code POST /v2/models/NAME/infer}: a JSON body ({@link V2Protocol}) answered in JSON, or a
 *       {@code .npy} body ({@code Content-Type: application/x-npy}, single-input models) answered
 *       with the first output as {@code .npy}.
 * </ul>
 *
 * <p>Bounded everywhere: bodies above {@link ServerConfig#maxBodyBytes()} get 413 before they are
 * read; requests are checked against the model's inputs (400) before they wait; at most
 * {@link ServerConfig#maxQueue()} wait ({@link Batcher}), the next gets 503 with
 * {@code Retry-After}; a fixed pool of handler threads ({@link ServerConfig#httpThreads()}) with a
 * bounded backlog of connections, beyond which the JDK server closes the connection; at most 1024
 * open connections ({@code jdk.httpserver.maxConnections}, set below unless given). Every refusal
 * is {@code {"error": "…"}} naming the problem, and the server keeps serving.
 *
 * <p>{@link #shutdown(Duration)} (the CLI calls it from a shutdown hook, on SIGTERM) answers new
 * infer requests with 503 and lets those in flight finish.
 */
public final class InferenceServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(InferenceServer.class.getName());
  private static final String JSON = "application/json";
  private static final String NPY = "application/x-npy";
  static {
    // Both settings are the JDK server's (module jdk.httpserver), read once per JVM when the first
    // HttpServer is made; a value the user set wins.
    // The JDK server writes a response's headers and body separately and leaves Nagle's algorithm
    // on unless told: each answer then waits for the client's delayed ACK (measured: a mobilenet_v2
    // JSON request took 80-170 ms instead of 40).
    if (System.getProperty("sun.net.httpserver.nodelay") == null) {
      System.setProperty("sun.net.httpserver.nodelay", "true");
    }
    // Open connections, idle keep-alive ones included, are unbounded by default; past this many
    // the server closes a new connection as soon as it accepts it.
    if (System.getProperty("jdk.httpserver.maxConnections") == null) {
      System.setProperty("jdk.httpserver.maxConnections", "1024");
    }
  }

  /** Connections waiting for a handler thread; beyond it the JDK server closes new ones. */
  private static final int CONNECTION_BACKLOG = 256;

  private final Model model;
  private final ServerConfig config;
  private final String version;
  private final ServerMetrics metrics;
  private final Batcher batcher;
  private final HttpServer http;
  private final ThreadPoolExecutor handlers;
  private final String modelPath;
  private final AtomicInteger inferInFlight = new AtomicInteger();
  private final AtomicBoolean shutDown = new AtomicBoolean();
  private volatile boolean draining;

  private InferenceServer(Model model, Batcher.Runner runner, ServerConfig config, String version) throws IOException {
    this.model = model;
    this.config = config;
    this.version = version;
    this.modelPath = "/v2/models/" + config.modelName();
    this.metrics = new ServerMetrics(config.modelName());
    // Bind first: a taken port then leaves no worker threads behind.
    this.http = HttpServer.create(new InetSocketAddress(config.port()), CONNECTION_BACKLOG);
    this.batcher = new Batcher(model, runner, config, metrics);
    metrics.queueDepth(batcher::queued);
    AtomicInteger threadId = new AtomicInteger();
    this.handlers = new ThreadPoolExecutor(config.httpThreads(), config.httpThreads(), 0, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(CONNECTION_BACKLOG), r -> {
          Thread t = new Thread(r, "vfuse-serve-http-" + threadId.getAndIncrement());
          t.setDaemon(true);
          return t;
        }, (r, pool) -> {
          metrics.rejected("connection_backlog_full");
          throw new RejectedExecutionException("connection backlog full");
        });
    http.setExecutor(handlers);
    http.createContext("/", this::handle);
  }

  /** Starts serving {@code model} (which the caller keeps and closes after {@link #close()}). */
  public static InferenceServer start(Model model, ServerConfig config, String version) throws IOException {
    return start(model, model::run, config, version);
  }

  /** Like {@link #start(Model, ServerConfig, String)} with another runner (tests hold a worker with it). */
  static InferenceServer start(Model model, Batcher.Runner runner, ServerConfig config, String version) throws IOException {
    InferenceServer server = new InferenceServer(model, runner, config, version);
    server.http.start();
    LOG.log(Level.INFO, "serving model ''{0}'' on port {1} (workers={2}, max batch={3}{4}, max queue={5})",
        config.modelName(), String.valueOf(server.port()), config.workers(), config.maxBatch(),
        server.batching() || config.maxBatch() == 1 ? "" : " but off: axis 0 is fixed", config.maxQueue());
    return server;
  }

  public int port() {
    return http.getAddress().getPort();
  }

  /** Whether requests that wait together are joined into one run. */
  public boolean batching() {
    return batcher.batching();
  }

  /** An answer, complete before a byte of it is written (so metrics count it before the client sees it). */
  private record Response(int status, String contentType, byte[] body) {
    static Response json(int status, byte[] body) {
      return new Response(status, JSON, body);
    }

    static Response error(HttpError e) {
      return json(e.status, V2Protocol.error(e.getMessage()));
    }
  }

  private void handle(HttpExchange exchange) {
    long start = System.nanoTime();
    metrics.started();
    String path = exchange.getRequestURI().getPath();
    String route = route(path);
    boolean infer = route.equals("infer");
    if (infer) {
      inferInFlight.incrementAndGet();
    }
    Response response;
    try {
      response = respond(exchange, route, path);
    } catch (HttpError e) {
      response = Response.error(e);
    } catch (IOException e) {
      response = Response.error(HttpError.badRequest("could not read the request: " + e.getMessage()));
    } catch (RuntimeException e) {
      LOG.log(Level.ERROR, "internal error on " + exchange.getRequestURI(), e);
      response = Response.error(new HttpError(500, "internal error: " + e));
    }
    metrics.finished(route, response.status(), System.nanoTime() - start);
    try {
      write(exchange, response);
    } catch (IOException e) {
      LOG.log(Level.DEBUG, "could not answer {0} {1}: {2}", exchange.getRequestMethod(), path, e.toString());
    } finally {
      exchange.close();
      if (infer) {
        inferInFlight.decrementAndGet();
      }
    }
  }

  private Response respond(HttpExchange exchange, String route, String path) throws IOException, HttpError {
    String method = exchange.getRequestMethod();
    return switch (route) {
      case "infer" -> infer(exchange, method);
      case "metrics" -> get(method, new Response(200, "text/plain; version=0.0.4; charset=utf-8",
          metrics.render().getBytes(StandardCharsets.UTF_8)));
      case "server" -> get(method, Response.json(200, V2Protocol.serverMetadata(version)));
      case "live" -> get(method, Response.json(200, V2Protocol.object("live", true)));
      case "ready" -> draining ? Response.error(new HttpError(503, "the server is shutting down"))
          : get(method, Response.json(200, V2Protocol.object("ready", true)));
      case "model" -> get(method, Response.json(200, V2Protocol.modelMetadata(config.modelName(), model.inputs(), model.outputs())));
      case "model_ready" -> get(method, Response.json(200, V2Protocol.object("ready", !draining)));
      default -> throw unknownRoute(path);
    };
  }

  private String route(String path) {
    return switch (path) {
      case "/metrics" -> "metrics";
      case "/v2", "/v2/" -> "server";
      case "/v2/health/live" -> "live";
      case "/v2/health/ready" -> "ready";
      default -> {
        if (path.equals(modelPath) || path.equals(modelPath + "/versions/1")) {
          yield "model";
        } else if (path.equals(modelPath + "/ready")) {
          yield "model_ready";
        } else if (path.equals(modelPath + "/infer") || path.equals(modelPath + "/versions/1/infer")) {
          yield "infer";
        }
        yield "other";
      }
    };
  }

  private HttpError unknownRoute(String path) {
    if (path.startsWith("/v2/models/")) {
      String name = path.substring("/v2/models/".length()).split("/", 2)[0];
      if (!name.equals(config.modelName())) {
        return new HttpError(404, "unknown model '" + name + "'; this server serves '" + config.modelName() + "'");
      }
    }
    return new HttpError(404, "no such path: " + path + " (see GET /v2 and " + modelPath + ")");
  }

  private static Response get(String method, Response response) throws HttpError {
    if (!method.equals("GET") && !method.equals("HEAD")) {
      throw new HttpError(405, method + " is not allowed here; use GET");
    }
    return response;
  }

  private Response infer(HttpExchange exchange, String method) throws IOException, HttpError {
    if (!method.equals("POST")) {
      throw new HttpError(405, method + " is not allowed here; use POST");
    }
    if (draining) {
      metrics.rejected("shutting_down");
      throw new HttpError(503, "the server is shutting down");
    }
    byte[] body = readBody(exchange);
    boolean npy = isNpy(exchange.getRequestHeaders().getFirst("Content-Type"));
    V2Protocol.InferRequest request = npy ? npyRequest(body) : V2Protocol.parseInferRequest(body);
    checkInputs(request.inputs());
    checkRequestedOutputs(request.requestedOutputs());
    Tensor first = request.inputs().values().iterator().next();
    int samples = first.rank() > 0 ? first.dim(0) : 1; // what a batch joins, and what the metrics count
    Batcher.Job job = new Batcher.Job(request.inputs(), samples, new CompletableFuture<>());
    if (!batcher.offer(job)) {
      metrics.rejected("queue_full");
      throw new HttpError(503, "the queue is full (" + config.maxQueue() + " requests waiting); retry later");
    }
    Map<String, Tensor> outputs = await(job);
    if (npy) {
      return new Response(200, NPY, Npy.toBytes(outputs.values().iterator().next()));
    }
    return Response.json(200, V2Protocol.inferResponse(config.modelName(), request.id(),
        selected(outputs, request.requestedOutputs())));
  }

  private static boolean isNpy(String contentType) {
    return contentType != null && contentType.toLowerCase(java.util.Locale.ROOT).startsWith(NPY);
  }

  private Map<String, Tensor> await(Batcher.Job job) throws HttpError {
    try {
      return job.result().get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new HttpError(503, "the server is shutting down");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof InvalidInputException) {
        throw HttpError.badRequest(cause.getMessage());
      }
      if (cause instanceof Batcher.ShuttingDownException) {
        throw new HttpError(503, cause.getMessage());
      }
      if (cause instanceof VfuseException) {
        throw new HttpError(500, "the model failed: " + cause.getMessage());
      }
      LOG.log(Level.ERROR, "model run failed", cause);
      throw new HttpError(500, "internal error: " + cause);
    }
  }

  /** The body, refused with 413 when its declared or actual length exceeds the bound. */
  private byte[] readBody(HttpExchange exchange) throws IOException, HttpError {
    String declared = exchange.getRequestHeaders().getFirst("Content-Length");
    if (declared != null) {
      long length;
      try {
        length = Long.parseLong(declared.strip());
      } catch (NumberFormatException e) {
        throw HttpError.badRequest("Content-Length is not a number: " + declared);
      }
      if (length > config.maxBodyBytes()) {
        throw tooLarge();
      }
    }
    try (InputStream in = exchange.getRequestBody()) {
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      byte[] buffer = new byte[64 * 1024];
      int n;
      while ((n = in.read(buffer)) > 0) {
        if (body.size() + n > config.maxBodyBytes()) {
          throw tooLarge();
        }
        body.write(buffer, 0, n);
      }
      return body.toByteArray();
    }
  }

  private HttpError tooLarge() {
    return new HttpError(413, "the body is larger than " + config.maxBodyBytes() + " bytes (--max-body-mib)");
  }

  private V2Protocol.InferRequest npyRequest(byte[] body) throws HttpError {
    if (model.inputs().size() != 1) {
      throw HttpError.badRequest("an .npy body fits a single-input model; this one has " + model.inputs().size()
          + " inputs: send JSON");
    }
    try {
      return new V2Protocol.InferRequest(null, Map.of(model.inputs().get(0).name(), Npy.read(body, "the request body")),
          List.of());
    } catch (IOException e) {
      throw HttpError.badRequest(e.getMessage());
    }
  }

  /** Names, element types, ranks and fixed sizes against the model's inputs, before the request waits. */
  private void checkInputs(Map<String, Tensor> given) throws HttpError {
    for (String name : given.keySet()) {
      if (model.inputs().stream().noneMatch(v -> v.name().equals(name))) {
        throw HttpError.badRequest("unknown input '" + name + "'; the model's inputs are " + model.inputs());
      }
    }
    Integer batch = null;
    for (ValueInfo declared : model.inputs()) {
      Tensor t = given.get(declared.name());
      if (t == null) {
        throw HttpError.badRequest("missing input '" + declared.name() + "' (" + declared + ")");
      }
      if (t.elementType() != declared.elementType()) {
        throw HttpError.badRequest("input '" + declared.name() + "' must be " + V2Protocol.datatype(declared.elementType())
            + ", got " + V2Protocol.datatype(t.elementType()));
      }
      int[] shape = t.shape();
      boolean fits = shape.length == declared.rank();
      for (int d = 0; fits && d < shape.length; d++) {
        fits = shape[d] > 0 && (declared.dims().get(d) < 0 || declared.dims().get(d) == shape[d]);
      }
      if (!fits) {
        throw HttpError.badRequest("input '" + declared.name() + "' must have shape " + declared + ", got "
            + Arrays.toString(shape));
      }
      if (batcher.batching()) {
        if (batch != null && batch != shape[0]) {
          throw HttpError.badRequest("the inputs differ in axis 0 (" + batch + " and " + shape[0] + ")");
        }
        batch = shape[0];
      }
    }
  }

  private void checkRequestedOutputs(List<String> requested) throws HttpError {
    for (String name : requested) {
      if (model.outputs().stream().noneMatch(v -> v.name().equals(name))) {
        throw HttpError.badRequest("unknown output '" + name + "'; the model's outputs are " + model.outputs());
      }
    }
  }

  private static Map<String, Tensor> selected(Map<String, Tensor> outputs, List<String> requested) {
    if (requested.isEmpty()) {
      return outputs;
    }
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (String name : requested) {
      out.put(name, outputs.get(name));
    }
    return out;
  }

  /** Writes the answer; 503 says when to retry, and 413 closes the connection (its body was not read). */
  private static void write(HttpExchange exchange, Response response) throws IOException {
    exchange.getResponseHeaders().set("Content-Type", response.contentType());
    if (response.status() == 503) {
      exchange.getResponseHeaders().set("Retry-After", "1");
    }
    if (response.status() == 413) {
      exchange.getResponseHeaders().set("Connection", "close");
    }
    byte[] body = response.body();
    boolean head = exchange.getRequestMethod().equals("HEAD");
    exchange.sendResponseHeaders(response.status(), head || body.length == 0 ? -1 : body.length);
    if (!head && body.length > 0) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }

  /**
   * Answers new infer requests with 503 and readiness with 503, waits up to {@code grace} for the
   * infer requests in flight (queued or running) to be answered, then stops the server and its
   * threads. The model stays open: it is the caller's.
   */
  public void shutdown(Duration grace) {
    if (!shutDown.compareAndSet(false, true)) {
      return;
    }
    draining = true;
    long start = System.nanoTime();
    long deadline = start + grace.toNanos();
    LOG.log(Level.INFO, "shutting down: new requests get 503; waiting for {0} in flight", inferInFlight.get());
    while (inferInFlight.get() > 0 && System.nanoTime() < deadline) {
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    if (inferInFlight.get() > 0) {
      LOG.log(Level.WARNING, "{0} requests still in flight after {1}; stopping anyway", inferInFlight.get(), grace);
    }
    http.stop(0);
    batcher.close();
    handlers.shutdownNow();
    LOG.log(Level.INFO, "stopped after {0} ms", String.valueOf((System.nanoTime() - start) / 1_000_000));
  }

  /** {@link #shutdown(Duration)} with 30 s of grace. */
  @Override
  public void close() {
    shutdown(Duration.ofSeconds(30));
  }

  /** Infer requests waiting for a worker. */
  int queued() {
    return batcher.queued();
  }
}
