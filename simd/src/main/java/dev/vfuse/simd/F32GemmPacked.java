package dev.vfuse.simd;

import java.util.Arrays;
import java.util.Objects;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * f32 GEMM, packed panels, a 6×(2·L) register-blocked micro-kernel (L = lanes of the species:
 * 6×32 at 512 bits, 6×16 at 256, 6×8 at 128).
 *
 * <p>C = alpha·op(A)·op(B) + beta·C with the addressing of {@code Kernels#gemm}: A(i, l) is
 * a[aOff + i·lda + l] or, transposed, a[aOff + l·lda + i]; likewise B; C(i, j) is c[cOff + i·ldc + j].
 * When beta is 0 the old C is never read (NaN garbage in C does not leak).
 *
 * <p>Loop nest (Goto/BLIS order): columns in blocks of {@link #NC}, the reduction in blocks of
 * {@link #KC}, rows in blocks of {@link #MC}. Each KC×NC block of op(B) is packed into panels
 * NR = 2·L wide (k-major: NR floats per l), each MC×KC block of op(A) into panels of {@link #MR}
 * rows (MR floats per l); panels are zero-padded at the M and N edges, so the micro-kernel always
 * runs the full tile and only the stores are cut (rows by count, columns by
 * {@code species.indexInRange}). Transposed operands are handled entirely by the packing.
 *
 * <p>Precision: float products accumulated in float with FMA, in KC-long blocks; then
 * C = alpha·acc + beta·C for the first K block and C = alpha·acc + C for the next ones (one FMA
 * each). This differs from the reference (double accumulation) by rounding only; the tests bound
 * it by (reduction length + 2)·2⁻²³·Σ|terms|.
 *
 * <p>The micro-kernel exists once per width ({@link #microKernel}), each on a constant species.
 *
 * <p>Work space: the two packing buffers (sized to the problem, at most MC×KC and KC×NC floats) and
 * the MR×NR tile, from the caller ({@link #workFloats}) or allocated once per call, never inside
 * the loops; instances are stateless and thread-safe.
 */
final class F32GemmPacked {

  /** Rows of the register tile. 6 rows × 2 vectors = 12 accumulators + 2 B vectors + 1 broadcast. */
  static final int MR = 6;

  /** Reduction block: one B panel (KC×NR) stays in L1 while the A panels stream past it. */
  static final int KC = 256;

  /** Row block, a multiple of MR: the packed A block (MC×KC) stays in L2. */
  static final int MC = 144;

  /** Column block: the packed B block (KC×NC). */
  static final int NC = 1024;

  private static final VectorSpecies<Float> S128 = FloatVector.SPECIES_128;
  private static final VectorSpecies<Float> S256 = FloatVector.SPECIES_256;
  private static final VectorSpecies<Float> S512 = FloatVector.SPECIES_512;

  private final VectorSpecies<Float> species;
  private final int nr;

  F32GemmPacked(VectorSpecies<Float> species) {
    this.species = Objects.requireNonNull(species, "species");
    this.nr = 2 * species.length();
  }

  /** Columns of the register tile: two vectors. */
  int nr() {
    return nr;
  }

  void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
      float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
    gemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc,
        new float[workFloats(m, n, k)], 0);
  }

  /** Floats of work space {@link #gemm} needs at these sizes: both packing blocks and the spill tile. */
  int workFloats(int m, int n, int k) {
    int kcMax = Math.min(KC, Math.max(k, 1));
    return Math.min(MC, roundUp(Math.max(m, 1), MR)) * kcMax + kcMax * Math.min(NC, roundUp(Math.max(n, 1), nr))
        + MR * nr;
  }

  /** {@link #gemm} in the caller's work space: at least {@link #workFloats} floats from {@code workOff}. */
  void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
      float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc, float[] work, int workOff) {
    gemm(transA, transB, m, n, k, alpha, a, null, null, 0, 0, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, work,
        workOff);
  }

  /**
   * {@link #gemm} with an int8 left operand, not transposed: A(i, l) = q[aOff + i·lda + l]·scale
   * with scale = aScale[scaleOff + i / rowsPerScale], dequantized (rounded once to float, as
   * {@code Int8Weights.dequantize} does) while A is packed, so the float micro-kernel runs unchanged.
   */
  void gemmInt8A(int m, int n, int k, float alpha, byte[] q, float[] aScale, int scaleOff, int rowsPerScale,
      int aOff, int lda, float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc, float[] work,
      int workOff) {
    gemm(false, false, m, n, k, alpha, null, q, aScale, scaleOff, rowsPerScale, aOff, lda, b, bOff, ldb, beta, c,
        cOff, ldc, work, workOff);
  }

  /** The loop nest, A float ({@code a}) or int8 ({@code q}, with its row scales). */
  private void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, byte[] q,
      float[] aScale, int scaleOff, int rowsPerScale, int aOff, int lda, float[] b, int bOff, int ldb, float beta,
      float[] c, int cOff, int ldc, float[] work, int workOff) {
    if (m <= 0 || n <= 0) {
      return;
    }
    if (k <= 0) {
      scaleC(m, n, beta, c, cOff, ldc);
      return;
    }
    int kcMax = Math.min(KC, k);
    int mcMax = Math.min(MC, roundUp(m, MR));
    int ncMax = Math.min(NC, roundUp(n, nr));
    float[] packA = work;
    float[] packB = work;
    float[] tile = work;
    int packAOff = workOff;
    int packBOff = workOff + mcMax * kcMax;
    int tileOff = packBOff + kcMax * ncMax;
    for (int jc = 0; jc < n; jc += NC) {
      int nc = Math.min(NC, n - jc);
      for (int pc = 0; pc < k; pc += KC) {
        int kc = Math.min(KC, k - pc);
        float betaBlock = pc == 0 ? beta : 1f;
        packB(transB, b, bOff, ldb, pc, kc, jc, nc, packB, packBOff);
        for (int ic = 0; ic < m; ic += MC) {
          int mc = Math.min(MC, m - ic);
          if (q == null) {
            packA(transA, a, aOff, lda, ic, mc, pc, kc, packA, packAOff);
          } else {
            packAInt8(q, aScale, scaleOff, rowsPerScale, aOff, lda, ic, mc, pc, kc, packA, packAOff);
          }
          for (int jr = 0; jr < nc; jr += nr) {
            int cols = Math.min(nr, nc - jr);
            int bPanel = jr * kc;
            for (int ir = 0; ir < mc; ir += MR) {
              int rows = Math.min(MR, mc - ir);
              microKernel(kc, packA, packAOff + ir * kc, packB, packBOff + bPanel, tile, tileOff, alpha, betaBlock, c,
                  cOff + (ic + ir) * ldc + jc + jr, ldc, rows, cols);
            }
          }
        }
      }
    }
  }

  /**
   * The 6×2L tile: acc(i, v) += A(i, l) · B(l, v·L … v·L + L − 1) over kc, from panels
   * aP[aIdx + l·MR + i] and bP[bIdx + l·NR + …], the 12 accumulators in registers; they are
   * spilled once to {@code tile} from {@code tileOff} (MR·NR floats), then C = alpha·acc + beta·C (C not read when beta
   * is 0) on the {@code rows}×{@code cols} corner that exists, columns cut with
   * {@code indexInRange} masks.
   *
   * <p>One copy per width, each on a {@code static final} species: C2 turns Vector API calls into
   * machine vectors only when the species is a compile-time constant in the compiled method, and
   * the kernel is too big to be inlined into a caller that would make the field constant (measured:
   * 3 GFLOP/s on the instance field, boxed vectors). Accumulation and store are separate methods
   * because one method holding both ran C1 out of registers ("COMPILE SKIPPED: out of virtual
   * registers"), after which the kernel sometimes never reached C2 (1.5 GFLOP/s). The copies are
   * generated from one template and differ only in the species.
   */
  void microKernel(int kc, float[] aP, int aIdx, float[] bP, int bIdx, float[] tile, int tileOff, float alpha,
      float beta, float[] c, int cIdx, int ldc, int rows, int cols) {
    switch (species.vectorBitSize()) {
      case 512 -> {
        accumulate512(kc, aP, aIdx, bP, bIdx, tile, tileOff);
        store512(tile, tileOff, alpha, beta, c, cIdx, ldc, rows, cols);
      }
      case 256 -> {
        accumulate256(kc, aP, aIdx, bP, bIdx, tile, tileOff);
        store256(tile, tileOff, alpha, beta, c, cIdx, ldc, rows, cols);
      }
      case 128 -> {
        accumulate128(kc, aP, aIdx, bP, bIdx, tile, tileOff);
        store128(tile, tileOff, alpha, beta, c, cIdx, ldc, rows, cols);
      }
      default -> throw new IllegalStateException("unsupported species " + species);
    }
  }

  /**
   * {@link #microKernel}'s store alone: C = alpha·tile + beta·C (C not read when beta is 0) for
   * {@code rows} rows of the tile (NR floats a row) and its first {@code cols} ≤ NR columns.
   */
  void store(float[] tile, int tileOff, float alpha, float beta, float[] c, int cIdx, int ldc, int rows, int cols) {
    switch (species.vectorBitSize()) {
      case 512 -> store512(tile, tileOff, alpha, beta, c, cIdx, ldc, rows, cols);
      case 256 -> store256(tile, tileOff, alpha, beta, c, cIdx, ldc, rows, cols);
      case 128 -> store128(tile, tileOff, alpha, beta, c, cIdx, ldc, rows, cols);
      default -> throw new IllegalStateException("unsupported species " + species);
    }
  }

  /** {@link #microKernel}'s accumulation on the constant 512-bit species. */
  private static void accumulate512(int kc, float[] aP, int aIdx, float[] bP, int bIdx, float[] tile,
      int tileOff) {
    final VectorSpecies<Float> sp = S512;
    final int l1 = sp.length();
    final int step = 2 * l1;
    FloatVector acc00 = FloatVector.zero(sp), acc01 = FloatVector.zero(sp);
    FloatVector acc10 = FloatVector.zero(sp), acc11 = FloatVector.zero(sp);
    FloatVector acc20 = FloatVector.zero(sp), acc21 = FloatVector.zero(sp);
    FloatVector acc30 = FloatVector.zero(sp), acc31 = FloatVector.zero(sp);
    FloatVector acc40 = FloatVector.zero(sp), acc41 = FloatVector.zero(sp);
    FloatVector acc50 = FloatVector.zero(sp), acc51 = FloatVector.zero(sp);
    for (int l = 0, ai = aIdx, bi = bIdx; l < kc; l++, ai += MR, bi += step) {
      FloatVector b0 = FloatVector.fromArray(sp, bP, bi);
      FloatVector b1 = FloatVector.fromArray(sp, bP, bi + l1);
      FloatVector av = FloatVector.broadcast(sp, aP[ai]);
      acc00 = av.fma(b0, acc00);
      acc01 = av.fma(b1, acc01);
      av = FloatVector.broadcast(sp, aP[ai + 1]);
      acc10 = av.fma(b0, acc10);
      acc11 = av.fma(b1, acc11);
      av = FloatVector.broadcast(sp, aP[ai + 2]);
      acc20 = av.fma(b0, acc20);
      acc21 = av.fma(b1, acc21);
      av = FloatVector.broadcast(sp, aP[ai + 3]);
      acc30 = av.fma(b0, acc30);
      acc31 = av.fma(b1, acc31);
      av = FloatVector.broadcast(sp, aP[ai + 4]);
      acc40 = av.fma(b0, acc40);
      acc41 = av.fma(b1, acc41);
      av = FloatVector.broadcast(sp, aP[ai + 5]);
      acc50 = av.fma(b0, acc50);
      acc51 = av.fma(b1, acc51);
    }
    acc00.intoArray(tile, tileOff + 0 * l1);
    acc01.intoArray(tile, tileOff + 1 * l1);
    acc10.intoArray(tile, tileOff + 2 * l1);
    acc11.intoArray(tile, tileOff + 3 * l1);
    acc20.intoArray(tile, tileOff + 4 * l1);
    acc21.intoArray(tile, tileOff + 5 * l1);
    acc30.intoArray(tile, tileOff + 6 * l1);
    acc31.intoArray(tile, tileOff + 7 * l1);
    acc40.intoArray(tile, tileOff + 8 * l1);
    acc41.intoArray(tile, tileOff + 9 * l1);
    acc50.intoArray(tile, tileOff + 10 * l1);
    acc51.intoArray(tile, tileOff + 11 * l1);
  }

  /** {@link #microKernel}'s store on the constant 512-bit species. */
  private static void store512(float[] tile, int tileOff, float alpha, float beta, float[] c, int cIdx, int ldc, int rows,
      int cols) {
    final VectorSpecies<Float> sp = S512;
    final int l1 = sp.length();
    FloatVector va = FloatVector.broadcast(sp, alpha);
    FloatVector vb = FloatVector.broadcast(sp, beta);
    boolean readC = beta != 0f;
    VectorMask<Float> m0 = sp.indexInRange(0, cols);
    VectorMask<Float> m1 = sp.indexInRange(l1, cols);
    boolean full = cols == 2 * l1;
    for (int i = 0, ci = cIdx; i < rows; i++, ci += ldc) {
      FloatVector r0 = FloatVector.fromArray(sp, tile, tileOff + 2 * i * l1).mul(va);
      FloatVector r1 = FloatVector.fromArray(sp, tile, tileOff + (2 * i + 1) * l1).mul(va);
      if (full) {
        if (readC) {
          r0 = FloatVector.fromArray(sp, c, ci).fma(vb, r0);
          r1 = FloatVector.fromArray(sp, c, ci + l1).fma(vb, r1);
        }
        r0.intoArray(c, ci);
        r1.intoArray(c, ci + l1);
      } else {
        if (readC) {
          r0 = FloatVector.fromArray(sp, c, ci, m0).fma(vb, r0);
          r1 = FloatVector.fromArray(sp, c, ci + l1, m1).fma(vb, r1);
        }
        r0.intoArray(c, ci, m0);
        r1.intoArray(c, ci + l1, m1);
      }
    }
  }

  /** {@link #microKernel}'s accumulation on the constant 256-bit species. */
  private static void accumulate256(int kc, float[] aP, int aIdx, float[] bP, int bIdx, float[] tile,
      int tileOff) {
    final VectorSpecies<Float> sp = S256;
    final int l1 = sp.length();
    final int step = 2 * l1;
    FloatVector acc00 = FloatVector.zero(sp), acc01 = FloatVector.zero(sp);
    FloatVector acc10 = FloatVector.zero(sp), acc11 = FloatVector.zero(sp);
    FloatVector acc20 = FloatVector.zero(sp), acc21 = FloatVector.zero(sp);
    FloatVector acc30 = FloatVector.zero(sp), acc31 = FloatVector.zero(sp);
    FloatVector acc40 = FloatVector.zero(sp), acc41 = FloatVector.zero(sp);
    FloatVector acc50 = FloatVector.zero(sp), acc51 = FloatVector.zero(sp);
    for (int l = 0, ai = aIdx, bi = bIdx; l < kc; l++, ai += MR, bi += step) {
      FloatVector b0 = FloatVector.fromArray(sp, bP, bi);
      FloatVector b1 = FloatVector.fromArray(sp, bP, bi + l1);
      FloatVector av = FloatVector.broadcast(sp, aP[ai]);
      acc00 = av.fma(b0, acc00);
      acc01 = av.fma(b1, acc01);
      av = FloatVector.broadcast(sp, aP[ai + 1]);
      acc10 = av.fma(b0, acc10);
      acc11 = av.fma(b1, acc11);
      av = FloatVector.broadcast(sp, aP[ai + 2]);
      acc20 = av.fma(b0, acc20);
      acc21 = av.fma(b1, acc21);
      av = FloatVector.broadcast(sp, aP[ai + 3]);
      acc30 = av.fma(b0, acc30);
      acc31 = av.fma(b1, acc31);
      av = FloatVector.broadcast(sp, aP[ai + 4]);
      acc40 = av.fma(b0, acc40);
      acc41 = av.fma(b1, acc41);
      av = FloatVector.broadcast(sp, aP[ai + 5]);
      acc50 = av.fma(b0, acc50);
      acc51 = av.fma(b1, acc51);
    }
    acc00.intoArray(tile, tileOff + 0 * l1);
    acc01.intoArray(tile, tileOff + 1 * l1);
    acc10.intoArray(tile, tileOff + 2 * l1);
    acc11.intoArray(tile, tileOff + 3 * l1);
    acc20.intoArray(tile, tileOff + 4 * l1);
    acc21.intoArray(tile, tileOff + 5 * l1);
    acc30.intoArray(tile, tileOff + 6 * l1);
    acc31.intoArray(tile, tileOff + 7 * l1);
    acc40.intoArray(tile, tileOff + 8 * l1);
    acc41.intoArray(tile, tileOff + 9 * l1);
    acc50.intoArray(tile, tileOff + 10 * l1);
    acc51.intoArray(tile, tileOff + 11 * l1);
  }

  /** {@link #microKernel}'s store on the constant 256-bit species. */
  private static void store256(float[] tile, int tileOff, float alpha, float beta, float[] c, int cIdx, int ldc, int rows,
      int cols) {
    final VectorSpecies<Float> sp = S256;
    final int l1 = sp.length();
    FloatVector va = FloatVector.broadcast(sp, alpha);
    FloatVector vb = FloatVector.broadcast(sp, beta);
    boolean readC = beta != 0f;
    VectorMask<Float> m0 = sp.indexInRange(0, cols);
    VectorMask<Float> m1 = sp.indexInRange(l1, cols);
    boolean full = cols == 2 * l1;
    for (int i = 0, ci = cIdx; i < rows; i++, ci += ldc) {
      FloatVector r0 = FloatVector.fromArray(sp, tile, tileOff + 2 * i * l1).mul(va);
      FloatVector r1 = FloatVector.fromArray(sp, tile, tileOff + (2 * i + 1) * l1).mul(va);
      if (full) {
        if (readC) {
          r0 = FloatVector.fromArray(sp, c, ci).fma(vb, r0);
          r1 = FloatVector.fromArray(sp, c, ci + l1).fma(vb, r1);
        }
        r0.intoArray(c, ci);
        r1.intoArray(c, ci + l1);
      } else {
        if (readC) {
          r0 = FloatVector.fromArray(sp, c, ci, m0).fma(vb, r0);
          r1 = FloatVector.fromArray(sp, c, ci + l1, m1).fma(vb, r1);
        }
        r0.intoArray(c, ci, m0);
        r1.intoArray(c, ci + l1, m1);
      }
    }
  }

  /** {@link #microKernel}'s accumulation on the constant 128-bit species. */
  private static void accumulate128(int kc, float[] aP, int aIdx, float[] bP, int bIdx, float[] tile,
      int tileOff) {
    final VectorSpecies<Float> sp = S128;
    final int l1 = sp.length();
    final int step = 2 * l1;
    FloatVector acc00 = FloatVector.zero(sp), acc01 = FloatVector.zero(sp);
    FloatVector acc10 = FloatVector.zero(sp), acc11 = FloatVector.zero(sp);
    FloatVector acc20 = FloatVector.zero(sp), acc21 = FloatVector.zero(sp);
    FloatVector acc30 = FloatVector.zero(sp), acc31 = FloatVector.zero(sp);
    FloatVector acc40 = FloatVector.zero(sp), acc41 = FloatVector.zero(sp);
    FloatVector acc50 = FloatVector.zero(sp), acc51 = FloatVector.zero(sp);
    for (int l = 0, ai = aIdx, bi = bIdx; l < kc; l++, ai += MR, bi += step) {
      FloatVector b0 = FloatVector.fromArray(sp, bP, bi);
      FloatVector b1 = FloatVector.fromArray(sp, bP, bi + l1);
      FloatVector av = FloatVector.broadcast(sp, aP[ai]);
      acc00 = av.fma(b0, acc00);
      acc01 = av.fma(b1, acc01);
      av = FloatVector.broadcast(sp, aP[ai + 1]);
      acc10 = av.fma(b0, acc10);
      acc11 = av.fma(b1, acc11);
      av = FloatVector.broadcast(sp, aP[ai + 2]);
      acc20 = av.fma(b0, acc20);
      acc21 = av.fma(b1, acc21);
      av = FloatVector.broadcast(sp, aP[ai + 3]);
      acc30 = av.fma(b0, acc30);
      acc31 = av.fma(b1, acc31);
      av = FloatVector.broadcast(sp, aP[ai + 4]);
      acc40 = av.fma(b0, acc40);
      acc41 = av.fma(b1, acc41);
      av = FloatVector.broadcast(sp, aP[ai + 5]);
      acc50 = av.fma(b0, acc50);
      acc51 = av.fma(b1, acc51);
    }
    acc00.intoArray(tile, tileOff + 0 * l1);
    acc01.intoArray(tile, tileOff + 1 * l1);
    acc10.intoArray(tile, tileOff + 2 * l1);
    acc11.intoArray(tile, tileOff + 3 * l1);
    acc20.intoArray(tile, tileOff + 4 * l1);
    acc21.intoArray(tile, tileOff + 5 * l1);
    acc30.intoArray(tile, tileOff + 6 * l1);
    acc31.intoArray(tile, tileOff + 7 * l1);
    acc40.intoArray(tile, tileOff + 8 * l1);
    acc41.intoArray(tile, tileOff + 9 * l1);
    acc50.intoArray(tile, tileOff + 10 * l1);
    acc51.intoArray(tile, tileOff + 11 * l1);
  }

  /** {@link #microKernel}'s store on the constant 128-bit species. */
  private static void store128(float[] tile, int tileOff, float alpha, float beta, float[] c, int cIdx, int ldc, int rows,
      int cols) {
    final VectorSpecies<Float> sp = S128;
    final int l1 = sp.length();
    FloatVector va = FloatVector.broadcast(sp, alpha);
    FloatVector vb = FloatVector.broadcast(sp, beta);
    boolean readC = beta != 0f;
    VectorMask<Float> m0 = sp.indexInRange(0, cols);
    VectorMask<Float> m1 = sp.indexInRange(l1, cols);
    boolean full = cols == 2 * l1;
    for (int i = 0, ci = cIdx; i < rows; i++, ci += ldc) {
      FloatVector r0 = FloatVector.fromArray(sp, tile, tileOff + 2 * i * l1).mul(va);
      FloatVector r1 = FloatVector.fromArray(sp, tile, tileOff + (2 * i + 1) * l1).mul(va);
      if (full) {
        if (readC) {
          r0 = FloatVector.fromArray(sp, c, ci).fma(vb, r0);
          r1 = FloatVector.fromArray(sp, c, ci + l1).fma(vb, r1);
        }
        r0.intoArray(c, ci);
        r1.intoArray(c, ci + l1);
      } else {
        if (readC) {
          r0 = FloatVector.fromArray(sp, c, ci, m0).fma(vb, r0);
          r1 = FloatVector.fromArray(sp, c, ci + l1, m1).fma(vb, r1);
        }
        r0.intoArray(c, ci, m0);
        r1.intoArray(c, ci + l1, m1);
      }
    }
  }

  /**
   * Packs op(B)[pc … pc+kc) × [jc … jc+nc) into panels of NR columns: panel p holds
   * B(pc + l, jc + p·NR + j) at dst[dstOff + p·NR·kc + l·NR + j], zero where jc + p·NR + j ≥ jc + nc.
   */
  void packB(boolean transB, float[] b, int bOff, int ldb, int pc, int kc, int jc, int nc, float[] dst, int dstOff) {
    int w = nr;
    for (int jp = 0; jp < nc; jp += w) {
      int cols = Math.min(w, nc - jp);
      int base = dstOff + jp * kc;
      if (!transB) {
        // B(l, j) = b[bOff + l·ldb + j]: a contiguous run of cols per l.
        int src = bOff + pc * ldb + jc + jp;
        for (int l = 0; l < kc; l++, src += ldb) {
          int d = base + l * w;
          System.arraycopy(b, src, dst, d, cols);
          if (cols < w) {
            Arrays.fill(dst, d + cols, d + w, 0f);
          }
        }
      } else {
        // B(l, j) = b[bOff + j·ldb + l]: each column j is a contiguous run over l.
        for (int j = 0; j < cols; j++) {
          int src = bOff + (jc + jp + j) * ldb + pc;
          for (int l = 0, d = base + j; l < kc; l++, d += w) {
            dst[d] = b[src + l];
          }
        }
        if (cols < w) {
          for (int l = 0; l < kc; l++) {
            int d = base + l * w;
            Arrays.fill(dst, d + cols, d + w, 0f);
          }
        }
      }
    }
  }

  /**
   * Packs op(A)[ic … ic+mc) × [pc … pc+kc) into panels of MR rows: panel p holds A(ic + p·MR + i, pc + l)
   * at dst[dstOff + p·MR·kc + l·MR + i], zero for rows past ic + mc.
   */
  static void packA(boolean transA, float[] a, int aOff, int lda, int ic, int mc, int pc, int kc,
      float[] dst, int dstOff) {
    for (int ip = 0; ip < mc; ip += MR) {
      int rows = Math.min(MR, mc - ip);
      int base = dstOff + ip * kc;
      if (transA) {
        // A(i, l) = a[aOff + l·lda + i]: a contiguous run of rows per l.
        int src = aOff + pc * lda + ic + ip;
        for (int l = 0; l < kc; l++, src += lda) {
          int d = base + l * MR;
          System.arraycopy(a, src, dst, d, rows);
          for (int i = rows; i < MR; i++) {
            dst[d + i] = 0f;
          }
        }
      } else {
        // A(i, l) = a[aOff + i·lda + l]: each row is a contiguous run over l.
        for (int i = 0; i < rows; i++) {
          int src = aOff + (ic + ip + i) * lda + pc;
          for (int l = 0, d = base + i; l < kc; l++, d += MR) {
            dst[d] = a[src + l];
          }
        }
        for (int i = rows; i < MR; i++) {
          for (int l = 0, d = base + i; l < kc; l++, d += MR) {
            dst[d] = 0f;
          }
        }
      }
    }
  }

  /** {@link #packA} (not transposed) from int8 rows, row i dequantized with aScale[scaleOff + i / rowsPerScale]. */
  private static void packAInt8(byte[] q, float[] aScale, int scaleOff, int rowsPerScale, int aOff, int lda, int ic,
      int mc, int pc, int kc, float[] dst, int dstOff) {
    for (int ip = 0; ip < mc; ip += MR) {
      int rows = Math.min(MR, mc - ip);
      int base = dstOff + ip * kc;
      for (int i = 0; i < rows; i++) {
        int row = ic + ip + i;
        float scale = aScale[scaleOff + row / rowsPerScale];
        int src = aOff + row * lda + pc;
        for (int l = 0, d = base + i; l < kc; l++, d += MR) {
          dst[d] = q[src + l] * scale;
        }
      }
      for (int i = rows; i < MR; i++) {
        for (int l = 0, d = base + i; l < kc; l++, d += MR) {
          dst[d] = 0f;
        }
      }
    }
  }

  /** k = 0: C = beta·C as the reference rounds it, or 0 without reading C when beta is 0. */
  static void scaleC(int m, int n, float beta, float[] c, int cOff, int ldc) {
    for (int i = 0; i < m; i++) {
      int row = cOff + i * ldc;
      if (beta == 0f) {
        Arrays.fill(c, row, row + n, 0f);
      } else {
        for (int j = row; j < row + n; j++) {
          c[j] = (float) ((double) beta * c[j]);
        }
      }
    }
  }

  private static int roundUp(int x, int multiple) {
    return (x + multiple - 1) / multiple * multiple;
  }
}
