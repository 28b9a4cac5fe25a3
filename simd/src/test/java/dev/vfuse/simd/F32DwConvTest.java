package dev.vfuse.simd;

import static dev.vfuse.simd.FloatData.bits;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.vfuse.kernel.ConvGeometry;
import dev.vfuse.kernel.Parallel;
import dev.vfuse.kernel.PreparedConv;
import dev.vfuse.reference.ReferenceKernels;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link F32DwConv} against {@link ReferenceKernels#conv2d} on every species, on depthwise
 * geometry whose output width sits around the vector length L.
 *
 * <p>Tolerance, L = R·S taps: |simd − reference| ≤ L·2⁻²³·Σ|terms| with Σ|terms| = |bias| + Σ|w·x|,
 * computed as the reference conv of |x|, |w|, |bias|. Outside the tensor (the slack) the output must
 * stay {@link FloatData#SENTINEL}.
 */
class F32DwConvTest {

  private static final ReferenceKernels REFERENCE = new ReferenceKernels();

  /** Kernel R×S. */
  private static final int[][] KERNELS = {{3, 3}, {5, 5}, {7, 7}, {3, 1}};

  /** Output heights: below, at, above and twice the direct kernels' block of 4 rows, plus one. */
  private static final int[] ROWS = {3, 4, 5, 9};

  /** (batch, multiplier, bias) combinations. */
  private static final Object[][] BATCH_MULT_BIAS = {{1, 1, true}, {2, 2, false}, {1, 2, true}, {2, 1, false}};

  static Stream<Arguments> geometries() {
    List<Arguments> cases = new ArrayList<>();
    for (VectorSpecies<Float> species : VectorWidth.all()) {
      int l = species.length();
      int[] widths = {1, l - 1, l, l + 1, 2 * l + 3, 5 * l + 3};
      for (int[] kernel : KERNELS) {
        int R = kernel[0], S = kernel[1];
        for (int stride : new int[] {1, 2}) {
          for (int dil : new int[] {1, 2}) {
            int halfH = dil * (R - 1) / 2, halfW = dil * (S - 1) / 2;
            // zero, symmetric ("same"), asymmetric (more on the far side, as TF "same" with stride 2)
            int[][] pads = {{0, 0, 0, 0}, {halfH, halfW, halfH, halfW}, {halfH / 2, halfW, halfH + 1, halfW / 2 + 1}};
            for (int[] pad : pads) {
              for (int qTarget : widths) {
                Object[] bmb = BATCH_MULT_BIAS[Math.floorMod(cases.size(), BATCH_MULT_BIAS.length)];
                // P around the direct kernels' block of 4 output rows, taken in turn.
                int P = ROWS[cases.size() % ROWS.length];
                int h = (P - 1) * stride + dil * (R - 1) + 1 - pad[0] - pad[2];
                int w = (qTarget - 1) * stride + dil * (S - 1) + 1 - pad[1] - pad[3];
                if (h < 1 || w < 1) {
                  continue;
                }
                int n = (int) bmb[0], m = (int) bmb[1], c = 3;
                ConvGeometry g = new ConvGeometry(n, c, h, w, c * m, R, S, stride, stride, dil, dil,
                    pad[0], pad[1], pad[2], pad[3], c);
                cases.add(Arguments.of(species, g, (boolean) bmb[2]));
              }
            }
          }
        }
      }
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "{0} {1} bias={2}")
  @MethodSource("geometries")
  void matchesReference(VectorSpecies<Float> species, ConvGeometry g, boolean withBias) {
    assertThat(F32DwConv.supports(g)).isTrue();
    SplittableRandom rnd = FloatData.random(species.vectorBitSize(), g.hashCode(), withBias ? 1 : 0);
    float[] x = FloatData.floats(rnd, (int) g.inputSize(), 0);
    float[] w = FloatData.floats(rnd, (int) g.weightSize(), 0);
    float[] bias = withBias ? FloatData.floats(rnd, g.k(), 0) : null;
    int size = (int) g.outputSize();

    float[] expected = FloatData.sentinels(size);
    REFERENCE.conv2d(g, x, w, bias, expected);
    float[] magnitude = FloatData.sentinels(size);
    REFERENCE.conv2d(g, abs(x), abs(w), bias == null ? null : abs(bias), magnitude);
    float[] actual = FloatData.sentinels(size);
    float[] xIn = x.clone();
    float[] wIn = w.clone();
    PreparedConv conv = F32DwConv.prepare(species, g, wIn, bias, null, null);
    conv.run(xIn, null, actual, new float[conv.scratchPerWorker()], Parallel.SERIAL);

    String context = "dwconv on " + bits(species) + " species " + species + ", " + g + ", bias=" + withBias
        + ", P=" + g.p() + " Q=" + g.q();
    float ulpsPerTerm = g.r() * g.s() * 0x1p-23f;
    for (int i = 0; i < expected.length; i++) {
      float tol = i < size ? ulpsPerTerm * magnitude[i] : 0f;
      if (!(Math.abs(expected[i] - actual[i]) <= tol)) {
        fail("%s: first mismatch at index %d (n,k,p,q = %s): expected %s, got %s, tolerance %s",
            context, i, where(g, i), expected[i], actual[i], tol);
      }
    }
    FloatData.assertSame(context + ": x changed", x, xIn);
    FloatData.assertSame(context + ": w changed", w, wIn);
  }

  @Test
  void supportsOnlyOneInputChannelPerGroup() {
    assertThat(F32DwConv.supports(ConvGeometry.of(1, 8, 5, 5, 8, 3, 1, 1, 1, 8))).isTrue();
    assertThat(F32DwConv.supports(ConvGeometry.of(1, 8, 5, 5, 16, 3, 1, 1, 1, 8))).isTrue();
    assertThat(F32DwConv.supports(ConvGeometry.of(1, 8, 5, 5, 8, 3, 1, 1, 1, 4))).isFalse();
    assertThat(F32DwConv.supports(ConvGeometry.of(1, 8, 5, 5, 8, 3, 1, 1, 1, 1))).isFalse();
  }

  private static float[] abs(float[] a) {
    float[] b = new float[a.length];
    for (int i = 0; i < a.length; i++) {
      b[i] = Math.abs(a[i]);
    }
    return b;
  }

  private static String where(ConvGeometry g, int i) {
    if (i >= g.outputSize()) {
      return "slack +" + (i - g.outputSize());
    }
    int q = i % g.q(), p = i / g.q() % g.p(), k = i / (g.q() * g.p()) % g.k(), n = i / (g.q() * g.p() * g.k());
    return n + "," + k + "," + p + "," + q;
  }
}
