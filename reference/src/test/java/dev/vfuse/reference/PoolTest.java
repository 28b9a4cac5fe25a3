package dev.vfuse.reference;

import static dev.vfuse.reference.Floats.assertClose;
import static dev.vfuse.reference.Floats.assertWithin;
import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.kernel.PoolGeometry;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Max, average and global average pooling. */
class PoolTest {

  private final ReferenceKernels kernels = new ReferenceKernels();

  private static PoolGeometry square(int h, int kernel, int stride, int padBegin, int padEnd, boolean ceilMode) {
    return new PoolGeometry(1, 1, h, h, kernel, kernel, stride, stride, 1, 1, padBegin, padBegin, padEnd, padEnd,
        ceilMode);
  }

  @Test
  void maxPoolWithPadsAndCeilMode() {
    // 4x4 input x = 4i + j, 2x2 window, stride 2, pad 1 at top/left and 0 at bottom/right, ceil mode.
    // P = ceil((4 + 1 − 2) / 2) + 1 = ceil(1.5) + 1 = 3 (floor mode would give 2); the last window
    // starts at row 2·2 − 1 = 3, inside the input, so it is kept.
    // Window rows: {−1, 0} → {0}, {1, 2}, {3, 4} → {3}; same for columns. max = 4·max(rows) + max(cols).
    PoolGeometry g = square(4, 2, 2, 1, 0, true);
    assertThat(g.p()).isEqualTo(3);
    float[] expected = {
        0, 2, 3,     // 4·0 + {0, 2, 3}
        8, 10, 11,   // 4·2 + {0, 2, 3}
        12, 14, 15}; // 4·3 + {0, 2, 3}
    float[] y = Floats.output(9);
    kernels.maxPool2d(g, Floats.iota(16), y);
    assertClose("maxPool " + g, expected, y, 0);
  }

  @Test
  void ceilModeDropsAWindowThatWouldStartInTheTrailingPadding() {
    // H = 5, window 2, stride 2, pad 1 on both sides: ceil((5 + 2 − 2) / 2) + 1 = 4, but the 4th window
    // would start at 3·2 − 1 = 5 ≥ H, inside the bottom padding, so P = 3.
    assertThat(square(5, 2, 2, 1, 1, true).p()).isEqualTo(3);
  }

  /**
   * 4x4 input x = 4i + j, 3x3 window, stride 2, pad 1 on every side, ceil mode:
   * P = ceil((4 + 2 − 3) / 2) + 1 = 3, windows start at −1, 1, 3. Per axis, in-range positions are
   * A = {0, 1}, B = {1, 2, 3}, Z = {3}, and the positions inside input + declared padding number
   * 3, 3 and 2 (the last window covers 3, 4 = the declared pad, and 5, beyond it, added by ceil mode).
   * Window sum over rows Ri and columns Cj = 4·|Cj|·ΣRi + |Ri|·ΣCj, with |A| = 2, ΣA = 1,
   * |B| = 3, ΣB = 6, |Z| = 1, ΣZ = 3.
   */
  private static final double[] WINDOW_SUMS = {
      4 * 2 * 1 + 2 * 1, 4 * 3 * 1 + 2 * 6, 4 * 1 * 1 + 2 * 3, // 10, 24, 10
      4 * 2 * 6 + 3 * 1, 4 * 3 * 6 + 3 * 6, 4 * 1 * 6 + 3 * 3, // 51, 90, 33
      4 * 2 * 3 + 1 * 1, 4 * 3 * 3 + 1 * 6, 4 * 1 * 3 + 1 * 3}; // 25, 42, 15

  @Test
  void avgPoolExcludingPad() {
    // Divisor = |Ri|·|Cj|: 4, 6, 2 / 6, 9, 3 / 2, 3, 1.
    float[] expected = {
        10 / 4f, 24 / 6f, 10 / 2f,   // 2.5, 4, 5
        51 / 6f, 90 / 9f, 33 / 3f,   // 8.5, 10, 11
        25 / 2f, 42 / 3f, 15 / 1f};  // 12.5, 14, 15
    assertThat(WINDOW_SUMS[4]).isEqualTo(90); // rows 1-3, cols 1-3: (5+6+7) + (9+10+11) + (13+14+15)
    avgPool(false, expected);
  }

  @Test
  void avgPoolIncludingPad() {
    // Divisor = (3, 3, 2) × (3, 3, 2): 9, 9, 6 / 9, 9, 6 / 6, 6, 4 — never the full 9 for the last
    // window, whose third row and column lie beyond the declared padding.
    float[] expected = {
        (float) (10 / 9.0), (float) (24 / 9.0), (float) (10 / 6.0),
        (float) (51 / 9.0), (float) (90 / 9.0), (float) (33 / 6.0),
        (float) (25 / 6.0), (float) (42 / 6.0), (float) (15 / 4.0)};
    avgPool(true, expected);
  }

