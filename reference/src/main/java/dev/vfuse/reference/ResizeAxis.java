package dev.vfuse.reference;

import dev.vfuse.kernel.ResizeSpec;
import dev.vfuse.kernel.ResizeSpec.CoordinateMode;
import dev.vfuse.kernel.ResizeSpec.NearestMode;

/**
 * Where ONNX Resize samples along one axis: for every output index, the input index (NEAREST) or
 * the two neighbours and the weight of the upper one (LINEAR). The coordinate is computed in float
 * arithmetic, operation for operation as ONNX Runtime does, because a coordinate within rounding of
 * a tie picks a different NEAREST input in float than in double (in = 7, out = 2, asymmetric:
 * 1 / 0.2857143f = 3.4999998f, while 1 / (2 / 7.0) = 3.5).
 */
public final class ResizeAxis {
  private ResizeAxis() {}

  /** The input coordinate of output index {@code o}, per {@link ResizeSpec}. */
  static float sourceCoordinate(CoordinateMode mode, int o, float scale, int inSize, int outSize) {
    float out = o;
    return switch (mode) {
      case HALF_PIXEL -> (out + 0.5f) / scale - 0.5f;
      case PYTORCH_HALF_PIXEL -> outSize > 1 ? (out + 0.5f) / scale - 0.5f : 0f;
      case ALIGN_CORNERS -> outSize == 1 ? 0f : out * (inSize - 1) / (outSize - 1);
      case ASYMMETRIC -> out / scale;
      case TF_HALF_PIXEL_FOR_NN -> (out + 0.5f) / scale;
    };
  }

  /** NEAREST: the input index of each output index, rounded per the nearest mode and clamped to [0, inSize − 1]. */
  public static int[] nearest(ResizeSpec spec, double scale, int inSize, int outSize) {
    int[] index = new int[outSize];
    for (int o = 0; o < outSize; o++) {
      double x = sourceCoordinate(spec.coordinateMode(), o, (float) scale, inSize, outSize);
      index[o] = Math.clamp(round(spec.nearestMode(), x), 0, inSize - 1);
    }
    return index;
  }

  private static long round(NearestMode mode, double x) {
    double rounded = switch (mode) {
      case ROUND_PREFER_FLOOR -> Math.ceil(x - 0.5); // x.5 goes down
      case ROUND_PREFER_CEIL -> Math.floor(x + 0.5); // x.5 goes up
      case FLOOR -> Math.floor(x);
      case CEIL -> Math.ceil(x);
    };
    return (long) rounded;
  }

  /**
   * LINEAR along one axis: output index o reads {@code (1 − frac[o])·in[lo[o]] + frac[o]·in[hi[o]]},
   * with the coordinate first clamped to [0, inSize − 1], lo its floor and hi = min(lo + 1, inSize − 1).
   */
  record Linear(int[] lo, int[] hi, double[] frac) {

    static Linear of(ResizeSpec spec, double scale, int inSize, int outSize) {
      int[] lo = new int[outSize];
      int[] hi = new int[outSize];
      double[] frac = new double[outSize];
      for (int o = 0; o < outSize; o++) {
        float x = sourceCoordinate(spec.coordinateMode(), o, (float) scale, inSize, outSize);
        x = Math.clamp(x, 0f, inSize - 1);
        lo[o] = (int) x;
        hi[o] = Math.min(lo[o] + 1, inSize - 1);
        frac[o] = x - lo[o];
      }
      return new Linear(lo, hi, frac);
    }
  }
}
