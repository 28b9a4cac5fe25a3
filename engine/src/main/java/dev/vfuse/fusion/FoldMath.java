package dev.vfuse.fusion;

import dev.vfuse.ir.NdArray;
import dev.vfuse.kernel.FoldArithmetic;
import dev.vfuse.reference.ReferenceKernels;
import java.util.Objects;

/**
 * The arithmetic of folding per-channel affine maps into weights, in double and rounded to float
 * once, run by a backend's {@link FoldArithmetic} (see there for the exact formulas). Each method
 * returns null when a result does not fit in float, so the caller can refuse. The passes reach the
 * instance of their run through {@link GraphEditor#fold()}.
 */
public final class FoldMath {
  private final FoldArithmetic arithmetic;

  public FoldMath(FoldArithmetic arithmetic) {
    this.arithmetic = Objects.requireNonNull(arithmetic, "arithmetic");
  }

  /** Fold arithmetic on the scalar definitions of {@link ReferenceKernels}. */
  public static FoldMath reference() {
    return new FoldMath(new ReferenceKernels());
  }

  /** The backend that computes. */
  public FoldArithmetic arithmetic() {
    return arithmetic;
  }

  /**
   * W'[k, …] = W[k, …] · scale[k / blockPerChannel]: scales blocks of {@code block} consecutive
   * weights, block i by scale[i]. For Conv weights [K, C/g, R, S] the block is one output channel.
   */
  public float[] scaleBlocks(float[] w, int block, double[] scale) {
    float[] out = new float[w.length];
    return arithmetic.scaleBlocks(w.length, w, block, scale, out) ? out : null;
  }

  /** b'[k] = (b[k] − μ_k)·s_k + β_k written as b[k]·scale[k] + shift[k], with b = 0 when there is no bias. */
  public float[] affineBias(float[] b, double[] scale, double[] shift) {
    float[] out = new float[scale.length];
    return arithmetic.affineBias(scale.length, b, scale, shift, out) ? out : null;
  }

  /** Each value rounded to float once; null when one does not fit in float. */
  public float[] round(double[] v) {
    float[] out = new float[v.length];
    return arithmetic.roundToFloat(v.length, v, out) ? out : null;
  }

  static NdArray floats(int[] shape, float[] data) {
    return NdArray.ofFloats(shape.clone(), data);
  }
}
