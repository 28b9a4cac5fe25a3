package dev.vfuse.quant;

import java.util.List;
import java.util.Locale;

/**
 * What int8 weight quantization did to a model: per layer (range, scale, bias shift, and the
 * output error against float before and after correction, when measured) and for the whole model.
 *
 * @param biasCorrection none, analytical or empirical
 * @param rounding nearest or gptq
 * @param equalizedPairs conv pairs cross-layer equalization rescaled before quantizing (0 when off)
 * @param floatWeightBytes bytes of all the constants of the fused float model
 * @param quantizedWeightBytes bytes of all the constants after quantization (int8 weights, scales,
 *     biases, shift taps, everything not quantized)
 * @param layers one entry per quantized layer, in graph order
 * @param evaluatedInputs inputs the errors were measured on (0: errors are NaN)
 * @param outputErrorUncorrected relative RMS error of the model outputs against float, int8 without correction
 * @param outputErrorCorrected the same with the chosen correction
 * @param outputMaxAbsUncorrected largest |int8 − float| over the outputs, without correction
 * @param outputMaxAbsCorrected the same with the correction
 */
public record QuantizationReport(String biasCorrection, String rounding, int equalizedPairs, long floatWeightBytes, long quantizedWeightBytes,
    List<QuantizedLayer> layers, int evaluatedInputs, double outputErrorUncorrected, double outputErrorCorrected,
    double outputMaxAbsUncorrected, double outputMaxAbsCorrected) {

  /** quantized / float weight bytes. */
  public double memoryRatio() {
    return (double) quantizedWeightBytes / floatWeightBytes;
  }

  /** Layers the correction reached. */
  public long correctedLayers() {
    return layers.stream().filter(l -> !l.correction().equals("none")).count();
  }

  /** A few lines for people. */
  public String summary() {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "int8 weights: %d layers, %.2f MB -> %.2f MB (%.3fx); rounding %s%s; bias correction %s on %d of them; %d pairs equalized%n",
        layers.size(), floatWeightBytes / 1e6, quantizedWeightBytes / 1e6, memoryRatio(), rounding,
        rounding.equals("nearest") ? "" : " on " + layers.stream().filter(l -> !l.rounding().equals("nearest")).count(),
        biasCorrection, correctedLayers(), equalizedPairs));
    if (evaluatedInputs > 0) {
      b.append(String.format(Locale.ROOT, "output error vs float on %d input(s): relative RMS %.3e uncorrected, %.3e corrected; max |diff| %.3e, %.3e%n",
          evaluatedInputs, outputErrorUncorrected, outputErrorCorrected, outputMaxAbsUncorrected, outputMaxAbsCorrected));
    }
    return b.toString();
  }

  /** The per-layer table. */
  public String table() {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "%-40s %-13s %5s %21s %19s %-8s %10s %10s %10s  %s%n", "layer", "op", "K",
        "weights [min, max]", "scale [min, max]", "rounding", "bias shift", "err before", "err after", "correction"));
    for (QuantizedLayer l : layers) {
      b.append(String.format(Locale.ROOT, "%-40s %-13s %5d [%9.3g, %9.3g] [%8.2e, %8.2e] %-8s %10.3e %10.3e %10.3e  %s%s%n",
          l.name(), l.op() + (l.groups() > 1 ? " g" + l.groups() : ""), l.channels(), l.weightMin(), l.weightMax(),
          l.scaleMin(), l.scaleMax(), l.rounding(), l.biasShift(), l.errorBefore(), l.errorAfter(),
          l.correction() + (l.uncorrectedReason() == null ? "" : " (" + l.uncorrectedReason() + ")")
              + (l.correction().startsWith("analytical") && !Double.isNaN(l.shiftToSpread())
                  ? String.format(Locale.ROOT, " (mean shift %.2f of the error spread)", l.shiftToSpread()) : ""),
          l.nearestReason() == null ? "" : "; rounding: " + l.nearestReason()));
    }
    return b.toString();
  }

  /** The report as JSON. */
  public String toJson() {
    StringBuilder b = new StringBuilder("{\n");
    b.append("  \"weights\": \"int8\",\n");
    b.append("  \"bias_correction\": ").append(str(biasCorrection)).append(",\n");
    b.append("  \"rounding\": ").append(str(rounding)).append(",\n");
    b.append("  \"equalized_pairs\": ").append(equalizedPairs).append(",\n");
    b.append("  \"float_weight_bytes\": ").append(floatWeightBytes).append(",\n");
    b.append("  \"quantized_weight_bytes\": ").append(quantizedWeightBytes).append(",\n");
    b.append("  \"memory_ratio\": ").append(num(memoryRatio())).append(",\n");
    b.append("  \"evaluated_inputs\": ").append(evaluatedInputs).append(",\n");
    b.append("  \"output_error\": {\"uncorrected\": ").append(num(outputErrorUncorrected)).append(", \"corrected\": ")
        .append(num(outputErrorCorrected)).append(", \"max_abs_uncorrected\": ").append(num(outputMaxAbsUncorrected))
        .append(", \"max_abs_corrected\": ").append(num(outputMaxAbsCorrected)).append("},\n");
    b.append("  \"layers\": [");
    for (int i = 0; i < layers.size(); i++) {
      QuantizedLayer l = layers.get(i);
      b.append(i == 0 ? "\n" : ",\n");
      b.append("    {\"name\": ").append(str(l.name())).append(", \"op\": ").append(str(l.op()))
          .append(", \"groups\": ").append(l.groups()).append(", \"channels\": ").append(l.channels())
          .append(", \"weight_min\": ").append(num(l.weightMin())).append(", \"weight_max\": ").append(num(l.weightMax()))
          .append(", \"scale_min\": ").append(num(l.scaleMin())).append(", \"scale_max\": ").append(num(l.scaleMax()))
          .append(", \"float_bytes\": ").append(l.floatBytes()).append(", \"int8_bytes\": ").append(l.int8Bytes())
          .append(", \"rounding\": ").append(str(l.rounding()))
          .append(", \"nearest_reason\": ").append(l.nearestReason() == null ? "null" : str(l.nearestReason()))
          .append(", \"correction\": ").append(str(l.correction()))
          .append(", \"uncorrected_reason\": ").append(l.uncorrectedReason() == null ? "null" : str(l.uncorrectedReason()))
          .append(", \"bias_shift\": ").append(num(l.biasShift()))
          .append(", \"error_before\": ").append(num(l.errorBefore())).append(", \"error_after\": ").append(num(l.errorAfter()))
          .append(", \"mean_shift_before\": ").append(num(l.meanShiftBefore()))
          .append(", \"mean_shift_after\": ").append(num(l.meanShiftAfter()))
          .append(", \"shift_to_spread\": ").append(num(l.shiftToSpread())).append("}");
    }
    b.append("\n  ]\n}\n");
    return b.toString();
  }

  private static String num(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.6g", v) : "null";
  }

  private static String str(String s) {
    return dev.vfuse.fusion.FusionReport.quote(s);
  }
}
