package dev.vfuse.reference;

import static org.assertj.core.api.Assertions.fail;

import java.util.Arrays;
import java.util.SplittableRandom;

/** Test data and comparisons whose failure message names the case and the first mismatching index. */
final class Floats {
  private Floats() {}

  /** Written past the end of every output tensor; a kernel must leave it alone. */
  static final float SENTINEL = -7777.25f;

  /** Extra elements after each output tensor, holding {@link #SENTINEL}. */
  static final int TAIL = 5;

  /** Uniform in [−1, 1). */
  static float[] uniform(SplittableRandom rnd, int length) {
    float[] a = new float[length];
    for (int i = 0; i < length; i++) {
      a[i] = (float) rnd.nextDouble(-1.0, 1.0);
    }
    return a;
  }

  /** 0, 1, 2, … */
  static float[] iota(int length) {
    float[] a = new float[length];
    for (int i = 0; i < length; i++) {
      a[i] = i;
    }
    return a;
  }

  /** An output buffer of {@code length} + {@link #TAIL} elements, all {@link #SENTINEL}. */
  static float[] output(int length) {
    float[] a = new float[length + TAIL];
    Arrays.fill(a, SENTINEL);
    return a;
  }

  /**
   * Checks actual[i] against expected[i] within an absolute {@code tolerance} for i in
   * [0, expected.length), and that the elements after them (if any) still hold {@link #SENTINEL}.
   * NaN matches NaN.
   */
  static void assertClose(String context, float[] expected, float[] actual, double tolerance) {
    double[] e = new double[expected.length];
    double[] t = new double[expected.length];
    for (int i = 0; i < e.length; i++) {
      e[i] = expected[i];
      t[i] = tolerance;
    }
    assertWithin(context, null, e, t, actual);
  }

  /**
   * Checks |actual[i] − expected[i]| ≤ tolerance[i] for i in [0, expected.length), and that the
   * elements after them still hold {@link #SENTINEL}. With a {@code shape}, the first mismatch is
   * also printed as a multi-index of it.
   */
  static void assertWithin(String context, int[] shape, double[] expected, double[] tolerance, float[] actual) {
    for (int i = 0; i < expected.length; i++) {
      double e = expected[i];
      float a = actual[i];
      boolean ok = Double.isNaN(e) ? Float.isNaN(a) : Math.abs(a - e) <= tolerance[i];
      if (!ok) {
        fail(context + ": first mismatch at index " + i + multiIndex(i, shape) + ": expected " + e + " ± "
            + tolerance[i] + ", got " + a);
      }
    }
    for (int i = expected.length; i < actual.length; i++) {
      if (actual[i] != SENTINEL) {
        fail(context + ": wrote past the output at index " + i + " (output has " + expected.length
            + " elements): " + actual[i]);
      }
    }
  }

  private static String multiIndex(int flat, int[] shape) {
    if (shape == null) {
      return "";
    }
    int[] index = new int[shape.length];
    for (int d = shape.length - 1; d >= 0; d--) {
      index[d] = flat % shape[d];
      flat /= shape[d];
    }
    return " " + Arrays.toString(index) + " of shape " + Arrays.toString(shape);
  }
}
