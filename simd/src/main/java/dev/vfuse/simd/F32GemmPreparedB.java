package dev.vfuse.simd;

import dev.vfuse.kernel.Parallel;
import dev.vfuse.kernel.PreparedGemm;
import jdk.incubator.vector.VectorSpecies;

/**
 * f32 GEMM with the right operand packed once: C = alpha·op(A)·B' + beta·C for a fixed B' (k × n),
 * on the micro-kernel of {@link F32GemmPacked}.
 *
 * <p>At prepare, B' is cut into reduction blocks of {@link F32GemmPacked#KC} rows and each block
 * into NR-wide column panels (l-major, zero-padded past n), held in {@link WeightChunks}: panel p
 * of block b lies in chunk {@code b·chunksPerBlock + p / perChunk} at {@code (p % perChunk)·NR·kc}.
 * A run packs only A, per task, into its scratch.
 *
 * <p>Tasks are column chunks of {@link #CHUNK_PANELS} panels times row blocks of
 * {@link F32GemmPacked#MC} rows, each independent, so the threads split the columns of a fully
 * connected layer (m = batch is small there). Precision as {@link F32GemmPacked}: float FMA
 * accumulation per KC block, then C = alpha·acc + beta·C for the first block and C += alpha·acc
 * for the others.
 */
final class F32GemmPreparedB implements PreparedGemm {

  /** Column panels per task: 8 panels are 256 columns at 512 bits. */
  static final int CHUNK_PANELS = 8;

  private static final int MR = F32GemmPacked.MR;
  private static final int KC = F32GemmPacked.KC;
  private static final int MC = F32GemmPacked.MC;
  /** B for k = 0, which the GEMM does not read. */
  private static final float[] NO_B = new float[0];

  private final F32GemmPacked gemm;
  private final int n;
  private final int k;
  private final int nr;
  private final int nPadded;
  private final int chunks;
  private final float[][] packedB;
  private final int perChunk;
  private final int chunksPerBlock;

  F32GemmPreparedB(VectorSpecies<Float> species, boolean transB, int n, int k, float[] b, int ldb) {
    this.gemm = new F32GemmPacked(species);
    this.n = n;
    this.k = k;
    this.nr = gemm.nr();
    this.nPadded = Math.ceilDiv(n, nr) * nr;
    this.chunks = Math.ceilDiv(nPadded / nr, CHUNK_PANELS);
    this.perChunk = WeightChunks.perChunk(nr * Math.min(KC, Math.max(k, 1)), Float.BYTES);
    this.chunksPerBlock = Math.ceilDiv(nPadded / nr, perChunk);
    this.packedB = new float[Math.ceilDiv(k, KC) * chunksPerBlock][];
    for (int pc = 0, block = 0; pc < k; pc += KC, block++) {
      int kc = Math.min(KC, k - pc);
      for (int i = 0; i < chunksPerBlock; i++) {
        int jc = i * perChunk * nr;
        int nc = Math.min(n - jc, perChunk * nr);
        float[] chunk = new float[Math.multiplyExact(Math.ceilDiv(nc, nr) * nr, kc)];
        gemm.packB(transB, b, 0, ldb, pc, kc, jc, nc, chunk, 0);
        packedB[block * chunksPerBlock + i] = chunk;
      }
    }
  }

  @Override
  public int scratchPerWorker(int m) {
    return Math.min(MC, Math.ceilDiv(m, MR) * MR) * Math.min(KC, Math.max(k, 1)) + MR * nr;
  }

  @Override
  public void run(int m, boolean transA, float alpha, float[] a, int lda, float beta, float[] c, float[] scratch,
      Parallel parallel) {
    if (m <= 0 || n <= 0) {
      return;
    }
    if (k <= 0) {
      gemm.gemm(transA, false, m, n, 0, alpha, a, 0, lda, NO_B, 0, n, beta, c, 0, n);
      return;
    }
    int rowBlocks = Math.ceilDiv(m, MC);
    int tasks = chunks * rowBlocks;
    int perWorker = scratchPerWorker(m);
    if (parallel.threads() == 1) {
      for (int t = 0; t < tasks; t++) {
        task(t, m, transA, alpha, a, lda, beta, c, scratch, 0);
      }
    } else {
      parallel.forEach(tasks, (t, worker) -> task(t, m, transA, alpha, a, lda, beta, c, scratch, worker * perWorker));
    }
  }

  private void task(int t, int m, boolean transA, float alpha, float[] a, int lda, float beta, float[] c,
      float[] scratch, int scratchOff) {
    int chunk = t % chunks;
    int ic = (t / chunks) * MC;
    int mc = Math.min(MC, m - ic);
    int j0 = chunk * CHUNK_PANELS * nr;
    int j1 = Math.min(n, j0 + CHUNK_PANELS * nr);
    int spill = scratchOff + Math.min(MC, Math.ceilDiv(m, MR) * MR) * Math.min(KC, k);
    for (int pc = 0; pc < k; pc += KC) {
      int kc = Math.min(KC, k - pc);
      float betaBlock = pc == 0 ? beta : 1f;
      F32GemmPacked.packA(transA, a, 0, lda, ic, mc, pc, kc, scratch, scratchOff);
      int firstChunk = pc / KC * chunksPerBlock;
      for (int jr = j0; jr < j1; jr += nr) {
        int cols = Math.min(nr, j1 - jr);
        int panel = jr / nr;
        float[] bChunk = packedB[firstChunk + panel / perChunk];
        int bIdx = panel % perChunk * nr * kc;
        for (int ir = 0; ir < mc; ir += MR) {
          int rows = Math.min(MR, mc - ir);
          gemm.microKernel(kc, scratch, scratchOff + ir * kc, bChunk, bIdx, scratch, spill, alpha, betaBlock, c,
              (ic + ir) * n + jr, n, rows, cols);
        }
      }
    }
  }
}
