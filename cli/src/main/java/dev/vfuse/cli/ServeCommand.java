package dev.vfuse.cli;

import dev.vfuse.Model;
import dev.vfuse.VfuseException;
import dev.vfuse.serve.InferenceServer;
import dev.vfuse.serve.ServerConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code vfuse serve MODEL.onnx [--name NAME] [--port 8080] [--workers W] [--max-batch B]
 * [--max-queue Q] [--max-body-mib M]} plus the engine options ({@code --threads}, {@code --backend}, …):
 * one model behind the Open Inference Protocol v2 ({@link InferenceServer}) until SIGTERM or
 * Ctrl-C, when requests in flight finish and new ones get 503.
 */
@Command(name = "serve", mixinStandardHelpOptions = true, versionProvider = VfuseCli.Version.class, sortOptions = false,
    usageHelpAutoWidth = true,
    description = "Serve a model over HTTP with the Open Inference Protocol v2 (KServe v2).",
    footer = {"", "Endpoints: GET /v2, /v2/health/live, /v2/health/ready, /v2/models/NAME, /v2/models/NAME/ready, /metrics;",
        "POST /v2/models/NAME/infer with {\"inputs\":[{\"name\",\"shape\",\"datatype\":\"FP32\",\"data\":[…]}]}",
        "or with an .npy body (Content-Type: application/x-npy; answered with the first output as .npy).",
        "", "Examples:",
        "  vfuse serve mobilenet_v2.onnx",
        "  vfuse serve resnet18.onnx --name resnet --port 9000 --threads 2 --max-batch 8"})
final class ServeCommand implements Callable<Integer> {
  /** How long SIGTERM waits for the requests in flight. */
  static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(30);

  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "MODEL.onnx", description = "The ONNX model.")
  Path model;

  @Option(names = "--name", paramLabel = "NAME", description = "The model's name in URLs. Default: the file name without .onnx.")
  String name;

  @Option(names = "--port", paramLabel = "PORT", description = "TCP port; 0 picks a free one. Default: ${DEFAULT-VALUE}.")
  int port = 8080;

  @Option(names = "--workers", paramLabel = "W",
      description = "Model runs at once, each with --threads intra-op threads. Default: ${DEFAULT-VALUE}.")
  int workers = 1;

  @Option(names = "--max-batch", paramLabel = "B",
      description = "Join requests waiting together into one run of up to B samples, when the model's axis 0 is "
          + "dynamic; 1 turns it off. Default: ${DEFAULT-VALUE}.")
  int maxBatch = 1;

  @Option(names = "--max-queue", paramLabel = "Q",
      description = "Requests that may wait for a worker; more get 503 with Retry-After. Default: ${DEFAULT-VALUE}.")
  int maxQueue = 64;

  @Option(names = "--max-body-mib", paramLabel = "M", description = "Largest request body; larger gets 413. Default: ${DEFAULT-VALUE}.")
  int maxBodyMib = 16;

  @Mixin EngineOptions engine = new EngineOptions();

  @Override
  public Integer call() throws IOException, VfuseException, InterruptedException {
    ServerConfig config;
    try {
      config = new ServerConfig(port, name != null ? name : defaultName(model), workers, maxBatch, maxQueue,
          (long) maxBodyMib << 20);
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    engine.toModelOptions(); // option errors before the model is read
    PrintWriter out = spec.commandLine().getOut();
    Model loaded = engine.load(model);
    InferenceServer server;
    try {
      server = InferenceServer.start(loaded, config, VfuseCli.version());
    } catch (IOException e) {
      loaded.close();
      throw new IOException("cannot listen on port " + port + ": " + e.getMessage(), e);
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.shutdown(SHUTDOWN_GRACE);
      loaded.close();
      stopped.countDown();
    }, "vfuse-serve-shutdown"));
    out.printf("serving %s (%s) on http://localhost:%d/v2/models/%s (%s, workers=%d, max-batch=%d%s, max-queue=%d)%n",
        config.modelName(), model, server.port(), config.modelName(), engine.describe(), workers, maxBatch,
        server.batching() || maxBatch == 1 ? "" : " [off: axis 0 is fixed]", maxQueue);
    out.flush();
    stopped.await();
    return VfuseCli.EXIT_OK;
  }

  /** {@code mobilenet_v2.onnx} → {@code mobilenet_v2}. */
  static String defaultName(Path model) {
    String file = model.getFileName().toString();
    return file.endsWith(".onnx") ? file.substring(0, file.length() - 5) : file;
  }
}
