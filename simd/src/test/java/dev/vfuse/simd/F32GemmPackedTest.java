package dev.vfuse.simd;

import static dev.vfuse.simd.FloatData.bits;

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
 * {@link SimdKernels#gemm} ({@link F32GemmPacked}) against the reference within
 * {@link ReductionTolerance}, on every species, with m, n and k around the tile (MR = 6,
 * NR = 2·lanes, KC, MC, NC), all four transposes, alpha/beta (beta 0 over NaN garbage in C), and
 * offsets and leading dimensions larger than the matrices; memory outside C must stay untouched.
 * The prepared form runs the same cases.
 */
class F32GemmPackedTest {

  private static final ReferenceKernels REFERENCE = new ReferenceKernels();

  /** One call; {@code padded} adds offsets and leading dimensions beyond the matrix sizes. */
  record Case(VectorSpecies<Float> species, String label, int m, int n, int k, boolean transA, boolean transB,
      float alpha, float beta, boolean padded) {
    @Override
    public String toString() {
      return bits(species) + " " + label + " m=" + m + " n=" + n + " k=" + k + " transA=" + transA + " transB="
          + transB + " alpha=" + alpha + " beta=" + beta + (padded ? " offsets+ld" : "");
    }
  }

  private static final float[][] ALPHA_BETA = {{1f, 0f}, {1f, 1f}, {-0.5f, 0f}, {0.75f, -2f}, {2f, 0.5f}};

  static Stream<Case> cases() {
    return VectorWidth.all().stream().flatMap(sp -> casesFor(sp).stream());
  }

  static List<Case> casesFor(VectorSpecies<Float> sp) {
    int l = sp.length();
    int nr = 2 * l;
    int mr = F32GemmPacked.MR;
    int kc = F32GemmPacked.KC;
    List<int[]> shapes = new ArrayList<>();
    // k around the K block and small
    for (int k : new int[] {1, 2, 5, 37, 129, kc - 1, kc, kc + 1, 2 * kc + 3}) {
      shapes.add(new int[] {mr + 1, nr + 1, k});
    }
    // m around the register tile and the M block
    for (int m : new int[] {1, mr - 1, mr, mr + 1, 2 * mr + 1, 37, F32GemmPacked.MC, F32GemmPacked.MC + 7}) {
      shapes.add(new int[] {m, nr + 3, 17});
    }
    // n around the vector, the tile and the N block
    for (int n : new int[] {1, l - 1, l, l + 1, nr - 1, nr, nr + 1, 3 * nr + 5, 129}) {
      shapes.add(new int[] {mr + 1, n, 13});
    }
    shapes.add(new int[] {3, F32GemmPacked.NC + 5, 5});
    shapes.add(new int[] {2 * mr, 2 * nr, kc + 9});
    // prepared B: 256 columns of a KC block fill a WeightChunks chunk at every width, so 2 chunks a block
    shapes.add(new int[] {3, 301, kc + 9});
    shapes.add(new int[] {1, 1, 1});
    shapes.add(new int[] {mr, nr, 0});
    List<Case> cases = new ArrayList<>();
    int i = 0;
    for (int[] s : shapes) {
      for (int t = 0; t < 4; t++, i++) {
        float[] ab = ALPHA_BETA[i % ALPHA_BETA.length];
        cases.add(new Case(sp, "shape", s[0], s[1], s[2], (t & 1) != 0, (t & 2) != 0, ab[0], ab[1], i % 3 == 1));
      }
    }
    for (float[] ab : ALPHA_BETA) {
      for (boolean padded : new boolean[] {false, true}) {
        cases.add(new Case(sp, "alpha/beta", 2 * mr + 1, nr + 5, 37, false, true, ab[0], ab[1], padded));
        cases.add(new Case(sp, "alpha/beta", mr - 1, 129, 129, true, false, ab[0], ab[1], padded));
      }
    }
    return cases;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void matchesReference(Case c) {
    SplittableRandom rnd = FloatData.random(c.species().vectorBitSize(), c.m(), c.n(), c.k(),
        (c.transA() ? 1 : 0) + (c.transB() ? 2 : 0), Float.floatToIntBits(c.alpha()), Float.floatToIntBits(c.beta()),
        c.padded() ? 1 : 0);
    int m = c.m(), n = c.n(), k = c.k();
    // Stored shapes: A is m×k (k×m transposed), B is k×n (n×k transposed), C is m×n.
    int aRows = c.transA() ? k : m, aCols = c.transA() ? m : k;
    int bRows = c.transB() ? n : k, bCols = c.transB() ? k : n;
    int aOff = c.padded() ? 3 : 0, bOff = c.padded() ? 7 : 0, cOff = c.padded() ? 5 : 0;
    int lda = aCols + (c.padded() ? 4 : 0);
    int ldb = bCols + (c.padded() ? 9 : 0);
    int ldc = n + (c.padded() ? 2 : 0);
    lda = Math.max(lda, 1);
    ldb = Math.max(ldb, 1);
    float[] a = FloatData.floats(rnd, aOff + aRows * lda, 0);
    float[] b = FloatData.floats(rnd, bOff + bRows * ldb, 0);
    float[] c0 = FloatData.floats(rnd, cOff + m * ldc, 0);
    if (c.beta() == 0f) {
      // Must never be read: NaN here would poison any output that reads it.
      for (int i = 0; i < m; i++) {
        Arrays.fill(c0, cOff + i * ldc, cOff + i * ldc + n, Float.NaN);
      }
    }
    float[] expected = c0.clone();
    REFERENCE.gemm(c.transA(), c.transB(), m, n, k, c.alpha(), a, aOff, lda, b, bOff, ldb, c.beta(), expected,
        cOff, ldc);
    float[] absSum = ReductionTolerance.abs(c0);
    REFERENCE.gemm(c.transA(), c.transB(), m, n, k, Math.abs(c.alpha()), ReductionTolerance.abs(a), aOff, lda,
        ReductionTolerance.abs(b), bOff, ldb, Math.abs(c.beta()), absSum, cOff, ldc);
    float[] actual = c0.clone();
    float[] aIn = a.clone();
    float[] bIn = b.clone();
    new SimdKernels(c.species()).gemm(c.transA(), c.transB(), m, n, k, c.alpha(), aIn, aOff, lda, bIn, bOff, ldb,
        c.beta(), actual, cOff, ldc);
    final int ldcF = ldc, cOffF = cOff;
    String context = "gemm " + c + " aOff=" + aOff + " lda=" + lda + " bOff=" + bOff + " ldb=" + ldb + " cOff="
        + cOff + " ldc=" + ldc + ", species " + c.species();
    ReductionTolerance.assertClose(context, k, expected, absSum, actual, c0,
        i -> i >= cOffF && (i - cOffF) / ldcF < m && (i - cOffF) % ldcF < n);
    FloatData.assertSame(context + ": a changed", a, aIn);
    FloatData.assertSame(context + ": b changed", b, bIn);
  }

  /**
   * The same cases through {@link SimdKernels#prepareGemm} ({@link F32GemmPreparedB}), whose
   * operands start at offset 0 and whose C has leading dimension n, on one thread and on two;
   * scratch arrives as NaN garbage.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void preparedMatchesReference(Case c) {
    SplittableRandom rnd = FloatData.random(c.species().vectorBitSize(), c.m(), c.n(), c.k(), 77);
    int m = c.m(), n = c.n(), k = c.k();
    int aRows = c.transA() ? k : m, aCols = c.transA() ? m : k;
    int bRows = c.transB() ? n : k, bCols = c.transB() ? k : n;
    int lda = Math.max(1, aCols + (c.padded() ? 4 : 0));
    int ldb = Math.max(1, bCols + (c.padded() ? 9 : 0));
    float[] a = FloatData.floats(rnd, aRows * lda, 0);
    float[] b = FloatData.floats(rnd, bRows * ldb, 0);
    float[] c0 = FloatData.floats(rnd, m * n + FloatData.SLACK, 0);
    if (c.beta() == 0f) {
      Arrays.fill(c0, 0, m * n, Float.NaN);
    }
    float[] expected = c0.clone();
    REFERENCE.gemm(c.transA(), c.transB(), m, n, k, c.alpha(), a, 0, lda, b, 0, ldb, c.beta(), expected, 0, n);
    float[] absSum = ReductionTolerance.abs(c0);
    REFERENCE.gemm(c.transA(), c.transB(), m, n, k, Math.abs(c.alpha()), ReductionTolerance.abs(a), 0, lda,
        ReductionTolerance.abs(b), 0, ldb, Math.abs(c.beta()), absSum, 0, n);
    PreparedGemm prepared = new SimdKernels(c.species()).prepareGemm(c.transB(), n, k, b.clone(), ldb);
    for (Parallel parallel : new Parallel[] {Parallel.SERIAL, TwoThreads.INSTANCE}) {
      float[] actual = c0.clone();
      float[] scratch = new float[prepared.scratchPerWorker(m) * parallel.threads()];
      Arrays.fill(scratch, Float.NaN);
      prepared.run(m, c.transA(), c.alpha(), a, lda, c.beta(), actual, scratch, parallel);
      ReductionTolerance.assertClose("prepared gemm " + c + " lda=" + lda + " ldb=" + ldb + " on "
          + parallel.threads() + " thread(s)", k, expected, absSum, actual, c0, i -> i < m * n);
    }
  }
}
