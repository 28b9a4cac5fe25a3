package dev.vfuse.simd;

import static dev.vfuse.simd.FloatData.bits;

import dev.vfuse.kernel.ConvGeometry;
import dev.vfuse.reference.ReferenceKernels;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link SimdKernels#conv2d} against the reference within {@link ReductionTolerance}, on every
 * species: pointwise, strides, dilation, symmetric and asymmetric pads, pads wider than the
 * kernel's reach, batches, groups, channel counts around the micro-kernel's
 * {@link F32ConvImplicitGemm#MR} rows, positions across panels and output rows, long reductions;
 * depthwise checks the dispatch. The slack after y must stay untouched.
 */
class SimdConv2dTest {

  private static final ReferenceKernels REFERENCE = new ReferenceKernels();

  record Case(VectorSpecies<Float> species, String label, ConvGeometry g, boolean bias) {
    @Override
    public String toString() {
      return bits(species) + " " + label + (bias ? "" : " no bias") + " " + g;
    }
  }

  static Stream<Case> cases() {
    return VectorWidth.all().stream().flatMap(sp -> casesFor(sp).stream());
  }

  static List<Case> casesFor(VectorSpecies<Float> sp) {
    int l = sp.length();
    int nr = 2 * l;
    List<Case> cases = new ArrayList<>();
    cases.add(new Case(sp, "1x1 pointwise", ConvGeometry.of(1, 5, 7, 7, l + 3, 1, 1, 0, 1, 1), true));
    cases.add(new Case(sp, "1x1 pointwise batch 2", ConvGeometry.of(2, 37, 9, 11, nr + 1, 1, 1, 0, 1, 1), true));
    cases.add(new Case(sp, "1x1 pointwise PQ=1", ConvGeometry.of(2, 7, 1, 1, 13, 1, 1, 0, 1, 1), false));
    cases.add(new Case(sp, "1x1 stride 2", ConvGeometry.of(2, 6, 9, 10, 7, 1, 2, 0, 1, 1), true));
    cases.add(new Case(sp, "1x1 pad 1", ConvGeometry.of(1, 3, 5, 6, 4, 1, 1, 1, 1, 1), true));
    cases.add(new Case(sp, "3x3 pad 1", ConvGeometry.of(1, 3, 10, 10, 8, 3, 1, 1, 1, 1), true));
    cases.add(new Case(sp, "3x3 pad 1 batch 2 tails", ConvGeometry.of(2, 16, 13, 17, nr + 5, 3, 1, 1, 1, 1), true));
    cases.add(new Case(sp, "3x3 pad 1, reduction 288", ConvGeometry.of(1, 32, 8, 9, 7, 3, 1, 1, 1, 1), true));
    cases.add(new Case(sp, "3x3 no pad", ConvGeometry.of(1, 4, 9, 8, 6, 3, 1, 0, 1, 1), false));
    cases.add(new Case(sp, "3x3 stride 2 pad 1", ConvGeometry.of(1, 7, 15, 16, 9, 3, 2, 1, 1, 1), true));
    cases.add(new Case(sp, "3x3 dilation 2 pad 2", ConvGeometry.of(2, 5, 11, 12, 6, 3, 1, 2, 2, 1), true));
    cases.add(new Case(sp, "3x3 pad 3 (rows fully padded)", ConvGeometry.of(1, 2, 4, 5, 3, 3, 1, 3, 1, 1), true));
    cases.add(new Case(sp, "7x7 stride 2 pad 3", ConvGeometry.of(1, 3, 32, 30, l + 1, 7, 2, 3, 1, 1), true));
    cases.add(new Case(sp, "asymmetric pads, 3x2, strides 1x2",
        new ConvGeometry(1, 4, 9, 12, 6, 3, 2, 1, 2, 1, 1, 0, 2, 1, 0, 1), true));
    cases.add(new Case(sp, "asymmetric pads, 1x5, strides 2x1, dilation 1x2",
        new ConvGeometry(2, 3, 8, 13, 5, 1, 5, 2, 1, 1, 2, 1, 0, 0, 3, 1), true));
    cases.add(new Case(sp, "5x1 stride 3x1 pad bottom/right only",
        new ConvGeometry(1, 6, 14, 7, 11, 5, 1, 3, 1, 1, 1, 0, 0, 2, 1, 1), true));
    cases.add(new Case(sp, "K=1 C=1", ConvGeometry.of(1, 1, 6, 6, 1, 3, 1, 1, 1, 1), true));
    cases.add(new Case(sp, "grouped 2", ConvGeometry.of(1, 4, 6, 6, 6, 3, 1, 1, 1, 2), true));
    cases.add(new Case(sp, "grouped 3, Kg = MR + 1, batch 2", ConvGeometry.of(2, 9, 7, 8, 21, 3, 1, 1, 1, 3), true));
    cases.add(new Case(sp, "grouped 4 pointwise, Kg = MR - 1", ConvGeometry.of(1, 8, 5, 5, 20, 1, 1, 0, 1, 4), false));
    cases.add(new Case(sp, "positions > tile with a tail", ConvGeometry.of(1, 3, 20, 17, 13, 3, 1, 1, 1, 1), true));
    cases.add(new Case(sp, "pointwise positions = 2 tiles", ConvGeometry.of(1, 5, 16, 32, 6, 1, 1, 0, 1, 1), true));
    cases.add(new Case(sp, "Q < NR: runs across many rows", ConvGeometry.of(1, 6, 9, 3, 7, 3, 1, 1, 1, 1), true));
    cases.add(new Case(sp, "reduction 513", ConvGeometry.of(1, 57, 6, 6, 12, 3, 1, 1, 1, 1), true));
    cases.add(new Case(sp, "last channel's taps in the right padding", ConvGeometry.of(1, 2, 5, 4, 3, 3, 1, 2, 2, 1), true));
    cases.add(new Case(sp, "depthwise", ConvGeometry.of(1, 5, 6, 6, 5, 3, 1, 1, 1, 5), true));
    // 17 panels of 8·576 floats, 14 to a WeightChunks chunk: the panels span two chunks.
    cases.add(new Case(sp, "weights in two chunks", ConvGeometry.of(1, 64, 4, 4, 136, 3, 1, 1, 1, 1), true));
    return cases;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void matchesReference(Case c) {
    ConvGeometry g = c.g();
    SplittableRandom rnd = FloatData.random(c.species().vectorBitSize(), c.label().hashCode(), g.hashCode());
    float[] x = FloatData.floats(rnd, (int) g.inputSize(), 0);
    float[] w = FloatData.floats(rnd, (int) g.weightSize(), 0);
    float[] bias = c.bias() ? FloatData.floats(rnd, g.k(), 0) : null;
    int size = (int) g.outputSize();

    float[] expected = FloatData.sentinels(size);
    REFERENCE.conv2d(g, x, w, bias, expected);
    float[] absSum = FloatData.sentinels(size);
    REFERENCE.conv2d(g, ReductionTolerance.abs(x), ReductionTolerance.abs(w),
        bias == null ? null : ReductionTolerance.abs(bias), absSum);
    float[] actual = FloatData.sentinels(size);
    float[] xIn = x.clone();
    float[] wIn = w.clone();
    new SimdKernels(c.species()).conv2d(g, xIn, wIn, bias, actual);

    String context = "conv2d " + c + " P=" + g.p() + " Q=" + g.q() + ", species " + c.species();
    ReductionTolerance.assertClose(context, g.reductionLength(), expected, absSum, actual,
        FloatData.sentinels(size), i -> i < size);
    FloatData.assertSame(context + ": x changed", x, xIn);
    FloatData.assertSame(context + ": w changed", w, wIn);
  }
}
