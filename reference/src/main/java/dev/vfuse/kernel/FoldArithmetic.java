package dev.vfuse.kernel;

/**
 * The arithmetic of folding per-channel affine maps (BatchNorm, per-channel Mul/Add) into weights
 * at load time: the part of {@link Kernels} the fusion passes call.
 *
 * <p>Rules common to these methods, which differ from the tensor kernels':
 *
 * <ul>
 *   <li>Everything is computed in double, from floats widened exactly, and a float result is
 *       rounded from double once ({@code (float) v}, round to nearest even). Multiplications and
 *       additions are separate double operations, never fused into an FMA, so every backend's
 *       result is bit-identical to the scalar definition of {@code dev.vfuse.reference.ReferenceKernels}.
 *   <li>A method that rounds to float returns false when a rounded value would not fit; the caller
 *       then refuses the fold. When it returns false the output's first {@code n} elements are
 *       unspecified (some may be written); nothing past them is ever written.
 *   <li>Every array argument holds its vector from index 0 and may be longer; outputs must not
 *       alias inputs.
 * </ul>
 */
public interface FoldArithmetic {

  /**
   * Scales blocks of {@code block} consecutive weights, block j by scale[j]: for i in [0, n),
   *
   * <pre>
   *   v = (double) w[i] · scale[i / block]
   *   out[i] = (float) v
   * </pre>
   *
   * For Conv weights [K, C/g, R, S] the block is one output channel (C/g·R·S weights).
   *
   * @param block at least 1; {@code scale} holds at least ⌈n / block⌉ values
   * @return false if some |v| &gt; {@link Float#MAX_VALUE} (±∞ included; a NaN v does not refuse,
   *     it is stored as NaN)
   */
  boolean scaleBlocks(int n, float[] w, int block, double[] scale, float[] out);

  /**
   * The folded bias b'[k] = (b[k] − μ_k)·s_k + β_k written as b[k]·scale[k] + shift[k]: for k in
   * [0, channels),
   *
   * <pre>
   *   v = (double) b[k] · scale[k] + shift[k]        (b[k] read as 0.0 when b is null)
   *   out[k] = (float) v
   * </pre>
   *
   * With no bias the product 0.0·scale[k] is still computed, so an infinite or NaN scale gives NaN
   * and a negative one −0.0, as the formula says.
   *
   * @param b the bias, or null for none
   * @return false if some |v| &gt; {@link Float#MAX_VALUE} (±∞ included; a NaN v does not refuse)
   */
  boolean affineBias(int channels, float[] b, double[] scale, double[] shift, float[] out);

  /**
   * out[i] = (float) v[i] for i in [0, n): merged sums rounded to float once.
   *
   * @return false if some v[i] is not within ±{@link Float#MAX_VALUE}: ±∞ and NaN refuse
   */
  boolean roundToFloat(int n, double[] v, float[] out);

  /**
   * A BatchNormalization's inference transform as a per-channel affine map: for c in
   * [0, channels),
   *
   * <pre>
   *   d = (double) var[c] + (double) epsilon
   *   scale[c] = (double) gamma[c] / sqrt(d)          (sqrt as {@link Math#sqrt}, correctly rounded)
   *   shift[c] = (double) beta[c] − (double) mean[c] · scale[c]
   * </pre>
   *
   * so that BN(x)_c = scale[c]·x_c + shift[c]. Channel c is <em>unusable</em> when d is not &gt; 0
   * (zero, negative or NaN) or when scale[c] or shift[c] is not within ±{@link Float#MAX_VALUE}
   * (±∞ and NaN included).
   *
   * @return −1 when every channel is usable, else the first unusable channel c; then scale and
   *     shift hold channels [0, c] (c included, as the formula gives them) and the rest of the
   *     first {@code channels} elements is unspecified
   */
  int batchNormAffine(int channels, float[] gamma, float[] beta, float[] mean, float[] var, float epsilon,
      double[] scale, double[] shift);
}
