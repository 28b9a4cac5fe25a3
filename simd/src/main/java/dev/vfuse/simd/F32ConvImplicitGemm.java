package dev.vfuse.simd;

import dev.vfuse.kernel.Activation;
import dev.vfuse.kernel.ConvGeometry;
import dev.vfuse.kernel.Int8Weights;
import dev.vfuse.kernel.Parallel;
import dev.vfuse.kernel.PositionOffsets;
import dev.vfuse.kernel.PreparedConv;
import java.util.Arrays;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * f32 convolution as an implicit GEMM over a padded, phase-split copy of the input: the
 * micro-kernel reads its B operand straight from that copy, so no im2col matrix is built or packed.
 *
 * <p>Let xp be x with its padding written out (Hp = H + padTop + padBottom rows,
 * Wp = W + padLeft + padRight columns) and split into sH·sW phases per channel: phase
 * (a, b) holds padded rows a, a + sH, … and columns b, b + sW, … (Hq = ⌈Hp/sH⌉ rows of
 * Wq = ⌈Wp/sW⌉ columns). Index output positions as j = p·Wq + q. Tap (c, r, s) of output (p, q)
 * reads padded row p·sH + r·dH and column q·sW + s·dW, which is
 *
 * <pre>
 *   xp[c·sH·sW·Hq·Wq + phase(r·dH mod sH, s·dW mod sW)·Hq·Wq + j + ⌊r·dH/sH⌋·Wq + ⌊s·dW/sW⌋]
 * </pre>
 *
 * a fixed offset from j ({@code tapOffset[l]}, l = (c·R + r)·S + s): for a run of NR consecutive j
 * the B panel of row l is two or three plain vector loads. At stride 1 there is one phase, the
 * padded channel. Columns q ∈ [Q, Wq) are computed and dropped (their taps wrap into the next
 * row): (Wq − Q)/Wq extra work, 3% for a 3×3 at 56 wide, 22% at 7 wide, against im2col's copy of
 * every tap. Phases no tap reads (1×1 at stride 2 reads one of four) are not written.
 *
 * <p>Weights are packed once into panels of {@link #MR} output channels over the whole reduction
 * (MR floats per l), held in {@link WeightChunks} of whole panels. A run first writes xp into the scratch (zeros included, as the scratch holds
 * garbage), then runs tasks of (image, group, a range of NR-wide position panels, a block of
 * channel panels). For each position panel, each channel panel accumulates the full reduction in
 * registers (8 channels × 2 or 3 vectors, see {@link #vectorsPerRow}; float FMA), spills the tile,
 * and stores the columns that are real outputs with the epilogue (bias, offsets, residual,
 * activation) applied on the way by {@link F32Epilogue}.
 *
 * <p>Precision: one float FMA chain per output over the reduction L, then the bias add: within
 * (L + 2)·2⁻²³·Σ|terms| of the reference. The order of operations for an output does not depend
 * on the task split, so any thread count gives the same bits.
 *
 * <p>Int8 weights ({@link #prepareInt8}): the same panels hold the bytes q (a quarter of the
 * memory, and of the weight traffic per position panel) and the panel's MR channel scales beside
 * them. Per l, the int8 loop loads the MR bytes as one vector, widens them to floats (exact), and
 * broadcasts each row's weight from it with a lane shuffle; the FMA chain is Σ q·x, and the spill
 * multiplies each tile row by its channel's scale: y = scale·Σ q·x + bias, then the epilogue. That
 * is one rounding more than the reference's reduction over the dequantized weights fl(q·scale);
 * the weights are never held as floats. Measured at 512 bits, 1 thread, Zen 5 (a shared machine,
 * so ranges): on resnet18's 3×3 64→64 56×56 (3-vector tile), broadcasting {@code (float) q[ai + i]}
 * row by row (a scalar sign-extend, convert and broadcast each) took 1.3–1.55 ms against the float
 * kernel's 1.05 ms, storing the widened vector and broadcasting from memory 1.25 ms, the lane
 * shuffles 1.0–1.2 ms; 3×3 256→256 14×14 1.1 ms for both; 3×3 512→512 7×7 (2-vector tile: 8
 * shuffles against 16 FMAs instead of 24) 1.5 ms against 1.26.
 */
final class F32ConvImplicitGemm implements PreparedConv {

  private static final VectorSpecies<Float> S128 = FloatVector.SPECIES_128;
  private static final VectorSpecies<Float> S256 = FloatVector.SPECIES_256;
  private static final VectorSpecies<Float> S512 = FloatVector.SPECIES_512;
  private static final VectorSpecies<Byte> B64 = ByteVector.SPECIES_64;
  /**
   * LANE{W}_i broadcasts lane i: the int8 kernels widen a panel's MR bytes of one l to floats in one
   * vector (two of four lanes at 128 bits) and broadcast each channel's weight from it.
   */
  private static final VectorShuffle<Float> LANE512_0 = VectorShuffle.fromOp(S512, j -> 0);
  private static final VectorShuffle<Float> LANE512_1 = VectorShuffle.fromOp(S512, j -> 1);
  private static final VectorShuffle<Float> LANE512_2 = VectorShuffle.fromOp(S512, j -> 2);
  private static final VectorShuffle<Float> LANE512_3 = VectorShuffle.fromOp(S512, j -> 3);
  private static final VectorShuffle<Float> LANE512_4 = VectorShuffle.fromOp(S512, j -> 4);
  private static final VectorShuffle<Float> LANE512_5 = VectorShuffle.fromOp(S512, j -> 5);
  private static final VectorShuffle<Float> LANE512_6 = VectorShuffle.fromOp(S512, j -> 6);
  private static final VectorShuffle<Float> LANE512_7 = VectorShuffle.fromOp(S512, j -> 7);
  private static final VectorShuffle<Float> LANE256_0 = VectorShuffle.fromOp(S256, j -> 0);
  private static final VectorShuffle<Float> LANE256_1 = VectorShuffle.fromOp(S256, j -> 1);
  private static final VectorShuffle<Float> LANE256_2 = VectorShuffle.fromOp(S256, j -> 2);
  private static final VectorShuffle<Float> LANE256_3 = VectorShuffle.fromOp(S256, j -> 3);
  private static final VectorShuffle<Float> LANE256_4 = VectorShuffle.fromOp(S256, j -> 4);
  private static final VectorShuffle<Float> LANE256_5 = VectorShuffle.fromOp(S256, j -> 5);
  private static final VectorShuffle<Float> LANE256_6 = VectorShuffle.fromOp(S256, j -> 6);
  private static final VectorShuffle<Float> LANE256_7 = VectorShuffle.fromOp(S256, j -> 7);
  private static final VectorShuffle<Float> LANE128_0 = VectorShuffle.fromOp(S128, j -> 0);
  private static final VectorShuffle<Float> LANE128_1 = VectorShuffle.fromOp(S128, j -> 1);
  private static final VectorShuffle<Float> LANE128_2 = VectorShuffle.fromOp(S128, j -> 2);
  private static final VectorShuffle<Float> LANE128_3 = VectorShuffle.fromOp(S128, j -> 3);
  /**
   * Output channels per register tile: 8 rows × 2 vectors = 16 accumulators (of 32 vector
   * registers with AVX-512), 10 loads per 16 FMAs; 8 divides the channel counts of most CNN layers,
   * where 6 wasted up to 12% on padded rows.
   */
  static final int MR = 8;

  /**
   * The 3-vector tile (24 accumulators, 11 loads per 24 FMAs) measured about 8% faster than the
   * 2-vector one (16 accumulators) when positions are plentiful; the wider panel wastes more of
   * the last panel of a small image. This factor weighs the two.
   */
  private static final double WIDE_TILE_SPEEDUP = 1.08;

  /** 2 or 3 vectors a tile row: whichever computes the P·Wq positions in less estimated time. */
  static int vectorsPerRow(ConvGeometry g, int lanes) {
    int positions = g.p() * Math.ceilDiv(g.w() + g.padLeft() + g.padRight(), g.strideW());
    double narrow = Math.ceilDiv(positions, 2 * lanes) * 2.0 * lanes;
    double wide = Math.ceilDiv(positions, 3 * lanes) * 3.0 * lanes / WIDE_TILE_SPEEDUP;
    return wide < narrow ? 3 : 2;
  }

  /**
   * Floats of padded copy from which the copy is split over the threads: below it, one thread
   * copies faster than a second one can be handed work.
   */
  private static final long PARALLEL_COPY = 1 << 18;

  /** Bytes after the int8 panels: at 128 bits the second 8-byte load of an l reads 4 past it. */
  private static final int INT8_SLACK = 8;

  /** Position panels per task: 8 panels are 256 positions at 512 bits. */
  static final int PANELS_PER_TASK = 8;

  private final ConvGeometry g;
  private final VectorSpecies<Float> species;
  private final int vectors;
  private final int nr;
  private final float[] bias;
  private final PositionOffsets offsets;
  private final Activation activation;
  private final int kg;
  private final int reduction;
  private final int channelPanels;
  /** The packed panels, float or int8 (the other null), and for int8 the channel scales, MR a panel. */
  /** The panels, {@link WeightChunks} of {@link #perChunk} panels: float, or int8 with their scales. */
  private final float[][] packedWeight;
  private final byte[][] packedInt8;
  private final float[] packedScale;
  private final int perChunk;
  private final int[] tapOffset;
  /** Rows and columns of one phase plane, its size, and the floats of one channel's sH·sW phases. */
  private final int hq;
  private final int wq;
  private final int phasePlane;
  private final int channelStride;
  /** Which phases (a·sW + b) some tap reads; the others are never written. */
  private final boolean[] phaseUsed;
  /** Position panels per image: P·Wq positions, in panels of NR. */
  private final int positionPanels;
  private final int chunks;
  /** Floats of the padded input copy (all images) and of each worker's spill tile. */
  private final int paddedInput;
  private final int scratchPerWorker;

  private F32ConvImplicitGemm(VectorSpecies<Float> species, ConvGeometry g, float[] weight, Int8Weights int8,
      float[] bias, PositionOffsets offsets, Activation activation) {
    this.g = g;
    this.species = species;
    this.vectors = vectorsPerRow(g, species.length());
    this.nr = vectors * species.length();
    this.bias = bias;
    this.offsets = offsets;
    this.activation = activation;
    this.kg = g.outputChannelsPerGroup();
    this.reduction = g.reductionLength();
    this.channelPanels = Math.ceilDiv(kg, MR);
    int sH = g.strideH(), sW = g.strideW();
    this.hq = Math.ceilDiv(g.h() + g.padTop() + g.padBottom(), sH);
    this.wq = Math.ceilDiv(g.w() + g.padLeft() + g.padRight(), sW);
    this.phasePlane = hq * wq;
    this.channelStride = Math.multiplyExact(sH * sW, phasePlane);
    this.phaseUsed = new boolean[sH * sW];
    this.tapOffset = new int[reduction];
    int farthestTap = 0;
    for (int c = 0, l = 0; c < g.inputChannelsPerGroup(); c++) {
      for (int r = 0; r < g.r(); r++) {
        for (int s = 0; s < g.s(); s++, l++) {
          int h = r * g.dilationH();
          int w = s * g.dilationW();
          int phase = (h % sH) * sW + w % sW;
          phaseUsed[phase] = true;
          tapOffset[l] = c * channelStride + phase * phasePlane + (h / sH) * wq + w / sW;
          farthestTap = Math.max(farthestTap, tapOffset[l]);
        }
      }
    }
    this.positionPanels = Math.ceilDiv(g.p() * wq, nr);
    this.chunks = Math.ceilDiv(positionPanels, PANELS_PER_TASK);
    // The last group of the last image starts at (N·C − Cg)·channelStride and its loads reach
    // farthestTap + positionPanels·NR past that; zeroed slack after the copy covers what lies beyond.
    long copy = (long) g.n() * g.c() * channelStride;
    long reach = (long) (g.n() * g.c() - g.inputChannelsPerGroup()) * channelStride + farthestTap
        + (long) positionPanels * nr;
    this.paddedInput = Math.toIntExact(Math.max(copy, reach));
    this.scratchPerWorker = Math.addExact(paddedInput, MR * nr);
    int panels = g.groups() * channelPanels;
    int panelLength = Math.multiplyExact(MR, reduction);
    this.perChunk = WeightChunks.perChunk(panelLength, int8 == null ? Float.BYTES : 1);
    if (int8 == null) {
      this.packedWeight = WeightChunks.floats(panels, perChunk, panelLength);
      this.packedInt8 = null;
      this.packedScale = null;
    } else {
      this.packedWeight = null;
      this.packedInt8 = WeightChunks.bytes(panels, perChunk, panelLength, INT8_SLACK);
      this.packedScale = new float[panels * MR];
    }
    packWeights(weight, int8);
  }

  /** Any stride, kernel, dilation, padding and groups. */
  static PreparedConv prepare(VectorSpecies<Float> species, ConvGeometry g, float[] weight, float[] bias,
      PositionOffsets offsets, Activation activation) {
    return new F32ConvImplicitGemm(species, g, weight, null, bias, offsets, activation);
  }

  /** {@link #prepare} with int8 weights in the layout of {@link Int8Weights#conv}, kept as int8. */
  static PreparedConv prepareInt8(VectorSpecies<Float> species, ConvGeometry g, Int8Weights weight, float[] bias,
      PositionOffsets offsets, Activation activation) {
    return new F32ConvImplicitGemm(species, g, null, weight, bias, offsets, activation);
  }

  /**
   * W[g·Kg + panel·MR + i, l] at l·MR + i of panel π = g·panels + panel (in chunk π / perChunk, at
   * {@link #panelOffset}), from the float weights or from the int8 ones (then the channel's scale
   * at π·MR + i); rows past Kg stay zero.
   */
  private void packWeights(float[] weight, Int8Weights int8) {
    for (int group = 0; group < g.groups(); group++) {
      for (int panel = 0; panel < channelPanels; panel++) {
        int pi = group * channelPanels + panel;
        int row0 = pi * MR;
        int base = panelOffset(pi);
        for (int i = 0; i < MR && panel * MR + i < kg; i++) {
          int channel = group * kg + panel * MR + i;
          int src = channel * reduction;
          if (int8 == null) {
            float[] chunk = packedWeight[pi / perChunk];
            for (int l = 0; l < reduction; l++) {
              chunk[base + l * MR + i] = weight[src + l];
            }
          } else {
            byte[] chunk = packedInt8[pi / perChunk];
            packedScale[row0 + i] = int8.scales()[channel];
            for (int l = 0; l < reduction; l++) {
              chunk[base + l * MR + i] = int8.values()[src + l];
            }
          }
        }
      }
    }
  }

  /** Where panel {@code pi} starts in its chunk. */
  private int panelOffset(int pi) {
    return pi % perChunk * MR * reduction;
  }

  /**
   * The padded copy is shared by all workers and lives at the start of the scratch, the spill
   * tiles after it; the per-worker figure is what makes the total fit for any thread count.
   */
  @Override
  public int scratchPerWorker() {
    return scratchPerWorker;
  }

  @Override
  public void run(float[] x, float[] residual, float[] y, float[] scratch, Parallel parallel) {
    int images = g.n() * g.c();
    int channelBlocks = channelBlocks(parallel.threads());
    int tasks = g.n() * g.groups() * chunks * channelBlocks;
    if (parallel.threads() == 1) {
      for (int c = 0; c < images; c++) {
        padChannel(x, c, scratch);
      }
      Arrays.fill(scratch, images * channelStride, paddedInput, 0f);
      for (int t = 0; t < tasks; t++) {
        task(t, channelBlocks, residual, y, scratch, paddedInput);
      }
    } else {
      if ((long) images * channelStride >= PARALLEL_COPY) {
        parallel.forEach(images, (c, worker) -> padChannel(x, c, scratch));
      } else {
        for (int c = 0; c < images; c++) {
          padChannel(x, c, scratch);
        }
      }
      Arrays.fill(scratch, images * channelStride, paddedInput, 0f);
      parallel.forEach(tasks, (t, worker) -> task(t, channelBlocks, residual, y, scratch,
          paddedInput + worker * MR * nr));
    }
  }

  /** Channel blocks per (image, group, chunk): 1 unless the chunks alone leave threads idle. */
  private int channelBlocks(int threads) {
    int tasks = g.n() * g.groups() * chunks;
    if (threads == 1 || tasks >= 4 * threads) {
      return 1;
    }
    return Math.min(channelPanels, Math.ceilDiv(4 * threads, tasks));
  }

  /**
   * Writes the used phases of channel {@code nc} (image·C + channel) of xp: phase (a, b) holds
   * padded rows a, a + sH, … and columns b, b + sW, … of the channel, zero where that is padding.
   * At stride 1 the one phase is the padded channel itself, written row by row.
   */
  private void padChannel(float[] x, int nc, float[] xp) {
    int H = g.h(), W = g.w(), sH = g.strideH(), sW = g.strideW();
    int src = nc * H * W;
    for (int a = 0; a < sH; a++) {
      for (int b = 0; b < sW; b++) {
        if (!phaseUsed[a * sW + b]) {
          continue;
        }
        int dst = nc * channelStride + (a * sW + b) * phasePlane;
        // Phase columns k whose input column k·sW + b − padLeft lies in [0, W): [k0, k1).
        int k0 = Math.min(wq, Math.ceilDiv(g.padLeft() - b, sW));
        int k1 = Math.max(k0, Math.min(wq, Math.ceilDiv(W + g.padLeft() - b, sW)));
        int w0 = k0 * sW + b - g.padLeft();
        for (int i = 0, row = dst; i < hq; i++, row += wq) {
          int h = i * sH + a - g.padTop();
          if (h < 0 || h >= H) {
            Arrays.fill(xp, row, row + wq, 0f);
            continue;
          }
          Arrays.fill(xp, row, row + k0, 0f);
          int from = src + h * W + w0;
          if (sW == 1) {
            System.arraycopy(x, from, xp, row + k0, k1 - k0);
          } else {
            for (int k = k0, f = from; k < k1; k++, f += sW) {
              xp[row + k] = x[f];
            }
          }
          Arrays.fill(xp, row + k1, row + wq, 0f);
        }
      }
    }
  }

  private void task(int t, int channelBlocks, float[] residual, float[] y, float[] scratch, int spill) {
    int cb = t % channelBlocks;
    t /= channelBlocks;
    int chunk = t % chunks;
    t /= chunks;
    int group = t % g.groups();
    int n = t / g.groups();
    int perBlock = Math.ceilDiv(channelPanels, channelBlocks);
    int panel0 = cb * perBlock;
    int panel1 = Math.min(channelPanels, panel0 + perBlock);
    int xBase = (n * g.c() + group * g.inputChannelsPerGroup()) * channelStride;
    int positions = g.p() * g.q();
    int yBase = (n * g.k() + group * kg) * positions;
    int pp1 = Math.min(positionPanels, (chunk + 1) * PANELS_PER_TASK);
    int pi0 = group * channelPanels + panel0;
    int weightChunk0 = pi0 / perChunk;
    int offset0 = panelOffset(pi0);
    int panelLength = MR * reduction;
    for (int pp = chunk * PANELS_PER_TASK; pp < pp1; pp++) {
      int j0 = pp * nr;
      // Panel pi0 + (panel − panel0) is at (weightChunk, offset), stepped without a division.
      int weightChunk = weightChunk0;
      int offset = offset0;
      for (int panel = panel0; panel < panel1; panel++) {
        if (packedInt8 == null) {
          accumulate(reduction, packedWeight[weightChunk], offset, scratch, xBase + j0, spill);
        } else {
          accumulateInt8(reduction, packedInt8[weightChunk], offset, packedScale, (group * channelPanels + panel) * MR,
              scratch, xBase + j0, spill);
        }
        store(scratch, spill, j0, panel * MR, Math.min(MR, kg - panel * MR), group, yBase, residual, y);
        offset += panelLength;
        if (offset == perChunk * panelLength) {
          weightChunk++;
          offset = 0;
        }
      }
    }
  }

  /**
   * acc(i, ·) = Σ_l A(i, l) · xp[xIdx + tapOffset[l] … + NR), for the MR channels of the panel at
   * aIdx, spilled row by row (NR floats a row) to xp[tileOff …]: the worker's tile lives in the
   * same scratch array, after the padded input.
   *
   * <p>One copy per width on a {@code static final} species, as in {@link F32GemmPacked}.
   */
  private void accumulate(int len, float[] aP, int aIdx, float[] xp, int xIdx, int tileOff) {
    switch (species.vectorBitSize() * 4 + vectors) {
      case 512 * 4 + 2 -> accumulate512x2(len, aP, aIdx, xp, tapOffset, xIdx, xp, tileOff);
      case 512 * 4 + 3 -> accumulate512x3(len, aP, aIdx, xp, tapOffset, xIdx, xp, tileOff);
      case 256 * 4 + 2 -> accumulate256x2(len, aP, aIdx, xp, tapOffset, xIdx, xp, tileOff);
      case 256 * 4 + 3 -> accumulate256x3(len, aP, aIdx, xp, tapOffset, xIdx, xp, tileOff);
      case 128 * 4 + 2 -> accumulate128x2(len, aP, aIdx, xp, tapOffset, xIdx, xp, tileOff);
      case 128 * 4 + 3 -> accumulate128x3(len, aP, aIdx, xp, tapOffset, xIdx, xp, tileOff);
      default -> throw new IllegalStateException("unsupported species " + species);
    }
  }

  /** {@link #accumulate} on int8 panels, each row spilled times its scale, scale[sIdx + i]. */
  private void accumulateInt8(int len, byte[] aP, int aIdx, float[] scale, int sIdx, float[] xp, int xIdx,
      int tileOff) {
    switch (species.vectorBitSize() * 4 + vectors) {
      case 512 * 4 + 2 -> accumulate512x2Int8(len, aP, aIdx, scale, sIdx, xp, tapOffset, xIdx, xp, tileOff);
      case 512 * 4 + 3 -> accumulate512x3Int8(len, aP, aIdx, scale, sIdx, xp, tapOffset, xIdx, xp, tileOff);
      case 256 * 4 + 2 -> accumulate256x2Int8(len, aP, aIdx, scale, sIdx, xp, tapOffset, xIdx, xp, tileOff);
      case 256 * 4 + 3 -> accumulate256x3Int8(len, aP, aIdx, scale, sIdx, xp, tapOffset, xIdx, xp, tileOff);
      case 128 * 4 + 2 -> accumulate128x2Int8(len, aP, aIdx, scale, sIdx, xp, tapOffset, xIdx, xp, tileOff);
      case 128 * 4 + 3 -> accumulate128x3Int8(len, aP, aIdx, scale, sIdx, xp, tapOffset, xIdx, xp, tileOff);
      default -> throw new IllegalStateException("unsupported species " + species);
    }
  }

  /**
   * Stores the spilled tile's real outputs: column c is position j0 + c, i.e. output
   * (p, q) = divmod(j0 + c, Wq), kept when q < Q and p < P; each run of kept columns goes through
   * {@link F32Epilogue} into y.
   */
  private void store(float[] tile, int tileOff, int j0, int row0, int rows, int group, int yBase, float[] residual,
      float[] y) {
    int P = g.p(), Q = g.q();
    int positions = P * Q;
    for (int c = 0; c < nr; ) {
      int j = j0 + c;
      int p = j / wq;
      int q = j - p * wq;
      if (p >= P) {
        return;
      }
      if (q >= Q) {
        c += wq - q; // skip the dropped columns
        continue;
      }
      int run = Math.min(nr - c, Q - q);
      int out = p * Q + q;
      int k0 = group * kg + row0;
      F32Epilogue.applyRows(species, tile, tileOff + c, nr, y, yBase + row0 * positions + out, positions, rows, run,
          bias, k0, offsets, out, residual, activation);
      c += run;
    }
  }

  /** {@link #accumulate}'s loop, 2 vectors a row, on the constant 512-bit species. */
  private static void accumulate512x2(int len, float[] aP, int aIdx, float[] x, int[] tapOffset, int xBase,
      float[] tile, int tileOff) {
    final VectorSpecies<Float> sp = S512;
    final int l1 = sp.length();
    FloatVector acc00 = FloatVector.zero(sp), acc01 = FloatVector.zero(sp);
    FloatVector acc10 = FloatVector.zero(sp), acc11 = FloatVector.zero(sp);
    FloatVector acc20 = FloatVector.zero(sp), acc21 = FloatVector.zero(sp);
    FloatVector acc30 = FloatVector.zero(sp), acc31 = FloatVector.zero(sp);
    FloatVector acc40 = FloatVector.zero(sp), acc41 = FloatVector.zero(sp);
    FloatVector acc50 = FloatVector.zero(sp), acc51 = FloatVector.zero(sp);
    FloatVector acc60 = FloatVector.zero(sp), acc61 = FloatVector.zero(sp);
    FloatVector acc70 = FloatVector.zero(sp), acc71 = FloatVector.zero(sp);
    for (int l = 0, ai = aIdx; l < len; l++, ai += MR) {
      int bi = xBase + tapOffset[l];
      FloatVector b0 = FloatVector.fromArray(sp, x, bi);
      FloatVector b1 = FloatVector.fromArray(sp, x, bi + 1 * l1);
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
      av = FloatVector.broadcast(sp, aP[ai + 6]);
      acc60 = av.fma(b0, acc60);
      acc61 = av.fma(b1, acc61);
      av = FloatVector.broadcast(sp, aP[ai + 7]);
      acc70 = av.fma(b0, acc70);
      acc71 = av.fma(b1, acc71);
    }
    acc00.intoArray(tile, tileOff);
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
    acc60.intoArray(tile, tileOff + 12 * l1);
    acc61.intoArray(tile, tileOff + 13 * l1);
    acc70.intoArray(tile, tileOff + 14 * l1);
    acc71.intoArray(tile, tileOff + 15 * l1);
  }

  /** {@link #accumulate}'s loop, 3 vectors a row, on the constant 512-bit species. */
  private static void accumulate512x3(int len, float[] aP, int aIdx, float[] x, int[] tapOffset, int xBase,
      float[] tile, int tileOff) {
    final VectorSpecies<Float> sp = S512;
    final int l1 = sp.length();
    FloatVector acc00 = FloatVector.zero(sp), acc01 = FloatVector.zero(sp), acc02 = FloatVector.zero(sp);
    FloatVector acc10 = FloatVector.zero(sp), acc11 = FloatVector.zero(sp), acc12 = FloatVector.zero(sp);
    FloatVector acc20 = FloatVector.zero(sp), acc21 = FloatVector.zero(sp), acc22 = FloatVector.zero(sp);
    FloatVector acc30 = FloatVector.zero(sp), acc31 = FloatVector.zero(sp), acc32 = FloatVector.zero(sp);
    FloatVector acc40 = FloatVector.zero(sp), acc41 = FloatVector.zero(sp), acc42 = FloatVector.zero(sp);
    FloatVector acc50 = FloatVector.zero(sp), acc51 = FloatVector.zero(sp), acc52 = FloatVector.zero(sp);
    FloatVector acc60 = FloatVector.zero(sp), acc61 = FloatVector.zero(sp), acc62 = FloatVector.zero(sp);
    FloatVector acc70 = FloatVector.zero(sp), acc71 = FloatVector.zero(sp), acc72 = FloatVector.zero(sp);
    for (int l = 0, ai = aIdx; l < len; l++, ai += MR) {
      int bi = xBase + tapOffset[l];
      FloatVector b0 = FloatVector.fromArray(sp, x, bi);
      FloatVector b1 = FloatVector.fromArray(sp, x, bi + 1 * l1);
      FloatVector b2 = FloatVector.fromArray(sp, x, bi + 2 * l1);
      FloatVector av = FloatVector.broadcast(sp, aP[ai]);
      acc00 = av.fma(b0, acc00);
      acc01 = av.fma(b1, acc01);
      acc02 = av.fma(b2, acc02);
      av = FloatVector.broadcast(sp, aP[ai + 1]);
      acc10 = av.fma(b0, acc10);
      acc11 = av.fma(b1, acc11);
      acc12 = av.fma(b2, acc12);
      av = FloatVector.broadcast(sp, aP[ai + 2]);
      acc20 = av.fma(b0, acc20);
      acc21 = av.fma(b1, acc21);
      acc22 = av.fma(b2, acc22);
      av = FloatVector.broadcast(sp, aP[ai + 3]);
      acc30 = av.fma(b0, acc30);
      acc31 = av.fma(b1, acc31);
      acc32 = av.fma(b2, acc32);
      av = FloatVector.broadcast(sp, aP[ai + 4]);
      acc40 = av.fma(b0, acc40);
      acc41 = av.fma(b1, acc41);
      acc42 = av.fma(b2, acc42);
      av = FloatVector.broadcast(sp, aP[ai + 5]);
      acc50 = av.fma(b0, acc50);
      acc51 = av.fma(b1, acc51);
      acc52 = av.fma(b2, acc52);
      av = FloatVector.broadcast(sp, aP[ai + 6]);
      acc60 = av.fma(b0, acc60);
      acc61 = av.fma(b1, acc61);
      acc62 = av.fma(b2, acc62);
      av = FloatVector.broadcast(sp, aP[ai + 7]);
      acc70 = av.fma(b0, acc70);
      acc71 = av.fma(b1, acc71);
      acc72 = av.fma(b2, acc72);
    }
    acc00.intoArray(tile, tileOff);
    acc01.intoArray(tile, tileOff + 1 * l1);
    acc02.intoArray(tile, tileOff + 2 * l1);
    acc10.intoArray(tile, tileOff + 3 * l1);
    acc11.intoArray(tile, tileOff + 4 * l1);
    acc12.intoArray(tile, tileOff + 5 * l1);
    acc20.intoArray(tile, tileOff + 6 * l1);
    acc21.intoArray(tile, tileOff + 7 * l1);
    acc22.intoArray(tile, tileOff + 8 * l1);
    acc30.intoArray(tile, tileOff + 9 * l1);
    acc31.intoArray(tile, tileOff + 10 * l1);
    acc32.intoArray(tile, tileOff + 11 * l1);
    acc40.intoArray(tile, tileOff + 12 * l1);
    acc41.intoArray(tile, tileOff + 13 * l1);
    acc42.intoArray(tile, tileOff + 14 * l1);
    acc50.intoArray(tile, tileOff + 15 * l1);
    acc51.intoArray(tile, tileOff + 16 * l1);
    acc52.intoArray(tile, tileOff + 17 * l1);
    acc60.intoArray(tile, tileOff + 18 * l1);
    acc61.intoArray(tile, tileOff + 19 * l1);
    acc62.intoArray(tile, tileOff + 20 * l1);
    acc70.intoArray(tile, tileOff + 21 * l1);
    acc71.intoArray(tile, tileOff + 22 * l1);
    acc72.intoArray(tile, tileOff + 23 * l1);
  }

  /** {@link #accumulate}'s loop, 2 vectors a row, on the constant 256-bit species. */
  private static void accumulate256x2(int len, float[] aP, int aIdx, float[] x, int[] tapOffset, int xBase,
      float[] tile, int tileOff) {
    final VectorSpecies<Float> sp = S256;
    final int l1 = sp.length();
    FloatVector acc00 = FloatVector.zero(sp), acc01 = FloatVector.zero(sp);
    FloatVector acc10 = FloatVector.zero(sp), acc11 = FloatVector.zero(sp);
    FloatVector acc20 = FloatVector.zero(sp), acc21 = FloatVector.zero(sp);
    FloatVector acc30 = FloatVector.zero(sp), acc31 = FloatVector.zero(sp);
    FloatVector acc40 = FloatVector.zero(sp), acc41 = FloatVector.zero(sp);
    FloatVector acc50 = FloatVector.zero(sp), acc51 = FloatVector.zero(sp);
    FloatVector acc60 = FloatVector.zero(sp), acc61 = FloatVector.zero(sp);
    FloatVector acc70 = FloatVector.zero(sp), acc71 = FloatVector.zero(sp);
    for (int l = 0, ai = aIdx; l < len; l++, ai += MR) {
      int bi = xBase + tapOffset[l];
      FloatVector b0 = FloatVector.fromArray(sp, x, bi);
      FloatVector b1 = FloatVector.fromArray(sp, x, bi + 1 * l1);
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
      av = FloatVector.broadcast(sp, aP[ai + 6]);
      acc60 = av.fma(b0, acc60);
      acc61 = av.fma(b1, acc61);
      av = FloatVector.broadcast(sp, aP[ai + 7]);
      acc70 = av.fma(b0, acc70);
      acc71 = av.fma(b1, acc71);
    }
    acc00.intoArray(tile, tileOff);
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
    acc60.intoArray(tile, tileOff + 12 * l1);
    acc61.intoArray(tile, tileOff + 13 * l1);
    acc70.intoArray(tile, tileOff + 14 * l1);
    acc71.intoArray(tile, tileOff + 15 * l1);
  }

  /** {@link #accumulate}'s loop, 3 vectors a row, on the constant 256-bit species. */
  private static void accumulate256x3(int len, float[] aP, int aIdx, float[] x, int[] tapOffset, int xBase,
      float[] tile, int tileOff) {
    final VectorSpecies<Float> sp = S256;
    final int l1 = sp.length();
    FloatVector acc00 = FloatVector.zero(sp), acc01 = FloatVector.zero(sp), acc02 = FloatVector.zero(sp);
    FloatVector acc10 = FloatVector.zero(sp), acc11 = FloatVector.zero(sp), acc12 = FloatVector.zero(sp);
    FloatVector acc20 = FloatVector.zero(sp), acc21 = FloatVector.zero(sp), acc22 = FloatVector.zero(sp);
    FloatVector acc30 = FloatVector.zero(sp), acc31 = FloatVector.zero(sp), acc32 = FloatVector.zero(sp);
    FloatVector acc40 = FloatVector.zero(sp), acc41 = FloatVector.zero(sp), acc42 = FloatVector.zero(sp);
    FloatVector acc50 = FloatVector.zero(sp), acc51 = FloatVector.zero(sp), acc52 = FloatVector.zero(sp);
    FloatVector acc60 = FloatVector.zero(sp), acc61 = FloatVector.zero(sp), acc62 = FloatVector.zero(sp);
    FloatVector acc70 = FloatVector.zero(sp), acc71 = FloatVector.zero(sp), acc72 = FloatVector.zero(sp);
    for (int l = 0, ai = aIdx; l < len; l++, ai += MR) {
      int bi = xBase + tapOffset[l];
      FloatVector b0 = FloatVector.fromArray(sp, x, bi);
      FloatVector b1 = FloatVector.fromArray(sp, x, bi + 1 * l1);
      FloatVector b2 = FloatVector.fromArray(sp, x, bi + 2 * l1);
      FloatVector av = FloatVector.broadcast(sp, aP[ai]);
      acc00 = av.fma(b0, acc00);
      acc01 = av.fma(b1, acc01);
      acc02 = av.fma(b2, acc02);
      av = FloatVector.broadcast(sp, aP[ai + 1]);
      acc10 = av.fma(b0, acc10);
      acc11 = av.fma(b1, acc11);
      acc12 = av.fma(b2, acc12);
      av = FloatVector.broadcast(sp, aP[ai + 2]);
      acc20 = av.fma(b0, acc20);
      acc21 = av.fma(b1, acc21);
      acc22 = av.fma(b2, acc22);
      av = FloatVector.broadcast(sp, aP[ai + 3]);
      acc30 = av.fma(b0, acc30);
      acc31 = av.fma(b1, acc31);
      acc32 = av.fma(b2, acc32);
      av = FloatVector.broadcast(sp, aP[ai + 4]);
      acc40 = av.fma(b0, acc40);
      acc41 = av.fma(b1, acc41);
      acc42 = av.fma(b2, acc42);
      av = FloatVector.broadcast(sp, aP[ai + 5]);
      acc50 = av.fma(b0, acc50);
      acc51 = av.fma(b1, acc51);
      acc52 = av.fma(b2, acc52);
      av = FloatVector.broadcast(sp, aP[ai + 6]);
      acc60 = av.fma(b0, acc60);
      acc61 = av.fma(b1, acc61);
      acc62 = av.fma(b2, acc62);
      av = FloatVector.broadcast(sp, aP[ai + 7]);
      acc70 = av.fma(b0, acc70);
      acc71 = av.fma(b1, acc71);
      acc72 = av.fma(b2, acc72);
    }
    acc00.intoArray(tile, tileOff);
    acc01.intoArray(tile, tileOff + 1 * l1);
    acc02.intoArray(tile, tileOff + 2 * l1);
    acc10.intoArray(tile, tileOff + 3 * l1);
    acc11.intoArray(tile, tileOff + 4 * l1);
    acc12.intoArray(tile, tileOff + 5 * l1);
    acc20.intoArray(tile, tileOff + 6 * l1);
    acc21.intoArray(tile, tileOff + 7 * l1);
    acc22.intoArray(tile, tileOff + 8 * l1);
    acc30.intoArray(tile, tileOff + 9 * l1);
    acc31.intoArray(tile, tileOff + 10 * l1);
    acc32.intoArray(tile, tileOff + 11 * l1);
    acc40.intoArray(tile, tileOff + 12 * l1);
    acc41.intoArray(tile, tileOff + 13 * l1);
    acc42.intoArray(tile, tileOff + 14 * l1);
    acc50.intoArray(tile, tileOff + 15 * l1);
    acc51.intoArray(tile, tileOff + 16 * l1);
    acc52.intoArray(tile, tileOff + 17 * l1);
    acc60.intoArray(tile, tileOff + 18 * l1);
    acc61.intoArray(tile, tileOff + 19 * l1);
    acc62.intoArray(tile, tileOff + 20 * l1);
    acc70.intoArray(tile, tileOff + 21 * l1);
    acc71.intoArray(tile, tileOff + 22 * l1);
    acc72.intoArray(tile, tileOff + 23 * l1);
  }

  /** {@link #accumulate}'s loop, 2 vectors a row, on the constant 128-bit species. */
  private static void accumulate128x2(int len, float[] aP, int aIdx, float[] x, int[] tapOffset, int xBase,
      float[] tile, int tileOff) {
    final VectorSpecies<Float> sp = S128;
    final int l1 = sp.length();
    FloatVector acc00 = FloatVector.zero(sp), acc01 = FloatVector.zero(sp);
    FloatVector acc10 = FloatVector.zero(sp), acc11 = FloatVector.zero(sp);
    FloatVector acc20 = FloatVector.zero(sp), acc21 = FloatVector.zero(sp);
    FloatVector acc30 = FloatVector.zero(sp), acc31 = FloatVector.zero(sp);
    FloatVector acc40 = FloatVector.zero(sp), acc41 = FloatVector.zero(sp);
    FloatVector acc50 = FloatVector.zero(sp), acc51 = FloatVector.zero(sp);
    FloatVector acc60 = FloatVector.zero(sp), acc61 = FloatVector.zero(sp);
    FloatVector acc70 = FloatVector.zero(sp), acc71 = FloatVector.zero(sp);
    for (int l = 0, ai = aIdx; l < len; l++, ai += MR) {
      int bi = xBase + tapOffset[l];
      FloatVector b0 = FloatVector.fromArray(sp, x, bi);
      FloatVector b1 = FloatVector.fromArray(sp, x, bi + 1 * l1);
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
      av = FloatVector.broadcast(sp, aP[ai + 6]);
      acc60 = av.fma(b0, acc60);
      acc61 = av.fma(b1, acc61);
      av = FloatVector.broadcast(sp, aP[ai + 7]);
      acc70 = av.fma(b0, acc70);
      acc71 = av.fma(b1, acc71);
    }
    acc00.intoArray(tile, tileOff);
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
    acc60.intoArray(tile, tileOff + 12 * l1);
    acc61.intoArray(tile, tileOff + 13 * l1);
    acc70.intoArray(tile, tileOff + 14 * l1);
    acc71.intoArray(tile, tileOff + 15 * l1);
  }

  /** {@link #accumulate}'s loop, 3 vectors a row, on the constant 128-bit species. */
  private static void accumulate128x3(int len, float[] aP, int aIdx, float[] x, int[] tapOffset, int xBase,
      float[] tile, int tileOff) {
    final VectorSpecies<Float> sp = S128;
    final int l1 = sp.length();
    FloatVector acc00 = FloatVector.zero(sp), acc01 = FloatVector.zero(sp), acc02 = FloatVector.zero(sp);
    FloatVector acc10 = FloatVector.zero(sp), acc11 = FloatVector.zero(sp), acc12 = FloatVector.zero(sp);
    FloatVector acc20 = FloatVector.zero(sp), acc21 = FloatVector.zero(sp), acc22 = FloatVector.zero(sp);
    FloatVector acc30 = FloatVector.zero(sp), acc31 = FloatVector.zero(sp), acc32 = FloatVector.zero(sp);
    FloatVector acc40 = FloatVector.zero(sp), acc41 = FloatVector.zero(sp), acc42 = FloatVector.zero(sp);
    FloatVector acc50 = FloatVector.zero(sp), acc51 = FloatVector.zero(sp), acc52 = FloatVector.zero(sp);
    FloatVector acc60 = FloatVector.zero(sp), acc61 = FloatVector.zero(sp), acc62 = FloatVector.zero(sp);
    FloatVector acc70 = FloatVector.zero(sp), acc71 = FloatVector.zero(sp), acc72 = FloatVector.zero(sp);
    for (int l = 0, ai = aIdx; l < len; l++, ai += MR) {
      int bi = xBase + tapOffset[l];
      FloatVector b0 = FloatVector.fromArray(sp, x, bi);
      FloatVector b1 = FloatVector.fromArray(sp, x, bi + 1 * l1);
      FloatVector b2 = FloatVector.fromArray(sp, x, bi + 2 * l1);
      FloatVector av = FloatVector.broadcast(sp, aP[ai]);
      acc00 = av.fma(b0, acc00);
      acc01 = av.fma(b1, acc01);
      acc02 = av.fma(b2, acc02);
      av = FloatVector.broadcast(sp, aP[ai + 1]);
      acc10 = av.fma(b0, acc10);
      acc11 = av.fma(b1, acc11);
      acc12 = av.fma(b2, acc12);
      av = FloatVector.broadcast(sp, aP[ai + 2]);
      acc20 = av.fma(b0, acc20);
      acc21 = av.fma(b1, acc21);
      acc22 = av.fma(b2, acc22);
      av = FloatVector.broadcast(sp, aP[ai + 3]);
      acc30 = av.fma(b0, acc30);
      acc31 = av.fma(b1, acc31);
      acc32 = av.fma(b2, acc32);
      av = FloatVector.broadcast(sp, aP[ai + 4]);
      acc40 = av.fma(b0, acc40);
      acc41 = av.fma(b1, acc41);
      acc42 = av.fma(b2, acc42);
      av = FloatVector.broadcast(sp, aP[ai + 5]);
      acc50 = av.fma(b0, acc50);
      acc51 = av.fma(b1, acc51);
      acc52 = av.fma(b2, acc52);
      av = FloatVector.broadcast(sp, aP[ai + 6]);
      acc60 = av.fma(b0, acc60);
      acc61 = av.fma(b1, acc61);
      acc62 = av.fma(b2, acc62);
      av = FloatVector.broadcast(sp, aP[ai + 7]);
      acc70 = av.fma(b0, acc70);
      acc71 = av.fma(b1, acc71);
      acc72 = av.fma(b2, acc72);
    }
    acc00.intoArray(tile, tileOff);
    acc01.intoArray(tile, tileOff + 1 * l1);
    acc02.intoArray(tile, tileOff + 2 * l1);
    acc10.intoArray(tile, tileOff + 3 * l1);
    acc11.intoArray(tile, tileOff + 4 * l1);
    acc12.intoArray(tile, tileOff + 5 * l1);
    acc20.intoArray(tile, tileOff + 6 * l1);
    acc21.intoArray(tile, tileOff + 7 * l1);
    acc22.intoArray(tile, tileOff + 8 * l1);
    acc30.intoArray(tile, tileOff + 9 * l1);
    acc31.intoArray(tile, tileOff + 10 * l1);
    acc32.intoArray(tile, tileOff + 11 * l1);
    acc40.intoArray(tile, tileOff + 12 * l1);
    acc41.intoArray(tile, tileOff + 13 * l1);
    acc42.intoArray(tile, tileOff + 14 * l1);
    acc50.intoArray(tile, tileOff + 15 * l1);
    acc51.intoArray(tile, tileOff + 16 * l1);
    acc52.intoArray(tile, tileOff + 17 * l1);
    acc60.intoArray(tile, tileOff + 18 * l1);
    acc61.intoArray(tile, tileOff + 19 * l1);
    acc62.intoArray(tile, tileOff + 20 * l1);
    acc70.intoArray(tile, tileOff + 21 * l1);
    acc71.intoArray(tile, tileOff + 22 * l1);
    acc72.intoArray(tile, tileOff + 23 * l1);
  }

  /** {@link #accumulateInt8}'s loop, 2 vectors a row, on the constant 512-bit species. */
  private static void accumulate512x2Int8(int len, byte[] aP, int aIdx, float[] scale, int sIdx, float[] x,
      int[] tapOffset, int xBase, float[] tile, int tileOff) {
    final VectorSpecies<Float> sp = S512;
    final int l1 = sp.length();
    FloatVector acc00 = FloatVector.zero(sp), acc01 = FloatVector.zero(sp);
    FloatVector acc10 = FloatVector.zero(sp), acc11 = FloatVector.zero(sp);
    FloatVector acc20 = FloatVector.zero(sp), acc21 = FloatVector.zero(sp);
    FloatVector acc30 = FloatVector.zero(sp), acc31 = FloatVector.zero(sp);
    FloatVector acc40 = FloatVector.zero(sp), acc41 = FloatVector.zero(sp);
    FloatVector acc50 = FloatVector.zero(sp), acc51 = FloatVector.zero(sp);
    FloatVector acc60 = FloatVector.zero(sp), acc61 = FloatVector.zero(sp);
    FloatVector acc70 = FloatVector.zero(sp), acc71 = FloatVector.zero(sp);
    for (int l = 0, ai = aIdx; l < len; l++, ai += MR) {
      int bi = xBase + tapOffset[l];
      FloatVector b0 = FloatVector.fromArray(sp, x, bi);
      FloatVector b1 = FloatVector.fromArray(sp, x, bi + 1 * l1);
      FloatVector w07 = (FloatVector) ByteVector.fromArray(B64, aP, ai).convertShape(VectorOperators.B2F, sp, 0);
      FloatVector av = w07.rearrange(LANE512_0);
      acc00 = av.fma(b0, acc00);
      acc01 = av.fma(b1, acc01);
      av = w07.rearrange(LANE512_1);
      acc10 = av.fma(b0, acc10);
      acc11 = av.fma(b1, acc11);
      av = w07.rearrange(LANE512_2);
      acc20 = av.fma(b0, acc20);
      acc21 = av.fma(b1, acc21);
      av = w07.rearrange(LANE512_3);
      acc30 = av.fma(b0, acc30);
      acc31 = av.fma(b1, acc31);
      av = w07.rearrange(LANE512_4);
      acc40 = av.fma(b0, acc40);
      acc41 = av.fma(b1, acc41);
      av = w07.rearrange(LANE512_5);
      acc50 = av.fma(b0, acc50);
      acc51 = av.fma(b1, acc51);
      av = w07.rearrange(LANE512_6);
      acc60 = av.fma(b0, acc60);
      acc61 = av.fma(b1, acc61);
      av = w07.rearrange(LANE512_7);
      acc70 = av.fma(b0, acc70);
      acc71 = av.fma(b1, acc71);
    }
    acc00.mul(FloatVector.broadcast(sp, scale[sIdx + 0])).intoArray(tile, tileOff);
    acc01.mul(FloatVector.broadcast(sp, scale[sIdx + 0])).intoArray(tile, tileOff + 1 * l1);
    acc10.mul(FloatVector.broadcast(sp, scale[sIdx + 1])).intoArray(tile, tileOff + 2 * l1);
    acc11.mul(FloatVector.broadcast(sp, scale[sIdx + 1])).intoArray(tile, tileOff + 3 * l1);
    acc20.mul(FloatVector.broadcast(sp, scale[sIdx + 2])).intoArray(tile, tileOff + 4 * l1);
    acc21.mul(FloatVector.broadcast(sp, scale[sIdx + 2])).intoArray(tile, tileOff + 5 * l1);
    acc30.mul(FloatVector.broadcast(sp, scale[sIdx + 3])).intoArray(tile, tileOff + 6 * l1);
    acc31.mul(FloatVector.broadcast(sp, scale[sIdx + 3])).intoArray(tile, tileOff + 7 * l1);
    acc40.mul(FloatVector.broadcast(sp, scale[sIdx + 4])).intoArray(tile, tileOff + 8 * l1);
    acc41.mul(FloatVector.broadcast(sp, scale[sIdx + 4])).intoArray(tile, tileOff + 9 * l1);
    acc50.mul(FloatVector.broadcast(sp, scale[sIdx + 5])).intoArray(tile, tileOff + 10 * l1);
    acc51.mul(FloatVector.broadcast(sp, scale[sIdx + 5])).intoArray(tile, tileOff + 11 * l1);
    acc60.mul(FloatVector.broadcast(sp, scale[sIdx + 6])).intoArray(tile, tileOff + 12 * l1);
    acc61.mul(FloatVector.broadcast(sp, scale[sIdx + 6])).intoArray(tile, tileOff + 13 * l1);
    acc70.mul(FloatVector.broadcast(sp, scale[sIdx + 7])).intoArray(tile, tileOff + 14 * l1);
    acc71.mul(FloatVector.broadcast(sp, scale[sIdx + 7])).intoArray(tile, tileOff + 15 * l1);
  }

  /** {@link #accumulateInt8}'s loop, 3 vectors a row, on the constant 512-bit species. */
  private static void accumulate512x3Int8(int len, byte[] aP, int aIdx, float[] scale, int sIdx, float[] x,
      int[] tapOffset, int xBase, float[] tile, int tileOff) {
    final VectorSpecies<Float> sp = S512;
    final int l1 = sp.length();
    FloatVector acc00 = FloatVector.zero(sp), acc01 = FloatVector.zero(sp), acc02 = FloatVector.zero(sp);
    FloatVector acc10 = FloatVector.zero(sp), acc11 = FloatVector.zero(sp), acc12 = FloatVector.zero(sp);
    FloatVector acc20 = FloatVector.zero(sp), acc21 = FloatVector.zero(sp), acc22 = FloatVector.zero(sp);
    FloatVector acc30 = FloatVector.zero(sp), acc31 = FloatVector.zero(sp), acc32 = FloatVector.zero(sp);
    FloatVector acc40 = FloatVector.zero(sp), acc41 = FloatVector.zero(sp), acc42 = FloatVector.zero(sp);
    FloatVector acc50 = FloatVector.zero(sp), acc51 = FloatVector.zero(sp), acc52 = FloatVector.zero(sp);
    FloatVector acc60 = FloatVector.zero(sp), acc61 = FloatVector.zero(sp), acc62 = FloatVector.zero(sp);
    FloatVector acc70 = FloatVector.zero(sp), acc71 = FloatVector.zero(sp), acc72 = FloatVector.zero(sp);
    for (int l = 0, ai = aIdx; l < len; l++, ai += MR) {
      int bi = xBase + tapOffset[l];
      FloatVector b0 = FloatVector.fromArray(sp, x, bi);
      FloatVector b1 = FloatVector.fromArray(sp, x, bi + 1 * l1);
      FloatVector b2 = FloatVector.fromArray(sp, x, bi + 2 * l1);
      FloatVector w07 = (FloatVector) ByteVector.fromArray(B64, aP, ai).convertShape(VectorOperators.B2F, sp, 0);
      FloatVector av = w07.rearrange(LANE512_0);
      acc00 = av.fma(b0, acc00);
      acc01 = av.fma(b1, acc01);
      acc02 = av.fma(b2, acc02);
      av = w07.rearrange(LANE512_1);
      acc10 = av.fma(b0, acc10);
      acc11 = av.fma(b1, acc11);
      acc12 = av.fma(b2, acc12);
      av = w07.rearrange(LANE512_2);
      acc20 = av.fma(b0, acc20);
      acc21 = av.fma(b1, acc21);
      acc22 = av.fma(b2, acc22);
      av = w07.rearrange(LANE512_3);
      acc30 = av.fma(b0, acc30);
      acc31 = av.fma(b1, acc31);
      acc32 = av.fma(b2, acc32);
      av = w07.rearrange(LANE512_4);
      acc40 = av.fma(b0, acc40);
      acc41 = av.fma(b1, acc41);
      acc42 = av.fma(b2, acc42);
      av = w07.rearrange(LANE512_5);
      acc50 = av.fma(b0, acc50);
      acc51 = av.fma(b1, acc51);
      acc52 = av.fma(b2, acc52);
      av = w07.rearrange(LANE512_6);
      acc60 = av.fma(b0, acc60);
      acc61 = av.fma(b1, acc61);
      acc62 = av.fma(b2, acc62);
      av = w07.rearrange(LANE512_7);
      acc70 = av.fma(b0, acc70);
      acc71 = av.fma(b1, acc71);
      acc72 = av.fma(b2, acc72);
    }
    acc00.mul(FloatVector.broadcast(sp, scale[sIdx + 0])).intoArray(tile, tileOff);
    acc01.mul(FloatVector.broadcast(sp, scale[sIdx + 0])).intoArray(tile, tileOff + 1 * l1);
    acc02.mul(FloatVector.broadcast(sp, scale[sIdx + 0])).intoArray(tile, tileOff + 2 * l1);
    acc10.mul(FloatVector.broadcast(sp, scale[sIdx + 1])).intoArray(tile, tileOff + 3 * l1);
    acc11.mul(FloatVector.broadcast(sp, scale[sIdx + 1])).intoArray(tile, tileOff + 4 * l1);
    acc12.mul(FloatVector.broadcast(sp, scale[sIdx + 1])).intoArray(tile, tileOff + 5 * l1);
    acc20.mul(FloatVector.broadcast(sp, scale[sIdx + 2])).intoArray(tile, tileOff + 6 * l1);
    acc21.mul(FloatVector.broadcast(sp, scale[sIdx + 2])).intoArray(tile, tileOff + 7 * l1);
    acc22.mul(FloatVector.broadcast(sp, scale[sIdx + 2])).intoArray(tile, tileOff + 8 * l1);
    acc30.mul(FloatVector.broadcast(sp, scale[sIdx + 3])).intoArray(tile, tileOff + 9 * l1);
    acc31.mul(FloatVector.broadcast(sp, scale[sIdx + 3])).intoArray(tile, tileOff + 10 * l1);
    acc32.mul(FloatVector.broadcast(sp, scale[sIdx + 3])).intoArray(tile, tileOff + 11 * l1);
    acc40.mul(FloatVector.broadcast(sp, scale[sIdx + 4])).intoArray(tile, tileOff + 12 * l1);
    acc41.mul(FloatVector.broadcast(sp, scale[sIdx + 4])).intoArray(tile, tileOff + 13 * l1);
    acc42.mul(FloatVector.broadcast(sp, scale[sIdx + 4])).intoArray(tile, tileOff + 14 * l1);
    acc50.mul(FloatVector.broadcast(sp, scale[sIdx + 5])).intoArray(tile, tileOff + 15 * l1);
    acc51.mul(FloatVector.broadcast(sp, scale[sIdx + 5])).intoArray(tile, tileOff + 16 * l1);
    acc52.mul(FloatVector.broadcast(sp, scale[sIdx + 5])).intoArray(tile, tileOff + 17 * l1);
    acc60.mul(FloatVector.broadcast(sp, scale[sIdx + 6])).intoArray(tile, tileOff + 18 * l1);
    acc61.mul(FloatVector.broadcast(sp, scale[sIdx + 6])).intoArray(tile, tileOff + 19 * l1);
    acc62.mul(FloatVector.broadcast(sp, scale[sIdx + 6])).intoArray(tile, tileOff + 20 * l1);
    acc70.mul(FloatVector.broadcast(sp, scale[sIdx + 7])).intoArray(tile, tileOff + 21 * l1);
    acc71.mul(FloatVector.broadcast(sp, scale[sIdx + 7])).intoArray(tile, tileOff + 22 * l1);
    acc72.mul(FloatVector.broadcast(sp, scale[sIdx + 7])).intoArray(tile, tileOff + 23 * l1);
  }

  /** {@link #accumulateInt8}'s loop, 2 vectors a row, on the constant 256-bit species. */
  private static void accumulate256x2Int8(int len, byte[] aP, int aIdx, float[] scale, int sIdx, float[] x,
      int[] tapOffset, int xBase, float[] tile, int tileOff) {
    final VectorSpecies<Float> sp = S256;
    final int l1 = sp.length();
    FloatVector acc00 = FloatVector.zero(sp), acc01 = FloatVector.zero(sp);
    FloatVector acc10 = FloatVector.zero(sp), acc11 = FloatVector.zero(sp);
    FloatVector acc20 = FloatVector.zero(sp), acc21 = FloatVector.zero(sp);
    FloatVector acc30 = FloatVector.zero(sp), acc31 = FloatVector.zero(sp);
    FloatVector acc40 = FloatVector.zero(sp), acc41 = FloatVector.zero(sp);
    FloatVector acc50 = FloatVector.zero(sp), acc51 = FloatVector.zero(sp);
    FloatVector acc60 = FloatVector.zero(sp), acc61 = FloatVector.zero(sp);
    FloatVector acc70 = FloatVector.zero(sp), acc71 = FloatVector.zero(sp);
    for (int l = 0, ai = aIdx; l < len; l++, ai += MR) {
      int bi = xBase + tapOffset[l];
      FloatVector b0 = FloatVector.fromArray(sp, x, bi);
      FloatVector b1 = FloatVector.fromArray(sp, x, bi + 1 * l1);
      FloatVector w07 = (FloatVector) ByteVector.fromArray(B64, aP, ai).convertShape(VectorOperators.B2F, sp, 0);
      FloatVector av = w07.rearrange(LANE256_0);
      acc00 = av.fma(b0, acc00);
      acc01 = av.fma(b1, acc01);
      av = w07.rearrange(LANE256_1);
      acc10 = av.fma(b0, acc10);
      acc11 = av.fma(b1, acc11);
      av = w07.rearrange(LANE256_2);
      acc20 = av.fma(b0, acc20);
      acc21 = av.fma(b1, acc21);
      av = w07.rearrange(LANE256_3);
      acc30 = av.fma(b0, acc30);
      acc31 = av.fma(b1, acc31);
      av = w07.rearrange(LANE256_4);
      acc40 = av.fma(b0, acc40);
      acc41 = av.fma(b1, acc41);
      av = w07.rearrange(LANE256_5);
      acc50 = av.fma(b0, acc50);
      acc51 = av.fma(b1, acc51);
      av = w07.rearrange(LANE256_6);
      acc60 = av.fma(b0, acc60);
      acc61 = av.fma(b1, acc61);
      av = w07.rearrange(LANE256_7);
      acc70 = av.fma(b0, acc70);
      acc71 = av.fma(b1, acc71);
    }
    acc00.mul(FloatVector.broadcast(sp, scale[sIdx + 0])).intoArray(tile, tileOff);
    acc01.mul(FloatVector.broadcast(sp, scale[sIdx + 0])).intoArray(tile, tileOff + 1 * l1);
    acc10.mul(FloatVector.broadcast(sp, scale[sIdx + 1])).intoArray(tile, tileOff + 2 * l1);
    acc11.mul(FloatVector.broadcast(sp, scale[sIdx + 1])).intoArray(tile, tileOff + 3 * l1);
    acc20.mul(FloatVector.broadcast(sp, scale[sIdx + 2])).intoArray(tile, tileOff + 4 * l1);
    acc21.mul(FloatVector.broadcast(sp, scale[sIdx + 2])).intoArray(tile, tileOff + 5 * l1);
    acc30.mul(FloatVector.broadcast(sp, scale[sIdx + 3])).intoArray(tile, tileOff + 6 * l1);
    acc31.mul(FloatVector.broadcast(sp, scale[sIdx + 3])).intoArray(tile, tileOff + 7 * l1);
    acc40.mul(FloatVector.broadcast(sp, scale[sIdx + 4])).intoArray(tile, tileOff + 8 * l1);
    acc41.mul(FloatVector.broadcast(sp, scale[sIdx + 4])).intoArray(tile, tileOff + 9 * l1);
    acc50.mul(FloatVector.broadcast(sp, scale[sIdx + 5])).intoArray(tile, tileOff + 10 * l1);
    acc51.mul(FloatVector.broadcast(sp, scale[sIdx + 5])).intoArray(tile, tileOff + 11 * l1);
    acc60.mul(FloatVector.broadcast(sp, scale[sIdx + 6])).intoArray(tile, tileOff + 12 * l1);
    acc61.mul(FloatVector.broadcast(sp, scale[sIdx + 6])).intoArray(tile, tileOff + 13 * l1);
    acc70.mul(FloatVector.broadcast(sp, scale[sIdx + 7])).intoArray(tile, tileOff + 14 * l1);
    acc71.mul(FloatVector.broadcast(sp, scale[sIdx + 7])).intoArray(tile, tileOff + 15 * l1);
  }

  /** {@link #accumulateInt8}'s loop, 3 vectors a row, on the constant 256-bit species. */
  private static void accumulate256x3Int8(int len, byte[] aP, int aIdx, float[] scale, int sIdx, float[] x,
      int[] tapOffset, int xBase, float[] tile, int tileOff) {
    final VectorSpecies<Float> sp = S256;
    final int l1 = sp.length();
    FloatVector acc00 = FloatVector.zero(sp), acc01 = FloatVector.zero(sp), acc02 = FloatVector.zero(sp);
    FloatVector acc10 = FloatVector.zero(sp), acc11 = FloatVector.zero(sp), acc12 = FloatVector.zero(sp);
    FloatVector acc20 = FloatVector.zero(sp), acc21 = FloatVector.zero(sp), acc22 = FloatVector.zero(sp);
    FloatVector acc30 = FloatVector.zero(sp), acc31 = FloatVector.zero(sp), acc32 = FloatVector.zero(sp);
    FloatVector acc40 = FloatVector.zero(sp), acc41 = FloatVector.zero(sp), acc42 = FloatVector.zero(sp);
    FloatVector acc50 = FloatVector.zero(sp), acc51 = FloatVector.zero(sp), acc52 = FloatVector.zero(sp);
    FloatVector acc60 = FloatVector.zero(sp), acc61 = FloatVector.zero(sp), acc62 = FloatVector.zero(sp);
    FloatVector acc70 = FloatVector.zero(sp), acc71 = FloatVector.zero(sp), acc72 = FloatVector.zero(sp);
    for (int l = 0, ai = aIdx; l < len; l++, ai += MR) {
      int bi = xBase + tapOffset[l];
      FloatVector b0 = FloatVector.fromArray(sp, x, bi);
      FloatVector b1 = FloatVector.fromArray(sp, x, bi + 1 * l1);
      FloatVector b2 = FloatVector.fromArray(sp, x, bi + 2 * l1);
      FloatVector w07 = (FloatVector) ByteVector.fromArray(B64, aP, ai).convertShape(VectorOperators.B2F, sp, 0);
      FloatVector av = w07.rearrange(LANE256_0);
      acc00 = av.fma(b0, acc00);
      acc01 = av.fma(b1, acc01);
      acc02 = av.fma(b2, acc02);
      av = w07.rearrange(LANE256_1);
      acc10 = av.fma(b0, acc10);
      acc11 = av.fma(b1, acc11);
      acc12 = av.fma(b2, acc12);
      av = w07.rearrange(LANE256_2);
      acc20 = av.fma(b0, acc20);
      acc21 = av.fma(b1, acc21);
      acc22 = av.fma(b2, acc22);
      av = w07.rearrange(LANE256_3);
      acc30 = av.fma(b0, acc30);
      acc31 = av.fma(b1, acc31);
      acc32 = av.fma(b2, acc32);
      av = w07.rearrange(LANE256_4);
      acc40 = av.fma(b0, acc40);
      acc41 = av.fma(b1, acc41);
      acc42 = av.fma(b2, acc42);
      av = w07.rearrange(LANE256_5);
      acc50 = av.fma(b0, acc50);
      acc51 = av.fma(b1, acc51);
      acc52 = av.fma(b2, acc52);
      av = w07.rearrange(LANE256_6);
      acc60 = av.fma(b0, acc60);
      acc61 = av.fma(b1, acc61);
      acc62 = av.fma(b2, acc62);
      av = w07.rearrange(LANE256_7);
      acc70 = av.fma(b0, acc70);
      acc71 = av.fma(b1, acc71);
      acc72 = av.fma(b2, acc72);
    }
    acc00.mul(FloatVector.broadcast(sp, scale[sIdx + 0])).intoArray(tile, tileOff);
    acc01.mul(FloatVector.broadcast(sp, scale[sIdx + 0])).intoArray(tile, tileOff + 1 * l1);
    acc02.mul(FloatVector.broadcast(sp, scale[sIdx + 0])).intoArray(tile, tileOff + 2 * l1);
    acc10.mul(FloatVector.broadcast(sp, scale[sIdx + 1])).intoArray(tile, tileOff + 3 * l1);
    acc11.mul(FloatVector.broadcast(sp, scale[sIdx + 1])).intoArray(tile, tileOff + 4 * l1);
    acc12.mul(FloatVector.broadcast(sp, scale[sIdx + 1])).intoArray(tile, tileOff + 5 * l1);
    acc20.mul(FloatVector.broadcast(sp, scale[sIdx + 2])).intoArray(tile, tileOff + 6 * l1);
    acc21.mul(FloatVector.broadcast(sp, scale[sIdx + 2])).intoArray(tile, tileOff + 7 * l1);
    acc22.mul(FloatVector.broadcast(sp, scale[sIdx + 2])).intoArray(tile, tileOff + 8 * l1);
    acc30.mul(FloatVector.broadcast(sp, scale[sIdx + 3])).intoArray(tile, tileOff + 9 * l1);
    acc31.mul(FloatVector.broadcast(sp, scale[sIdx + 3])).intoArray(tile, tileOff + 10 * l1);
    acc32.mul(FloatVector.broadcast(sp, scale[sIdx + 3])).intoArray(tile, tileOff + 11 * l1);
    acc40.mul(FloatVector.broadcast(sp, scale[sIdx + 4])).intoArray(tile, tileOff + 12 * l1);
    acc41.mul(FloatVector.broadcast(sp, scale[sIdx + 4])).intoArray(tile, tileOff + 13 * l1);
    acc42.mul(FloatVector.broadcast(sp, scale[sIdx + 4])).intoArray(tile, tileOff + 14 * l1);
    acc50.mul(FloatVector.broadcast(sp, scale[sIdx + 5])).intoArray(tile, tileOff + 15 * l1);
    acc51.mul(FloatVector.broadcast(sp, scale[sIdx + 5])).intoArray(tile, tileOff + 16 * l1);
    acc52.mul(FloatVector.broadcast(sp, scale[sIdx + 5])).intoArray(tile, tileOff + 17 * l1);
    acc60.mul(FloatVector.broadcast(sp, scale[sIdx + 6])).intoArray(tile, tileOff + 18 * l1);
    acc61.mul(FloatVector.broadcast(sp, scale[sIdx + 6])).intoArray(tile, tileOff + 19 * l1);
    acc62.mul(FloatVector.broadcast(sp, scale[sIdx + 6])).intoArray(tile, tileOff + 20 * l1);
    acc70.mul(FloatVector.broadcast(sp, scale[sIdx + 7])).intoArray(tile, tileOff + 21 * l1);
    acc71.mul(FloatVector.broadcast(sp, scale[sIdx + 7])).intoArray(tile, tileOff + 22 * l1);
    acc72.mul(FloatVector.broadcast(sp, scale[sIdx + 7])).intoArray(tile, tileOff + 23 * l1);
  }

  /** {@link #accumulateInt8}'s loop, 2 vectors a row, on the constant 128-bit species. */
  private static void accumulate128x2Int8(int len, byte[] aP, int aIdx, float[] scale, int sIdx, float[] x,
      int[] tapOffset, int xBase, float[] tile, int tileOff) {
    final VectorSpecies<Float> sp = S128;
    final int l1 = sp.length();
    FloatVector acc00 = FloatVector.zero(sp), acc01 = FloatVector.zero(sp);
    FloatVector acc10 = FloatVector.zero(sp), acc11 = FloatVector.zero(sp);
    FloatVector acc20 = FloatVector.zero(sp), acc21 = FloatVector.zero(sp);
    FloatVector acc30 = FloatVector.zero(sp), acc31 = FloatVector.zero(sp);
    FloatVector acc40 = FloatVector.zero(sp), acc41 = FloatVector.zero(sp);
    FloatVector acc50 = FloatVector.zero(sp), acc51 = FloatVector.zero(sp);
    FloatVector acc60 = FloatVector.zero(sp), acc61 = FloatVector.zero(sp);
    FloatVector acc70 = FloatVector.zero(sp), acc71 = FloatVector.zero(sp);
    for (int l = 0, ai = aIdx; l < len; l++, ai += MR) {
      int bi = xBase + tapOffset[l];
      FloatVector b0 = FloatVector.fromArray(sp, x, bi);
      FloatVector b1 = FloatVector.fromArray(sp, x, bi + 1 * l1);
      FloatVector w03 = (FloatVector) ByteVector.fromArray(B64, aP, ai).convertShape(VectorOperators.B2F, sp, 0);
      FloatVector w47 = (FloatVector) ByteVector.fromArray(B64, aP, ai + 4).convertShape(VectorOperators.B2F, sp, 0);
      FloatVector av = w03.rearrange(LANE128_0);
      acc00 = av.fma(b0, acc00);
      acc01 = av.fma(b1, acc01);
      av = w03.rearrange(LANE128_1);
      acc10 = av.fma(b0, acc10);
      acc11 = av.fma(b1, acc11);
      av = w03.rearrange(LANE128_2);
      acc20 = av.fma(b0, acc20);
      acc21 = av.fma(b1, acc21);
      av = w03.rearrange(LANE128_3);
      acc30 = av.fma(b0, acc30);
      acc31 = av.fma(b1, acc31);
      av = w47.rearrange(LANE128_0);
      acc40 = av.fma(b0, acc40);
      acc41 = av.fma(b1, acc41);
      av = w47.rearrange(LANE128_1);
      acc50 = av.fma(b0, acc50);
      acc51 = av.fma(b1, acc51);
      av = w47.rearrange(LANE128_2);
      acc60 = av.fma(b0, acc60);
      acc61 = av.fma(b1, acc61);
      av = w47.rearrange(LANE128_3);
      acc70 = av.fma(b0, acc70);
      acc71 = av.fma(b1, acc71);
    }
    acc00.mul(FloatVector.broadcast(sp, scale[sIdx + 0])).intoArray(tile, tileOff);
    acc01.mul(FloatVector.broadcast(sp, scale[sIdx + 0])).intoArray(tile, tileOff + 1 * l1);
    acc10.mul(FloatVector.broadcast(sp, scale[sIdx + 1])).intoArray(tile, tileOff + 2 * l1);
    acc11.mul(FloatVector.broadcast(sp, scale[sIdx + 1])).intoArray(tile, tileOff + 3 * l1);
    acc20.mul(FloatVector.broadcast(sp, scale[sIdx + 2])).intoArray(tile, tileOff + 4 * l1);
    acc21.mul(FloatVector.broadcast(sp, scale[sIdx + 2])).intoArray(tile, tileOff + 5 * l1);
    acc30.mul(FloatVector.broadcast(sp, scale[sIdx + 3])).intoArray(tile, tileOff + 6 * l1);
    acc31.mul(FloatVector.broadcast(sp, scale[sIdx + 3])).intoArray(tile, tileOff + 7 * l1);
    acc40.mul(FloatVector.broadcast(sp, scale[sIdx + 4])).intoArray(tile, tileOff + 8 * l1);
    acc41.mul(FloatVector.broadcast(sp, scale[sIdx + 4])).intoArray(tile, tileOff + 9 * l1);
    acc50.mul(FloatVector.broadcast(sp, scale[sIdx + 5])).intoArray(tile, tileOff + 10 * l1);
    acc51.mul(FloatVector.broadcast(sp, scale[sIdx + 5])).intoArray(tile, tileOff + 11 * l1);
    acc60.mul(FloatVector.broadcast(sp, scale[sIdx + 6])).intoArray(tile, tileOff + 12 * l1);
    acc61.mul(FloatVector.broadcast(sp, scale[sIdx + 6])).intoArray(tile, tileOff + 13 * l1);
    acc70.mul(FloatVector.broadcast(sp, scale[sIdx + 7])).intoArray(tile, tileOff + 14 * l1);
    acc71.mul(FloatVector.broadcast(sp, scale[sIdx + 7])).intoArray(tile, tileOff + 15 * l1);
  }

  /** {@link #accumulateInt8}'s loop, 3 vectors a row, on the constant 128-bit species. */
  private static void accumulate128x3Int8(int len, byte[] aP, int aIdx, float[] scale, int sIdx, float[] x,
      int[] tapOffset, int xBase, float[] tile, int tileOff) {
    final VectorSpecies<Float> sp = S128;
    final int l1 = sp.length();
    FloatVector acc00 = FloatVector.zero(sp), acc01 = FloatVector.zero(sp), acc02 = FloatVector.zero(sp);
    FloatVector acc10 = FloatVector.zero(sp), acc11 = FloatVector.zero(sp), acc12 = FloatVector.zero(sp);
    FloatVector acc20 = FloatVector.zero(sp), acc21 = FloatVector.zero(sp), acc22 = FloatVector.zero(sp);
    FloatVector acc30 = FloatVector.zero(sp), acc31 = FloatVector.zero(sp), acc32 = FloatVector.zero(sp);
    FloatVector acc40 = FloatVector.zero(sp), acc41 = FloatVector.zero(sp), acc42 = FloatVector.zero(sp);
    FloatVector acc50 = FloatVector.zero(sp), acc51 = FloatVector.zero(sp), acc52 = FloatVector.zero(sp);
    FloatVector acc60 = FloatVector.zero(sp), acc61 = FloatVector.zero(sp), acc62 = FloatVector.zero(sp);
    FloatVector acc70 = FloatVector.zero(sp), acc71 = FloatVector.zero(sp), acc72 = FloatVector.zero(sp);
    for (int l = 0, ai = aIdx; l < len; l++, ai += MR) {
      int bi = xBase + tapOffset[l];
      FloatVector b0 = FloatVector.fromArray(sp, x, bi);
      FloatVector b1 = FloatVector.fromArray(sp, x, bi + 1 * l1);
      FloatVector b2 = FloatVector.fromArray(sp, x, bi + 2 * l1);
      FloatVector w03 = (FloatVector) ByteVector.fromArray(B64, aP, ai).convertShape(VectorOperators.B2F, sp, 0);
      FloatVector w47 = (FloatVector) ByteVector.fromArray(B64, aP, ai + 4).convertShape(VectorOperators.B2F, sp, 0);
      FloatVector av = w03.rearrange(LANE128_0);
      acc00 = av.fma(b0, acc00);
      acc01 = av.fma(b1, acc01);
      acc02 = av.fma(b2, acc02);
      av = w03.rearrange(LANE128_1);
      acc10 = av.fma(b0, acc10);
      acc11 = av.fma(b1, acc11);
      acc12 = av.fma(b2, acc12);
      av = w03.rearrange(LANE128_2);
      acc20 = av.fma(b0, acc20);
      acc21 = av.fma(b1, acc21);
      acc22 = av.fma(b2, acc22);
      av = w03.rearrange(LANE128_3);
      acc30 = av.fma(b0, acc30);
      acc31 = av.fma(b1, acc31);
      acc32 = av.fma(b2, acc32);
      av = w47.rearrange(LANE128_0);
      acc40 = av.fma(b0, acc40);
      acc41 = av.fma(b1, acc41);
      acc42 = av.fma(b2, acc42);
      av = w47.rearrange(LANE128_1);
      acc50 = av.fma(b0, acc50);
      acc51 = av.fma(b1, acc51);
      acc52 = av.fma(b2, acc52);
      av = w47.rearrange(LANE128_2);
      acc60 = av.fma(b0, acc60);
      acc61 = av.fma(b1, acc61);
      acc62 = av.fma(b2, acc62);
      av = w47.rearrange(LANE128_3);
      acc70 = av.fma(b0, acc70);
      acc71 = av.fma(b1, acc71);
      acc72 = av.fma(b2, acc72);
    }
    acc00.mul(FloatVector.broadcast(sp, scale[sIdx + 0])).intoArray(tile, tileOff);
    acc01.mul(FloatVector.broadcast(sp, scale[sIdx + 0])).intoArray(tile, tileOff + 1 * l1);
    acc02.mul(FloatVector.broadcast(sp, scale[sIdx + 0])).intoArray(tile, tileOff + 2 * l1);
    acc10.mul(FloatVector.broadcast(sp, scale[sIdx + 1])).intoArray(tile, tileOff + 3 * l1);
    acc11.mul(FloatVector.broadcast(sp, scale[sIdx + 1])).intoArray(tile, tileOff + 4 * l1);
    acc12.mul(FloatVector.broadcast(sp, scale[sIdx + 1])).intoArray(tile, tileOff + 5 * l1);
    acc20.mul(FloatVector.broadcast(sp, scale[sIdx + 2])).intoArray(tile, tileOff + 6 * l1);
    acc21.mul(FloatVector.broadcast(sp, scale[sIdx + 2])).intoArray(tile, tileOff + 7 * l1);
    acc22.mul(FloatVector.broadcast(sp, scale[sIdx + 2])).intoArray(tile, tileOff + 8 * l1);
    acc30.mul(FloatVector.broadcast(sp, scale[sIdx + 3])).intoArray(tile, tileOff + 9 * l1);
    acc31.mul(FloatVector.broadcast(sp, scale[sIdx + 3])).intoArray(tile, tileOff + 10 * l1);
    acc32.mul(FloatVector.broadcast(sp, scale[sIdx + 3])).intoArray(tile, tileOff + 11 * l1);
    acc40.mul(FloatVector.broadcast(sp, scale[sIdx + 4])).intoArray(tile, tileOff + 12 * l1);
    acc41.mul(FloatVector.broadcast(sp, scale[sIdx + 4])).intoArray(tile, tileOff + 13 * l1);
    acc42.mul(FloatVector.broadcast(sp, scale[sIdx + 4])).intoArray(tile, tileOff + 14 * l1);
    acc50.mul(FloatVector.broadcast(sp, scale[sIdx + 5])).intoArray(tile, tileOff + 15 * l1);
    acc51.mul(FloatVector.broadcast(sp, scale[sIdx + 5])).intoArray(tile, tileOff + 16 * l1);
    acc52.mul(FloatVector.broadcast(sp, scale[sIdx + 5])).intoArray(tile, tileOff + 17 * l1);
    acc60.mul(FloatVector.broadcast(sp, scale[sIdx + 6])).intoArray(tile, tileOff + 18 * l1);
    acc61.mul(FloatVector.broadcast(sp, scale[sIdx + 6])).intoArray(tile, tileOff + 19 * l1);
    acc62.mul(FloatVector.broadcast(sp, scale[sIdx + 6])).intoArray(tile, tileOff + 20 * l1);
    acc70.mul(FloatVector.broadcast(sp, scale[sIdx + 7])).intoArray(tile, tileOff + 21 * l1);
    acc71.mul(FloatVector.broadcast(sp, scale[sIdx + 7])).intoArray(tile, tileOff + 22 * l1);
    acc72.mul(FloatVector.broadcast(sp, scale[sIdx + 7])).intoArray(tile, tileOff + 23 * l1);
  }

}
