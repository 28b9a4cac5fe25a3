package dev.vfuse.simd;

import static dev.vfuse.simd.FloatData.bits;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import dev.vfuse.kernel.Activation;
import dev.vfuse.kernel.ConvEpilogue;
import dev.vfuse.kernel.ConvGeometry;
import dev.vfuse.kernel.Parallel;
import dev.vfuse.kernel.PositionOffsets;
import dev.vfuse.kernel.PreparedConv;
import dev.vfuse.reference.ReferenceKernels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The prepared {@link F32DwConv} on seeded random depthwise geometry, every species, one thread and
 * two. Two checks per case:
 *
 * <ul>
 *   <li>the convolution alone (no offsets, residual or activation) is within
 *       R·S·2⁻²³·(|bias| + Σ|w·x|) of {@link ReferenceKernels#conv2d}, element by element;
 *   <li>the fused run is bit for bit that convolution followed by the scalar
 *       {@link ConvEpilogue#applyTo}, on {@link Parallel#SERIAL} and on two real threads: fusing
 *       the epilogue and splitting into tasks change who computes an output, never how.
 * </ul>
 *
 * Scratch arrives full of NaN and must not leak into the output; the output's slack must keep
 * {@link FloatData#SENTINEL}; x and the weights must not change. Besides random geometry, the
 * cases sit around the direct kernels' tiles (rows per block, vector length; see
 * {@code tileCases}).
 */
class F32DwConvPreparedTest {

  private static final ReferenceKernels REFERENCE = new ReferenceKernels();

  private static final Activation[] ACTIVATIONS = {
    null, new Activation.Relu(), new Activation.LeakyRelu(0.1f), new Activation.Clip(0f, 6f),
    new Activation.Sigmoid(), new Activation.HardSigmoid(0.2f, 0.5f), new Activation.HardSwish(), new Activation.Tanh(),
  };

  /** Kernel sizes R×S drawn from, 3×3 and 5×5 (the models' sizes) most often. */
  private static final int[][] KERNELS = {{3, 3}, {3, 3}, {5, 5}, {5, 5}, {1, 1}, {7, 7}, {3, 1}, {1, 5}, {2, 2}};

  record Case(VectorSpecies<Float> species, ConvGeometry g, boolean bias, boolean offsets, boolean residual,
      Activation activation) {
    @Override
    public String toString() {
      return bits(species) + " " + g + " P=" + g.p() + " Q=" + g.q() + " bias=" + bias + " offsets=" + offsets
          + " residual=" + residual + " activation=" + activation;
    }
  }

  static Stream<Case> cases() {
    List<Case> cases = new ArrayList<>();
    for (VectorSpecies<Float> species : VectorWidth.all()) {
      SplittableRandom rnd = FloatData.random(species.vectorBitSize(), 0xD3);
      int lanes = species.length();
      // Output widths around the vector length and the unroll of four vectors.
      int[] widths = {1, 2, lanes - 1, lanes, lanes + 1, 2 * lanes + 3, 4 * lanes - 1, 4 * lanes + 1, 5 * lanes + 3};
      for (int i = 0; i < 8 * ACTIVATIONS.length; i++) {
        int[] kernel = KERNELS[rnd.nextInt(KERNELS.length)];
        int strideH = 1 + rnd.nextInt(3);
        int strideW = i % 3 == 0 ? strideH : 1 + rnd.nextInt(3);
        int dilationH = rnd.nextInt(4) == 0 ? 2 : 1;
        int dilationW = rnd.nextInt(4) == 0 ? 2 : 1;
        int reachH = dilationH * (kernel[0] - 1);
        int reachW = dilationW * (kernel[1] - 1);
        int padTop = rnd.nextInt(reachH + 1), padBottom = rnd.nextInt(reachH + 2);
        int padLeft = rnd.nextInt(reachW + 1), padRight = rnd.nextInt(reachW + 2);
        int p = 1 + rnd.nextInt(9);
        int q = widths[rnd.nextInt(widths.length)];
        // Input sizes giving about P×Q outputs (never less than the kernel's reach, as pads ≤ reach + 1);
        // a stride leaves up to stride − 1 unread rows and columns at random.
        int h = Math.max(1, (p - 1) * strideH + reachH + 1 - padTop - padBottom + rnd.nextInt(strideH));
        int w = Math.max(1, (q - 1) * strideW + reachW + 1 - padLeft - padRight + rnd.nextInt(strideW));
        int c = 1 + rnd.nextInt(5);
        int multiplier = rnd.nextInt(3) == 0 ? 2 + rnd.nextInt(2) : 1;
        int n = rnd.nextInt(3) == 0 ? 2 : 1;
        ConvGeometry g = new ConvGeometry(n, c, h, w, c * multiplier, kernel[0], kernel[1], strideH, strideW,
            dilationH, dilationW, padTop, padLeft, padBottom, padRight, c);
        // Cycling through activations and the 8 bias/offsets/residual combinations covers every pair.
        int parts = i / ACTIVATIONS.length;
        cases.add(new Case(species, g, (parts & 1) != 0, (parts & 2) != 0, (parts & 4) != 0,
            ACTIVATIONS[i % ACTIVATIONS.length]));
      }
      // Planes larger than one band of F32DwConv.BAND_FLOATS: several bands per plane, a partial last one.
      cases.add(new Case(species, ConvGeometry.of(1, 3, 131, 97, 3, 3, 1, 1, 1, 3), true, true, true,
          new Activation.Relu()));
      cases.add(new Case(species, new ConvGeometry(2, 2, 203, 150, 4, 5, 5, 2, 2, 1, 1, 2, 1, 2, 2, 2), true, false,
          true, new Activation.HardSwish()));
      cases.add(new Case(species, new ConvGeometry(1, 2, 160, 90, 2, 3, 3, 3, 3, 2, 1, 1, 2, 0, 2, 2), false, true,
          false, new Activation.Clip(0f, 6f)));
      tileCases(species, cases);
      // The benchmark's layer shapes, cut to a few channels.
      cases.add(new Case(species, ConvGeometry.of(1, 4, 56, 56, 4, 3, 1, 1, 1, 4), true, true, true, null));
      cases.add(new Case(species, ConvGeometry.of(1, 4, 112, 112, 4, 3, 2, 1, 1, 4), true, false, false,
          new Activation.Clip(0f, 6f)));
      cases.add(new Case(species, ConvGeometry.of(2, 9, 7, 7, 9, 3, 1, 1, 1, 9), true, true, true,
          new Activation.HardSwish()));
      cases.add(new Case(species, ConvGeometry.of(1, 5, 56, 56, 5, 5, 2, 2, 1, 5), true, false, true,
          new Activation.Relu()));
      cases.add(new Case(species, ConvGeometry.of(1, 7, 7, 7, 7, 5, 1, 2, 1, 7), false, true, false,
          new Activation.HardSigmoid(0.2f, 0.5f)));
    }
    return cases.stream();
  }

  /** Kernel R×S and stride of F32DwConv's direct kernels (dilation 1), then two that take the ext path. */
  private static final int[][] DIRECT_GEOMETRY = {{3, 3, 1, 1}, {3, 3, 2, 1}, {5, 5, 1, 1}, {5, 5, 2, 1}, {3, 3, 1, 2},
    {3, 3, 2, 2}};

  /**
   * Geometry around the direct kernels' tiles: P around the block of 4 output rows (1, 3, 4, 5, 8, 9),
   * Q around the vector length (below, equal, above, tails, odd), stride 2 on odd input widths,
   * pads 0, 1, 2 and asymmetric, multiplier 2, batch 2, and dilation 2 (the ext path) beside them;
   * the epilogue parts and activations taken in turn.
   */
  private static void tileCases(VectorSpecies<Float> species, List<Case> cases) {
    int lanes = species.length();
    int[] ps = {1, 3, 4, 5, 8, 9};
    int[] qs = {1, lanes - 1, lanes, lanes + 1, 2 * lanes + 3, 3 * lanes - 5};
    int[][] pads = {{0, 0, 0, 0}, {1, 1, 1, 1}, {2, 2, 2, 2}, {0, 1, 2, 0}, {2, 0, 1, 2}};
    int i = 0;
    for (int[] geometry : DIRECT_GEOMETRY) {
      int r = geometry[0], s = geometry[1], stride = geometry[2], dilation = geometry[3];
      for (int p : ps) {
        for (int q : qs) {
          if (q < 1) {
            continue;
          }
          int[] pad = pads[i % pads.length];
          int padTop = Math.min(pad[0], (r - 1) * dilation), padLeft = Math.min(pad[1], (s - 1) * dilation);
          int padBottom = Math.min(pad[2], (r - 1) * dilation), padRight = Math.min(pad[3], (s - 1) * dilation);
          // Odd input widths with stride 2 (one unread column at the end on every other case).
          int h = Math.max(1, (p - 1) * stride + (r - 1) * dilation + 1 - padTop - padBottom + (i & 1) * (stride - 1));
          int w = Math.max(1, (q - 1) * stride + (s - 1) * dilation + 1 - padLeft - padRight + (i / 2 & 1) * (stride - 1));
          int c = 2 + i % 3;
          int multiplier = i % 4 == 3 ? 2 : 1;
          int n = i % 5 == 4 ? 2 : 1;
          ConvGeometry g = new ConvGeometry(n, c, h, w, c * multiplier, r, s, stride, stride, dilation, dilation,
              padTop, padLeft, padBottom, padRight, c);
          cases.add(new Case(species, g, i % 2 == 0, i % 7 == 3, i % 3 != 0, ACTIVATIONS[i % ACTIVATIONS.length]));
          i++;
        }
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void matchesReferenceAndFusesExactly(Case c) {
    ConvGeometry g = c.g();
    SplittableRandom rnd = FloatData.random(c.species().vectorBitSize(), g.hashCode(), c.toString().hashCode());
    int size = (int) g.outputSize();
    int plane = g.p() * g.q();
    float[] x = FloatData.floats(rnd, (int) g.inputSize(), 0);
    float[] w = FloatData.floats(rnd, (int) g.weightSize(), 0);
    float[] bias = c.bias() ? FloatData.floats(rnd, g.k(), 0) : null;
    PositionOffsets offsets = c.offsets() ? FloatData.offsets(rnd, g.k(), g.p(), g.q()) : null;
    float[] residual = c.residual() ? FloatData.floats(rnd, size, 0) : null;
    float[] xIn = x.clone();
    float[] wIn = w.clone();

    PreparedConv plain = F32DwConv.prepare(c.species(), g, w, bias, null, null);
    float[] conv = FloatData.sentinels(size);
    plain.run(x, null, conv, garbage(plain.scratchPerWorker()), Parallel.SERIAL);
    assertNearReference(c, x, w, bias, conv);

    float[] expected = conv.clone();
    new ConvEpilogue(offsets, residual, c.activation()).applyTo(g.n(), g.k(), plane, expected);
    PreparedConv fused = F32DwConv.prepare(c.species(), g, w, bias, offsets, c.activation());
    for (Parallel parallel : new Parallel[] {Parallel.SERIAL, TwoThreads.INSTANCE}) {
      float[] actual = FloatData.sentinels(size);
      fused.run(x, residual, actual, garbage(fused.scratchPerWorker() * parallel.threads()), parallel);
      for (int i = 0; i < expected.length; i++) {
        if (!FloatData.same(expected[i], actual[i])) {
          fail("%s on %s: fused run differs from conv + scalar epilogue first at index %d (%s): expected %s, got %s",
              c, parallel, i, where(g, i), expected[i], actual[i]);
        }
      }
    }
    FloatData.assertSame(c + ": x changed", xIn, x);
    FloatData.assertSame(c + ": w changed", wIn, w);
  }

  @Test
  void refusesGeometryThatIsNotDepthwise() {
    ConvGeometry grouped = ConvGeometry.of(1, 8, 5, 5, 8, 3, 1, 1, 1, 4);
    assertThatThrownBy(() -> F32DwConv.prepare(FloatVector.SPECIES_256, grouped, new float[8 * 2 * 9], null, null, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a depthwise convolution");
  }

  /** |conv − reference| ≤ R·S·2⁻²³·Σ|terms| inside the output; the slack still holds the sentinel. */
  private static void assertNearReference(Case c, float[] x, float[] w, float[] bias, float[] conv) {
    ConvGeometry g = c.g();
    int size = (int) g.outputSize();
    float[] expected = FloatData.sentinels(size);
    REFERENCE.conv2d(g, x, w, bias, expected);
    float[] magnitude = FloatData.sentinels(size);
    REFERENCE.conv2d(g, ReductionTolerance.abs(x), ReductionTolerance.abs(w),
        bias == null ? null : ReductionTolerance.abs(bias), magnitude);
    double perTerm = g.r() * g.s() * ReductionTolerance.EPSILON;
    for (int i = 0; i < conv.length; i++) {
      boolean ok = i < size
          ? Math.abs((double) conv[i] - expected[i]) <= perTerm * magnitude[i]
          : FloatData.same(FloatData.SENTINEL, conv[i]);
      if (!ok) {
        fail("%s: conv differs from the reference first at index %d (%s): expected %s, got %s, tolerance %s",
            c, i, where(g, i), i < size ? expected[i] : FloatData.SENTINEL, conv[i], perTerm * magnitude[Math.min(i, size - 1)]);
      }
    }
  }

  private static float[] garbage(int n) {
    float[] scratch = new float[n];
    Arrays.fill(scratch, Float.NaN);
    return scratch;
  }

  /** "n,k,p,q" of an output index, or its place in the slack. */
  private static String where(ConvGeometry g, int i) {
    if (i >= g.outputSize()) {
      return "slack +" + (i - g.outputSize());
    }
    int q = i % g.q(), p = i / g.q() % g.p(), k = i / (g.q() * g.p()) % g.k(), n = i / (g.q() * g.p() * g.k());
    return "n,k,p,q = " + n + "," + k + "," + p + "," + q;
  }

}
