package dev.vfuse.simd;

import dev.vfuse.kernel.Int8Weights;
import dev.vfuse.kernel.Parallel;
import dev.vfuse.kernel.PreparedGemm;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * f32 × int8 GEMM with the right operand fixed and kept as int8: C = alpha·op(A)·B' + beta·C, where
 * B'(l, j) = q(l, j)·scale[j] ({@link Int8Weights#gemm}, one scale per output column). Made for fully
 * connected layers: m (the batch) small, usually 1, n and k in the hundreds or thousands, where the
 * run is bound by reading B', which int8 makes four times smaller.
 *
 * <p>At prepare, B' is packed once into column panels NR = 4·L wide (L = float lanes), l-major over
 * the whole reduction: panel p holds q(l, p·NR + j) at byte p·NR·k + l·NR + j, zero past n, and the
 * scales are padded to the panels likewise. A row of A against a panel is one 1 × 4L register tile:
 * per l, one broadcast A(i, l) and four vectors of L bytes, each loaded and widened to floats
 * ({@code convertShape(B2F)}, a sign-extend and a convert), times four FMAs into four independent
 * accumulators. The accumulators are multiplied by their columns' scales when spilled, then
 * C = alpha·tile + beta·C is stored by {@link F32GemmPacked#store}. A row's products are not shared
 * with other rows (nor is the widening), which costs nothing at m = 1 and leaves larger batches at
 * about half the float kernel's peak; they are rare for these layers.
 *
 * <p>Measured on Zen 5, 1 thread, n = 1000, k = 512, m = 1: 8.3 µs at 512 bits and 16 µs at 256,
 * against 29 and 53 µs for {@link F32GemmPreparedB} (whose 6-row tile computes 5 rows of zeros at
 * m = 1). Widening 16 bytes per vector ({@code ByteVector.SPECIES_128} to
 * {@code FloatVector.SPECIES_512}, part 0) ran 2× faster than one 64-byte load widened in four
 * parts; at 128 bits there is no 4-byte species, so each vector loads 8 bytes and widens the first 4
 * (the loads overlap; the packed array has 8 bytes of slack), 1.6× faster than widening part 1.
 *
 * <p>Precision: Σ A·q in float FMA over the whole k (exact products of a float and a small
 * integer, one rounding each), times the scale, then alpha and beta as {@link F32GemmPacked}: two
 * roundings more than a float reduction over the dequantized B'.
 *
 * <p>Tasks are chunks of {@link #CHUNK_PANELS} panels, each over every row of A, so threads split the
 * columns. No A packing: A(i, l) is read in place.
 */
final class F32GemmPreparedInt8B implements PreparedGemm {

  /** Column panels per task: 4 panels are 256 columns at 512 bits, a quarter of a 1000-class layer. */
  static final int CHUNK_PANELS = 4;

  private static final VectorSpecies<Float> S128 = FloatVector.SPECIES_128;
  private static final VectorSpecies<Float> S256 = FloatVector.SPECIES_256;
  private static final VectorSpecies<Float> S512 = FloatVector.SPECIES_512;
  private static final VectorSpecies<Byte> B64 = ByteVector.SPECIES_64;
  private static final VectorSpecies<Byte> B128 = ByteVector.SPECIES_128;

  /** Bytes after the panels that the last 8-byte load at 128 bits may read past them. */
  private static final int SLACK = 8;

  private final VectorSpecies<Float> species;
  private final F32GemmPacked store;
  private final int n;
  private final int k;
  private final int lanes;
  private final int nr;
  private final int panels;
  private final int chunks;
  private final byte[] packedB;
  private final float[] packedScale;

  F32GemmPreparedInt8B(VectorSpecies<Float> species, boolean transB, int n, int k, Int8Weights b) {
    this.species = species;
    this.store = new F32GemmPacked(species);
    this.n = n;
    this.k = k;
    this.lanes = species.length();
    this.nr = 4 * lanes;
    this.panels = Math.ceilDiv(n, nr);
    this.chunks = Math.ceilDiv(panels, CHUNK_PANELS);
    this.packedB = new byte[Math.addExact(Math.multiplyExact(panels * nr, k), SLACK)];
    this.packedScale = new float[panels * nr];
    int ldb = transB ? k : n;
    byte[] q = b.values();
    for (int j = 0; j < n; j++) {
      int dst = (j / nr) * nr * k + j % nr;
      for (int l = 0; l < k; l++, dst += nr) {
        packedB[dst] = transB ? q[j * ldb + l] : q[l * ldb + j];
      }
      packedScale[j] = b.scales()[j];
    }
  }


  /** The spill tile, one row of NR floats. */
  @Override
  public int scratchPerWorker(int m) {
    return nr;
  }

  @Override
  public void run(int m, boolean transA, float alpha, float[] a, int lda, float beta, float[] c, float[] scratch,
      Parallel parallel) {
    if (m <= 0 || n <= 0) {
      return;
    }
    if (k <= 0) {
      F32GemmPacked.scaleC(m, n, beta, c, 0, n);
      return;
    }
    if (parallel.threads() == 1) {
      for (int t = 0; t < chunks; t++) {
        task(t, m, transA, alpha, a, lda, beta, c, scratch, 0);
      }
    } else {
      parallel.forEach(chunks, (t, worker) -> task(t, m, transA, alpha, a, lda, beta, c, scratch, worker * nr));
    }
  }

  /** Panels of chunk t against every row of A: A(i, l) = a[i·lda + l], or a[l·lda + i] transposed. */
  private void task(int t, int m, boolean transA, float alpha, float[] a, int lda, float beta, float[] c,
      float[] tile, int tileOff) {
    int rowStep = transA ? 1 : lda;
    int lStep = transA ? lda : 1;
    int half = 2 * lanes;
    int p1 = Math.min(panels, (t + 1) * CHUNK_PANELS);
    for (int p = t * CHUNK_PANELS; p < p1; p++) {
      int j0 = p * nr;
      int cols = Math.min(nr, n - j0);
      for (int i = 0; i < m; i++) {
        int ai = i * rowStep;
        switch (species.vectorBitSize()) {
          case 512 -> accumulate512(k, a, ai, lStep, packedB, j0 * k, packedScale, j0, tile, tileOff);
          case 256 -> accumulate256(k, a, ai, lStep, packedB, j0 * k, packedScale, j0, tile, tileOff);
          case 128 -> accumulate128(k, a, ai, lStep, packedB, j0 * k, packedScale, j0, tile, tileOff);
          default -> throw new IllegalStateException("unsupported species " + species);
        }
        int ci = i * n + j0;
        store.store(tile, tileOff, alpha, beta, c, ci, n, 1, Math.min(cols, half));
        if (cols > half) {
          store.store(tile, tileOff + half, alpha, beta, c, ci + half, n, 1, cols - half);
        }
      }
    }
  }

  // One copy per width on static final species (see F32GemmPacked#microKernel).

  /**
   * tile[tileOff + j] = scale[sIdx + j]·Σ_l a[aIdx + l·lStep]·q[bIdx + l·NR + j] for j in [0, NR),
   * on the constant 512-bit species: 16 bytes widened per vector.
   */
  private static void accumulate512(int k, float[] a, int aIdx, int lStep, byte[] q, int bIdx, float[] scale,
      int sIdx, float[] tile, int tileOff) {
    final VectorSpecies<Float> sp = S512;
    final int l1 = sp.length();
    FloatVector acc0 = FloatVector.zero(sp), acc1 = FloatVector.zero(sp);
    FloatVector acc2 = FloatVector.zero(sp), acc3 = FloatVector.zero(sp);
    for (int l = 0, ai = aIdx, bi = bIdx; l < k; l++, ai += lStep, bi += 4 * l1) {
      FloatVector av = FloatVector.broadcast(sp, a[ai]);
      FloatVector b0 = (FloatVector) ByteVector.fromArray(B128, q, bi).convertShape(VectorOperators.B2F, sp, 0);
      FloatVector b1 = (FloatVector) ByteVector.fromArray(B128, q, bi + l1).convertShape(VectorOperators.B2F, sp, 0);
      FloatVector b2 = (FloatVector) ByteVector.fromArray(B128, q, bi + 2 * l1).convertShape(VectorOperators.B2F, sp, 0);
      FloatVector b3 = (FloatVector) ByteVector.fromArray(B128, q, bi + 3 * l1).convertShape(VectorOperators.B2F, sp, 0);
      acc0 = b0.fma(av, acc0);
      acc1 = b1.fma(av, acc1);
      acc2 = b2.fma(av, acc2);
      acc3 = b3.fma(av, acc3);
    }
    acc0.mul(FloatVector.fromArray(sp, scale, sIdx)).intoArray(tile, tileOff);
    acc1.mul(FloatVector.fromArray(sp, scale, sIdx + l1)).intoArray(tile, tileOff + l1);
    acc2.mul(FloatVector.fromArray(sp, scale, sIdx + 2 * l1)).intoArray(tile, tileOff + 2 * l1);
    acc3.mul(FloatVector.fromArray(sp, scale, sIdx + 3 * l1)).intoArray(tile, tileOff + 3 * l1);
  }

  /** {@link #accumulate512} on the constant 256-bit species: 8 bytes widened per vector. */
  private static void accumulate256(int k, float[] a, int aIdx, int lStep, byte[] q, int bIdx, float[] scale,
      int sIdx, float[] tile, int tileOff) {
    final VectorSpecies<Float> sp = S256;
    final int l1 = sp.length();
    FloatVector acc0 = FloatVector.zero(sp), acc1 = FloatVector.zero(sp);
    FloatVector acc2 = FloatVector.zero(sp), acc3 = FloatVector.zero(sp);
    for (int l = 0, ai = aIdx, bi = bIdx; l < k; l++, ai += lStep, bi += 4 * l1) {
      FloatVector av = FloatVector.broadcast(sp, a[ai]);
      FloatVector b0 = (FloatVector) ByteVector.fromArray(B64, q, bi).convertShape(VectorOperators.B2F, sp, 0);
      FloatVector b1 = (FloatVector) ByteVector.fromArray(B64, q, bi + l1).convertShape(VectorOperators.B2F, sp, 0);
      FloatVector b2 = (FloatVector) ByteVector.fromArray(B64, q, bi + 2 * l1).convertShape(VectorOperators.B2F, sp, 0);
      FloatVector b3 = (FloatVector) ByteVector.fromArray(B64, q, bi + 3 * l1).convertShape(VectorOperators.B2F, sp, 0);
      acc0 = b0.fma(av, acc0);
      acc1 = b1.fma(av, acc1);
      acc2 = b2.fma(av, acc2);
      acc3 = b3.fma(av, acc3);
    }
    acc0.mul(FloatVector.fromArray(sp, scale, sIdx)).intoArray(tile, tileOff);
    acc1.mul(FloatVector.fromArray(sp, scale, sIdx + l1)).intoArray(tile, tileOff + l1);
    acc2.mul(FloatVector.fromArray(sp, scale, sIdx + 2 * l1)).intoArray(tile, tileOff + 2 * l1);
    acc3.mul(FloatVector.fromArray(sp, scale, sIdx + 3 * l1)).intoArray(tile, tileOff + 3 * l1);
  }

  /**
   * {@link #accumulate512} on the constant 128-bit species: 8 bytes loaded per vector of 4 lanes and
   * the first 4 widened (overlapping loads, the last one reaching into the slack).
   */
  private static void accumulate128(int k, float[] a, int aIdx, int lStep, byte[] q, int bIdx, float[] scale,
      int sIdx, float[] tile, int tileOff) {
    final VectorSpecies<Float> sp = S128;
    final int l1 = sp.length();
    FloatVector acc0 = FloatVector.zero(sp), acc1 = FloatVector.zero(sp);
    FloatVector acc2 = FloatVector.zero(sp), acc3 = FloatVector.zero(sp);
    for (int l = 0, ai = aIdx, bi = bIdx; l < k; l++, ai += lStep, bi += 4 * l1) {
      FloatVector av = FloatVector.broadcast(sp, a[ai]);
      FloatVector b0 = (FloatVector) ByteVector.fromArray(B64, q, bi).convertShape(VectorOperators.B2F, sp, 0);
      FloatVector b1 = (FloatVector) ByteVector.fromArray(B64, q, bi + l1).convertShape(VectorOperators.B2F, sp, 0);
      FloatVector b2 = (FloatVector) ByteVector.fromArray(B64, q, bi + 2 * l1).convertShape(VectorOperators.B2F, sp, 0);
      FloatVector b3 = (FloatVector) ByteVector.fromArray(B64, q, bi + 3 * l1).convertShape(VectorOperators.B2F, sp, 0);
      acc0 = b0.fma(av, acc0);
      acc1 = b1.fma(av, acc1);
      acc2 = b2.fma(av, acc2);
      acc3 = b3.fma(av, acc3);
    }
    acc0.mul(FloatVector.fromArray(sp, scale, sIdx)).intoArray(tile, tileOff);
    acc1.mul(FloatVector.fromArray(sp, scale, sIdx + l1)).intoArray(tile, tileOff + l1);
    acc2.mul(FloatVector.fromArray(sp, scale, sIdx + 2 * l1)).intoArray(tile, tileOff + 2 * l1);
    acc3.mul(FloatVector.fromArray(sp, scale, sIdx + 3 * l1)).intoArray(tile, tileOff + 3 * l1);
  }
}
