package dev.vfuse.reference;

import static dev.vfuse.reference.Floats.assertClose;
import static dev.vfuse.reference.Floats.assertWithin;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link ReferenceKernels#gemm}: C = alpha·op(A)·op(B) + beta·C. */
class GemmTest {

  private final ReferenceKernels kernels = new ReferenceKernels();

  // A = [[1, 2], [3, 4]], B = [[5, 6], [7, 8]], C = [[10, 20], [30, 40]], alpha = 2, beta = 0.5.
  private static final float[] A = {1, 2, 3, 4};
  private static final float[] B = {5, 6, 7, 8};
  private static final float[] C = {10, 20, 30, 40};

  private float[] gemm2x2(boolean transA, boolean transB, float beta, float[] c) {
    float[] out = Floats.output(4);
    System.arraycopy(c, 0, out, 0, 4);
    kernels.gemm(transA, transB, 2, 2, 2, 2f, A, 0, 2, B, 0, 2, beta, out, 0, 2);
    return out;
  }

  @Test
  void noTranspose() {
    // A·B = [[1·5 + 2·7, 1·6 + 2·8], [3·5 + 4·7, 3·6 + 4·8]] = [[19, 22], [43, 50]]
    // 2·A·B + 0.5·C = [[38 + 5, 44 + 10], [86 + 15, 100 + 20]]
    assertClose("gemm A·B", new float[] {43, 54, 101, 120}, gemm2x2(false, false, 0.5f, C), 0);
  }

  @Test
  void transposeA() {
    // Aᵀ·B = [[1·5 + 3·7, 1·6 + 3·8], [2·5 + 4·7, 2·6 + 4·8]] = [[26, 30], [38, 44]]
    // 2·Aᵀ·B + 0.5·C = [[52 + 5, 60 + 10], [76 + 15, 88 + 20]]
    assertClose("gemm Aᵀ·B", new float[] {57, 70, 91, 108}, gemm2x2(true, false, 0.5f, C), 0);
  }

  @Test
  void transposeB() {
    // A·Bᵀ = [[1·5 + 2·6, 1·7 + 2·8], [3·5 + 4·6, 3·7 + 4·8]] = [[17, 23], [39, 53]]
    // 2·A·Bᵀ + 0.5·C = [[34 + 5, 46 + 10], [78 + 15, 106 + 20]]
    assertClose("gemm A·Bᵀ", new float[] {39, 56, 93, 126}, gemm2x2(false, true, 0.5f, C), 0);
  }

  @Test
  void transposeBoth() {
    // Aᵀ·Bᵀ = (B·A)ᵀ; B·A = [[5 + 18, 10 + 24], [7 + 24, 14 + 32]] = [[23, 34], [31, 46]], so Aᵀ·Bᵀ = [[23, 31], [34, 46]]
    // 2·Aᵀ·Bᵀ + 0.5·C = [[46 + 5, 62 + 10], [68 + 15, 92 + 20]]
    assertClose("gemm Aᵀ·Bᵀ", new float[] {51, 72, 83, 112}, gemm2x2(true, true, 0.5f, C), 0);
  }

  @Test
  void betaZeroDoesNotReadC() {
    // 2·A·B = [[38, 44], [86, 100]], whatever C held.
    float[] garbage = {Float.NaN, Float.POSITIVE_INFINITY, Float.NaN, Float.NEGATIVE_INFINITY};
    assertClose("gemm beta 0 over NaN", new float[] {38, 44, 86, 100}, gemm2x2(false, false, 0f, garbage), 0);
  }

  @Test
  void offsetsAndLeadingDimensionsOnRandomData() {
    SplittableRandom rnd = new SplittableRandom(42);
    for (int i = 0; i < 40; i++) {
      boolean transA = rnd.nextBoolean();
      boolean transB = rnd.nextBoolean();
      int m = 1 + rnd.nextInt(7), n = 1 + rnd.nextInt(7), k = 1 + rnd.nextInt(9);
      float alpha = (float) rnd.nextDouble(-2, 2);
      float beta = rnd.nextInt(3) == 0 ? 0f : (float) rnd.nextDouble(-2, 2);
      // Stored shapes: A is m×k (k×m when transposed), B is k×n (n×k); each row padded by up to 3.
      int aRows = transA ? k : m, aCols = transA ? m : k;
      int bRows = transB ? n : k, bCols = transB ? k : n;
      int lda = aCols + rnd.nextInt(4), ldb = bCols + rnd.nextInt(4), ldc = n + rnd.nextInt(4);
      int aOff = rnd.nextInt(5), bOff = rnd.nextInt(5), cOff = rnd.nextInt(5);
      float[] a = Floats.uniform(rnd, aOff + aRows * lda);
      float[] b = Floats.uniform(rnd, bOff + bRows * ldb);
      float[] c = Floats.uniform(rnd, cOff + m * ldc);
      if (beta == 0f) {
        Arrays.fill(c, Float.NaN);
      }

      // Expected: the whole C array, with only the m×n window at cOff changed.
      double[] expected = new double[c.length];
      double[] tolerance = new double[c.length];
      for (int j = 0; j < c.length; j++) {
        expected[j] = c[j];
      }
      for (int row = 0; row < m; row++) {
        for (int col = 0; col < n; col++) {
          double sum = 0;
          double magnitude = 0;
          for (int l = 0; l < k; l++) {
            float av = transA ? a[aOff + l * lda + row] : a[aOff + row * lda + l];
            float bv = transB ? b[bOff + col * ldb + l] : b[bOff + l * ldb + col];
            sum += (double) av * bv;
            magnitude += Math.abs((double) av * bv);
          }
          int at = cOff + row * ldc + col;
          double old = beta == 0f ? 0 : beta * (double) c[at];
          expected[at] = alpha * sum + old;
          tolerance[at] = 1e-6 * (Math.abs(alpha) * magnitude + Math.abs(old));
        }
      }
      float[] actual = Arrays.copyOf(c, c.length + Floats.TAIL);
      Arrays.fill(actual, c.length, actual.length, Floats.SENTINEL);
      kernels.gemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, actual, cOff, ldc);
      String context = "gemm #" + i + " transA=" + transA + " transB=" + transB + " m=" + m + " n=" + n + " k=" + k
          + " alpha=" + alpha + " beta=" + beta + " aOff=" + aOff + " lda=" + lda + " bOff=" + bOff + " ldb=" + ldb
          + " cOff=" + cOff + " ldc=" + ldc;
      assertWithin(context, null, expected, tolerance, actual);
    }
  }
}
