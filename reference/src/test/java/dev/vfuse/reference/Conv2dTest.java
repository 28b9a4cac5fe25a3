package dev.vfuse.reference;

import static dev.vfuse.reference.Floats.assertClose;
import static dev.vfuse.reference.Floats.assertWithin;
import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.kernel.ConvGeometry;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** {@link ReferenceKernels#conv2d}: hand-checked cases, then a cross-check against im2col + gemm. */
class Conv2dTest {

  private final ReferenceKernels kernels = new ReferenceKernels();

  private static ConvGeometry geometry(int n, int c, int h, int w, int k, int r, int s, int strideH, int strideW,
      int dilationH, int dilationW, int padTop, int padLeft, int padBottom, int padRight, int groups) {
    return new ConvGeometry(n, c, h, w, k, r, s, strideH, strideW, dilationH, dilationW,
        padTop, padLeft, padBottom, padRight, groups);
  }

  private float[] run(ConvGeometry g, float[] x, float[] weight, float[] bias) {
    float[] y = Floats.output((int) g.outputSize());
    kernels.conv2d(g, x, weight, bias, y);
    return y;
  }

  @Test
  void threeByThreeWithPadOneOnFourByFour() {
    // x = 1..16 row-major; w has 1 at (0,0) and 2 at (2,2), so with pad 1
    // y[p][q] = x[p−1][q−1] + 2·x[p+1][q+1] + 0.5, reading 0 outside the input.
    //  1  2  3  4
    //  5  6  7  8
    //  9 10 11 12
    // 13 14 15 16
    ConvGeometry g = ConvGeometry.of(1, 1, 4, 4, 1, 3, 1, 1, 1, 1);
    float[] x = new float[16];
    for (int i = 0; i < 16; i++) {
      x[i] = i + 1;
    }
    float[] w = {1, 0, 0, 0, 0, 0, 0, 0, 2};
    float[] expected = {
        // row 0: 0 + 2·6, 0 + 2·7, 0 + 2·8, 0 + 0
        12.5f, 14.5f, 16.5f, 0.5f,
        // row 1: 0 + 2·10, 1 + 2·11, 2 + 2·12, 3 + 0
        20.5f, 23.5f, 26.5f, 3.5f,
        // row 2: 0 + 2·14, 5 + 2·15, 6 + 2·16, 7 + 0
        28.5f, 35.5f, 38.5f, 7.5f,
        // row 3: 0, 9, 10, 11 (row 4 is padding)
        0.5f, 9.5f, 10.5f, 11.5f};
    assertThat(g.p()).isEqualTo(4);
    assertThat(g.q()).isEqualTo(4);
    assertClose("3x3 pad 1 " + g, expected, run(g, x, w, new float[] {0.5f}), 0);
  }

  @Test
  void groupedOneByOne() {
    // C = 4, K = 2, groups = 2: k0 reads channels 0-1, k1 reads channels 2-3. H = 1, W = 2.
    // x: c0 = [1, 2], c1 = [3, 4], c2 = [5, 6], c3 = [7, 8]; w[K][C/groups] = [[1, 10], [100, 1000]].
    // k0 = c0 + 10·c1 = [1 + 30, 2 + 40] = [31, 42]
    // k1 = 100·c2 + 1000·c3 = [500 + 7000, 600 + 8000] = [7500, 8600]
    ConvGeometry g = ConvGeometry.of(1, 4, 1, 2, 2, 1, 1, 0, 1, 2);
    float[] x = {1, 2, 3, 4, 5, 6, 7, 8};
    float[] w = {1, 10, 100, 1000};
    assertClose("grouped " + g, new float[] {31, 42, 7500, 8600}, run(g, x, w, null), 0);
  }

  @Test
  void depthwiseStrideTwoAsymmetricPads() {
    // C = K = groups = 2, 4x4 input, 3x3 kernel, stride 2, pads top 1, left 0, bottom 0, right 1.
    // P = (4 + 1 + 0 − 3) / 2 + 1 = 2, Q = (4 + 0 + 1 − 3) / 2 + 1 = 2.
    // Windows start at rows −1, 1 and columns 0, 2, so the in-range rows are {0,1}, {1,2,3} and the
    // in-range columns {0,1,2}, {2,3}.
    ConvGeometry g = geometry(1, 2, 4, 4, 2, 3, 3, 2, 2, 1, 1, 1, 0, 0, 1, 2);
    assertThat(g.p()).isEqualTo(2);
    assertThat(g.q()).isEqualTo(2);
    float[] x = Floats.iota(32); // channel 0: x = 4i + j; channel 1: x = 16 + 4i + j
    float[] w = new float[18];
    for (int i = 0; i < 9; i++) {
      w[i] = 1; // channel 0: box sum
    }
    w[9 + 4] = 2; // channel 1: 2 × the window centre, which sits at (row start + 1, column start + 1)
    float[] expected = {
        // channel 0, bias 0: sums of 4i + j over the window
        // (0,0): rows 0-1, cols 0-2: (0+1+2) + (4+5+6) = 18
        // (0,1): rows 0-1, cols 2-3: (2+3) + (6+7) = 18
        // (1,0): rows 1-3, cols 0-2: (4+5+6) + (8+9+10) + (12+13+14) = 81
        // (1,1): rows 1-3, cols 2-3: (6+7) + (10+11) + (14+15) = 63
        18, 18, 81, 63,
        // channel 1, bias −1: 2·x at centres (0,1), (0,3), (2,1), (2,3) = 2·17, 2·19, 2·25, 2·27, minus 1
        33, 37, 49, 53};
    assertClose("depthwise " + g, expected, run(g, x, w, new float[] {0, -1}), 0);
  }

  @Test
  void dilationTwo() {
    // 5x5 input x = 5i + j, 2x2 kernel [[1, 2], [3, 4]] with dilation 2 (taps at offsets 0 and 2), no pad.
    // P = Q = (5 − 2·1 − 1) / 1 + 1 = 3.
    // y[p][q] = 1·x[p][q] + 2·x[p][q+2] + 3·x[p+2][q] + 4·x[p+2][q+2]
    //         = 10·(5p + q) + 2·2 + 3·10 + 4·12 = 50p + 10q + 82
    ConvGeometry g = ConvGeometry.of(1, 1, 5, 5, 1, 2, 1, 0, 2, 1);
    float[] expected = {
        82, 92, 102,
        132, 142, 152,
        182, 192, 202};
    assertClose("dilation 2 " + g, expected, run(g, Floats.iota(25), new float[] {1, 2, 3, 4}, null), 0);
  }

  // ---------------------------------------------------------------- cross-check

  /** Relative tolerance of the cross-check: |y − expected| ≤ 1e-5 · (|bias| + Σ|w·x|). */
  private static final double RELATIVE_TOLERANCE = 1e-5;

  private static final int GEOMETRIES = 200;

  @Test
  void matchesIm2colGemmOnRandomGeometries() {
    SplittableRandom rnd = new SplittableRandom(0x5eed_c0de);
    int grouped = 0, depthwise = 0, dilated = 0, asymmetric = 0, strided = 0, pointwise = 0, overlapping = 0;
    for (int i = 0; i < GEOMETRIES; i++) {
      ConvGeometry g = randomGeometry(rnd);
      float[] x = Floats.uniform(rnd, (int) g.inputSize());
      float[] w = Floats.uniform(rnd, (int) g.weightSize());
      float[] bias = rnd.nextBoolean() ? Floats.uniform(rnd, g.k()) : null;
      Im2colResult expected = im2colGemm(g, x, w, bias);
      int[] shape = {g.n(), g.k(), g.p(), g.q()};
      assertWithin("conv2d #" + i + " " + g + (bias == null ? " without" : " with") + " bias", shape,
          expected.y, expected.tolerance, run(g, x, w, bias));

      grouped += g.groups() > 1 ? 1 : 0;
      depthwise += g.groups() > 1 && g.groups() == g.c() ? 1 : 0;
      dilated += g.dilationH() > 1 || g.dilationW() > 1 ? 1 : 0;
      asymmetric += g.padTop() != g.padBottom() || g.padLeft() != g.padRight() ? 1 : 0;
      strided += g.strideH() > 1 || g.strideW() > 1 ? 1 : 0;
      pointwise += g.r() == 1 && g.s() == 1 ? 1 : 0;
      overlapping += g.r() > g.strideH() || g.s() > g.strideW() ? 1 : 0;
    }
    // The generator must actually cover what the test claims to cover.
    String coverage = "grouped " + grouped + ", depthwise " + depthwise + ", dilated " + dilated
        + ", asymmetric pads " + asymmetric + ", strided " + strided + ", 1x1 " + pointwise
        + ", kernel > stride " + overlapping;
    assertThat(IntStream.of(grouped, depthwise, dilated, asymmetric, strided, pointwise, overlapping).min().orElseThrow())
        .as(coverage).isGreaterThanOrEqualTo(10);
  }

  /** A valid geometry: groups 1, 2, 3 or depthwise (with channel multiplier 1 or 2), kernels 1 to 5, strides and dilations 1 to 3, each pad 0 to 3. */
  private static ConvGeometry randomGeometry(SplittableRandom rnd) {
    while (true) {
      int groups;
      int cPerGroup;
      int kPerGroup;
      if (rnd.nextInt(4) == 0) { // depthwise
        groups = 1 + rnd.nextInt(6);
        cPerGroup = 1;
        kPerGroup = 1 + rnd.nextInt(2);
      } else {
        groups = 1 + rnd.nextInt(3);
        cPerGroup = 1 + rnd.nextInt(3);
        kPerGroup = 1 + rnd.nextInt(3);
      }
      int[] kernels = {1, 1, 2, 3, 4, 5};
      int r = kernels[rnd.nextInt(kernels.length)];
      int s = rnd.nextInt(3) == 0 ? kernels[rnd.nextInt(kernels.length)] : r;
      int strideH = 1 + rnd.nextInt(3);
      int strideW = rnd.nextBoolean() ? strideH : 1 + rnd.nextInt(3);
      int dilationH = rnd.nextInt(3) == 0 ? 2 + rnd.nextInt(2) : 1;
      int dilationW = rnd.nextInt(3) == 0 ? 2 + rnd.nextInt(2) : 1;
      int padTop = rnd.nextInt(4), padLeft = rnd.nextInt(4), padBottom = rnd.nextInt(4), padRight = rnd.nextInt(4);
      int h = 1 + rnd.nextInt(12);
      int w = 1 + rnd.nextInt(12);
      if (h + padTop + padBottom < dilationH * (r - 1) + 1 || w + padLeft + padRight < dilationW * (s - 1) + 1) {
        continue; // the dilated kernel does not fit the padded input
      }
      int n = 1 + rnd.nextInt(2);
      return new ConvGeometry(n, groups * cPerGroup, h, w, groups * kPerGroup, r, s, strideH, strideW,
          dilationH, dilationW, padTop, padLeft, padBottom, padRight, groups);
    }
  }

  private record Im2colResult(double[] y, double[] tolerance) {}

  /**
   * Conv as a matrix product per image and group: col[(c, r, s), (p, q)] holds the input the tap
   * reads (0 in the padding), and y[k, (p, q)] = bias[k] + Σ_row w[k, row] · col[row, (p, q)], in
   * double. The tolerance of each output is RELATIVE_TOLERANCE · (|bias| + Σ|w·col|).
   */
  private static Im2colResult im2colGemm(ConvGeometry g, float[] x, float[] w, float[] bias) {
    int cPerGroup = g.c() / g.groups();
    int kPerGroup = g.k() / g.groups();
    int rows = cPerGroup * g.r() * g.s();
    int cols = g.p() * g.q();
    double[] y = new double[(int) g.outputSize()];
    double[] tolerance = new double[y.length];
    for (int n = 0; n < g.n(); n++) {
      for (int group = 0; group < g.groups(); group++) {
        double[] col = new double[rows * cols];
        for (int c = 0; c < cPerGroup; c++) {
          int channel = group * cPerGroup + c;
          for (int r = 0; r < g.r(); r++) {
            for (int s = 0; s < g.s(); s++) {
              int row = (c * g.r() + r) * g.s() + s;
              for (int p = 0; p < g.p(); p++) {
                for (int q = 0; q < g.q(); q++) {
                  int ih = p * g.strideH() - g.padTop() + r * g.dilationH();
                  int iw = q * g.strideW() - g.padLeft() + s * g.dilationW();
                  boolean inside = ih >= 0 && ih < g.h() && iw >= 0 && iw < g.w();
                  col[row * cols + p * g.q() + q] = inside ? x[((n * g.c() + channel) * g.h() + ih) * g.w() + iw] : 0;
                }
              }
            }
          }
        }
        for (int kk = 0; kk < kPerGroup; kk++) {
          int k = group * kPerGroup + kk;
          double b = bias == null ? 0 : bias[k];
          for (int j = 0; j < cols; j++) {
            double sum = 0;
            double magnitude = 0;
            for (int row = 0; row < rows; row++) {
              double term = w[k * rows + row] * col[row * cols + j];
              sum += term;
              magnitude += Math.abs(term);
            }
            int out = (n * g.k() + k) * cols + j;
            y[out] = b + sum;
            tolerance[out] = RELATIVE_TOLERANCE * (Math.abs(b) + magnitude);
          }
        }
      }
    }
    return new Im2colResult(y, tolerance);
  }
}
