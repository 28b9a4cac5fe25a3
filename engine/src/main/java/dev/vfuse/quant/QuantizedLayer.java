package dev.vfuse.quant;

/**
 * What weight quantization did to one layer, and, when the model was evaluated on inputs, how far
 * its output moved from float.
 *
 * @param name the node
 * @param op Conv, ConvTranspose or Gemm (a depthwise conv is a Conv with groups = channels)
 * @param groups the conv's groups (1 for Gemm)
 * @param channels output channels, one scale each
 * @param weightMin smallest float weight
 * @param weightMax largest float weight
 * @param scaleMin smallest per-channel scale
 * @param scaleMax largest per-channel scale
 * @param floatBytes bytes of the float weights
 * @param int8Bytes bytes of the int8 weights and their scales
 * @param rounding "nearest" or "gptq"
 * @param nearestReason why GPTQ, when asked, left this layer at nearest rounding, or null
 * @param correction "none", "analytical", "analytical, exact at borders" or "empirical"
 * @param uncorrectedReason why the requested correction was not applied, or null
 * @param biasShift the largest |change| of an output channel's bias (interior positions)
 * @param errorBefore relative RMS error of the layer's linear output against float, without correction (NaN if not measured)
 * @param errorAfter the same with the correction (NaN if not measured)
 * @param meanShiftBefore RMS over channels of the mean output shift against float, relative to the float output's RMS, without correction
 * @param meanShiftAfter the same with the correction
 * @param shiftToSpread analytical correction's criterion: the layer's predicted mean shift against the predicted
 *     spread of its quantization error (RMS over channels of each; corrected from 0.5), NaN when not computed
 */
public record QuantizedLayer(String name, String op, int groups, int channels, float weightMin, float weightMax,
    float scaleMin, float scaleMax, long floatBytes, long int8Bytes, String rounding, String nearestReason,
    String correction, String uncorrectedReason,
    double biasShift, double errorBefore, double errorAfter, double meanShiftBefore, double meanShiftAfter,
    double shiftToSpread) {

  QuantizedLayer withCorrection(String c, String reason, double shift) {
    return new QuantizedLayer(name, op, groups, channels, weightMin, weightMax, scaleMin, scaleMax, floatBytes,
        int8Bytes, rounding, nearestReason, c, reason, shift, errorBefore, errorAfter, meanShiftBefore, meanShiftAfter,
        shiftToSpread);
  }

  QuantizedLayer withErrors(double before, double after, double shiftBefore, double shiftAfter) {
    return new QuantizedLayer(name, op, groups, channels, weightMin, weightMax, scaleMin, scaleMax, floatBytes,
        int8Bytes, rounding, nearestReason, correction, uncorrectedReason, biasShift, before, after, shiftBefore, shiftAfter,
        shiftToSpread);
  }

  QuantizedLayer withShiftToSpread(double ratio) {
    return new QuantizedLayer(name, op, groups, channels, weightMin, weightMax, scaleMin, scaleMax, floatBytes,
        int8Bytes, rounding, nearestReason, correction, uncorrectedReason, biasShift, errorBefore, errorAfter,
        meanShiftBefore, meanShiftAfter, ratio);
  }
}
