package dev.vfuse.simd;

import static dev.vfuse.simd.FloatData.bits;

import dev.vfuse.reference.ReferenceKernels;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link SimdKernels#batchedMatMul} ({@link F32BatchedMatMul} below its size limit, the packed GEMM
 * per batch above it) against the reference within {@link ReductionTolerance}, on every species:
 * m around the 4-row tile, n around the vector length, k short and long, several batches with
 * A and B at scattered offsets and a broadcast B (every batch reading the same matrix); memory
 * past C stays untouched.
 */
class F32BatchedMatMulTest {
  private static final ReferenceKernels REFERENCE = new ReferenceKernels();

  record Case(VectorSpecies<Float> species, int batches, int m, int n, int k, boolean sharedB) {
    @Override
    public String toString() {
      return bits(species) + " batches=" + batches + " m=" + m + " n=" + n + " k=" + k + (sharedB ? " shared B" : "");
    }
  }

  static Stream<Case> cases() {
    List<Case> out = new ArrayList<>();
    for (VectorSpecies<Float> sp : VectorWidth.all()) {
      int l = sp.length();
      for (int m : new int[] {1, 3, 4, 5, 8, 9, 40}) {
        out.add(new Case(sp, 2, m, l + 1, 15, false));
      }
      for (int n : new int[] {1, l - 1, l, l + 1, 2 * l, 2 * l + 3, 40}) {
        out.add(new Case(sp, 3, 5, n, 8, n % 2 == 0));
      }
      for (int k : new int[] {1, 2, 15, 40, 300}) {
        out.add(new Case(sp, 1, 6, l + 2, k, false));
      }
      out.add(new Case(sp, 16, 40, 40, 15, false)); // attention scores, 8 heads × 2 images
      out.add(new Case(sp, 8, 40, 15, 40, false)); // attention output
      out.add(new Case(sp, 2, 7, 200, 120, true)); // B of 24000 floats: the packed GEMM path
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void matchesReference(Case c) {
    SplittableRandom rnd = new SplittableRandom(c.toString().hashCode());
    int aSize = c.m * c.k;
    int bSize = c.k * c.n;
    int[] aOffsets = new int[c.batches];
    int[] bOffsets = new int[c.batches];
    int aLen = 3;
    int bLen = 5;
    for (int t = 0; t < c.batches; t++) {
      aOffsets[t] = aLen;
      aLen += aSize + rnd.nextInt(4);
      bOffsets[t] = c.sharedB ? 5 : bLen;
      if (!c.sharedB) {
        bLen += bSize + rnd.nextInt(4);
      }
    }
    if (c.sharedB) {
      bLen += bSize;
    }
    float[] a = FloatData.floats(rnd, aLen + 7, 0);
    float[] b = FloatData.floats(rnd, bLen + 7, 0);
    int cSize = c.batches * c.m * c.n;
    float[] untouched = FloatData.sentinels(cSize + 19);
    float[] expected = untouched.clone();
    REFERENCE.batchedMatMul(c.batches, c.m, c.n, c.k, a, aOffsets, b, bOffsets, expected);
    float[] absSum = untouched.clone();
    REFERENCE.batchedMatMul(c.batches, c.m, c.n, c.k, ReductionTolerance.abs(a), aOffsets, ReductionTolerance.abs(b), bOffsets,
        absSum);
    float[] actual = untouched.clone();
    new SimdKernels(c.species).batchedMatMul(c.batches, c.m, c.n, c.k, a, aOffsets, b, bOffsets, actual);
    ReductionTolerance.assertClose("batchedMatMul " + c, c.k, expected, absSum, actual, untouched, i -> i < cSize);
  }
}
