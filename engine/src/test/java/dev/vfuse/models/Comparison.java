package dev.vfuse.models;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.Tensor;

/**
 * How a whole-model output is compared with an oracle. The error is the largest absolute
 * difference divided by the largest absolute oracle value (the output's scale), so one number
 * works for logits of size 15 and probabilities of size 1.
 *
 * <p>Tolerance {@value #MODEL_TOLERANCE}: the reference backend accumulates in double, so the
 * difference is the oracle's own float32 rounding. Each layer of a reduction of length L adds a
 * relative error of order sqrt(L)·2^−24 (≈ 4e-6 for L = 4608, resnet18's widest 3×3), and about
 * twenty such layers compound, with BatchNorm rescaling channels on the way: a few 1e-5 at most.
 * 1e-4 leaves a margin of a few times over the worst error measured (see README).
 */
final class Comparison {
  static final double MODEL_TOLERANCE = 1e-4;

  private Comparison() {}

  record Error(double maxAbs, double scale) {
    double relative() {
      return scale == 0 ? maxAbs : maxAbs / scale;
    }

    @Override
    public String toString() {
      return String.format("max|Δ|=%.3g scale=%.3g rel=%.3g", maxAbs, scale, relative());
    }
  }

  static Error error(float[] actual, float[] expected) {
    assertThat(actual).as("output length").hasSize(expected.length);
    double maxAbs = 0;
    double scale = 0;
    for (int i = 0; i < expected.length; i++) {
      assertThat(Float.isFinite(actual[i])).as("finite output at %d", i).isTrue();
      maxAbs = Math.max(maxAbs, Math.abs((double) actual[i] - expected[i]));
      scale = Math.max(scale, Math.abs(expected[i]));
    }
    return new Error(maxAbs, scale);
  }

  static Error assertClose(String what, Tensor actual, int[] expectedShape, float[] expected) {
    assertThat(actual.shape()).as(what + " shape").containsExactly(expectedShape);
    Error e = error(actual.floats(), expected);
    System.out.printf("%-40s %s%n", what, e);
    assertThat(e.relative()).as(what + ": " + e).isLessThanOrEqualTo(MODEL_TOLERANCE);
    return e;
  }
}
