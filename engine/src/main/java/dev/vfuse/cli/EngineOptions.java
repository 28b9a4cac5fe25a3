package dev.vfuse.cli;

import dev.vfuse.Backend;
import dev.vfuse.Model;
import dev.vfuse.ModelOptions;
import dev.vfuse.VfuseException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * The options every command that loads a model shares: {@code --backend}, {@code --no-fuse},
 * {@code --threads}, {@code --verify-fusion}.
 */
public final class EngineOptions {
  private static final ModelOptions DEFAULTS = ModelOptions.defaults();

  @Option(names = "--backend", paramLabel = "reference|simd",
      description = "Kernel implementation: reference (scalar) or simd (Vector API). Default: ${DEFAULT-VALUE}.")
  String backend = DEFAULTS.backend().name().toLowerCase(Locale.ROOT);

  @Option(names = "--no-fuse", description = "Do not run the load-time fusion passes.")
  boolean noFuse = !DEFAULTS.fuse();

  @Option(names = "--threads", paramLabel = "T", description = "Intra-op threads. Default: ${DEFAULT-VALUE}.")
  int threads = DEFAULTS.threads();

  @Option(names = "--verify-fusion",
      description = "At load, check every fused layer against the layers it replaced and report the error per layer.")
  boolean verifyFusion = DEFAULTS.verifyFusion();

  /** The options to load with; a bad value is a usage error. */
  ModelOptions toModelOptions() {
    if (threads < 1) {
      throw new UsageException("--threads must be at least 1, got " + threads);
    }
    Backend b;
    try {
      b = Backend.parse(backend);
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    // keeps the defaults of any other option
    return DEFAULTS.withBackend(b).withFuse(!noFuse).withThreads(threads).withVerifyFusion(verifyFusion);
  }

  /**
   * Loads {@code model} with these options; a model fault's message is prefixed with the file, as
   * in {@code m.onnx: node 'conv1': …}.
   */
  Model load(Path model) throws IOException, VfuseException {
    ModelOptions options = toModelOptions();
    try {
      return Model.load(model, options);
    } catch (VfuseException e) {
      throw new VfuseException(null, model + ": " + e.getMessage(), e);
    }
  }

  /** Like {@code backend=simd threads=1 fuse=on}, for headers and the latency line. */
  String describe() {
    return "backend=" + backend.toLowerCase(Locale.ROOT) + " threads=" + threads + " fuse=" + (noFuse ? "off" : "on");
  }
}
