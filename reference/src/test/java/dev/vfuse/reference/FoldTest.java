package dev.vfuse.reference;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The scalar definitions of the fold arithmetic ({@link dev.vfuse.kernel.FoldArithmetic}): values
 * worked out by hand, the double-then-float rounding, and exactly where a fold refuses.
 */
class FoldTest {

  private final ReferenceKernels kernels = new ReferenceKernels();

  private static float[] out(int n) {
    return Floats.output(n);
  }

  /** The first n elements, then checks the tail still holds the sentinel. */
  private static float[] head(float[] a, int n) {
    for (int i = n; i < a.length; i++) {
      assertThat(a[i]).as("slack at %d", i).isEqualTo(Floats.SENTINEL);
    }
    return Arrays.copyOf(a, n);
  }

  // ---------------------------------------------------------------- scaleBlocks

  @Test
  void scaleBlocksScalesEachBlockByItsScale() {
    // Blocks of 2: {1, 2}·0.5, {3, 4}·−2, {5}·3 (the last block is short).
    float[] y = out(5);
    assertThat(kernels.scaleBlocks(5, new float[] {1, 2, 3, 4, 5, 99}, 2, new double[] {0.5, -2, 3, 99}, y)).isTrue();
    assertThat(head(y, 5)).containsExactly(0.5f, 1f, -6f, -8f, 15f);
  }

  @Test
  void scaleBlocksMultipliesInDoubleAndRoundsOnce() {
    // 1e30f · 1e-40 in double, rounded once, differs from the float product with the scale
    // rounded to float first (1e-40 is a float denormal with only 17 significant bits).
    float w = 1e30f;
    double s = 1e-40;
    float[] y = out(1);
    assertThat(kernels.scaleBlocks(1, new float[] {w}, 1, new double[] {s}, y)).isTrue();
    assertThat(y[0]).isEqualTo((float) (w * s)).isNotEqualTo(w * (float) s);
  }

  @Test
  void scaleBlocksRefusesPastFloatMaxInDouble() {
    float[] y = out(2);
    // MAX·1 fits exactly.
    assertThat(kernels.scaleBlocks(2, new float[] {Float.MAX_VALUE, 1}, 1, new double[] {1, 1}, y)).isTrue();
    assertThat(head(y, 2)).containsExactly(Float.MAX_VALUE, 1f);
    // MAX·(1 + 2⁻⁴⁰) refuses although (float) would round it to MAX: the test is on the double.
    double justOver = 1 + 0x1p-40;
    assertThat((float) (Float.MAX_VALUE * justOver)).isEqualTo(Float.MAX_VALUE);
    assertThat(kernels.scaleBlocks(2, new float[] {1, Float.MAX_VALUE}, 1, new double[] {1, justOver}, out(2))).isFalse();
    assertThat(kernels.scaleBlocks(1, new float[] {-3e38f}, 1, new double[] {-2}, out(1))).isFalse();
    assertThat(kernels.scaleBlocks(1, new float[] {1}, 1, new double[] {Double.NEGATIVE_INFINITY}, out(1))).isFalse();
  }

  @Test
  void scaleBlocksKeepsNaNProducts() {
    // NaN·s and 0·∞ are NaN: stored, not refused (only |v| > MAX refuses).
    float[] y = out(3);
    assertThat(kernels.scaleBlocks(3, new float[] {Float.NaN, 0, -0f}, 1,
        new double[] {2, Double.POSITIVE_INFINITY, Double.NaN}, y)).isTrue();
    assertThat(head(y, 3)).containsExactly(Float.NaN, Float.NaN, Float.NaN);
  }

  @Test
  void scaleBlocksOfNothing() {
    float[] y = out(0);
    assertThat(kernels.scaleBlocks(0, new float[0], 7, new double[0], y)).isTrue();
    head(y, 0);
  }

  // ---------------------------------------------------------------- affineBias

  @Test
  void affineBiasIsBiasTimesScalePlusShift() {
    // 2·0.5 + 1 = 2; −1·3 + 0.25 = −2.75
    float[] y = out(2);
    assertThat(kernels.affineBias(2, new float[] {2, -1}, new double[] {0.5, 3}, new double[] {1, 0.25}, y)).isTrue();
    assertThat(head(y, 2)).containsExactly(2f, -2.75f);
  }

  @Test
  void affineBiasWithoutBiasStillMultipliesZero() {
    // 0·2 + 1 = 1; 0·−1 + (−0.0) = −0.0; 0·∞ + 5 = NaN (kept, not refused)
    float[] y = out(3);
    assertThat(kernels.affineBias(3, null, new double[] {2, -1, Double.POSITIVE_INFINITY}, new double[] {1, -0.0, 5}, y))
        .isTrue();
    assertThat(head(y, 3)).containsExactly(1f, -0f, Float.NaN);
  }

