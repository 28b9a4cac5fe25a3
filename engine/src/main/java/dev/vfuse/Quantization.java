package dev.vfuse;

import java.util.List;
import java.util.Map;

/**
 * Int8 weight quantization at load: every Conv, ConvTranspose (grouped and depthwise included) and
 * Gemm keeps its weights as int8 with one float scale per output channel (symmetric, scale =
 * max|w|/127), after fusion, so the folded weights are the ones quantized. Activations stay float.
 *
 * @param biasCorrection how the shift quantization causes in each layer's mean output is removed
 * @param rounding how each channel's weights become int8 values on its scale
 * @param calibration inputs for {@link BiasCorrection#EMPIRICAL} and {@link Rounding#GPTQ} (each a
 *     map from input name to tensor)
 * @param equalize whether cross-layer equalization rescales conv pairs before quantizing
 * @param evaluation inputs on which loading measures each layer's and the model's error against
 *     float, with and without the correction, for the {@link Model#quantizationReport() report};
 *     empty to skip the measurement
 */
public record Quantization(BiasCorrection biasCorrection, Rounding rounding, boolean equalize,
    List<Map<String, Tensor>> calibration, List<Map<String, Tensor>> evaluation) {

  /** Bias correction after weight quantization (Nagel et al., ICCV 2019). */
  public enum BiasCorrection {
    /** Quantize only. */
    NONE,
    /**
     * Data-free: E[x] of each layer's input from the BatchNorms folded before it, exact at padded
     * borders; layers whose input has no such statistics are left uncorrected (the report says why).
     */
    ANALYTICAL,
    /** From calibration inputs, layer by layer in order: b −= mean over N, H, W of (y_int8 − y_float). */
    EMPIRICAL
  }

  /** How a channel's weights become int8 values; the scale is max|w|/127 either way. */
  public enum Rounding {
    /** Each weight to the nearest value. */
    NEAREST,
    /**
     * GPTQ (Frantar et al., ICLR 2023): the values that move each layer's output on the
     * calibration inputs least, each weight's rounding error fed onto the weights not yet rounded
     * through the layer's input second moments. Layers with at most 1152 inputs per output channel
     * and at least as many calibration rows; the others round to nearest (the report says why).
     */
    GPTQ
  }

  public Quantization {
    if (biasCorrection == null || rounding == null) {
      throw new IllegalArgumentException("biasCorrection and rounding must not be null");
    }
    calibration = List.copyOf(calibration);
    evaluation = List.copyOf(evaluation);
    if (biasCorrection == BiasCorrection.EMPIRICAL && calibration.isEmpty()) {
      throw new IllegalArgumentException("empirical bias correction needs calibration inputs");
    }
    if (rounding == Rounding.GPTQ && calibration.isEmpty()) {
      throw new IllegalArgumentException("GPTQ rounding needs calibration inputs");
    }
  }

  /** Nearest rounding, without equalization. */
  public Quantization(BiasCorrection biasCorrection, List<Map<String, Tensor>> calibration,
      List<Map<String, Tensor>> evaluation) {
    this(biasCorrection, Rounding.NEAREST, false, calibration, evaluation);
  }

  /** Int8 weights rounded to nearest, analytical bias correction, no equalization, no evaluation. */
  public static Quantization int8() {
    return new Quantization(BiasCorrection.ANALYTICAL, Rounding.NEAREST, false, List.of(), List.of());
  }

  public Quantization withBiasCorrection(BiasCorrection c) {
    return new Quantization(c, rounding, equalize, calibration, evaluation);
  }

  public Quantization withRounding(Rounding r) {
    return new Quantization(biasCorrection, r, equalize, calibration, evaluation);
  }

  public Quantization withEqualization(boolean e) {
    return new Quantization(biasCorrection, rounding, e, calibration, evaluation);
  }

  public Quantization withCalibration(List<Map<String, Tensor>> inputs) {
    return new Quantization(biasCorrection, rounding, equalize, inputs, evaluation);
  }

  public Quantization withEvaluation(List<Map<String, Tensor>> inputs) {
    return new Quantization(biasCorrection, rounding, equalize, calibration, inputs);
  }
}
