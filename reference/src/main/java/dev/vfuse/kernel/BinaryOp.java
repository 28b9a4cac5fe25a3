package dev.vfuse.kernel;

/** Elementwise binary operations with ONNX (numpy) semantics in float32. */
public enum BinaryOp {
  ADD, SUB, MUL, DIV;

  /** The scalar definition. */
  public float apply(float a, float b) {
    return switch (this) {
      case ADD -> a + b;
      case SUB -> a - b;
      case MUL -> a * b;
      case DIV -> a / b;
    };
  }
}
