package dev.vfuse.simd;

import dev.vfuse.kernel.Activation;
import dev.vfuse.kernel.ConvGeometry;
import dev.vfuse.kernel.Parallel;
import dev.vfuse.kernel.PreparedConv;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * f32 convolution as a GEMM per image and group, with the weights packed once and the input
 * packed on the fly (implicit im2col): no column matrix is ever built.
 *
 * <pre>
 *   Y_g (Kg × PQ) = W_g (Kg × L) · X̂_g (L × PQ),   L = Cg·R·S,  l = (c·R + r)·S + s
 *   X̂_g[l, p·Q + q] = x[n, g·Cg + c, p·strideH − padTop + r·dilationH, q·strideW − padLeft + s·dilationW]   (0 outside)
 * </pre>
 *
 * <p>Packing. At prepare, each group's weights are cut into reduction blocks of
 * {@link F32GemmPacked#KC} and, within a block, into panels of {@link F32GemmPacked#MR} output
 * channels, l-major (MR floats per l), zero-padded past Kg: exactly the A panels the micro-kernel
 * reads. At run time a task packs its tile of X̂ (one reduction block × {@link #TILE} output
 * positions) into B panels of NR = 2 vectors, straight from x: with stride 1 each panel row is a
 * few contiguous runs of an input row (copied with masked vector moves), with a larger stride
 * it is gathered. A 1×1, stride-1, unpadded convolution is read as one long row per channel.
 *
 * <p>Loop nest of a task (image n, group g, output channels [m0, m1), positions [j0, j0 + TILE)):
 * reduction blocks outermost; inside, B panels (kept in L1 while the A panels stream past) then
 * A panels, each pair one call of the 6 × 2L micro-kernel of {@link F32GemmPacked}, which stores
 * the first block and adds the next ones. After the last block the tile's rows get the epilogue
 * (bias, offsets, residual, activation) through {@link F32Epilogue}, while they are still in cache.
 *
 * <p>Threads. Tasks are (image, group, position tile, channel block); the channel range is split
 * only when positions alone give too few tasks for the threads (the late, small layers).
 *
 * <p>Precision: float products accumulated in float by FMA, in blocks of KC, then the bias add:
 * within (L + 2)·2⁻²³·Σ|terms| of the reference, as for {@link F32GemmPacked}.
 *
 * <p>Scratch per worker: the packed B tile (KC × TILE floats) and the micro-kernel's MR × NR
 * spill tile. A run allocates nothing when it runs on one thread.
 */
final class F32ConvGemm implements PreparedConv {

  /** Output positions per task tile: a multiple of NR for every width (NR = 8, 16 or 32). */
  static final int TILE = 256;

  /**
   * The species of the packer's copies. Copying is exact at any width, so it takes the widest
   * native one as a constant (C2 needs a constant species; {@link System#arraycopy} of 32-float
   * runs cost a quarter of resnet18's time).
   */
  private static final VectorSpecies<Float> COPY = FloatVector.SPECIES_PREFERRED;

  private static final int MR = F32GemmPacked.MR;
  private static final int KC = F32GemmPacked.KC;

  private final ConvGeometry g;
  private final F32GemmPacked gemm;
  private final int nr;
  private final float[] bias;
  private final float[] offsets;
  private final Activation activation;

  /** Output channels per group (Kg), reduction length (L), output positions per image (PQ). */
  private final int kg;
  private final int reduction;
  private final int positions;
  /** Packed weights: group g, block b starts at {@code weightBlock[g·blocks + b]}. */
  private final float[] packedWeight;
  private final int[] weightBlock;
  private final int blocks;
  private final int panelsPerGroup;

  /** Per reduction index l: input channel offset within the group's planes, row and column tap offsets. */
  private final int[] channelOffset;
  private final int[] rowTap;
  private final int[] colTap;

  /** The geometry the packer walks: 1×1 stride-1 unpadded convs read each channel plane as one row. */
  private final int outRows;
  private final int outCols;
  private final int inRows;
  private final int inCols;
  private final int strideH;
  private final int strideW;

  private final int tiles;
  private final int scratchPerWorker;

  private F32ConvGemm(VectorSpecies<Float> species, ConvGeometry g, float[] weight, float[] bias, float[] offsets,
      Activation activation) {
    this.g = g;
    this.gemm = new F32GemmPacked(species);
    this.nr = gemm.nr();
    this.bias = bias;
    this.offsets = offsets;
    this.activation = activation;
    this.kg = g.outputChannelsPerGroup();
    this.reduction = g.reductionLength();
    this.positions = g.p() * g.q();
    this.blocks = Math.ceilDiv(reduction, KC);
    this.panelsPerGroup = Math.ceilDiv(kg, MR);
    this.weightBlock = new int[g.groups() * blocks];
    this.packedWeight = packWeights(weight);

    boolean pointwise = g.r() == 1 && g.s() == 1 && g.strideH() == 1 && g.strideW() == 1 && !g.hasPadding();
    this.outRows = pointwise ? 1 : g.p();
    this.outCols = pointwise ? positions : g.q();
    this.inRows = pointwise ? 1 : g.h();
    this.inCols = pointwise ? g.h() * g.w() : g.w();
    this.strideH = g.strideH();
    this.strideW = g.strideW();
    this.channelOffset = new int[reduction];
    this.rowTap = new int[reduction];
    this.colTap = new int[reduction];
    for (int c = 0, l = 0; c < g.inputChannelsPerGroup(); c++) {
      for (int r = 0; r < g.r(); r++) {
        for (int s = 0; s < g.s(); s++, l++) {
          channelOffset[l] = c * g.h() * g.w();
          rowTap[l] = pointwise ? 0 : r * g.dilationH() - g.padTop();
          colTap[l] = pointwise ? 0 : s * g.dilationW() - g.padLeft();
        }
      }
    }
    this.tiles = Math.ceilDiv(positions, TILE);
    this.scratchPerWorker = Math.min(KC, reduction) * TILE + MR * nr;
  }

  /** True for every geometry; depthwise convolutions are faster in {@link F32DwConv}. */
  static PreparedConv prepare(VectorSpecies<Float> species, ConvGeometry g, float[] weight, float[] bias,
      float[] offsets, Activation activation) {
    return new F32ConvGemm(species, g, weight, bias, offsets, activation);
  }

  /** W[g·Kg + i, pc + l] at block (g, pc/KC), panel i/MR, position l·MR + i%MR; zero rows past Kg. */
  private float[] packWeights(float[] weight) {
    int rowsPadded = panelsPerGroup * MR;
    float[] packed = new float[Math.multiplyExact(g.groups() * rowsPadded, reduction)];
    int at = 0;
    for (int group = 0; group < g.groups(); group++) {
      for (int b = 0; b < blocks; b++) {
        int pc = b * KC;
        int kc = Math.min(KC, reduction - pc);
        weightBlock[group * blocks + b] = at;
        for (int panel = 0; panel < panelsPerGroup; panel++) {
          for (int i = 0; i < MR; i++) {
            int row = panel * MR + i;
            if (row >= kg) {
              continue; // stays zero
            }
            int src = (group * kg + row) * reduction + pc;
            for (int l = 0; l < kc; l++) {
              packed[at + l * MR + i] = weight[src + l];
            }
          }
          at += MR * kc;
        }
      }
    }
    return packed;
  }

  @Override
  public int scratchPerWorker() {
    return scratchPerWorker;
  }

  @Override
  public void run(float[] x, float[] residual, float[] y, float[] scratch, Parallel parallel) {
    int rowBlocks = rowBlocks(parallel.threads());
    int tasks = g.n() * g.groups() * tiles * rowBlocks;
    if (parallel.threads() == 1) {
      for (int t = 0; t < tasks; t++) {
        task(t, rowBlocks, x, residual, y, scratch, 0);
      }
    } else {
      parallel.forEach(tasks, (t, worker) -> task(t, rowBlocks, x, residual, y, scratch, worker * scratchPerWorker));
    }
  }

  /** Channel blocks per (image, group, tile): 1 unless the tiles alone leave threads idle. */
  private int rowBlocks(int threads) {
    int tasks = g.n() * g.groups() * tiles;
    if (threads == 1 || tasks >= 4 * threads) {
      return 1;
    }
    return Math.min(panelsPerGroup, Math.ceilDiv(4 * threads, tasks));
  }

  private void task(int t, int rowBlocks, float[] x, float[] residual, float[] y, float[] scratch, int scratchOff) {
    int rb = t % rowBlocks;
    t /= rowBlocks;
    int tile = t % tiles;
    t /= tiles;
    int group = t % g.groups();
    int n = t / g.groups();
    int panelsPerBlock = Math.ceilDiv(panelsPerGroup, rowBlocks);
    int panel0 = rb * panelsPerBlock;
    int panel1 = Math.min(panelsPerGroup, panel0 + panelsPerBlock);
    if (panel0 >= panel1) {
      return;
    }
    int j0 = tile * TILE;
    int cols = Math.min(TILE, positions - j0);
    int xBase = (n * g.c() + group * g.inputChannelsPerGroup()) * g.h() * g.w();
    int yBase = (n * g.k() + group * kg) * positions;
    int packB = scratchOff;
    int spill = scratchOff + Math.min(KC, reduction) * TILE;
    for (int b = 0; b < blocks; b++) {
      int pc = b * KC;
      int kc = Math.min(KC, reduction - pc);
      packInput(x, xBase, pc, kc, j0, cols, scratch, packB);
      float beta = b == 0 ? 0f : 1f;
      int aBlock = weightBlock[group * blocks + b];
      for (int jr = 0; jr < cols; jr += nr) {
        int panelCols = Math.min(nr, cols - jr);
        int bIdx = packB + jr * kc;
        for (int panel = panel0; panel < panel1; panel++) {
          int row = panel * MR;
          int rows = Math.min(MR, kg - row);
          gemm.microKernel(kc, packedWeight, aBlock + panel * MR * kc, scratch, bIdx, scratch, spill, 1f, beta, y,
              yBase + row * positions + j0 + jr, positions, rows, panelCols);
        }
      }
    }
    int row0 = panel0 * MR;
    int at = yBase + row0 * positions + j0;
    F32Epilogue.applyRows(gemm.species(), y, at, positions, y, at, positions, Math.min(kg, panel1 * MR) - row0, cols,
        bias, group * kg + row0, offsets, (group * kg + row0) * positions + j0, residual, activation);
  }

  /**
   * Packs X̂[pc … pc+kc) × [j0 … j0+cols) into B panels of NR columns at dst[dOff + panel·NR·kc + l·NR + j],
   * zero-padded to whole panels.
   */
  private void packInput(float[] x, int xBase, int pc, int kc, int j0, int cols, float[] dst, int dOff) {
    int w = nr;
    for (int jp = 0; jp < cols; jp += w) {
      int panelCols = Math.min(w, cols - jp);
      int base = dOff + jp * kc;
      // Walk the panel's positions as runs within one output row.
      int j = j0 + jp;
      int done = 0;
      while (done < panelCols) {
        int p = j / outCols;
        int q = j - p * outCols;
        int run = Math.min(panelCols - done, outCols - q);
        packRun(x, xBase, pc, kc, p, q, run, dst, base + done, w);
        done += run;
        j += run;
      }
      if (panelCols < w) {
        for (int l = 0; l < kc; l++) {
          int d = base + l * w;
          Arrays.fill(dst, d + panelCols, d + w, 0f);
        }
      }
    }
  }

  /** Output positions (p, q … q+run) of every reduction row l in the block, into dst[d + l·w + …]. */
  private void packRun(float[] x, int xBase, int pc, int kc, int p, int q, int run, float[] dst, int d, int w) {
    int sW = strideW;
    for (int l = 0; l < kc; l++, d += w) {
      int lr = pc + l;
      int h = p * strideH + rowTap[lr];
      if (h < 0 || h >= inRows) {
        Arrays.fill(dst, d, d + run, 0f);
        continue;
      }
      int w0 = q * sW + colTap[lr];
      // Positions i in [lo, hi) read input columns inside [0, inCols).
      int lo = w0 >= 0 ? 0 : Math.min(run, Math.ceilDiv(-w0, sW));
      int hi = Math.max(lo, Math.min(run, Math.floorDiv(inCols - 1 - w0, sW) + 1));
      if (lo > 0) {
        Arrays.fill(dst, d, d + lo, 0f);
      }
      int src = xBase + channelOffset[lr] + h * inCols + w0;
      if (sW == 1) {
        for (int i = lo; i < hi; i += COPY.length()) {
          VectorMask<Float> m = COPY.indexInRange(i, hi);
          FloatVector.fromArray(COPY, x, src + i, m).intoArray(dst, d + i, m);
        }
      } else {
        for (int i = lo; i < hi; i++) {
          dst[d + i] = x[src + i * sW];
        }
      }
      if (hi < run) {
        Arrays.fill(dst, d + hi, d + run, 0f);
      }
    }
  }
}
