package dev.vfuse.ops;

/**
 * How far vfuse's reference backend may be from ONNX Runtime, per output element: the one place
 * the operator tests state their tolerances.
 *
 * <p>The reference backend sums every reduction in double and rounds once, so its own error is at
 * most half an ulp of the result; the difference from ONNX Runtime is ORT's float32 rounding. The
 * rules, with u = 2^−24 the unit roundoff and {@link #EPS} = 2u = 2^−23 ≈ 1.19e-7:
 *
 * <ul>
 *   <li>{@link Exact}: data movement (Transpose, Slice, Gather, Concat, Pad, Reshape, Cast…), max
 *       pooling, nearest Resize, Relu, Clip, LeakyRelu and the four arithmetic operators: no
 *       arithmetic, or one IEEE operation on the same two floats, correctly rounded in both
 *       engines, so the results must be equal.
 *   <li>{@link Ulps}: elementwise formulas of two or three float operations (HardSigmoid
 *       αx + β then a clamp, HardSwish x·HardSigmoid(x)), which may round differently if one side
 *       contracts the multiply-add into an FMA: |Δ| ≤ 1 ulp(ort).
 *   <li>{@link Bounded} for sums of products (Conv, ConvTranspose, Gemm, MatMul, AveragePool,
 *       GlobalAveragePool, ReduceMean) and short float chains (BatchNormalization, linear Resize):
 *       the standard forward-error bound of a float sum of L terms t_i (Higham, Accuracy and
 *       Stability of Numerical Algorithms, §3.1) is |fl(Σt_i) − Σt_i| ≤ γ_L·Σ|t_i|, γ_L ≈ L·u,
 *       whatever the order or blocking of the sum and whether products are fused; a bias, β·C or a
 *       final division adds one rounding, and vfuse's own final rounding one more. So
 *       |vfuse − ort| ≤ (L + 2)·u·Σ|t_i|. The test uses k·EPS·Σ|t_i| with k = L + 2 (a margin of 2
 *       over the first-order bound) plus {@link Float#MIN_NORMAL} for gradual underflow. Σ|t_i| is
 *       computed per output element by running {@link OnnxModelBuilder#absolute()} on |inputs| in
 *       vfuse, so the bound stays tight when terms cancel (an output near 0 is still held to the
 *       size of its terms, not to its own size, which would be meaningless). A typical error is
 *       ~sqrt(L)·u·rms, far inside the bound; an indexing or padding bug moves an output by a whole
 *       term, ≫ L·EPS·Σ|t| for the L ≤ ~1000 used here.
 *   <li>{@link Relative}: |Δ| ≤ atol + k·EPS·|ort|. Softmax, whose outputs are positive and whose
 *       float computation has a relative error budget (exp, a sum of L positive terms, a
 *       reciprocal, a product: k = L + 8); and, with k = 0 and atol = 8·EPS, Sigmoid and Tanh,
 *       where ORT evaluates MLAS's rational approximations (Eigen's coefficients) whose error is
 *       absolute, not relative (ORT's Sigmoid(−20) is exactly 0). The derivations are next to the
 *       tests that use them.
 * </ul>
 *
 * <p>No tolerance was widened to make a comparison pass: the measured maxima (printed per family
 * at the end of each test class) are at most about half of each bound.
 */
public sealed interface Tolerance {
  /** Float32 machine epsilon 2^−23, twice the unit roundoff. */
  double EPS = 0x1p-23;

  /** The largest |vfuse − ort| allowed at an element with oracle value {@code ort} and term magnitude {@code magnitude}. */
  double bound(float ort, double magnitude);

  /** Whether {@link #bound} needs the magnitude model Σ|terms|. */
  default boolean needsMagnitude() {
    return false;
  }

  /** A sum of {@code length} products, plus bias/division: {@link Bounded} with k = length + 2. */
  static Tolerance reduction(int length) {
    return new Bounded(length + 2);
  }

  Tolerance EXACT = new Exact();

  /** Equal values (NaN equals NaN, −0 equals +0). */
  record Exact() implements Tolerance {
    public double bound(float ort, double magnitude) {
      return 0;
    }

    @Override
    public String toString() {
      return "exact";
    }
  }

  /** |Δ| ≤ k·ulp(ort). */
  record Ulps(int k) implements Tolerance {
    public double bound(float ort, double magnitude) {
      return k * (double) Math.ulp(ort);
    }

    @Override
    public String toString() {
      return k + " ulp";
    }
  }

  /** |Δ| ≤ k·EPS·Σ|terms| + MIN_NORMAL. */
  record Bounded(double k) implements Tolerance {
    public double bound(float ort, double magnitude) {
      return k * EPS * magnitude + Float.MIN_NORMAL;
    }

    @Override
    public boolean needsMagnitude() {
      return true;
    }

    @Override
    public String toString() {
      return String.format("%.0f·eps·Σ|t|", k);
    }
  }

  /** |Δ| ≤ atol + k·EPS·|ort|. */
  record Relative(double k, double atol) implements Tolerance {
    public double bound(float ort, double magnitude) {
      return atol + k * EPS * Math.abs(ort);
    }

    @Override
    public String toString() {
      return String.format("%.3g + %.0f·eps·|ort|", atol, k);
    }
  }
}
