package dev.vfuse.simd;

import dev.vfuse.kernel.Activation;
import dev.vfuse.kernel.ConvGeometry;
import dev.vfuse.kernel.Parallel;
import dev.vfuse.kernel.PositionOffsets;
import dev.vfuse.kernel.PreparedConv;
import java.util.Arrays;
import java.util.Objects;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * 3×3 convolution with stride 1, dilation 1 and groups 1 (any padding, any batch) by Winograd's
 * minimal filtering F(4×4, 3×3), with the fused epilogue of {@link dev.vfuse.kernel.ConvEpilogue}.
 *
 * <p>The output planes are cut into 4×4 tiles (tiles at the right and bottom edges are cropped).
 * Tile (ty, tx) reads the 6×6 input window d that starts at row 4·ty − padTop and column
 * 4·tx − padLeft (zero outside the input), and for output channel k
 *
 * <pre>
 *   Y = Aᵀ [ Σ_c (G g_{k,c} Gᵀ) ⊙ (Bᵀ d_c B) ] A
 *
 *        | 4  0 −5  0  1  0 |        | 1/4    0     0   |        | 1  1  1  1  1  0 |
 *        | 0 −4 −4  1  1  0 |        | −1/6 −1/6  −1/6  |   Aᵀ = | 0  1 −1  2 −2  0 |
 *   Bᵀ = | 0  4 −4 −1  1  0 |    G = | −1/6  1/6  −1/6  |        | 0  1  1  4  4  0 |
 *        | 0 −2 −1  2  1  0 |        | 1/24  1/12  1/6  |        | 0  1 −1  8 −8  1 |
 *        | 0  2 −1 −2  1  0 |        | 1/24 −1/12  1/6  |
 *        | 0  4  0 −5  0  1 |        | 0      0     1   |
 * </pre>
 *
 * (interpolation points 0, 1, −1, 2, −2 and ∞; Lavin and Gray 2016, the matrices of NNPACK and
 * ncnn). Each tile and channel pair then costs 36 multiplications instead of the 16·9 = 144 of
 * direct convolution: the arithmetic drops fourfold, at the price of the transforms and of a
 * larger rounding error (below). F(4×4) rather than F(2×2, 3×3) (2.25× fewer, much more accurate)
 * or F(6×6, 3×3) (5.06× fewer, with points ±1/2 and a markedly larger error): the usual balance.
 *
 * <p>Work per run, for each task (a block of up to {@code maxBlockTiles} consecutive tiles, the
 * batch's tiles numbered image by image, row by row, times a range of output channels):
 *
 * <ol>
 *   <li><b>Windows.</b> Per input channel, each input row a tile row needs is split into the six
 *       phase rows window(i, j)[tile] = x[row 4·ty − padTop + i][column 4·tx − padLeft + j], so
 *       that element (i, j) of consecutive tiles is contiguous. Four contiguous loads and ten
 *       two-vector permutes ({@code selectFrom}) give the six phases of L tiles; padding columns
 *       are blended to zero. (Gathers would do the same in 36 instructions per L tiles, but a
 *       512-bit gather costs about 20 cycles on Zen 5.)
 *   <li><b>Input transform.</b> V = Bᵀ d B, vectorized across L tiles, as two passes of the 1-D
 *       transform through a small buffer; V is written in the layout of GEMM B panels,
 *       V[ξ][panel][c][2L] for the 36 points ξ = 6·α + β.
 *   <li><b>Batched GEMM.</b> M[ξ] = U[ξ] · V[ξ], K×C times C×tiles, with the 6×(2 vectors)
 *       register-blocked micro-kernel of {@link F32GemmPacked}; U = G g Gᵀ was computed at prepare
 *       time in double, rounded once to float, and packed as A panels U[ξ][k panel][c][6].
 *   <li><b>Output transform.</b> Y = Aᵀ M A per output channel, vectorized across tiles; the 16
 *       phase rows Y(a, b)[tile] are interleaved back into output rows with permutes, the last
 *       tile column cropped by a masked store, and the epilogue runs on each finished output row
 *       with {@link F32Epilogue}.
 * </ol>
 *
 * <p>When the whole batch has at most 2L tiles (small planes such as 7×7 or 14×14 at batch 1),
 * tile columns would leave most of the 2L lanes of the micro-kernel empty. Such geometries, when
 * output channels fill 2L-wide panels and tiles 6-row panels better than tiles fill the lanes, swap
 * the roles: U is packed at prepare as B panels U[ξ][k panel][c][2L], the tiles of V are the
 * broadcast operand (V's layout is unchanged; the kernel steps it by 2L), lanes hold output
 * channels, and the kernel scatters its rows into M's layout. Either way U holds 36/9 = 4× the
 * floats of the weights.
 *
 * <p>Precision. The result is not a reordering of the direct sum: the transforms scale inputs by up
 * to 5 (Bᵀ) and 8 (Aᵀ) and the terms cancel only in exact arithmetic. Forward error analysis of
 * the float evaluation bounds the error of output (k, p, q), at position (a, b) of its tile with
 * input windows d_c, to first order by
 *
 * <pre>
 *   u·[(C + 7)·Λ₁ + 4·Λ₂]     u = 2⁻²⁴
 *   Λ₁ = [|Aᵀ| (Σ_c |U_c| ⊙ |V_c|) |A|](a, b)                   U_c = G g_{k,c} Gᵀ, V_c = Bᵀ d_c B
 *   Λ₂ = [|Aᵀ| (Σ_c |U_c| ⊙ (|Bᵀ| |d_c| |B|)) |A|](a, b)
 * </pre>
 *
 * counting the roundings on an input's path: the C FMAs over channels, U's one rounding and the
 * output transform's 3 + 3 act on the products (Λ₁), the input transform's 2 + 2 act before the
 * cancellations of Bᵀ (Λ₂). Direct summation's counterpart is 9C·u·Σ|w·x|; Λ₁ is 2–10 times
 * Σ|w·x| at the median output of resnet18, PP-OCRv3 and uniform random layers, up to about 150
 * times at outputs whose 3×3 receptive field is small next to the rest of their window. Measured
 * on those layers, the largest error is 0.4–2.4·10⁻⁶·Σ|w·x| (median 1–4·10⁻⁸), 5–30 times the
 * largest error of im2col + GEMM. The epilogue then rounds as the scalar one does.
 * {@code F32Conv3x3WinogradTest} holds the kernel to twice the bound.
 *
 * <p>Parallelism: tasks are tile blocks, times output-channel ranges when there are fewer blocks
 * than threads (each range then transforms the block's input itself). Every buffer is in the
 * worker's slice of the caller's scratch; a run allocates only the task lambda.
 *
 * <p>The hot loops exist once per vector width ({@code …512}, {@code …256}, {@code …128}), each
 * on a {@code static final} species, for the reason {@link F32GemmPacked} documents: C2 emits
 * vector instructions only for a species that is a compile-time constant in the compiled method.
 * The copies are generated from one template and differ only in the width.
 */
final class F32Conv3x3Winograd implements PreparedConv {

  /** Side of an output tile, m in F(m×m, 3×3). */
  static final int TILE = 4;

  /** Side of an input window, m + 3 − 1. */
  static final int WINDOW = TILE + 2;

  /** Points of the transformed domain, one GEMM each. */
  static final int POINTS = WINDOW * WINDOW;

  /** Rows of the micro-kernel tile. */
  static final int MR = 6;

  /** Bᵀ, the input transform, as in the class comment. */
  static final double[][] BT = {
    {4, 0, -5, 0, 1, 0},
    {0, -4, -4, 1, 1, 0},
    {0, 4, -4, -1, 1, 0},
    {0, -2, -1, 2, 1, 0},
    {0, 2, -1, -2, 1, 0},
    {0, 4, 0, -5, 0, 1},
  };

  /** G, the weight transform. */
  static final double[][] G = {
    {1.0 / 4, 0, 0},
    {-1.0 / 6, -1.0 / 6, -1.0 / 6},
    {-1.0 / 6, 1.0 / 6, -1.0 / 6},
    {1.0 / 24, 1.0 / 12, 1.0 / 6},
    {1.0 / 24, -1.0 / 12, 1.0 / 6},
    {0, 0, 1},
  };

  /** Aᵀ, the output transform. */
  static final double[][] AT = {
    {1, 1, 1, 1, 1, 0},
    {0, 1, -1, 2, -2, 0},
    {0, 1, 1, 4, 4, 0},
    {0, 1, -1, 8, -8, 1},
  };

  /**
   * Tiles per block are limited so that one point of V (C × tiles floats) and of M (K × tiles)
   * stays within 32 KB, in L1/L2 while the micro-kernel sweeps it once per panel of output
   * channels. The speed was flat between 8 KB and 256 KB on the target layers, so the small end
   * keeps the scratch small (2–5 MB per worker on resnet18's layers).
   */
  static final int POINT_BLOCK_FLOATS = 8192;

  /**
   * Floats added to the stride between the 36 points of V: a stride that is a multiple of 4 KB
   * would put the 36 lines the input transform writes per tile group into one L1 set.
   */
  static final int POINT_SKEW = 16;

  private static final VectorSpecies<Float> S128 = FloatVector.SPECIES_128;
  private static final VectorSpecies<Float> S256 = FloatVector.SPECIES_256;
  private static final VectorSpecies<Float> S512 = FloatVector.SPECIES_512;

  private final VectorSpecies<Float> species;
  private final int bits;
  private final int lanes;
  private final int nr;
  private final int c, h, w, k, p, q, padTop, padLeft;
  private final int tilesX, tilesPerImage, tiles;
  /**
   * True when lanes hold output channels and tiles are broadcast: at most 2L tiles, and the used
   * fraction of channel panels times that of 6-tile rows beats the used fraction of tile lanes.
   */
  private final boolean channelsInLanes;
  /** Output channels per panel of U: MR, or nr when channels are in lanes. */
  private final int kPanel;
  private final int kPanels;
  private final int maxBlockTiles;
  /**
   * The transformed weights, packed for the micro-kernel: panel (ξ, kp) = ξ·kPanels + kp of C·kPanel
   * floats, in {@link WeightChunks} of {@link #perChunk} panels.
   */
  private final float[][] u;
  private final int perChunk;
  /** When channels are in lanes: lane j of a kernel row goes to M row j (offsets j·POINTS·nr). */
  private final int[] channelRows;
  private final float[] bias;
  private final PositionOffsets offsets;
  private final Activation activation;
  private final int vFloats, mFloats, phaseFloats, lineFloats;
  private final int scratchPerWorker;

  private F32Conv3x3Winograd(VectorSpecies<Float> species, ConvGeometry g, float[] weight, float[] bias,
      PositionOffsets offsets, Activation activation) {
    this.species = species;
    this.bits = species.vectorBitSize();
    this.lanes = species.length();
    this.nr = 2 * lanes;
    this.c = g.c();
    this.h = g.h();
    this.w = g.w();
    this.k = g.k();
    this.p = g.p();
    this.q = g.q();
    this.padTop = g.padTop();
    this.padLeft = g.padLeft();
    this.tilesX = Math.ceilDiv(q, TILE);
    this.tilesPerImage = Math.ceilDiv(p, TILE) * tilesX;
    this.tiles = g.n() * tilesPerImage;
    this.channelsInLanes = tiles <= nr && laneUse(k, nr) * laneUse(tiles, MR) > laneUse(tiles, nr);
    this.kPanel = channelsInLanes ? nr : MR;
    this.kPanels = Math.ceilDiv(k, kPanel);
    int widest = Math.max(c, kPanels * kPanel);
    this.maxBlockTiles = channelsInLanes ? nr
        : Math.min(Math.max(nr, POINT_BLOCK_FLOATS / widest / nr * nr), roundUp(tiles, nr));
    this.perChunk = WeightChunks.perChunk(c * kPanel, Float.BYTES);
    this.u = transformWeights(weight);
    this.channelRows = channelsInLanes ? channelRowOffsets() : null;
    this.bias = bias;
    this.offsets = offsets;
    this.activation = activation;
    this.vFloats = POINTS * (c * maxBlockTiles + POINT_SKEW);
    this.mFloats = kPanels * kPanel * POINTS * maxBlockTiles;
    this.phaseFloats = POINTS * (maxBlockTiles + lanes);
    this.lineFloats = POINTS * lanes;
    this.scratchPerWorker = vFloats + mFloats + phaseFloats + lineFloats;
  }

  /** True for the geometries this kernel computes: 3×3, stride 1, dilation 1, groups 1. */
  static boolean supports(ConvGeometry g) {
    return g.r() == 3 && g.s() == 3 && g.strideH() == 1 && g.strideW() == 1 && g.dilationH() == 1
        && g.dilationW() == 1 && g.groups() == 1;
  }

  /**
   * Transforms and packs the weights for {@code g}, which {@link #supports} must accept. The
   * bias ([K]), offsets ([K, P, Q]) and activation may each be null and are kept by reference.
   */
  static PreparedConv prepare(VectorSpecies<Float> sp, ConvGeometry g, float[] weight, float[] bias,
      PositionOffsets offsets, Activation activation) {
    Objects.requireNonNull(sp, "species");
    Objects.requireNonNull(weight, "weight");
    if (!supports(g)) {
      throw new IllegalArgumentException("F32Conv3x3Winograd takes 3x3, stride 1, dilation 1, groups 1; got " + g);
    }
    return new F32Conv3x3Winograd(sp, g, weight, bias, offsets, activation);
  }

  @Override
  public int scratchPerWorker() {
    return scratchPerWorker;
  }

  @Override
  public String toString() {
    return "winograd F(4x4,3x3) " + (channelsInLanes ? "channels" : "tiles") + " in lanes, " + bits + "-bit";
  }

  /** Fraction of slots used when n items are rounded up to a multiple of {@code unit}. */
  private static double laneUse(int n, int unit) {
    return n / (double) roundUp(n, unit);
  }

  /**
   * U[ξ = 6·α + β][k][c] = Σ_{r,s} G[α][r]·g[k][c][r][s]·G[β][s] in double, rounded once, packed as
   * kernel panels of {@code kPanel} output channels: panel π = ξ·kPanels + k / kPanel holds
   * U[ξ][k][c] at c·kPanel + k % kPanel, zero for the channels past K in the last panel.
   */
  private float[][] transformWeights(float[] weight) {
    float[][] packed = WeightChunks.floats(POINTS * kPanels, perChunk, c * kPanel);
    double[][] half = new double[WINDOW][3];
    for (int ko = 0; ko < k; ko++) {
      for (int ci = 0; ci < c; ci++) {
        int src = (ko * c + ci) * 9;
        for (int a = 0; a < WINDOW; a++) {
          for (int s = 0; s < 3; s++) {
            double sum = 0;
            for (int r = 0; r < 3; r++) {
              sum += G[a][r] * weight[src + r * 3 + s];
            }
            half[a][s] = sum;
          }
        }
        for (int a = 0; a < WINDOW; a++) {
          for (int b = 0; b < WINDOW; b++) {
            double sum = 0;
            for (int s = 0; s < 3; s++) {
              sum += half[a][s] * G[b][s];
            }
            int point = a * WINDOW + b;
            int panel = point * kPanels + ko / kPanel;
            packed[panel / perChunk][(panel % perChunk * c + ci) * kPanel + ko % kPanel] = (float) sum;
          }
        }
      }
    }
    return packed;
  }

  /** Lane j of a kernel row (output channel j of the panel) lands in M row j: offset j·POINTS·nr. */
  private int[] channelRowOffsets() {
    int[] rows = new int[nr];
    for (int j = 0; j < nr; j++) {
      rows[j] = j * POINTS * nr;
    }
    return rows;
  }

  @Override
  public void run(float[] x, float[] residual, float[] y, float[] scratch, Parallel parallel) {
    int threads = parallel.threads();
    // A multiple of the threads where there are enough panels of tiles, so that workers finish together.
    int blocks = Math.ceilDiv(tiles, maxBlockTiles);
    blocks = Math.min(roundUp(blocks, threads), Math.max(blocks, Math.ceilDiv(tiles, nr)));
    int blockTiles = roundUp(Math.ceilDiv(tiles, blocks), nr);
    int tileBlocks = Math.ceilDiv(tiles, blockTiles);
    int kSplits = tileBlocks >= threads ? 1 : Math.min(kPanels, Math.ceilDiv(threads, tileBlocks));
    parallel.forEach(tileBlocks * kSplits, (task, worker) -> {
      int split = task % kSplits;
      runBlock(x, residual, y, scratch, worker * scratchPerWorker, task / kSplits * blockTiles, blockTiles,
          split * kPanels / kSplits, (split + 1) * kPanels / kSplits);
    });
  }

  /**
   * Tiles [t0, t0 + blockTiles) (cut at the batch's end), output channels of panels [kp0, kp1),
   * with the worker's scratch at {@code base}: V, then M ([k − kp0·kPanel][ξ][width]), then the
   * phase rows (36 input, later 16 output, {@code stride} apart), then the transforms' buffer.
   * The transforms cover the groups of L tiles that hold tiles; the GEMM reads whole panels, and
   * what it computes from the lanes past them (stale scratch) lands in columns of M or rows it
   * never stores, which nothing reads: every lane of the kernel is independent of the others.
   */
  private void runBlock(float[] x, float[] residual, float[] y, float[] scratch, int base, int t0, int blockTiles,
      int kp0, int kp1) {
    int count = Math.min(blockTiles, tiles - t0);
    int panels = Math.ceilDiv(count, nr);
    int width = panels * nr;
    int groups = Math.ceilDiv(count, lanes);
    int vBase = base;
    int mBase = vBase + vFloats;
    int phases = mBase + mFloats;
    int line = phases + phaseFloats;
    int vPoint = c * width + POINT_SKEW;
    int mRow = POINTS * width;
    int stride = width + lanes;

    for (int ci = 0; ci < c; ci++) {
      splitWindows(x, ci, t0, count, stride, scratch, phases);
      for (int gi = 0; gi < groups; gi++) {
        inputTransform(scratch, phases + gi * lanes, stride, line,
            vBase + (gi >> 1) * c * nr + ci * nr + (gi & 1) * lanes, vPoint);
      }
    }

    for (int point = 0; point < POINTS; point++) {
      int vOff = vBase + point * vPoint;
      for (int kp = kp0; kp < kp1; kp++) {
        int panel = point * kPanels + kp;
        float[] uChunk = u[panel / perChunk];
        int uOff = panel % perChunk * c * kPanel;
        int mOff = mBase + (kp - kp0) * kPanel * mRow + point * width;
        if (channelsInLanes) {
          for (int t = 0; t < count; t += MR) {
            multiply(scratch, vOff + t, nr, uChunk, uOff, scratch, mOff + t, 1, Math.min(MR, count - t), channelRows);
          }
        } else {
          for (int pn = 0; pn < panels; pn++) {
            multiply(uChunk, uOff, MR, scratch, vOff + pn * c * nr, scratch, mOff + pn * nr, mRow, MR, null);
          }
        }
      }
    }

    int k0 = kp0 * kPanel;
    int kEnd = Math.min(kp1 * kPanel, k);
    for (int ko = k0; ko < kEnd; ko++) {
      int mOff = mBase + (ko - k0) * mRow;
      for (int gi = 0; gi < groups; gi++) {
        outputTransform(scratch, mOff + gi * lanes, width, line, phases + gi * lanes, stride);
      }
      writeOutput(scratch, phases, stride, ko, t0, count, residual, y);
    }
  }

  /**
   * The 36 input phase rows of channel ci for tiles [t0, t0 + count): row 6·i + j, column t − t0
   * holds x[n, ci, 4·ty − padTop + i, 4·tx − padLeft + j] (0 outside the input) for tile t = (n, ty, tx).
   * Tiles are taken one tile row at a time, L per {@link #splitRow} call; the last call of a row
   * may write up to L − 1 columns past it, which the next row overwrites (or which fall in the
   * block's unused columns, hence the stride's slack of L).
   */
  private void splitWindows(float[] x, int ci, int t0, int count, int stride, float[] s, int phases) {
    for (int t = t0, end = t0 + count; t < end; ) {
      int image = t / tilesPerImage;
      int inImage = t - image * tilesPerImage;
      int ty = inImage / tilesX;
      int tx0 = inImage - ty * tilesX;
      int run = Math.min(tilesX - tx0, end - t);
      int col0 = TILE * tx0 - padLeft;
      int plane = (image * c + ci) * h * w;
      int dst = phases + (t - t0);
      for (int i = 0; i < WINDOW; i++, dst += WINDOW * stride) {
        int row = TILE * ty - padTop + i;
        if (row < 0 || row >= h) {
          for (int j = 0; j < WINDOW; j++) {
            Arrays.fill(s, dst + j * stride, dst + j * stride + run, 0f);
          }
          continue;
        }
        int rowBase = plane + row * w;
        for (int done = 0; done < run; done += lanes) {
          splitRow(x, rowBase, col0 + TILE * done, s, dst + done, stride);
        }
      }
      t += run;
    }
  }

  /**
   * Output channel ko of tiles [t0, t0 + count) from its 16 phase rows (row 4·a + b, column
   * t − t0 = Y(a, b) of tile t): each output row of each tile row is interleaved back, cropped at
   * P and Q, and finished by the epilogue.
   */
  private void writeOutput(float[] s, int phases, int stride, int ko, int t0, int count, float[] residual,
      float[] y) {
    boolean epilogue = bias != null || offsets != null || residual != null || activation != null;
    float b = bias == null ? 0f : bias[ko];
    for (int t = t0, end = t0 + count; t < end; ) {
      int image = t / tilesPerImage;
      int inImage = t - image * tilesPerImage;
      int ty = inImage / tilesX;
      int tx0 = inImage - ty * tilesX;
      int run = Math.min(tilesX - tx0, end - t);
      int q0 = TILE * tx0;
      int len = Math.min(TILE * (tx0 + run), q) - q0;
      int src = phases + (t - t0);
      for (int a = 0; a < TILE && TILE * ty + a < p; a++, src += TILE * stride) {
        int row = TILE * ty + a;
        int dst = ((image * k + ko) * p + row) * q + q0;
        for (int done = 0; done < len; done += TILE * lanes) {
          joinRow(s, src + done / TILE, stride, y, dst + done, len - done);
        }
        if (epilogue) {
          F32Epilogue.apply(species, y, dst, len, bias != null, b, offsets, ko, row * q + q0, residual, dst,
              activation);
        }
      }
      t += run;
    }
  }

  /**
   * V = Bᵀ d B for the L tiles whose 36 window elements sit in s[src + (6·i + j)·srcStride + lane]:
   * the 1-D transform along each row into s[line …], then along each column into
   * s[dst + ξ·dstStride + lane].
   */
  private void inputTransform(float[] s, int src, int srcStride, int line, int dst, int dstStride) {
    for (int i = 0; i < WINDOW; i++) {
      inputLine(s, src + i * WINDOW * srcStride, srcStride, s, line + i * WINDOW * lanes, lanes);
    }
    for (int j = 0; j < WINDOW; j++) {
      inputLine(s, line + j * lanes, WINDOW * lanes, s, dst + j * dstStride, WINDOW * dstStride);
    }
  }

  /**
   * Y = Aᵀ M A for the L tiles whose 36 points sit in s[src + ξ·srcStride + lane]: along each
   * column into s[line …], then along each row into the phase rows s[dst + (4·a + b)·dstStride + lane].
   */
  private void outputTransform(float[] s, int src, int srcStride, int line, int dst, int dstStride) {
    for (int j = 0; j < WINDOW; j++) {
      outputLine(s, src + j * srcStride, WINDOW * srcStride, s, line + j * lanes, WINDOW * lanes);
    }
    for (int a = 0; a < TILE; a++) {
      outputLine(s, line + a * WINDOW * lanes, lanes, s, dst + a * TILE * dstStride, dstStride);
    }
  }

  private void splitRow(float[] x, int rowBase, int col, float[] dst, int d, int dStride) {
    switch (bits) {
      case 512 -> splitRow512(x, rowBase, col, w, dst, d, dStride);
      case 256 -> splitRow256(x, rowBase, col, w, dst, d, dStride);
      case 128 -> splitRow128(x, rowBase, col, w, dst, d, dStride);
      default -> throw new IllegalStateException("unsupported species " + species);
    }
  }

  private void joinRow(float[] src, int s, int sStride, float[] dst, int d, int valid) {
    switch (bits) {
      case 512 -> joinRow512(src, s, sStride, dst, d, valid);
      case 256 -> joinRow256(src, s, sStride, dst, d, valid);
      case 128 -> joinRow128(src, s, sStride, dst, d, valid);
      default -> throw new IllegalStateException("unsupported species " + species);
    }
  }

  private void inputLine(float[] src, int s, int sStep, float[] dst, int d, int dStep) {
    switch (bits) {
      case 512 -> inputLine512(src, s, sStep, dst, d, dStep);
      case 256 -> inputLine256(src, s, sStep, dst, d, dStep);
      case 128 -> inputLine128(src, s, sStep, dst, d, dStep);
      default -> throw new IllegalStateException("unsupported species " + species);
    }
  }

  private void outputLine(float[] src, int s, int sStep, float[] dst, int d, int dStep) {
    switch (bits) {
      case 512 -> outputLine512(src, s, sStep, dst, d, dStep);
      case 256 -> outputLine256(src, s, sStep, dst, d, dStep);
      case 128 -> outputLine128(src, s, sStep, dst, d, dStep);
      default -> throw new IllegalStateException("unsupported species " + species);
    }
  }

  private void multiply(float[] a, int aIdx, int aStride, float[] b, int bIdx, float[] m, int mIdx, int rowStep,
      int rows, int[] laneRows) {
    switch (bits) {
      case 512 -> multiply512(c, a, aIdx, aStride, b, bIdx, m, mIdx, rowStep, rows, laneRows);
      case 256 -> multiply256(c, a, aIdx, aStride, b, bIdx, m, mIdx, rowStep, rows, laneRows);
      case 128 -> multiply128(c, a, aIdx, aStride, b, bIdx, m, mIdx, rowStep, rows, laneRows);
      default -> throw new IllegalStateException("unsupported species " + species);
    }
  }

  // ---------------------------------------------------------------- 512-bit copies

  private static final FloatVector IOTA512 = indexes(S512, 0, 1);
  private static final FloatVector EVEN512 = indexes(S512, 0, 2);
  private static final FloatVector ODD512 = indexes(S512, 1, 2);
  private static final FloatVector NEXT512 = indexes(S512, 1, 1);
  private static final FloatVector LOW512 = interleaved(S512, 0);
  private static final FloatVector HIGH512 = interleaved(S512, S512.length() / 2);

  /**
   * Phase rows of L tiles from one input row: phase j, lane m = x[rowBase + col + 4·m + j] for
   * j in [0, 6), with the elements whose column (col + 4·m + j) is outside [0, limit) read as 0;
   * written at dst[d + j·dStride + m]. Elements 0…4L−1 come from four loads, deinterleaved by
   * two rounds of two-vector permutes (even/odd, then even/odd again); phases 4 and 5 are
   * phases 0 and 1 moved down one lane, with elements 4L and 4L+1 entering at the top.
   */
  private static void splitRow512(float[] x, int rowBase, int col, int limit, float[] dst, int d, int dStride) {
    final VectorSpecies<Float> sp = S512;
    final int l1 = sp.length();
    int s = rowBase + col;
    FloatVector v0, v1, v2, v3;
    float next0, next1;
    if (col >= 0 && col + 4 * l1 + 2 <= limit) {
      v0 = FloatVector.fromArray(sp, x, s);
      v1 = FloatVector.fromArray(sp, x, s + l1);
      v2 = FloatVector.fromArray(sp, x, s + 2 * l1);
      v3 = FloatVector.fromArray(sp, x, s + 3 * l1);
      next0 = x[s + 4 * l1];
      next1 = x[s + 4 * l1 + 1];
    } else {
      // Padding columns: load, then blend them to 0. Masked loads near the ends of x only, where
      // a full load would leave the array (they are much slower when partially out of range).
      FloatVector cols = IOTA512.add((float) col);
      VectorMask<Float> in0 = cols.compare(VectorOperators.GE, 0f).and(cols.compare(VectorOperators.LT, limit));
      cols = cols.add((float) l1);
      VectorMask<Float> in1 = cols.compare(VectorOperators.GE, 0f).and(cols.compare(VectorOperators.LT, limit));
      cols = cols.add((float) l1);
      VectorMask<Float> in2 = cols.compare(VectorOperators.GE, 0f).and(cols.compare(VectorOperators.LT, limit));
      cols = cols.add((float) l1);
      VectorMask<Float> in3 = cols.compare(VectorOperators.GE, 0f).and(cols.compare(VectorOperators.LT, limit));
      if (s >= 0 && s + 4 * l1 <= x.length) {
        FloatVector zero = FloatVector.zero(sp);
        v0 = zero.blend(FloatVector.fromArray(sp, x, s), in0);
        v1 = zero.blend(FloatVector.fromArray(sp, x, s + l1), in1);
        v2 = zero.blend(FloatVector.fromArray(sp, x, s + 2 * l1), in2);
        v3 = zero.blend(FloatVector.fromArray(sp, x, s + 3 * l1), in3);
      } else {
        v0 = FloatVector.fromArray(sp, x, s, in0);
        v1 = FloatVector.fromArray(sp, x, s + l1, in1);
        v2 = FloatVector.fromArray(sp, x, s + 2 * l1, in2);
        v3 = FloatVector.fromArray(sp, x, s + 3 * l1, in3);
      }
      int c4 = col + 4 * l1;
      next0 = c4 >= 0 && c4 < limit ? x[s + 4 * l1] : 0f;
      next1 = c4 + 1 >= 0 && c4 + 1 < limit ? x[s + 4 * l1 + 1] : 0f;
    }
    FloatVector even01 = EVEN512.selectFrom(v0, v1);
    FloatVector odd01 = ODD512.selectFrom(v0, v1);
    FloatVector even23 = EVEN512.selectFrom(v2, v3);
    FloatVector odd23 = ODD512.selectFrom(v2, v3);
    FloatVector phase0 = EVEN512.selectFrom(even01, even23);
    FloatVector phase1 = EVEN512.selectFrom(odd01, odd23);
    phase0.intoArray(dst, d);
    phase1.intoArray(dst, d + dStride);
    ODD512.selectFrom(even01, even23).intoArray(dst, d + 2 * dStride);
    ODD512.selectFrom(odd01, odd23).intoArray(dst, d + 3 * dStride);
    NEXT512.selectFrom(phase0, FloatVector.broadcast(sp, next0)).intoArray(dst, d + 4 * dStride);
    NEXT512.selectFrom(phase1, FloatVector.broadcast(sp, next1)).intoArray(dst, d + 5 * dStride);
  }

  /**
   * The inverse of {@link #splitRow512} for an output row: out[d + 4·m + b] = src[s + b·sStride + m]
   * for b in [0, 4), m in [0, L), by two rounds of interleaving permutes; only the first
   * {@code valid} of the 4L elements are stored.
   */
  private static void joinRow512(float[] src, int s, int sStride, float[] dst, int d, int valid) {
    final VectorSpecies<Float> sp = S512;
    final int l1 = sp.length();
    FloatVector y0 = FloatVector.fromArray(sp, src, s);
    FloatVector y1 = FloatVector.fromArray(sp, src, s + sStride);
    FloatVector y2 = FloatVector.fromArray(sp, src, s + 2 * sStride);
    FloatVector y3 = FloatVector.fromArray(sp, src, s + 3 * sStride);
    FloatVector low02 = LOW512.selectFrom(y0, y2);
    FloatVector high02 = HIGH512.selectFrom(y0, y2);
    FloatVector low13 = LOW512.selectFrom(y1, y3);
    FloatVector high13 = HIGH512.selectFrom(y1, y3);
    FloatVector out0 = LOW512.selectFrom(low02, low13);
    FloatVector out1 = HIGH512.selectFrom(low02, low13);
    FloatVector out2 = LOW512.selectFrom(high02, high13);
    FloatVector out3 = HIGH512.selectFrom(high02, high13);
    if (valid >= 4 * l1) {
      out0.intoArray(dst, d);
      out1.intoArray(dst, d + l1);
      out2.intoArray(dst, d + 2 * l1);
      out3.intoArray(dst, d + 3 * l1);
    } else {
      out0.intoArray(dst, d, sp.indexInRange(0, valid));
      out1.intoArray(dst, d + l1, sp.indexInRange(l1, valid));
      out2.intoArray(dst, d + 2 * l1, sp.indexInRange(2 * l1, valid));
      out3.intoArray(dst, d + 3 * l1, sp.indexInRange(3 * l1, valid));
    }
  }

  /**
   * out_α = Σ_i Bᵀ[α][i]·in_i for six vectors in = src[s + i·sStep], written to dst[d + α·dStep]:
   * two roundings deep on every path (FMAs with the exact constants 2, 4 and 5).
   */
  private static void inputLine512(float[] src, int s, int sStep, float[] dst, int d, int dStep) {
    final VectorSpecies<Float> sp = S512;
    FloatVector d0 = FloatVector.fromArray(sp, src, s);
    FloatVector d1 = FloatVector.fromArray(sp, src, s + sStep);
    FloatVector d2 = FloatVector.fromArray(sp, src, s + 2 * sStep);
    FloatVector d3 = FloatVector.fromArray(sp, src, s + 3 * sStep);
    FloatVector d4 = FloatVector.fromArray(sp, src, s + 4 * sStep);
    FloatVector d5 = FloatVector.fromArray(sp, src, s + 5 * sStep);
    FloatVector two = FloatVector.broadcast(sp, 2f);
    FloatVector four = FloatVector.broadcast(sp, 4f);
    FloatVector minusFive = FloatVector.broadcast(sp, -5f);
    FloatVector d31 = d3.sub(d1);
    FloatVector d42 = d4.sub(d2);
    d0.fma(four, d2.fma(minusFive, d4)).intoArray(dst, d);
    d1.add(d2).fma(four.neg(), d3.add(d4)).intoArray(dst, d + dStep);
    d1.sub(d2).fma(four, d4.sub(d3)).intoArray(dst, d + 2 * dStep);
    d31.fma(two, d42).intoArray(dst, d + 3 * dStep);
    d31.fma(two.neg(), d42).intoArray(dst, d + 4 * dStep);
    d1.fma(four, d3.fma(minusFive, d5)).intoArray(dst, d + 5 * dStep);
  }

  /**
   * out_a = Σ_α Aᵀ[a][α]·in_α for six vectors in = src[s + α·sStep], written to dst[d + a·dStep]:
   * at most three roundings deep.
   */
  private static void outputLine512(float[] src, int s, int sStep, float[] dst, int d, int dStep) {
    final VectorSpecies<Float> sp = S512;
    FloatVector m0 = FloatVector.fromArray(sp, src, s);
    FloatVector m1 = FloatVector.fromArray(sp, src, s + sStep);
    FloatVector m2 = FloatVector.fromArray(sp, src, s + 2 * sStep);
    FloatVector m3 = FloatVector.fromArray(sp, src, s + 3 * sStep);
    FloatVector m4 = FloatVector.fromArray(sp, src, s + 4 * sStep);
    FloatVector m5 = FloatVector.fromArray(sp, src, s + 5 * sStep);
    FloatVector sum12 = m1.add(m2);
    FloatVector diff12 = m1.sub(m2);
    FloatVector sum34 = m3.add(m4);
    FloatVector diff34 = m3.sub(m4);
    m0.add(sum12).add(sum34).intoArray(dst, d);
    diff34.fma(FloatVector.broadcast(sp, 2f), diff12).intoArray(dst, d + dStep);
    sum34.fma(FloatVector.broadcast(sp, 4f), sum12).intoArray(dst, d + 2 * dStep);
    diff34.fma(FloatVector.broadcast(sp, 8f), diff12).add(m5).intoArray(dst, d + 3 * dStep);
  }

  /**
   * The micro-kernel of {@link F32GemmPacked}: acc(i, ·) = Σ_l a[aIdx + l·aStride + i]·b[bIdx + l·2L + ·]
   * over l in [0, kc), for i in [0, 6) and 2L columns, accumulated in registers with one FMA per
   * product. Row i is then stored contiguously at m[mIdx + i·rowStep …] when {@code laneRows} is
   * null, else (channels in lanes) only for i < rows, lane j scattered to m[mIdx + i·rowStep + laneRows[j]].
   */
  private static void multiply512(int kc, float[] a, int aIdx, int aStride, float[] b, int bIdx, float[] m,
      int mIdx, int rowStep, int rows, int[] laneRows) {
    final VectorSpecies<Float> sp = S512;
    final int l1 = sp.length();
    final int step = 2 * l1;
    FloatVector acc00 = FloatVector.zero(sp), acc01 = FloatVector.zero(sp);
    FloatVector acc10 = FloatVector.zero(sp), acc11 = FloatVector.zero(sp);
    FloatVector acc20 = FloatVector.zero(sp), acc21 = FloatVector.zero(sp);
    FloatVector acc30 = FloatVector.zero(sp), acc31 = FloatVector.zero(sp);
    FloatVector acc40 = FloatVector.zero(sp), acc41 = FloatVector.zero(sp);
    FloatVector acc50 = FloatVector.zero(sp), acc51 = FloatVector.zero(sp);
    for (int l = 0, ai = aIdx, bi = bIdx; l < kc; l++, ai += aStride, bi += step) {
      FloatVector b0 = FloatVector.fromArray(sp, b, bi);
      FloatVector b1 = FloatVector.fromArray(sp, b, bi + l1);
      FloatVector av = FloatVector.broadcast(sp, a[ai]);
      acc00 = av.fma(b0, acc00);
      acc01 = av.fma(b1, acc01);
      av = FloatVector.broadcast(sp, a[ai + 1]);
      acc10 = av.fma(b0, acc10);
      acc11 = av.fma(b1, acc11);
      av = FloatVector.broadcast(sp, a[ai + 2]);
      acc20 = av.fma(b0, acc20);
      acc21 = av.fma(b1, acc21);
      av = FloatVector.broadcast(sp, a[ai + 3]);
      acc30 = av.fma(b0, acc30);
      acc31 = av.fma(b1, acc31);
      av = FloatVector.broadcast(sp, a[ai + 4]);
      acc40 = av.fma(b0, acc40);
      acc41 = av.fma(b1, acc41);
      av = FloatVector.broadcast(sp, a[ai + 5]);
      acc50 = av.fma(b0, acc50);
      acc51 = av.fma(b1, acc51);
    }
    if (laneRows == null) {
      acc00.intoArray(m, mIdx);
      acc01.intoArray(m, mIdx + l1);
      acc10.intoArray(m, mIdx + rowStep);
      acc11.intoArray(m, mIdx + rowStep + l1);
      acc20.intoArray(m, mIdx + 2 * rowStep);
      acc21.intoArray(m, mIdx + 2 * rowStep + l1);
      acc30.intoArray(m, mIdx + 3 * rowStep);
      acc31.intoArray(m, mIdx + 3 * rowStep + l1);
      acc40.intoArray(m, mIdx + 4 * rowStep);
      acc41.intoArray(m, mIdx + 4 * rowStep + l1);
      acc50.intoArray(m, mIdx + 5 * rowStep);
      acc51.intoArray(m, mIdx + 5 * rowStep + l1);
      return;
    }
    acc00.intoArray(m, mIdx, laneRows, 0);
    acc01.intoArray(m, mIdx, laneRows, l1);
    if (rows > 1) {
      acc10.intoArray(m, mIdx + rowStep, laneRows, 0);
      acc11.intoArray(m, mIdx + rowStep, laneRows, l1);
    }
    if (rows > 2) {
      acc20.intoArray(m, mIdx + 2 * rowStep, laneRows, 0);
      acc21.intoArray(m, mIdx + 2 * rowStep, laneRows, l1);
    }
    if (rows > 3) {
      acc30.intoArray(m, mIdx + 3 * rowStep, laneRows, 0);
      acc31.intoArray(m, mIdx + 3 * rowStep, laneRows, l1);
    }
    if (rows > 4) {
      acc40.intoArray(m, mIdx + 4 * rowStep, laneRows, 0);
      acc41.intoArray(m, mIdx + 4 * rowStep, laneRows, l1);
    }
    if (rows > 5) {
      acc50.intoArray(m, mIdx + 5 * rowStep, laneRows, 0);
      acc51.intoArray(m, mIdx + 5 * rowStep, laneRows, l1);
    }
  }

  // ---------------------------------------------------------------- 256-bit copies

  private static final FloatVector IOTA256 = indexes(S256, 0, 1);
  private static final FloatVector EVEN256 = indexes(S256, 0, 2);
  private static final FloatVector ODD256 = indexes(S256, 1, 2);
  private static final FloatVector NEXT256 = indexes(S256, 1, 1);
  private static final FloatVector LOW256 = interleaved(S256, 0);
  private static final FloatVector HIGH256 = interleaved(S256, S256.length() / 2);

  /**
   * Phase rows of L tiles from one input row: phase j, lane m = x[rowBase + col + 4·m + j] for
   * j in [0, 6), with the elements whose column (col + 4·m + j) is outside [0, limit) read as 0;
   * written at dst[d + j·dStride + m]. Elements 0…4L−1 come from four loads, deinterleaved by
   * two rounds of two-vector permutes (even/odd, then even/odd again); phases 4 and 5 are
   * phases 0 and 1 moved down one lane, with elements 4L and 4L+1 entering at the top.
   */
  private static void splitRow256(float[] x, int rowBase, int col, int limit, float[] dst, int d, int dStride) {
    final VectorSpecies<Float> sp = S256;
    final int l1 = sp.length();
    int s = rowBase + col;
    FloatVector v0, v1, v2, v3;
    float next0, next1;
    if (col >= 0 && col + 4 * l1 + 2 <= limit) {
      v0 = FloatVector.fromArray(sp, x, s);
      v1 = FloatVector.fromArray(sp, x, s + l1);
      v2 = FloatVector.fromArray(sp, x, s + 2 * l1);
      v3 = FloatVector.fromArray(sp, x, s + 3 * l1);
      next0 = x[s + 4 * l1];
      next1 = x[s + 4 * l1 + 1];
    } else {
      // Padding columns: load, then blend them to 0. Masked loads near the ends of x only, where
      // a full load would leave the array (they are much slower when partially out of range).
      FloatVector cols = IOTA256.add((float) col);
      VectorMask<Float> in0 = cols.compare(VectorOperators.GE, 0f).and(cols.compare(VectorOperators.LT, limit));
      cols = cols.add((float) l1);
      VectorMask<Float> in1 = cols.compare(VectorOperators.GE, 0f).and(cols.compare(VectorOperators.LT, limit));
      cols = cols.add((float) l1);
      VectorMask<Float> in2 = cols.compare(VectorOperators.GE, 0f).and(cols.compare(VectorOperators.LT, limit));
      cols = cols.add((float) l1);
      VectorMask<Float> in3 = cols.compare(VectorOperators.GE, 0f).and(cols.compare(VectorOperators.LT, limit));
      if (s >= 0 && s + 4 * l1 <= x.length) {
        FloatVector zero = FloatVector.zero(sp);
        v0 = zero.blend(FloatVector.fromArray(sp, x, s), in0);
        v1 = zero.blend(FloatVector.fromArray(sp, x, s + l1), in1);
        v2 = zero.blend(FloatVector.fromArray(sp, x, s + 2 * l1), in2);
        v3 = zero.blend(FloatVector.fromArray(sp, x, s + 3 * l1), in3);
      } else {
        v0 = FloatVector.fromArray(sp, x, s, in0);
        v1 = FloatVector.fromArray(sp, x, s + l1, in1);
        v2 = FloatVector.fromArray(sp, x, s + 2 * l1, in2);
        v3 = FloatVector.fromArray(sp, x, s + 3 * l1, in3);
      }
      int c4 = col + 4 * l1;
      next0 = c4 >= 0 && c4 < limit ? x[s + 4 * l1] : 0f;
      next1 = c4 + 1 >= 0 && c4 + 1 < limit ? x[s + 4 * l1 + 1] : 0f;
    }
    FloatVector even01 = EVEN256.selectFrom(v0, v1);
    FloatVector odd01 = ODD256.selectFrom(v0, v1);
    FloatVector even23 = EVEN256.selectFrom(v2, v3);
    FloatVector odd23 = ODD256.selectFrom(v2, v3);
    FloatVector phase0 = EVEN256.selectFrom(even01, even23);
    FloatVector phase1 = EVEN256.selectFrom(odd01, odd23);
    phase0.intoArray(dst, d);
    phase1.intoArray(dst, d + dStride);
    ODD256.selectFrom(even01, even23).intoArray(dst, d + 2 * dStride);
    ODD256.selectFrom(odd01, odd23).intoArray(dst, d + 3 * dStride);
    NEXT256.selectFrom(phase0, FloatVector.broadcast(sp, next0)).intoArray(dst, d + 4 * dStride);
    NEXT256.selectFrom(phase1, FloatVector.broadcast(sp, next1)).intoArray(dst, d + 5 * dStride);
  }

  /**
   * The inverse of {@link #splitRow256} for an output row: out[d + 4·m + b] = src[s + b·sStride + m]
   * for b in [0, 4), m in [0, L), by two rounds of interleaving permutes; only the first
   * {@code valid} of the 4L elements are stored.
   */
  private static void joinRow256(float[] src, int s, int sStride, float[] dst, int d, int valid) {
    final VectorSpecies<Float> sp = S256;
    final int l1 = sp.length();
    FloatVector y0 = FloatVector.fromArray(sp, src, s);
    FloatVector y1 = FloatVector.fromArray(sp, src, s + sStride);
    FloatVector y2 = FloatVector.fromArray(sp, src, s + 2 * sStride);
    FloatVector y3 = FloatVector.fromArray(sp, src, s + 3 * sStride);
    FloatVector low02 = LOW256.selectFrom(y0, y2);
    FloatVector high02 = HIGH256.selectFrom(y0, y2);
    FloatVector low13 = LOW256.selectFrom(y1, y3);
    FloatVector high13 = HIGH256.selectFrom(y1, y3);
    FloatVector out0 = LOW256.selectFrom(low02, low13);
    FloatVector out1 = HIGH256.selectFrom(low02, low13);
    FloatVector out2 = LOW256.selectFrom(high02, high13);
    FloatVector out3 = HIGH256.selectFrom(high02, high13);
    if (valid >= 4 * l1) {
      out0.intoArray(dst, d);
      out1.intoArray(dst, d + l1);
      out2.intoArray(dst, d + 2 * l1);
      out3.intoArray(dst, d + 3 * l1);
    } else {
      out0.intoArray(dst, d, sp.indexInRange(0, valid));
      out1.intoArray(dst, d + l1, sp.indexInRange(l1, valid));
      out2.intoArray(dst, d + 2 * l1, sp.indexInRange(2 * l1, valid));
      out3.intoArray(dst, d + 3 * l1, sp.indexInRange(3 * l1, valid));
    }
  }

  /**
   * out_α = Σ_i Bᵀ[α][i]·in_i for six vectors in = src[s + i·sStep], written to dst[d + α·dStep]:
   * two roundings deep on every path (FMAs with the exact constants 2, 4 and 5).
   */
  private static void inputLine256(float[] src, int s, int sStep, float[] dst, int d, int dStep) {
    final VectorSpecies<Float> sp = S256;
    FloatVector d0 = FloatVector.fromArray(sp, src, s);
    FloatVector d1 = FloatVector.fromArray(sp, src, s + sStep);
    FloatVector d2 = FloatVector.fromArray(sp, src, s + 2 * sStep);
    FloatVector d3 = FloatVector.fromArray(sp, src, s + 3 * sStep);
    FloatVector d4 = FloatVector.fromArray(sp, src, s + 4 * sStep);
    FloatVector d5 = FloatVector.fromArray(sp, src, s + 5 * sStep);
    FloatVector two = FloatVector.broadcast(sp, 2f);
    FloatVector four = FloatVector.broadcast(sp, 4f);
    FloatVector minusFive = FloatVector.broadcast(sp, -5f);
    FloatVector d31 = d3.sub(d1);
    FloatVector d42 = d4.sub(d2);
    d0.fma(four, d2.fma(minusFive, d4)).intoArray(dst, d);
    d1.add(d2).fma(four.neg(), d3.add(d4)).intoArray(dst, d + dStep);
    d1.sub(d2).fma(four, d4.sub(d3)).intoArray(dst, d + 2 * dStep);
    d31.fma(two, d42).intoArray(dst, d + 3 * dStep);
    d31.fma(two.neg(), d42).intoArray(dst, d + 4 * dStep);
    d1.fma(four, d3.fma(minusFive, d5)).intoArray(dst, d + 5 * dStep);
  }

  /**
   * out_a = Σ_α Aᵀ[a][α]·in_α for six vectors in = src[s + α·sStep], written to dst[d + a·dStep]:
   * at most three roundings deep.
   */
  private static void outputLine256(float[] src, int s, int sStep, float[] dst, int d, int dStep) {
    final VectorSpecies<Float> sp = S256;
    FloatVector m0 = FloatVector.fromArray(sp, src, s);
    FloatVector m1 = FloatVector.fromArray(sp, src, s + sStep);
    FloatVector m2 = FloatVector.fromArray(sp, src, s + 2 * sStep);
    FloatVector m3 = FloatVector.fromArray(sp, src, s + 3 * sStep);
    FloatVector m4 = FloatVector.fromArray(sp, src, s + 4 * sStep);
    FloatVector m5 = FloatVector.fromArray(sp, src, s + 5 * sStep);
    FloatVector sum12 = m1.add(m2);
    FloatVector diff12 = m1.sub(m2);
    FloatVector sum34 = m3.add(m4);
    FloatVector diff34 = m3.sub(m4);
    m0.add(sum12).add(sum34).intoArray(dst, d);
    diff34.fma(FloatVector.broadcast(sp, 2f), diff12).intoArray(dst, d + dStep);
    sum34.fma(FloatVector.broadcast(sp, 4f), sum12).intoArray(dst, d + 2 * dStep);
    diff34.fma(FloatVector.broadcast(sp, 8f), diff12).add(m5).intoArray(dst, d + 3 * dStep);
  }

  /**
   * The micro-kernel of {@link F32GemmPacked}: acc(i, ·) = Σ_l a[aIdx + l·aStride + i]·b[bIdx + l·2L + ·]
   * over l in [0, kc), for i in [0, 6) and 2L columns, accumulated in registers with one FMA per
   * product. Row i is then stored contiguously at m[mIdx + i·rowStep …] when {@code laneRows} is
   * null, else (channels in lanes) only for i < rows, lane j scattered to m[mIdx + i·rowStep + laneRows[j]].
   */
  private static void multiply256(int kc, float[] a, int aIdx, int aStride, float[] b, int bIdx, float[] m,
      int mIdx, int rowStep, int rows, int[] laneRows) {
    final VectorSpecies<Float> sp = S256;
    final int l1 = sp.length();
    final int step = 2 * l1;
    FloatVector acc00 = FloatVector.zero(sp), acc01 = FloatVector.zero(sp);
    FloatVector acc10 = FloatVector.zero(sp), acc11 = FloatVector.zero(sp);
    FloatVector acc20 = FloatVector.zero(sp), acc21 = FloatVector.zero(sp);
    FloatVector acc30 = FloatVector.zero(sp), acc31 = FloatVector.zero(sp);
    FloatVector acc40 = FloatVector.zero(sp), acc41 = FloatVector.zero(sp);
    FloatVector acc50 = FloatVector.zero(sp), acc51 = FloatVector.zero(sp);
    for (int l = 0, ai = aIdx, bi = bIdx; l < kc; l++, ai += aStride, bi += step) {
      FloatVector b0 = FloatVector.fromArray(sp, b, bi);
      FloatVector b1 = FloatVector.fromArray(sp, b, bi + l1);
      FloatVector av = FloatVector.broadcast(sp, a[ai]);
      acc00 = av.fma(b0, acc00);
      acc01 = av.fma(b1, acc01);
      av = FloatVector.broadcast(sp, a[ai + 1]);
      acc10 = av.fma(b0, acc10);
      acc11 = av.fma(b1, acc11);
      av = FloatVector.broadcast(sp, a[ai + 2]);
      acc20 = av.fma(b0, acc20);
      acc21 = av.fma(b1, acc21);
      av = FloatVector.broadcast(sp, a[ai + 3]);
      acc30 = av.fma(b0, acc30);
      acc31 = av.fma(b1, acc31);
      av = FloatVector.broadcast(sp, a[ai + 4]);
      acc40 = av.fma(b0, acc40);
      acc41 = av.fma(b1, acc41);
      av = FloatVector.broadcast(sp, a[ai + 5]);
      acc50 = av.fma(b0, acc50);
      acc51 = av.fma(b1, acc51);
    }
    if (laneRows == null) {
      acc00.intoArray(m, mIdx);
      acc01.intoArray(m, mIdx + l1);
      acc10.intoArray(m, mIdx + rowStep);
      acc11.intoArray(m, mIdx + rowStep + l1);
      acc20.intoArray(m, mIdx + 2 * rowStep);
      acc21.intoArray(m, mIdx + 2 * rowStep + l1);
      acc30.intoArray(m, mIdx + 3 * rowStep);
      acc31.intoArray(m, mIdx + 3 * rowStep + l1);
      acc40.intoArray(m, mIdx + 4 * rowStep);
      acc41.intoArray(m, mIdx + 4 * rowStep + l1);
      acc50.intoArray(m, mIdx + 5 * rowStep);
      acc51.intoArray(m, mIdx + 5 * rowStep + l1);
      return;
    }
    acc00.intoArray(m, mIdx, laneRows, 0);
    acc01.intoArray(m, mIdx, laneRows, l1);
    if (rows > 1) {
      acc10.intoArray(m, mIdx + rowStep, laneRows, 0);
      acc11.intoArray(m, mIdx + rowStep, laneRows, l1);
    }
    if (rows > 2) {
      acc20.intoArray(m, mIdx + 2 * rowStep, laneRows, 0);
      acc21.intoArray(m, mIdx + 2 * rowStep, laneRows, l1);
    }
    if (rows > 3) {
      acc30.intoArray(m, mIdx + 3 * rowStep, laneRows, 0);
      acc31.intoArray(m, mIdx + 3 * rowStep, laneRows, l1);
    }
    if (rows > 4) {
      acc40.intoArray(m, mIdx + 4 * rowStep, laneRows, 0);
      acc41.intoArray(m, mIdx + 4 * rowStep, laneRows, l1);
    }
    if (rows > 5) {
      acc50.intoArray(m, mIdx + 5 * rowStep, laneRows, 0);
      acc51.intoArray(m, mIdx + 5 * rowStep, laneRows, l1);
    }
  }

  // ---------------------------------------------------------------- 128-bit copies

  private static final FloatVector IOTA128 = indexes(S128, 0, 1);
  private static final FloatVector EVEN128 = indexes(S128, 0, 2);
  private static final FloatVector ODD128 = indexes(S128, 1, 2);
  private static final FloatVector NEXT128 = indexes(S128, 1, 1);
  private static final FloatVector LOW128 = interleaved(S128, 0);
  private static final FloatVector HIGH128 = interleaved(S128, S128.length() / 2);

  /**
   * Phase rows of L tiles from one input row: phase j, lane m = x[rowBase + col + 4·m + j] for
   * j in [0, 6), with the elements whose column (col + 4·m + j) is outside [0, limit) read as 0;
   * written at dst[d + j·dStride + m]. Elements 0…4L−1 come from four loads, deinterleaved by
   * two rounds of two-vector permutes (even/odd, then even/odd again); phases 4 and 5 are
   * phases 0 and 1 moved down one lane, with elements 4L and 4L+1 entering at the top.
   */
  private static void splitRow128(float[] x, int rowBase, int col, int limit, float[] dst, int d, int dStride) {
    final VectorSpecies<Float> sp = S128;
    final int l1 = sp.length();
    int s = rowBase + col;
    FloatVector v0, v1, v2, v3;
    float next0, next1;
    if (col >= 0 && col + 4 * l1 + 2 <= limit) {
      v0 = FloatVector.fromArray(sp, x, s);
      v1 = FloatVector.fromArray(sp, x, s + l1);
      v2 = FloatVector.fromArray(sp, x, s + 2 * l1);
      v3 = FloatVector.fromArray(sp, x, s + 3 * l1);
      next0 = x[s + 4 * l1];
      next1 = x[s + 4 * l1 + 1];
    } else {
      // Padding columns: load, then blend them to 0. Masked loads near the ends of x only, where
      // a full load would leave the array (they are much slower when partially out of range).
      FloatVector cols = IOTA128.add((float) col);
      VectorMask<Float> in0 = cols.compare(VectorOperators.GE, 0f).and(cols.compare(VectorOperators.LT, limit));
      cols = cols.add((float) l1);
      VectorMask<Float> in1 = cols.compare(VectorOperators.GE, 0f).and(cols.compare(VectorOperators.LT, limit));
      cols = cols.add((float) l1);
      VectorMask<Float> in2 = cols.compare(VectorOperators.GE, 0f).and(cols.compare(VectorOperators.LT, limit));
      cols = cols.add((float) l1);
      VectorMask<Float> in3 = cols.compare(VectorOperators.GE, 0f).and(cols.compare(VectorOperators.LT, limit));
      if (s >= 0 && s + 4 * l1 <= x.length) {
        FloatVector zero = FloatVector.zero(sp);
        v0 = zero.blend(FloatVector.fromArray(sp, x, s), in0);
        v1 = zero.blend(FloatVector.fromArray(sp, x, s + l1), in1);
        v2 = zero.blend(FloatVector.fromArray(sp, x, s + 2 * l1), in2);
        v3 = zero.blend(FloatVector.fromArray(sp, x, s + 3 * l1), in3);
      } else {
        v0 = FloatVector.fromArray(sp, x, s, in0);
        v1 = FloatVector.fromArray(sp, x, s + l1, in1);
        v2 = FloatVector.fromArray(sp, x, s + 2 * l1, in2);
        v3 = FloatVector.fromArray(sp, x, s + 3 * l1, in3);
      }
      int c4 = col + 4 * l1;
      next0 = c4 >= 0 && c4 < limit ? x[s + 4 * l1] : 0f;
      next1 = c4 + 1 >= 0 && c4 + 1 < limit ? x[s + 4 * l1 + 1] : 0f;
    }
    FloatVector even01 = EVEN128.selectFrom(v0, v1);
    FloatVector odd01 = ODD128.selectFrom(v0, v1);
    FloatVector even23 = EVEN128.selectFrom(v2, v3);
    FloatVector odd23 = ODD128.selectFrom(v2, v3);
    FloatVector phase0 = EVEN128.selectFrom(even01, even23);
    FloatVector phase1 = EVEN128.selectFrom(odd01, odd23);
    phase0.intoArray(dst, d);
    phase1.intoArray(dst, d + dStride);
    ODD128.selectFrom(even01, even23).intoArray(dst, d + 2 * dStride);
    ODD128.selectFrom(odd01, odd23).intoArray(dst, d + 3 * dStride);
    NEXT128.selectFrom(phase0, FloatVector.broadcast(sp, next0)).intoArray(dst, d + 4 * dStride);
    NEXT128.selectFrom(phase1, FloatVector.broadcast(sp, next1)).intoArray(dst, d + 5 * dStride);
  }

  /**
   * The inverse of {@link #splitRow128} for an output row: out[d + 4·m + b] = src[s + b·sStride + m]
   * for b in [0, 4), m in [0, L), by two rounds of interleaving permutes; only the first
   * {@code valid} of the 4L elements are stored.
   */
  private static void joinRow128(float[] src, int s, int sStride, float[] dst, int d, int valid) {
    final VectorSpecies<Float> sp = S128;
    final int l1 = sp.length();
    FloatVector y0 = FloatVector.fromArray(sp, src, s);
    FloatVector y1 = FloatVector.fromArray(sp, src, s + sStride);
    FloatVector y2 = FloatVector.fromArray(sp, src, s + 2 * sStride);
    FloatVector y3 = FloatVector.fromArray(sp, src, s + 3 * sStride);
    FloatVector low02 = LOW128.selectFrom(y0, y2);
    FloatVector high02 = HIGH128.selectFrom(y0, y2);
    FloatVector low13 = LOW128.selectFrom(y1, y3);
    FloatVector high13 = HIGH128.selectFrom(y1, y3);
    FloatVector out0 = LOW128.selectFrom(low02, low13);
    FloatVector out1 = HIGH128.selectFrom(low02, low13);
    FloatVector out2 = LOW128.selectFrom(high02, high13);
    FloatVector out3 = HIGH128.selectFrom(high02, high13);
    if (valid >= 4 * l1) {
      out0.intoArray(dst, d);
      out1.intoArray(dst, d + l1);
      out2.intoArray(dst, d + 2 * l1);
      out3.intoArray(dst, d + 3 * l1);
    } else {
      out0.intoArray(dst, d, sp.indexInRange(0, valid));
      out1.intoArray(dst, d + l1, sp.indexInRange(l1, valid));
      out2.intoArray(dst, d + 2 * l1, sp.indexInRange(2 * l1, valid));
      out3.intoArray(dst, d + 3 * l1, sp.indexInRange(3 * l1, valid));
    }
  }

  /**
   * out_α = Σ_i Bᵀ[α][i]·in_i for six vectors in = src[s + i·sStep], written to dst[d + α·dStep]:
   * two roundings deep on every path (FMAs with the exact constants 2, 4 and 5).
   */
  private static void inputLine128(float[] src, int s, int sStep, float[] dst, int d, int dStep) {
    final VectorSpecies<Float> sp = S128;
    FloatVector d0 = FloatVector.fromArray(sp, src, s);
    FloatVector d1 = FloatVector.fromArray(sp, src, s + sStep);
    FloatVector d2 = FloatVector.fromArray(sp, src, s + 2 * sStep);
    FloatVector d3 = FloatVector.fromArray(sp, src, s + 3 * sStep);
    FloatVector d4 = FloatVector.fromArray(sp, src, s + 4 * sStep);
    FloatVector d5 = FloatVector.fromArray(sp, src, s + 5 * sStep);
    FloatVector two = FloatVector.broadcast(sp, 2f);
    FloatVector four = FloatVector.broadcast(sp, 4f);
    FloatVector minusFive = FloatVector.broadcast(sp, -5f);
    FloatVector d31 = d3.sub(d1);
    FloatVector d42 = d4.sub(d2);
    d0.fma(four, d2.fma(minusFive, d4)).intoArray(dst, d);
    d1.add(d2).fma(four.neg(), d3.add(d4)).intoArray(dst, d + dStep);
    d1.sub(d2).fma(four, d4.sub(d3)).intoArray(dst, d + 2 * dStep);
    d31.fma(two, d42).intoArray(dst, d + 3 * dStep);
    d31.fma(two.neg(), d42).intoArray(dst, d + 4 * dStep);
    d1.fma(four, d3.fma(minusFive, d5)).intoArray(dst, d + 5 * dStep);
  }

  /**
   * out_a = Σ_α Aᵀ[a][α]·in_α for six vectors in = src[s + α·sStep], written to dst[d + a·dStep]:
   * at most three roundings deep.
   */
  private static void outputLine128(float[] src, int s, int sStep, float[] dst, int d, int dStep) {
    final VectorSpecies<Float> sp = S128;
    FloatVector m0 = FloatVector.fromArray(sp, src, s);
    FloatVector m1 = FloatVector.fromArray(sp, src, s + sStep);
    FloatVector m2 = FloatVector.fromArray(sp, src, s + 2 * sStep);
    FloatVector m3 = FloatVector.fromArray(sp, src, s + 3 * sStep);
    FloatVector m4 = FloatVector.fromArray(sp, src, s + 4 * sStep);
    FloatVector m5 = FloatVector.fromArray(sp, src, s + 5 * sStep);
    FloatVector sum12 = m1.add(m2);
    FloatVector diff12 = m1.sub(m2);
    FloatVector sum34 = m3.add(m4);
    FloatVector diff34 = m3.sub(m4);
    m0.add(sum12).add(sum34).intoArray(dst, d);
    diff34.fma(FloatVector.broadcast(sp, 2f), diff12).intoArray(dst, d + dStep);
    sum34.fma(FloatVector.broadcast(sp, 4f), sum12).intoArray(dst, d + 2 * dStep);
    diff34.fma(FloatVector.broadcast(sp, 8f), diff12).add(m5).intoArray(dst, d + 3 * dStep);
  }

  /**
   * The micro-kernel of {@link F32GemmPacked}: acc(i, ·) = Σ_l a[aIdx + l·aStride + i]·b[bIdx + l·2L + ·]
   * over l in [0, kc), for i in [0, 6) and 2L columns, accumulated in registers with one FMA per
   * product. Row i is then stored contiguously at m[mIdx + i·rowStep …] when {@code laneRows} is
   * null, else (channels in lanes) only for i < rows, lane j scattered to m[mIdx + i·rowStep + laneRows[j]].
   */
  private static void multiply128(int kc, float[] a, int aIdx, int aStride, float[] b, int bIdx, float[] m,
      int mIdx, int rowStep, int rows, int[] laneRows) {
    final VectorSpecies<Float> sp = S128;
    final int l1 = sp.length();
    final int step = 2 * l1;
    FloatVector acc00 = FloatVector.zero(sp), acc01 = FloatVector.zero(sp);
    FloatVector acc10 = FloatVector.zero(sp), acc11 = FloatVector.zero(sp);
    FloatVector acc20 = FloatVector.zero(sp), acc21 = FloatVector.zero(sp);
    FloatVector acc30 = FloatVector.zero(sp), acc31 = FloatVector.zero(sp);
    FloatVector acc40 = FloatVector.zero(sp), acc41 = FloatVector.zero(sp);
    FloatVector acc50 = FloatVector.zero(sp), acc51 = FloatVector.zero(sp);
    for (int l = 0, ai = aIdx, bi = bIdx; l < kc; l++, ai += aStride, bi += step) {
      FloatVector b0 = FloatVector.fromArray(sp, b, bi);
      FloatVector b1 = FloatVector.fromArray(sp, b, bi + l1);
      FloatVector av = FloatVector.broadcast(sp, a[ai]);
      acc00 = av.fma(b0, acc00);
      acc01 = av.fma(b1, acc01);
      av = FloatVector.broadcast(sp, a[ai + 1]);
      acc10 = av.fma(b0, acc10);
      acc11 = av.fma(b1, acc11);
      av = FloatVector.broadcast(sp, a[ai + 2]);
      acc20 = av.fma(b0, acc20);
      acc21 = av.fma(b1, acc21);
      av = FloatVector.broadcast(sp, a[ai + 3]);
      acc30 = av.fma(b0, acc30);
      acc31 = av.fma(b1, acc31);
      av = FloatVector.broadcast(sp, a[ai + 4]);
      acc40 = av.fma(b0, acc40);
      acc41 = av.fma(b1, acc41);
      av = FloatVector.broadcast(sp, a[ai + 5]);
      acc50 = av.fma(b0, acc50);
      acc51 = av.fma(b1, acc51);
    }
    if (laneRows == null) {
      acc00.intoArray(m, mIdx);
      acc01.intoArray(m, mIdx + l1);
      acc10.intoArray(m, mIdx + rowStep);
      acc11.intoArray(m, mIdx + rowStep + l1);
      acc20.intoArray(m, mIdx + 2 * rowStep);
      acc21.intoArray(m, mIdx + 2 * rowStep + l1);
      acc30.intoArray(m, mIdx + 3 * rowStep);
      acc31.intoArray(m, mIdx + 3 * rowStep + l1);
      acc40.intoArray(m, mIdx + 4 * rowStep);
      acc41.intoArray(m, mIdx + 4 * rowStep + l1);
      acc50.intoArray(m, mIdx + 5 * rowStep);
      acc51.intoArray(m, mIdx + 5 * rowStep + l1);
      return;
    }
    acc00.intoArray(m, mIdx, laneRows, 0);
    acc01.intoArray(m, mIdx, laneRows, l1);
    if (rows > 1) {
      acc10.intoArray(m, mIdx + rowStep, laneRows, 0);
      acc11.intoArray(m, mIdx + rowStep, laneRows, l1);
    }
    if (rows > 2) {
      acc20.intoArray(m, mIdx + 2 * rowStep, laneRows, 0);
      acc21.intoArray(m, mIdx + 2 * rowStep, laneRows, l1);
    }
    if (rows > 3) {
      acc30.intoArray(m, mIdx + 3 * rowStep, laneRows, 0);
      acc31.intoArray(m, mIdx + 3 * rowStep, laneRows, l1);
    }
    if (rows > 4) {
      acc40.intoArray(m, mIdx + 4 * rowStep, laneRows, 0);
      acc41.intoArray(m, mIdx + 4 * rowStep, laneRows, l1);
    }
    if (rows > 5) {
      acc50.intoArray(m, mIdx + 5 * rowStep, laneRows, 0);
      acc51.intoArray(m, mIdx + 5 * rowStep, laneRows, l1);
    }
  }

  // ---------------------------------------------------------------- permutation tables

  /** Lane i holds start + i·step, as a float: an index vector for {@code selectFrom}. */
  private static FloatVector indexes(VectorSpecies<Float> sp, int start, int step) {
    float[] a = new float[sp.length()];
    for (int i = 0; i < a.length; i++) {
      a[i] = start + i * step;
    }
    return FloatVector.fromArray(sp, a, 0);
  }

  /**
   * Indexes that interleave two vectors from lane {@code start}: lanes 2i and 2i + 1 pick lane
   * start + i of the first and of the second ({@code selectFrom} numbers the second L … 2L − 1).
   */
  private static FloatVector interleaved(VectorSpecies<Float> sp, int start) {
    float[] a = new float[sp.length()];
    for (int i = 0; i < a.length; i++) {
      a[i] = start + i / 2 + (i % 2) * sp.length();
    }
    return FloatVector.fromArray(sp, a, 0);
  }

  private static int roundUp(int x, int multiple) {
    return (x + multiple - 1) / multiple * multiple;
  }
}
