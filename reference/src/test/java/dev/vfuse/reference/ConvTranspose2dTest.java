package dev.vfuse.reference;

import static dev.vfuse.reference.Floats.assertClose;
import static dev.vfuse.reference.Floats.assertWithin;
import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.kernel.ConvTransposeGeometry;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link ReferenceKernels#convTranspose2d}, which gathers each output, against a brute-force
 * scatter: every input element adds x·w to each output it reaches.
 */
class ConvTranspose2dTest {

  /** |y − expected| ≤ 1e-5 · (|bias| + Σ|x·w|) per output. */
  private static final double RELATIVE_TOLERANCE = 1e-5;

  private final ReferenceKernels kernels = new ReferenceKernels();

  private float[] run(ConvTransposeGeometry g, float[] x, float[] weight, float[] bias) {
    float[] y = Floats.output((int) g.outputSize());
    kernels.convTranspose2d(g, x, weight, bias, y);
    return y;
  }

  @Test
  void strideTwoWithOutputPaddingByHand() {
    // One channel, x = [[1, 2], [3, 4]], w = [[1, 10], [100, 1000]], stride 2, no pads, output pad 1.
    // P = Q = 2·(2 − 1) + 1 + 1·(2 − 1) + 1 = 5. Input (h, w) writes x·w[r][s] to (2h + r, 2w + s),
    // so the 4x4 top-left is a tiling of x[h][w]·w; row 4 and column 4 (the output padding) get
    // the bias 0.5 alone.
    ConvTransposeGeometry g = new ConvTransposeGeometry(1, 1, 2, 2, 1, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 1, 1, 1);
    assertThat(g.p()).isEqualTo(5);
    float[] expected = {
        1 + .5f, 10 + .5f, 2 + .5f, 20 + .5f, .5f,
        100 + .5f, 1000 + .5f, 200 + .5f, 2000 + .5f, .5f,
        3 + .5f, 30 + .5f, 4 + .5f, 40 + .5f, .5f,
        300 + .5f, 3000 + .5f, 400 + .5f, 4000 + .5f, .5f,
        .5f, .5f, .5f, .5f, .5f};
    float[] y = run(g, new float[] {1, 2, 3, 4}, new float[] {1, 10, 100, 1000}, new float[] {.5f});
    assertClose("convTranspose by hand " + g, expected, y, 0);
  }

  @Test
  void strideTwoOutputPaddingOneGroupsTwo() {
    // N 2, C 4, 5x6 input, K 6, 3x3 kernel, stride 2, pads 1/0/1/2 (top/left/bottom/right), output pad 1, groups 2.
    ConvTransposeGeometry g = new ConvTransposeGeometry(2, 4, 5, 6, 6, 3, 3, 2, 2, 1, 1, 1, 0, 1, 2, 1, 1, 2);
    check(g, new SplittableRandom(20240611L), "stride 2, output pad 1, groups 2");
  }

  @Test
  void matchesScatterOnRandomGeometries() {
    SplittableRandom rnd = new SplittableRandom(0xdecaf);
    for (int i = 0; i < 100; i++) {
      check(randomGeometry(rnd), rnd, "#" + i);
    }
  }

  private void check(ConvTransposeGeometry g, SplittableRandom rnd, String name) {
    float[] x = Floats.uniform(rnd, g.n() * g.c() * g.h() * g.w());
    float[] w = Floats.uniform(rnd, (int) g.weightSize());
    float[] bias = rnd.nextBoolean() ? Floats.uniform(rnd, g.k()) : null;
    Scatter expected = scatter(g, x, w, bias);
    assertWithin("convTranspose2d " + name + " " + g + (bias == null ? " without" : " with") + " bias",
        new int[] {g.n(), g.k(), g.p(), g.q()}, expected.y, expected.tolerance, run(g, x, w, bias));
  }

  /** Groups 1 to 3, kernels 1 to 4, strides and dilations 1 to 3, output padding below the stride, pads that leave an output. */
  private static ConvTransposeGeometry randomGeometry(SplittableRandom rnd) {
    while (true) {
      int groups = 1 + rnd.nextInt(3);
      int c = groups * (1 + rnd.nextInt(3));
      int k = groups * (1 + rnd.nextInt(3));
      int r = 1 + rnd.nextInt(4);
      int s = 1 + rnd.nextInt(4);
      int strideH = 1 + rnd.nextInt(3);
      int strideW = 1 + rnd.nextInt(3);
      int dilationH = rnd.nextInt(3) == 0 ? 2 + rnd.nextInt(2) : 1;
      int dilationW = rnd.nextInt(3) == 0 ? 2 + rnd.nextInt(2) : 1;
      int padTop = rnd.nextInt(3), padLeft = rnd.nextInt(3), padBottom = rnd.nextInt(3), padRight = rnd.nextInt(3);
      int outputPadH = rnd.nextInt(strideH);
      int outputPadW = rnd.nextInt(strideW);
      int h = 1 + rnd.nextInt(6);
      int w = 1 + rnd.nextInt(6);
      int p = strideH * (h - 1) + outputPadH + dilationH * (r - 1) + 1 - padTop - padBottom;
      int q = strideW * (w - 1) + outputPadW + dilationW * (s - 1) + 1 - padLeft - padRight;
      if (p <= 0 || q <= 0) {
        continue;
      }
      return new ConvTransposeGeometry(1 + rnd.nextInt(2), c, h, w, k, r, s, strideH, strideW, dilationH, dilationW,
          padTop, padLeft, padBottom, padRight, outputPadH, outputPadW, groups);
    }
  }

  private record Scatter(double[] y, double[] tolerance) {}

  /** Every x[n, c, h, w] adds x·w[c, kk, r, s] to y[n, k, h·strideH − padTop + r·dilationH, w·strideW − padLeft + s·dilationW] when that is inside the output. */
  private static Scatter scatter(ConvTransposeGeometry g, float[] x, float[] weight, float[] bias) {
    int cPerGroup = g.c() / g.groups();
    int kPerGroup = g.k() / g.groups();
    int P = g.p(), Q = g.q();
    double[] y = new double[(int) g.outputSize()];
    double[] magnitude = new double[y.length];
    for (int n = 0; n < g.n(); n++) {
      for (int c = 0; c < g.c(); c++) {
        int group = c / cPerGroup;
        for (int h = 0; h < g.h(); h++) {
          for (int w = 0; w < g.w(); w++) {
            double xv = x[((n * g.c() + c) * g.h() + h) * g.w() + w];
            for (int kk = 0; kk < kPerGroup; kk++) {
              int k = group * kPerGroup + kk;
              for (int r = 0; r < g.r(); r++) {
                for (int s = 0; s < g.s(); s++) {
                  int p = h * g.strideH() - g.padTop() + r * g.dilationH();
                  int q = w * g.strideW() - g.padLeft() + s * g.dilationW();
                  if (p < 0 || p >= P || q < 0 || q >= Q) {
                    continue;
                  }
                  double term = xv * weight[((c * kPerGroup + kk) * g.r() + r) * g.s() + s];
                  int out = ((n * g.k() + k) * P + p) * Q + q;
                  y[out] += term;
                  magnitude[out] += Math.abs(term);
                }
              }
            }
          }
        }
      }
    }
    double[] tolerance = new double[y.length];
    for (int i = 0; i < y.length; i++) {
      double b = bias == null ? 0 : bias[i / (P * Q) % g.k()];
      y[i] += b;
      tolerance[i] = RELATIVE_TOLERANCE * (Math.abs(b) + magnitude[i]);
    }
    return new Scatter(y, tolerance);
  }
}
