package dev.vfuse.simd;

import static org.assertj.core.api.Assertions.fail;

import dev.vfuse.kernel.PositionOffsets;
import java.util.function.IntPredicate;

/**
 * The one tolerance for kernels that reduce in float while the reference reduces in double (gemm,
 * conv2d): per element, |simd − ref| ≤ L·2⁻²³·Σ|terms|, where L is the reduction length plus 2 (the
 * alpha/beta or bias step and the final rounding) and Σ|terms| is the reference run on the
 * absolute values of every input (so it is the sum of the magnitudes of all products and addends).
 * Recursive float summation of L terms errs by at most about L·2⁻²⁴·Σ|terms|, so this leaves a
 * factor of two.
 */
final class ReductionTolerance {

  /** 2⁻²³, the float machine epsilon. */
  static final double EPSILON = Math.scalb(1.0, -23);

  private ReductionTolerance() {}

  /** The allowed |simd − ref| for an element whose terms sum to {@code absSum} in magnitude. */
  static double bound(int reductionLength, double absSum) {
    return (reductionLength + 2) * EPSILON * absSum;
  }

  /**
   * Fails with {@code context}, the first mismatching index and the counts, unless every index in
   * {@code inside} is within {@link #bound} of expected (and not NaN), and every other index of the
   * array is bit-identical to {@code untouched} (what the output held before the call).
   */
  static void assertClose(String context, int reductionLength, float[] expected, float[] absSum, float[] actual,
      float[] untouched, IntPredicate inside) {
    if (expected.length != actual.length) {
      fail("%s: array lengths differ, expected %d, got %d", context, expected.length, actual.length);
    }
    int mismatches = 0;
    int first = -1;
    for (int i = 0; i < actual.length; i++) {
      boolean ok;
      if (inside.test(i)) {
        double diff = Math.abs((double) actual[i] - expected[i]);
        ok = !Float.isNaN(actual[i]) && diff <= bound(reductionLength, absSum[i]);
      } else {
        ok = Float.floatToRawIntBits(actual[i]) == Float.floatToRawIntBits(untouched[i]);
      }
      if (!ok) {
        mismatches++;
        if (first < 0) {
          first = i;
        }
      }
    }
    if (first >= 0) {
      fail("%s: %d mismatches, first at index %d (%s): expected %s, got %s, |diff| %s > bound %s (L=%d, Σ|terms|=%s)",
          context, mismatches, first, inside.test(first) ? "in the output" : "outside the output, must be untouched",
          inside.test(first) ? expected[first] : untouched[first], actual[first],
          Math.abs((double) actual[first] - expected[first]), bound(reductionLength, absSum[first]),
          reductionLength + 2, absSum[first]);
    }
  }

  /** |x| elementwise, a copy. */
  static float[] abs(float[] x) {
    float[] y = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      y[i] = Math.abs(x[i]);
    }
    return y;
  }

  /** |offsets| elementwise, a copy with the same row classes. */
  static PositionOffsets abs(PositionOffsets o) {
    return new PositionOffsets(o.channels(), o.height(), o.width(), o.classes(), o.rowClass(), abs(o.rows()));
  }
}
