package dev.vfuse.fusion;

import dev.vfuse.ir.NdArray;

/**
 * The arithmetic of folding per-channel affine maps into weights, in double and rounded to float
 * once. Each method returns null when a result does not fit in float, so the caller can refuse.
 */
public final class FoldMath {
  private FoldMath() {}

  /**
   * W'[k, …] = W[k, …] · scale[k / blockPerChannel]: scales blocks of {@code block} consecutive
   * weights, block i by scale[i]. For Conv weights [K, C/g, R, S] the block is one output channel.
   */
  public static float[] scaleBlocks(float[] w, int block, double[] scale) {
    float[] out = new float[w.length];
    for (int i = 0; i < w.length; i++) {
      double v = w[i] * scale[i / block];
      if (Math.abs(v) > Float.MAX_VALUE) {
        return null;
      }
      out[i] = (float) v;
    }
    return out;
  }

  /** b'[k] = (b[k] − μ_k)·s_k + β_k written as b[k]·scale[k] + shift[k], with b = 0 when there is no bias. */
  public static float[] affineBias(float[] b, double[] scale, double[] shift) {
    float[] out = new float[scale.length];
    for (int k = 0; k < out.length; k++) {
      double v = (b == null ? 0.0 : b[k]) * scale[k] + shift[k];
      if (Math.abs(v) > Float.MAX_VALUE) {
        return null;
      }
      out[k] = (float) v;
    }
    return out;
  }

  /** Each value rounded to float once; null when one does not fit in float. */
  public static float[] round(double[] v) {
    float[] out = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      if (!(Math.abs(v[i]) <= Float.MAX_VALUE)) {
        return null;
      }
      out[i] = (float) v[i];
    }
    return out;
  }

  static NdArray floats(int[] shape, float[] data) {
    return NdArray.ofFloats(shape.clone(), data);
  }
}