  @Test
  void affineBiasRoundsTheDoubleSumOnce() {
    // 1·1 + (2⁻²⁴ + 2⁻⁵⁰) is just above the tie between 1 and the next float, so it rounds up;
    // a shift rounded to float first (2⁻²⁴) would make 1 + 2⁻²⁴ a tie, rounded to even (1).
    float[] y = out(1);
    assertThat(kernels.affineBias(1, new float[] {1}, new double[] {1}, new double[] {0x1p-24 + 0x1p-50}, y)).isTrue();
    assertThat(y[0]).isEqualTo(Math.nextUp(1f)).isNotEqualTo(1f + (float) (0x1p-24 + 0x1p-50));
  }

  @Test
  void affineBiasRefusesOverflow() {
    assertThat(kernels.affineBias(2, new float[] {1, 2}, new double[] {1, 2e38}, new double[] {0, 0}, out(2))).isFalse();
    assertThat(kernels.affineBias(1, null, new double[] {1}, new double[] {-1e39}, out(1))).isFalse();
  }

  // ---------------------------------------------------------------- roundToFloat

  @Test
  void roundToFloatRoundsToNearestEven() {
    float[] y = out(4);
    assertThat(kernels.roundToFloat(4, new double[] {1.0 / 3, 1 + 0x1p-24, -(1 + 0x1p-24 + 0x1p-40), Float.MAX_VALUE}, y))
        .isTrue();
    assertThat(head(y, 4)).containsExactly(1f / 3, 1f, -Math.nextUp(1f), Float.MAX_VALUE);
  }

  @Test
  void roundToFloatRefusesInfinityNaNAndPastMax() {
    for (double bad : new double[] {Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NaN,
        Math.nextUp((double) Float.MAX_VALUE), -1e39}) {
      assertThat(kernels.roundToFloat(2, new double[] {0, bad}, out(2))).as("%s", bad).isFalse();
    }
  }

  // ---------------------------------------------------------------- batchNormAffine

  @Test
  void batchNormAffineComputesScaleAndShiftInDouble() {
    // ε = 1. γ = 2, var = 3: scale = 2 / sqrt(4) = 1; shift = 0.5 − 4·1 = −3.5.
    // γ = 1, var = 0.5: scale = 1 / sqrt(1.5) in double; shift = 0 − 1·scale.
    double[] scale = new double[2];
    double[] shift = new double[2];
    int c = kernels.batchNormAffine(2, new float[] {2, 1}, new float[] {0.5f, 0}, new float[] {4, 1},
        new float[] {3, 0.5f}, 1f, scale, shift);
    assertThat(c).isEqualTo(-1);
    assertThat(scale[0]).isEqualTo(1.0);
    assertThat(shift[0]).isEqualTo(-3.5);
    assertThat(scale[1]).isEqualTo(1 / Math.sqrt(1.5));
    assertThat(shift[1]).isEqualTo(-1 / Math.sqrt(1.5));
  }

  @Test
  void batchNormAffineWidensEpsilonFromFloat() {
    // ε = 1e-5f is 9.99999974737875e-6 in double, not 1e-5.
    double[] scale = new double[1];
    double[] shift = new double[1];
    assertThat(kernels.batchNormAffine(1, new float[] {1}, new float[] {0}, new float[] {0}, new float[] {0}, 1e-5f,
        scale, shift)).isEqualTo(-1);
    assertThat(scale[0]).isEqualTo(1 / Math.sqrt((double) 1e-5f)).isNotEqualTo(1 / Math.sqrt(1e-5));
  }

  @Test
  void batchNormAffineReturnsTheFirstUnusableChannel() {
    float eps = 1e-5f;
    // channel 0 fine; 1: var + ε = 0; 2: negative; 3: NaN; 4: scale ≈ 9.5e40; 5: shift ≈ −9.5e40
    float[] gamma = {1, 1, 1, 1, 3e38f, 1};
    float[] beta = {0, 0, 0, 0, 0, 0};
    float[] mean = {0, 0, 0, 0, 0, 3e38f};
    float[] var = {1, -eps, -1, Float.NaN, 0, 0};
    for (int first = 1; first < 6; first++) {
      float[] v = var.clone();
      float[] g = gamma.clone();
      float[] m = mean.clone();
      for (int c = 1; c < first; c++) { // make the channels before `first` usable
        v[c] = 1;
        g[c] = 1;
        m[c] = 0;
      }
      double[] scale = new double[6];
      double[] shift = new double[6];
      assertThat(kernels.batchNormAffine(6, g, beta, m, v, eps, scale, shift)).as("first unusable %d", first)
          .isEqualTo(first);
      assertThat(scale[0]).isEqualTo(1 / Math.sqrt(1 + (double) eps));
    }
  }

  @Test
  void batchNormAffineAcceptsTinyButPositiveVariance() {
    // var + ε = 2⁻¹⁴⁹ (float's smallest denormal) > 0: scale = 1/sqrt(1.4e-45) ≈ 2.7e22 fits.
    double[] scale = new double[1];
    double[] shift = new double[1];
    assertThat(kernels.batchNormAffine(1, new float[] {1}, new float[] {0}, new float[] {0}, new float[] {0},
        Float.MIN_VALUE, scale, shift)).isEqualTo(-1);
    assertThat(scale[0]).isEqualTo(1 / Math.sqrt(Float.MIN_VALUE));
  }
}
