package dev.vfuse.simd;

import static dev.vfuse.simd.FloatData.bits;

import dev.vfuse.kernel.Int8Weights;
import dev.vfuse.kernel.Parallel;
import dev.vfuse.kernel.PreparedGemm;
import dev.vfuse.reference.ReferenceKernels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link SimdKernels#prepareGemmInt8} ({@link F32GemmPreparedInt8B}) against the reference's int8
 * GEMM, which dequantizes B, on every species, one thread and two, with scratch and (for beta 0)
 * C full of NaN: m from 1 (the fully connected layers) to past a few rows, n around the panel
 * NR = 4·lanes and the chunk of {@link F32GemmPreparedInt8B#CHUNK_PANELS} panels, k short and as
 * long as the models' (512, 1280), both transposes, alpha and beta, k = 0, a zero column (scale 0),
 * and A with a leading dimension larger than its rows. Tolerance: {@link ReductionTolerance} for
 * L = k plus one rounding for the scale; the slack after C untouched.
 */
class F32GemmPreparedInt8BTest {

  private static final ReferenceKernels REFERENCE = new ReferenceKernels();

  record Case(VectorSpecies<Float> species, int m, int n, int k, boolean transA, boolean transB, float alpha,
      float beta) {
    @Override
    public String toString() {
      return bits(species) + " m=" + m + " n=" + n + " k=" + k + " transA=" + transA + " transB=" + transB
          + " alpha=" + alpha + " beta=" + beta;
    }
  }

  private static final float[][] ALPHA_BETA = {{1f, 0f}, {1f, 1f}, {-0.5f, 0f}, {0.75f, -2f}};

  static Stream<Case> cases() {
    List<Case> cases = new ArrayList<>();
    for (VectorSpecies<Float> sp : VectorWidth.all()) {
      int l = sp.length();
      int nr = 4 * l;
      List<int[]> shapes = new ArrayList<>();
      shapes.add(new int[] {1, 1000, 512});
      shapes.add(new int[] {1, 1000, 1280});
      shapes.add(new int[] {2, 1000, 1280});
      for (int n : new int[] {1, l - 1, l + 1, 2 * l + 1, nr - 1, nr, nr + 1, F32GemmPreparedInt8B.CHUNK_PANELS * nr + 3}) {
        shapes.add(new int[] {1, Math.max(1, n), 37});
        shapes.add(new int[] {3, Math.max(1, n), 5});
      }
      for (int k : new int[] {1, 2, 129}) {
        shapes.add(new int[] {5, nr + 3, k});
      }
      shapes.add(new int[] {7, 2 * nr + 1, 64});
      shapes.add(new int[] {2, nr, 0});
      int i = 0;
      for (int[] s : shapes) {
        for (int t = 0; t < 4; t++, i++) {
          float[] ab = ALPHA_BETA[i % ALPHA_BETA.length];
          cases.add(new Case(sp, s[0], s[1], s[2], (t & 1) != 0, (t & 2) != 0, ab[0], ab[1]));
        }
      }
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void matchesReferenceInt8(Case c) {
    SplittableRandom rnd = FloatData.random(c.species().vectorBitSize(), c.m(), c.n(), c.k(),
        (c.transA() ? 1 : 0) + (c.transB() ? 2 : 0), Float.floatToIntBits(c.alpha()), Float.floatToIntBits(c.beta()));
    int m = c.m(), n = c.n(), k = c.k();
    int aRows = c.transA() ? k : m, aCols = c.transA() ? m : k;
    int lda = Math.max(1, aCols + 3);
    float[] a = FloatData.floats(rnd, aRows * lda, 0);
    Int8Weights.Layout layout = Int8Weights.gemm(c.transB(), n, k);
    float[] w = FloatData.floats(rnd, layout.size(), 0);
    for (int i = 0; i < layout.size(); i++) {
      if (layout.channelOf(i) == n / 2) {
        w[i] = 0f;
      }
    }
    Int8Weights q = Int8Weights.quantize(w, layout);
    int ldb = c.transB() ? k : n;
    float[] c0 = FloatData.floats(rnd, m * n, 0);
    if (c.beta() == 0f) {
      Arrays.fill(c0, 0, m * n, Float.NaN); // must never be read
    }
    float[] expected = c0.clone();
    REFERENCE.prepareGemmInt8(c.transB(), n, k, q)
        .run(m, c.transA(), c.alpha(), a, lda, c.beta(), expected, new float[0], Parallel.SERIAL);
    float[] absSum = ReductionTolerance.abs(c0);
    REFERENCE.gemm(c.transA(), c.transB(), m, n, k, Math.abs(c.alpha()), ReductionTolerance.abs(a), 0, lda,
        ReductionTolerance.abs(q.dequantize(layout)), 0, Math.max(1, ldb), Math.abs(c.beta()), absSum, 0, n);

    PreparedGemm prepared = new SimdKernels(c.species()).prepareGemmInt8(c.transB(), n, k, q);
    for (Parallel parallel : new Parallel[] {Parallel.SERIAL, TwoThreads.INSTANCE}) {
      float[] actual = c0.clone();
      float[] aIn = a.clone();
      float[] scratch = new float[prepared.scratchPerWorker(m) * parallel.threads()];
      Arrays.fill(scratch, Float.NaN);
      prepared.run(m, c.transA(), c.alpha(), aIn, lda, c.beta(), actual, scratch, parallel);
      String context = "prepared gemm int8 " + c + " lda=" + lda + " on " + parallel;
      ReductionTolerance.assertClose(context, k + 1, expected, absSum, actual, c0, i -> i < m * n);
      FloatData.assertSame(context + ": a changed", a, aIn);
    }
  }
}