  private void avgPool(boolean countIncludePad, float[] expected) {
    PoolGeometry g = square(4, 3, 2, 1, 1, true);
    assertThat(g.p()).isEqualTo(3);
    float[] y = Floats.output(9);
    kernels.avgPool2d(g, countIncludePad, Floats.iota(16), y);
    assertClose("avgPool countIncludePad=" + countIncludePad + " " + g, expected, y, 1e-6);
  }

  @Test
  void poolsMatchBruteForceOnRandomGeometries() {
    SplittableRandom rnd = new SplittableRandom(77);
    for (int i = 0; i < 150; i++) {
      PoolGeometry g = randomGeometry(rnd);
      float[] x = Floats.uniform(rnd, g.n() * g.c() * g.h() * g.w());
      int[] shape = {g.n(), g.c(), g.p(), g.q()};
      int size = (int) g.outputSize();
      for (int mode = 0; mode < 3; mode++) {
        double[] expected = new double[size];
        double[] tolerance = new double[size];
        bruteForce(g, mode, x, expected, tolerance);
        float[] y = Floats.output(size);
        if (mode == 0) {
          kernels.maxPool2d(g, x, y);
        } else {
          kernels.avgPool2d(g, mode == 2, x, y);
        }
        String op = mode == 0 ? "maxPool" : "avgPool countIncludePad=" + (mode == 2);
        assertWithin(op + " #" + i + " " + g, shape, expected, tolerance, y);
      }
    }
  }

  /** Windows 1 to 4 with stride and dilation 1 to 3, pads smaller than the window, floor or ceil mode. */
  private static PoolGeometry randomGeometry(SplittableRandom rnd) {
    while (true) {
      int r = 1 + rnd.nextInt(4);
      int s = 1 + rnd.nextInt(4);
      int dilationH = rnd.nextInt(3) == 0 ? 2 + rnd.nextInt(2) : 1;
      int dilationW = rnd.nextInt(3) == 0 ? 2 + rnd.nextInt(2) : 1;
      int padTop = rnd.nextInt(r), padBottom = rnd.nextInt(r), padLeft = rnd.nextInt(s), padRight = rnd.nextInt(s);
      int h = 1 + rnd.nextInt(9);
      int w = 1 + rnd.nextInt(9);
      if (h + padTop + padBottom < dilationH * (r - 1) + 1 || w + padLeft + padRight < dilationW * (s - 1) + 1) {
        continue;
      }
      return new PoolGeometry(1 + rnd.nextInt(2), 1 + rnd.nextInt(3), h, w, r, s, 1 + rnd.nextInt(3),
          1 + rnd.nextInt(3), dilationH, dilationW, padTop, padLeft, padBottom, padRight, rnd.nextBoolean());
    }
  }

  /**
   * Visits every tap of every window and classifies its position: inside the input, inside the
   * declared padding, or beyond. mode 0 = max, 1 = average over the input, 2 = average counting
   * the declared padding.
   */
  private static void bruteForce(PoolGeometry g, int mode, float[] x, double[] y, double[] tolerance) {
    int out = 0;
    for (int plane = 0; plane < g.n() * g.c(); plane++) {
      for (int p = 0; p < g.p(); p++) {
        for (int q = 0; q < g.q(); q++) {
          double max = Double.NEGATIVE_INFINITY;
          double sum = 0;
          int inside = 0;
          int insidePadded = 0;
          for (int r = 0; r < g.r(); r++) {
            for (int s = 0; s < g.s(); s++) {
              int ih = p * g.strideH() - g.padTop() + r * g.dilationH();
              int iw = q * g.strideW() - g.padLeft() + s * g.dilationW();
              if (ih >= -g.padTop() && ih < g.h() + g.padBottom() && iw >= -g.padLeft() && iw < g.w() + g.padRight()) {
                insidePadded++;
              }
              if (ih >= 0 && ih < g.h() && iw >= 0 && iw < g.w()) {
                float v = x[(plane * g.h() + ih) * g.w() + iw];
                max = Math.max(max, v);
                sum += v;
                inside++;
              }
            }
          }
          int count = mode == 2 ? insidePadded : inside;
          y[out] = mode == 0 ? max : count == 0 ? 0 : sum / count;
          tolerance[out] = mode == 0 ? 0 : 1e-6;
          out++;
        }
      }
    }
  }

  @Test
  void globalAvgPool() {
    // Two planes of 3: mean(0, 1, 2) = 1, mean(3, 4, 5) = 4.
    float[] y = Floats.output(2);
    kernels.globalAvgPool(2, 3, Floats.iota(6), y);
    assertClose("globalAvgPool", new float[] {1, 4}, y, 0);
  }
}
