package dev.vfuse.kernel;

/**
 * How ONNX {@code Resize} maps an output coordinate to an input coordinate and samples there, for
 * the height and width axes of an NCHW tensor.
 *
 * <p>With scale = outSize / inSize (or the explicit scale when the model gives scales), the input
 * coordinate of output index o is, per {@link CoordinateMode}:
 *
 * <ul>
 *   <li>HALF_PIXEL: (o + 0.5) / scale − 0.5
 *   <li>PYTORCH_HALF_PIXEL: outSize > 1 ? (o + 0.5) / scale − 0.5 : 0
 *   <li>ALIGN_CORNERS: outSize == 1 ? 0 : o · (inSize − 1) / (outSize − 1)
 *   <li>ASYMMETRIC: o / scale
 *   <li>TF_HALF_PIXEL_FOR_NN: (o + 0.5) / scale
 * </ul>
 *
 * NEAREST rounds that coordinate by {@link NearestMode} and clamps it to the input; LINEAR
 * interpolates bilinearly between the two neighbours on each axis, clamping the coordinate to
 * [0, inSize − 1].
 *
 * <p>The coordinate is computed in float32, the scale rounded to float and each operation above a
 * float operation, as ONNX Runtime does (it also computes outSize / inSize in float). Double
 * arithmetic would pick a different NEAREST input whenever the coordinate is within rounding of a
 * tie, e.g. inSize 7, outSize 2, ASYMMETRIC: 1 / 0.2857143f = 3.4999998f but 1 / (2 / 7.0) = 3.5.
 */
public record ResizeSpec(Mode mode, CoordinateMode coordinateMode, NearestMode nearestMode, double scaleH, double scaleW) {

  public enum Mode { NEAREST, LINEAR }

  public enum CoordinateMode { HALF_PIXEL, PYTORCH_HALF_PIXEL, ALIGN_CORNERS, ASYMMETRIC, TF_HALF_PIXEL_FOR_NN }

  public enum NearestMode { ROUND_PREFER_FLOOR, ROUND_PREFER_CEIL, FLOOR, CEIL }

  public ResizeSpec {
    if (!(scaleH > 0) || !(scaleW > 0)) {
      throw new IllegalArgumentException("resize scales must be positive, got " + scaleH + ", " + scaleW);
    }
  }
}
