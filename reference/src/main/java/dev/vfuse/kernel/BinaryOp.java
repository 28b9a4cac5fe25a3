package dev.vfuse.kernel;

/**
 * Elementwise binary operations with ONNX (numpy) semantics in float32. The four arithmetic ones
 * are one IEEE operation each; {@link #POW}, {@link #MAX} and {@link #MIN} are defined by
 * {@link #apply} below.
 */
public enum BinaryOp {
  ADD, SUB, MUL, DIV,
  /** a^b: a·a for b = 2 (as ONNX Runtime computes it), else the double pow rounded to float. */
  POW,
  /** max(a, b), NaN if either is NaN. */
  MAX,
  /** min(a, b), NaN if either is NaN. */
  MIN;

  /** Whether this is one of Add, Sub, Mul, Div: a single IEEE operation, which vector loops reproduce bit for bit. */
  public boolean isArithmetic() {
    return ordinal() <= DIV.ordinal();
  }

  /** The scalar definition. */
  public float apply(float a, float b) {
    return switch (this) {
      case ADD -> a + b;
      case SUB -> a - b;
      case MUL -> a * b;
      case DIV -> a / b;
      case POW -> b == 2f ? a * a : (float) Math.pow(a, b);
      case MAX -> Math.max(a, b);
      case MIN -> Math.min(a, b);
    };
  }
}
