package dev.vfuse.kernel;

/**
 * Elementwise unary operations with ONNX semantics in float32. {@link #apply} is the scalar
 * definition every backend is held to: each result is the exact value rounded once to float,
 * computed in double where float would round twice (Exp, Log, Erf).
 */
public enum UnaryOp {
  /** sqrt(x); NaN for x < 0, −0 for −0. */
  SQRT,
  /** 1 / x, one IEEE division. */
  RECIPROCAL,
  /** e^x. */
  EXP,
  /** ln x; NaN for x < 0, −∞ for ±0. */
  LOG,
  /** −x. */
  NEG,
  /** |x|. */
  ABS,
  /** The error function 2/√π·∫₀ˣ e^(−t²) dt. */
  ERF,
  /** x·x: ONNX Pow with the exponent 2, one IEEE multiply as ONNX Runtime computes it. */
  SQUARE,
  /**
   * x^0.5: ONNX Pow with the exponent 0.5, which is sqrt(x) except that pow(−0, 0.5) = +0 and
   * pow(−∞, 0.5) = +∞ (C99 Annex F); sqrt is correctly rounded, as a correctly rounded pow would be.
   */
  POW_HALF;

  /** The scalar definition. */
  public float apply(float x) {
    return switch (this) {
      case SQRT -> (float) Math.sqrt(x);
      case RECIPROCAL -> 1f / x;
      case EXP -> (float) Math.exp(x);
      case LOG -> (float) Math.log(x);
      case NEG -> -x;
      case ABS -> Math.abs(x);
      case ERF -> (float) erf(x);
      case SQUARE -> x * x;
      case POW_HALF -> x == Float.NEGATIVE_INFINITY ? Float.POSITIVE_INFINITY : (float) Math.sqrt(x) + 0f;
    };
  }

  /**
   * erf(x) in double, for rounding to float: 2/√π·e^(−x²)·Σ_{n≥0} 2ⁿx^(2n+1)/(1·3·…·(2n+1))
   * (Abramowitz and Stegun 7.1.6). Every term is positive, so the sum has no cancellation and its
   * relative error stays near the number of terms times 2^−53; the terms fall below 2^−60 of the
   * sum within about 2x² + 40 of them. From |x| = 6 on, 1 − erf(|x|) &lt; 2^−60 and the result is ±1.
   */
  public static double erf(double x) {
    if (Double.isNaN(x)) {
      return x;
    }
    double ax = Math.abs(x);
    if (ax >= 6.0) {
      return Math.copySign(1.0, x);
    }
    double x2 = ax * ax;
    double term = ax;
    double sum = ax;
    for (int n = 1; term > sum * 0x1p-60; n++) {
      term *= 2.0 * x2 / (2 * n + 1);
      sum += term;
    }
    double r = 2.0 / Math.sqrt(Math.PI) * Math.exp(-x2) * sum;
    return Math.copySign(Math.min(r, 1.0), x);
  }
}
