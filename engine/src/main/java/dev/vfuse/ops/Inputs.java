package dev.vfuse.ops;

import dev.vfuse.ir.ShapeException;

/** Arity checks shared by operators. */
final class Inputs {
  private Inputs() {}

  /** Fails unless between {@code min} and {@code max} inputs are present. */
  static void count(Value[] in, int min, int max) {
    int present = in.length;
    if (present < min || present > max) {
      throw new ShapeException("expects " + (min == max ? String.valueOf(min) : min + " to " + max) + " inputs, found " + present);
    }
    for (int i = 0; i < min; i++) {
      if (in[i] == null) {
        throw new ShapeException("required input " + i + " is missing");
      }
    }
  }

  /** The i-th input, or null when omitted. */
  static Value optional(Value[] in, int i) {
    return i < in.length ? in[i] : null;
  }
}
