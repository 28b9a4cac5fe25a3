package dev.vfuse.cli;

import dev.vfuse.Backend;
import dev.vfuse.Model;
import dev.vfuse.ModelOptions;
import dev.vfuse.Quantization;
import dev.vfuse.VfuseException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * The options every command that loads a model shares: {@code --backend}, {@code --no-fuse},
 * {@code --threads}, {@code --verify-fusion}, and int8 quantization ({@code --quantize int8},
 * {@code --bias-correction}, {@code --rounding}, {@code --calibration DIR}, {@code --equalize}).
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

  @Option(names = "--quantize", paramLabel = "int8",
      description = "Quantize weights at load: int8, per output channel, after fusion. Activations stay float.")
  String quantize;

  @Option(names = "--bias-correction", paramLabel = "none|analytical|empirical",
      description = "With --quantize: how the mean shift int8 weights cause is removed. analytical: from the folded "
          + "BatchNorms' statistics, exact at padded borders; empirical: measured on --calibration inputs. "
          + "Default: analytical.")
  String biasCorrection = "analytical";

  @Option(names = "--rounding", paramLabel = "nearest|gptq",
      description = "With --quantize: nearest rounds each weight; gptq chooses the values that move each layer's "
          + "output on the --calibration inputs least (GPTQ). Default: nearest.")
  String rounding = "nearest";

  @Option(names = "--calibration", paramLabel = "DIR",
      description = "With --bias-correction empirical or --rounding gptq: a folder of .npy inputs (one per sample for "
          + "a one-input model; else one subfolder per sample holding NAME.npy for each input).")
  Path calibration;

  @Option(names = "--equalize", description = "With --quantize: cross-layer equalization of Conv→ReLU→Conv pairs first.")
  boolean equalize;

  /** Inputs the load measures quantization error on (set by run when it writes a report). */
  java.util.List<java.util.Map<String, dev.vfuse.Tensor>> evaluation = java.util.List.of();

  /** The options to load with; a bad value is a usage error. */
  ModelOptions toModelOptions() {
    return toModelOptions(null);
  }

  /**
   * The options to load with, the calibration inputs bound to the model's {@code inputs} when given
   * (before the model is read they are not, and only the option values are checked).
   */
  ModelOptions toModelOptions(java.util.List<dev.vfuse.ValueInfo> inputs) {
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
    ModelOptions options = DEFAULTS.withBackend(b).withFuse(!noFuse).withThreads(threads).withVerifyFusion(verifyFusion);
    if (quantize == null) {
      return options;
    }
    Quantization q = quantization(inputs);
    return q == null ? options : options.withQuantization(q);
  }

  /** Whether loading needs the model's inputs first, to bind calibration files. */
  private boolean calibrates() {
    return quantize != null && (biasCorrection.equalsIgnoreCase("empirical") || rounding.equalsIgnoreCase("gptq"));
  }

  private Quantization quantization(java.util.List<dev.vfuse.ValueInfo> inputs) {
    if (!quantize.equalsIgnoreCase("int8")) {
      throw new UsageException("--quantize supports int8, got " + quantize);
    }
    Quantization.BiasCorrection c;
    try {
      c = Quantization.BiasCorrection.valueOf(biasCorrection.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new UsageException("--bias-correction must be none, analytical or empirical, got " + biasCorrection);
    }
    Quantization.Rounding r;
    try {
      r = Quantization.Rounding.valueOf(rounding.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new UsageException("--rounding must be nearest or gptq, got " + rounding);
    }
    if (c == Quantization.BiasCorrection.EMPIRICAL && calibration == null) {
      throw new UsageException("--bias-correction empirical needs --calibration DIR");
    }
    if (r == Quantization.Rounding.GPTQ && calibration == null) {
      throw new UsageException("--rounding gptq needs --calibration DIR");
    }
    if (calibration != null && !java.nio.file.Files.isDirectory(calibration)) {
      throw new UsageException("--calibration " + calibration + " is not a folder");
    }
    if (calibrates() && inputs == null) {
      return null; // checked; the samples are bound once the model's inputs are known
    }
    java.util.List<java.util.Map<String, dev.vfuse.Tensor>> samples = calibrates()
        ? Bindings.samples(calibration, inputs) : java.util.List.of();
    return new Quantization(c, r, equalize, samples, evaluation);
  }

  /**
   * Loads {@code model} with these options; a model fault's message is prefixed with the file, as
   * in {@code m.onnx: node 'conv1': …}.
   */
  Model load(Path model) throws IOException, VfuseException {
    try {
      ModelOptions options = toModelOptions();
      if (calibrates()) {
        // The calibration files bind to the model's inputs, known only once the model is read.
        byte[] bytes = java.nio.file.Files.readAllBytes(model);
        options = toModelOptions(dev.vfuse.onnx.OnnxImporter.read(bytes).graph().inputs());
        return Model.load(bytes, options);
      }
      return Model.load(model, options);
    } catch (VfuseException e) {
      throw new VfuseException(null, model + ": " + e.getMessage(), e);
    }
  }

  /** Like {@code backend=simd threads=1 fuse=on}, for headers and the latency line. */
  String describe() {
    return "backend=" + backend.toLowerCase(Locale.ROOT) + " threads=" + threads + " fuse=" + (noFuse ? "off" : "on")
        + (quantize == null ? "" : " weights=int8 rounding=" + rounding.toLowerCase(Locale.ROOT) + " bias-correction="
            + biasCorrection.toLowerCase(Locale.ROOT) + (equalize ? " equalize" : ""));
  }
}
