package dev.vfuse.simd;

import dev.vfuse.kernel.Activation;
import dev.vfuse.kernel.ConvGeometry;
import dev.vfuse.kernel.Int8Weights;
import dev.vfuse.kernel.Parallel;
import dev.vfuse.kernel.PositionOffsets;
import dev.vfuse.kernel.PreparedConv;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Float depthwise convolution on the Vector API: one input channel per group (groups == C), K = m·C
 * output channels, output channel k reading input channel k / m. Any kernel R×S, stride, dilation,
 * asymmetric padding and batch, with the fused epilogue of {@link PreparedConv}.
 *
 * <pre>
 *   y[n,k,p,q] = bias[k] + Σ_{r,s} w[k,0,r,s] · x[n, k/m, p·strideH − padTop + r·dilationH, q·strideW − padLeft + s·dilationW]
 * </pre>
 *
 * <p>Phase planes. Work goes by bands of output rows of one input plane. A band's input rows are
 * copied once into scratch, padding as zeros, split into sH·sW phase planes: padded row i and
 * padded column j go to phase plane (i mod sH, j mod sW), at row i / sH and column j / sW, every
 * phase plane {@code phaseWidth} columns wide. Tap (r, s) of output (p, q) then sits at a fixed
 * distance from position p·phaseWidth + q of the phase planes:
 *
 * <pre>
 *   ext[p·phaseWidth + q] = bias + Σ_{r,s} w[r,s] · phases[p·phaseWidth + q + tapOffset(r,s)]
 *   tapOffset(r,s) = ((r·dH mod sH)·sW + s·dW mod sW)·phasePlane + (r·dH / sH)·phaseWidth + s·dW / sW
 * </pre>
 *
 * so the whole band is one run of outputs (the "ext" layout, rows phaseWidth long) and every tap
 * one contiguous vector load at the loop index plus a constant: no gather, no border case, no mask,
 * whatever the stride, dilation or kernel size, and (with the weights in registers) no bounds check
 * inside the loop.
 * The phaseWidth − Q columns past each row's end, about (S−1)·dW/sW, are computed and dropped when
 * the first Q of each row are copied into y. (Measured on a 56×56 3×3 plane: 0.43 µs for the ext
 * loop, 0.65 µs with the copy-out; computing straight into y took 0.7 µs with a loop per output row
 * and 0.9 µs addressing vectors through a table, both keeping a bounds check per load.)
 *
 * <p>Splitting a row is one {@code arraycopy} for stride 1 and two-vector permutes (even and odd
 * lanes) for stride 2. The padding columns are zeroed once per task, since no band writes them;
 * only the padding rows are zeroed per band. With 9 taps (3×3) the weights stay in registers
 * across the band.
 *
 * <p>Each band of each output channel gets its epilogue (the bias is already in the sum; offsets,
 * residual, activation) through {@link F32Epilogue} right after it is copied out, while in cache.
 *
 * <p>Precision: the reference sums in double and rounds once; this kernel starts from the bias and
 * adds the taps in (r, s) order with one float FMA each, so |simd − reference| ≤
 * R·S·2⁻²³·(|bias| + Σ|w·x|). A tap in the padding adds w·0, which is exactly nothing for a finite
 * weight. The epilogue after it is the exact float ops of {@code ConvEpilogue}.
 *
 * <p>Int8 weights ({@link #prepareInt8}) stay int8 in the prepared kernel: before each band of an
 * output channel, its R·S weights are dequantized, q·scale rounded once to float exactly as
 * {@link Int8Weights#dequantize} does, into the worker's scratch, and the band runs on them; the
 * result is that of the float kernel on the dequantized weights.
 *
 * <p>Threads: a unit is (image, input channel, band), computing the band for the channel's m
 * outputs; a run cuts the units into {@link #TASKS_PER_THREAD} contiguous ranges per thread. Each
 * worker uses its own slice of the scratch: the phase planes of one band and its ext outputs. A run
 * on one thread allocates nothing; on several it allocates one small task object.
 */
public final class F32DwConv implements PreparedConv {

  /**
   * Target size in floats of one band's phase planes (24 KiB): the band and its outputs stay in a
   * 32–48 KiB L1 while the taps sweep them (half and twice this measured the same).
   */
  static final int BAND_FLOATS = 6144;

  /** Tasks per thread when a run is split: enough that threads finishing at different times even out. */
  static final int TASKS_PER_THREAD = 4;

  private static final VectorSpecies<Float> S128 = FloatVector.SPECIES_128;
  private static final VectorSpecies<Float> S256 = FloatVector.SPECIES_256;
  private static final VectorSpecies<Float> S512 = FloatVector.SPECIES_512;

  /**
   * Lane i takes lane 2·i (EVEN) or 2·i + 1 (ODD) of the pair a:b in {@code a.rearrange(shuffle, b)};
   * source lanes past L are exceptional indexes, which that form reads from b.
   */
  private static final VectorShuffle<Float> EVEN128 = VectorShuffle.fromOp(S128, i -> 2 * i);
  private static final VectorShuffle<Float> ODD128 = VectorShuffle.fromOp(S128, i -> 2 * i + 1);
  private static final VectorShuffle<Float> EVEN256 = VectorShuffle.fromOp(S256, i -> 2 * i);
  private static final VectorShuffle<Float> ODD256 = VectorShuffle.fromOp(S256, i -> 2 * i + 1);
  private static final VectorShuffle<Float> EVEN512 = VectorShuffle.fromOp(S512, i -> 2 * i);
  private static final VectorShuffle<Float> ODD512 = VectorShuffle.fromOp(S512, i -> 2 * i + 1);

  private final VectorSpecies<Float> species;
  private final int n, c, h, w, k, multiplier, p, q;
  private final int strideH, strideW, padTop, padLeft;
  /** Float weights, or null and int8 weights with one scale per output channel. */
  private final float[] weight;
  private final byte[] int8;
  private final float[] scales;
  private final float[] bias;
  private final PositionOffsets offsets;
  private final Activation activation;

  /** Taps per output (R·S) and each tap's distance into the phase planes, in (r, s) order. */
  private final int taps;
  private final int[] tapOffset;
  /** Output rows per band, bands per plane, padded input rows one output row reaches ((R−1)·dH + 1). */
  private final int bandRows;
  private final int bands;
  private final int reach;
  /** Columns and floats of one phase plane. */
  private final int phaseWidth;
  private final int phasePlane;
  /**
   * Input columns [0, splitCols) are copied (the others are read by no output); phase φ of a padded
   * row holds them at its columns [phaseFirst[φ], phaseEnd[φ]), zeros elsewhere.
   */
  private final int splitCols;
  private final int[] phaseFirst;
  private final int[] phaseEnd;
  /** Floats of the phase planes (with the slack the last vectors read past them) and of the ext outputs. */
  private final int phasesFloats;
  private final int extFloats;

  private F32DwConv(VectorSpecies<Float> species, ConvGeometry g, float[] weight, Int8Weights int8, float[] bias,
      PositionOffsets offsets, Activation activation) {
    this.species = species;
    this.n = g.n();
    this.c = g.c();
    this.h = g.h();
    this.w = g.w();
    this.k = g.k();
    this.multiplier = g.k() / g.c();
    this.p = g.p();
    this.q = g.q();
    this.strideH = g.strideH();
    this.strideW = g.strideW();
    this.padTop = g.padTop();
    this.padLeft = g.padLeft();
    this.weight = weight;
    this.int8 = int8 == null ? null : int8.values();
    this.scales = int8 == null ? null : int8.scales();
    this.bias = bias;
    this.offsets = offsets;
    this.activation = activation;

    int sH = strideH, sW = strideW, dH = g.dilationH(), dW = g.dilationW(), R = g.r(), S = g.s();
    // Only the padded columns and rows some output reads are materialized.
    int paddedCols = (q - 1) * sW + (S - 1) * dW + 1;
    this.phaseWidth = Math.ceilDiv(paddedCols, sW);
    this.reach = (R - 1) * dH + 1;
    int rowsBudget = Math.max(1, (BAND_FLOATS / (phaseWidth * sW) - reach) / sH + 1);
    int bandCount = Math.ceilDiv(p, Math.min(p, rowsBudget));
    this.bandRows = Math.ceilDiv(p, bandCount);
    this.bands = Math.ceilDiv(p, bandRows);
    this.phasePlane = Math.ceilDiv((bandRows - 1) * sH + reach, sH) * phaseWidth;
    this.splitCols = Math.clamp((long) phaseWidth * sW - padLeft, 0, w);
    this.phaseFirst = new int[sW];
    this.phaseEnd = new int[sW];
    for (int phase = 0; phase < sW; phase++) {
      // Padded column j·sW + φ holds input column j·sW + φ − padLeft, inside [0, splitCols) for j in [first, end).
      phaseFirst[phase] = Math.min(phaseWidth, Math.ceilDiv(Math.max(0, padLeft - phase), sW));
      phaseEnd[phase] = Math.clamp(Math.ceilDiv(padLeft + splitCols - phase, sW), phaseFirst[phase], phaseWidth);
    }

    this.taps = R * S;
    this.tapOffset = new int[taps];
    int maxOffset = 0;
    for (int r = 0; r < R; r++) {
      for (int s = 0; s < S; s++) {
        int rr = r * dH, ss = s * dW;
        int offset = ((rr % sH) * sW + ss % sW) * phasePlane + (rr / sH) * phaseWidth + ss / sW;
        tapOffset[r * S + s] = offset;
        maxOffset = Math.max(maxOffset, offset);
      }
    }
    // Outputs are computed in whole vectors over [0, bandRows·phaseWidth); copying a row out reads up
    // to L − 1 floats past it.
    int lanes = species.length();
    int computed = roundUp(bandRows * phaseWidth, lanes);
    this.phasesFloats = Math.max(sH * sW * phasePlane, maxOffset + computed);
    this.extFloats = computed + lanes;
  }

  /** True when the geometry is depthwise: one input channel per group (groups == C, K = m·C). */
  public static boolean supports(ConvGeometry g) {
    return g.inputChannelsPerGroup() == 1;
  }

  /**
   * The depthwise convolution of {@code g} with its weights, bias (may be null), offsets ([K, P, Q],
   * may be null) and activation (may be null) fixed, for a geometry {@link #supports} accepts. The
   * arrays are kept, not copied: they must not change afterwards.
   */
  public static PreparedConv prepare(VectorSpecies<Float> species, ConvGeometry g, float[] weight, float[] bias,
      PositionOffsets offsets, Activation activation) {
    if (!supports(g)) {
      throw new IllegalArgumentException("not a depthwise convolution: " + g);
    }
    return new F32DwConv(species, g, weight, null, bias, offsets, activation);
  }

  /** {@link #prepare} with int8 weights in the layout of {@link Int8Weights#conv}, kept as int8. */
  public static PreparedConv prepareInt8(VectorSpecies<Float> species, ConvGeometry g, Int8Weights weight,
      float[] bias, PositionOffsets offsets, Activation activation) {
    if (!supports(g)) {
      throw new IllegalArgumentException("not a depthwise convolution: " + g);
    }
    return new F32DwConv(species, g, null, weight, bias, offsets, activation);
  }


  /** The phase planes, the ext outputs and, for int8, one channel's dequantized weights. */
  @Override
  public int scratchPerWorker() {
    return phasesFloats + extFloats + (int8 == null ? 0 : taps);
  }

  @Override
  public void run(float[] x, float[] residual, float[] y, float[] scratch, Parallel parallel) {
    int units = n * c * bands;
    int tasks = Math.min(units, TASKS_PER_THREAD * parallel.threads());
    if (parallel.threads() == 1 || tasks == 1) {
      runUnits(0, units, x, residual, y, scratch, 0);
    } else {
      parallel.forEach(tasks, new Slices(this, units, tasks, x, residual, y, scratch));
    }
  }

  /** One run split into {@code tasks} contiguous ranges of units. */
  private record Slices(F32DwConv conv, int units, int tasks, float[] x, float[] residual, float[] y,
      float[] scratch) implements Parallel.Task {
    @Override
    public void run(int index, int worker) {
      int from = (int) ((long) units * index / tasks);
      int to = (int) ((long) units * (index + 1) / tasks);
      conv.runUnits(from, to, x, residual, y, scratch, worker * conv.scratchPerWorker());
    }
  }

  /** Units [from, to): unit u is band u mod bands of input channel (u / bands) mod C of image u / (bands·C). */
  private void runUnits(int from, int to, float[] x, float[] residual, float[] y, float[] scratch, int base) {
    int ext = base + phasesFloats;
    int plane = p * q;
    int bits = species.vectorBitSize();
    boolean epilogue = offsets != null || residual != null || activation != null;
    zeroPaddingColumns(scratch, base);
    int band = from % bands;
    int channel = from / bands % c;
    int image = from / (bands * c);
    for (int u = from; u < to; u++) {
      int p0 = band * bandRows;
      int rows = Math.min(bandRows, p - p0);
      splitBand(x, (image * c + channel) * h * w, p0, rows, scratch, base);
      for (int j = 0; j < multiplier; j++) {
        int oc = channel * multiplier + j;
        float b = bias == null ? 0f : bias[oc];
        int yBand = (image * k + oc) * plane + p0 * q;
        float[] weights = weight;
        int wOff = oc * taps;
        if (int8 != null) {
          weights = scratch;
          wOff = ext + extFloats;
          float scale = scales[oc];
          for (int t = 0; t < taps; t++) {
            scratch[wOff + t] = int8[oc * taps + t] * scale;
          }
        }
        switch (bits) {
          case 128 -> band128(scratch, base, ext, rows, phaseWidth, tapOffset, weights, wOff, b, y, yBand, q);
          case 256 -> band256(scratch, base, ext, rows, phaseWidth, tapOffset, weights, wOff, b, y, yBand, q);
          case 512 -> band512(scratch, base, ext, rows, phaseWidth, tapOffset, weights, wOff, b, y, yBand, q);
          default -> throw new IllegalArgumentException("unsupported species " + species);
        }
        if (epilogue) {
          F32Epilogue.apply(species, y, yBand, rows * q, false, 0f, offsets, oc, p0 * q, residual, yBand,
              activation);
        }
      }
      if (++band == bands) {
        band = 0;
        if (++channel == c) {
          channel = 0;
          image++;
        }
      }
    }
  }

  /** Zeros the columns outside [phaseFirst[φ], phaseEnd[φ]) of every phase row: no band writes them. */
  private void zeroPaddingColumns(float[] scratch, int base) {
    for (int plane = 0; plane < strideH * strideW; plane++) {
      int phase = plane % strideW;
      for (int row = base + plane * phasePlane, end = row + phasePlane; row < end; row += phaseWidth) {
        Arrays.fill(scratch, row, row + phaseFirst[phase], 0f);
        Arrays.fill(scratch, row + phaseEnd[phase], row + phaseWidth, 0f);
      }
    }
  }

  /**
   * Writes the input columns of the phase planes of the band of output rows [p0, p0 + rows) from the
   * input plane at x[xPlane …], and zeros the rows that fall into the padding.
   */
  private void splitBand(float[] x, int xPlane, int p0, int rows, float[] scratch, int base) {
    int inputRows = (rows - 1) * strideH + reach;
    int bits = species.vectorBitSize();
    int row = p0 * strideH - padTop;
    int phaseRow = 0;
    int dst = base;
    for (int i = 0; i < inputRows; i++, row++) {
      if (row < 0 || row >= h) {
        for (int phase = 0; phase < strideW; phase++) {
          Arrays.fill(scratch, dst + phase * phasePlane, dst + phase * phasePlane + phaseWidth, 0f);
        }
      } else if (strideW == 1) {
        if (splitCols > 0) {
          System.arraycopy(x, xPlane + row * w, scratch, dst + padLeft, splitCols);
        }
      } else if (strideW == 2) {
        int src = xPlane + row * w;
        int evenDst = dst + (padLeft & 1) * phasePlane + padLeft / 2;
        int oddDst = dst + ((padLeft + 1) & 1) * phasePlane + (padLeft + 1) / 2;
        switch (bits) {
          case 128 -> deinterleave128(x, src, splitCols, scratch, evenDst, oddDst);
          case 256 -> deinterleave256(x, src, splitCols, scratch, evenDst, oddDst);
          case 512 -> deinterleave512(x, src, splitCols, scratch, evenDst, oddDst);
          default -> throw new IllegalArgumentException("unsupported species " + species);
        }
      } else {
        splitRowScalar(x, xPlane + row * w, scratch, dst);
      }
      // Next padded row: the next phase-row plane, or back to the first one a row further down.
      if (++phaseRow == strideH) {
        phaseRow = 0;
        dst += phaseWidth - (strideH - 1) * strideW * phasePlane;
      } else {
        dst += strideW * phasePlane;
      }
    }
  }

  /**
   * A row for strideW > 2 (rare in models, so scalar): phase row φ, column j in [phaseFirst[φ],
   * phaseEnd[φ]), gets input column strideW·j + φ − padLeft.
   */
  private void splitRowScalar(float[] x, int src, float[] scratch, int dst) {
    int sW = strideW;
    for (int phase = 0; phase < sW; phase++) {
      int row = dst + phase * phasePlane;
      int col = src + phaseFirst[phase] * sW + phase - padLeft;
      for (int j = phaseFirst[phase]; j < phaseEnd[phase]; j++, col += sW) {
        scratch[row + j] = x[col];
      }
    }
  }

  private static int roundUp(int value, int multiple) {
    return Math.ceilDiv(value, multiple) * multiple;
  }

  // The methods below exist once per width, identical but for the species constants: C2 compiles the
  // Vector API to machine vectors only for a species it can prove constant, and a species parameter
  // defeats that unless the whole method inlines (measured: 5.5 ms vs 1.0 ms on a MobileNetV2 3x3 layer).
  // They name the static final species directly, not through a local, so on-stack-replacement
  // compilations, which take locals from the interpreter, see the constant too. The copies are
  // written once for 512 bits and copied with only the species number changed.

  /**
   * The band of {@code rows} output rows for one output channel, into y[yBand …]: its outputs in
   * ext layout (row r at r·width), then each row's first q copied out.
   */
  private static void band128(float[] scratch, int base, int ext, int rows, int width, int[] tapOffset, float[] w,
      int wOff, float bias, float[] y, int yBand, int q) {
    int length = rows * width;
    if (tapOffset.length == 9) {
      taps9x128(scratch, base, ext, length, tapOffset, w, wOff, bias);
    } else {
      taps128(scratch, base, ext, length, tapOffset, w, wOff, bias);
    }
    copyRows128(scratch, ext, rows, width, y, yBand, q);
  }

  /**
   * ext[i] = bias + Σ_t w[wOff + t]·phases[base + i + tapOffset[t]] at scratch[ext + i], for i in
   * [0, length) rounded up to whole vectors; four vectors at a time share each broadcast weight
   * and tap offset.
   */
  private static void taps128(float[] phases, int base, int ext, int length, int[] tapOffset, float[] w, int wOff,
      float bias) {
    final int lanes = S128.length();
    final int taps = tapOffset.length;
    final FloatVector bv = FloatVector.broadcast(S128, bias);
    int i = 0;
    for (; i + 3 * lanes < length; i += 4 * lanes) {
      FloatVector acc0 = bv, acc1 = bv, acc2 = bv, acc3 = bv;
      for (int t = 0; t < taps; t++) {
        FloatVector wv = FloatVector.broadcast(S128, w[wOff + t]);
        int o = base + i + tapOffset[t];
        acc0 = FloatVector.fromArray(S128, phases, o).fma(wv, acc0);
        acc1 = FloatVector.fromArray(S128, phases, o + lanes).fma(wv, acc1);
        acc2 = FloatVector.fromArray(S128, phases, o + 2 * lanes).fma(wv, acc2);
        acc3 = FloatVector.fromArray(S128, phases, o + 3 * lanes).fma(wv, acc3);
      }
      acc0.intoArray(phases, ext + i);
      acc1.intoArray(phases, ext + i + lanes);
      acc2.intoArray(phases, ext + i + 2 * lanes);
      acc3.intoArray(phases, ext + i + 3 * lanes);
    }
    for (; i < length; i += lanes) {
      FloatVector acc = bv;
      for (int t = 0; t < taps; t++) {
        acc = FloatVector.fromArray(S128, phases, base + i + tapOffset[t]).fma(FloatVector.broadcast(S128, w[wOff + t]), acc);
      }
      acc.intoArray(phases, ext + i);
    }
  }

  /**
   * {@link #taps128} for exactly 9 taps (3×3, the common depthwise kernel), every weight and offset
   * held in a register: the same FMAs in the same order. Each load is at the loop index plus an
   * invariant, so C2 takes its bounds check out of the loop (measured 25% faster on a 56×56 3×3
   * layer; the same for 5×5, 25 registers of weights, gained too little to keep).
   */
  private static void taps9x128(float[] phases, int base, int ext, int length, int[] tapOffset, float[] w, int wOff,
      float bias) {
    final FloatVector w0 = FloatVector.broadcast(S128, w[wOff + 0]);
    final FloatVector w1 = FloatVector.broadcast(S128, w[wOff + 1]);
    final FloatVector w2 = FloatVector.broadcast(S128, w[wOff + 2]);
    final FloatVector w3 = FloatVector.broadcast(S128, w[wOff + 3]);
    final FloatVector w4 = FloatVector.broadcast(S128, w[wOff + 4]);
    final FloatVector w5 = FloatVector.broadcast(S128, w[wOff + 5]);
    final FloatVector w6 = FloatVector.broadcast(S128, w[wOff + 6]);
    final FloatVector w7 = FloatVector.broadcast(S128, w[wOff + 7]);
    final FloatVector w8 = FloatVector.broadcast(S128, w[wOff + 8]);
    final int o0 = base + tapOffset[0];
    final int o1 = base + tapOffset[1];
    final int o2 = base + tapOffset[2];
    final int o3 = base + tapOffset[3];
    final int o4 = base + tapOffset[4];
    final int o5 = base + tapOffset[5];
    final int o6 = base + tapOffset[6];
    final int o7 = base + tapOffset[7];
    final int o8 = base + tapOffset[8];
    final FloatVector bv = FloatVector.broadcast(S128, bias);
    for (int i = 0; i < length; i += S128.length()) {
      FloatVector acc = bv;
      acc = FloatVector.fromArray(S128, phases, i + o0).fma(w0, acc);
      acc = FloatVector.fromArray(S128, phases, i + o1).fma(w1, acc);
      acc = FloatVector.fromArray(S128, phases, i + o2).fma(w2, acc);
      acc = FloatVector.fromArray(S128, phases, i + o3).fma(w3, acc);
      acc = FloatVector.fromArray(S128, phases, i + o4).fma(w4, acc);
      acc = FloatVector.fromArray(S128, phases, i + o5).fma(w5, acc);
      acc = FloatVector.fromArray(S128, phases, i + o6).fma(w6, acc);
      acc = FloatVector.fromArray(S128, phases, i + o7).fma(w7, acc);
      acc = FloatVector.fromArray(S128, phases, i + o8).fma(w8, acc);
      acc.intoArray(phases, ext + i);
    }
  }

  /**
   * y[yBand + r·q + j] = scratch[ext + r·width + j] for r &lt; rows, j &lt; q. A row's last vector
   * spills into the rows after it, which are stored later; only a spill past the band is masked.
   */
  private static void copyRows128(float[] scratch, int ext, int rows, int width, float[] y, int yBand, int q) {
    final int lanes = S128.length();
    final int bandEnd = yBand + rows * q;
    for (int r = 0; r < rows; r++) {
      int from = ext + r * width;
      int to = yBand + r * q;
      for (int j = 0; j < q; j += lanes) {
        FloatVector v = FloatVector.fromArray(S128, scratch, from + j);
        if (to + j + lanes <= bandEnd) {
          v.intoArray(y, to + j);
        } else {
          v.intoArray(y, to + j, S128.indexInRange(to + j, bandEnd));
        }
      }
    }
  }

  /**
   * x[src + 2j] → dst[evenDst + j] and x[src + 2j + 1] → dst[oddDst + j] for the first {@code cols}
   * columns: pairs of vectors split by two permutes, the tail by the same on masked loads and stores.
   */
  private static void deinterleave128(float[] x, int src, int cols, float[] dst, int evenDst, int oddDst) {
    final int lanes = S128.length();
    int col = 0;
    for (; col + 2 * lanes <= cols; col += 2 * lanes) {
      FloatVector a = FloatVector.fromArray(S128, x, src + col);
      FloatVector b = FloatVector.fromArray(S128, x, src + col + lanes);
      a.rearrange(EVEN128, b).intoArray(dst, evenDst + col / 2);
      a.rearrange(ODD128, b).intoArray(dst, oddDst + col / 2);
    }
    if (col < cols) {
      int rest = cols - col;
      FloatVector a = FloatVector.fromArray(S128, x, src + col, S128.indexInRange(col, cols));
      FloatVector b = FloatVector.fromArray(S128, x, src + col + lanes, S128.indexInRange(col + lanes, cols));
      a.rearrange(EVEN128, b).intoArray(dst, evenDst + col / 2, S128.indexInRange(0, (rest + 1) / 2));
      a.rearrange(ODD128, b).intoArray(dst, oddDst + col / 2, S128.indexInRange(0, rest / 2));
    }
  }

  /**
   * The band of {@code rows} output rows for one output channel, into y[yBand …]: its outputs in
   * ext layout (row r at r·width), then each row's first q copied out.
   */
  private static void band256(float[] scratch, int base, int ext, int rows, int width, int[] tapOffset, float[] w,
      int wOff, float bias, float[] y, int yBand, int q) {
    int length = rows * width;
    if (tapOffset.length == 9) {
      taps9x256(scratch, base, ext, length, tapOffset, w, wOff, bias);
    } else {
      taps256(scratch, base, ext, length, tapOffset, w, wOff, bias);
    }
    copyRows256(scratch, ext, rows, width, y, yBand, q);
  }

  /**
   * ext[i] = bias + Σ_t w[wOff + t]·phases[base + i + tapOffset[t]] at scratch[ext + i], for i in
   * [0, length) rounded up to whole vectors; four vectors at a time share each broadcast weight
   * and tap offset.
   */
  private static void taps256(float[] phases, int base, int ext, int length, int[] tapOffset, float[] w, int wOff,
      float bias) {
    final int lanes = S256.length();
    final int taps = tapOffset.length;
    final FloatVector bv = FloatVector.broadcast(S256, bias);
    int i = 0;
    for (; i + 3 * lanes < length; i += 4 * lanes) {
      FloatVector acc0 = bv, acc1 = bv, acc2 = bv, acc3 = bv;
      for (int t = 0; t < taps; t++) {
        FloatVector wv = FloatVector.broadcast(S256, w[wOff + t]);
        int o = base + i + tapOffset[t];
        acc0 = FloatVector.fromArray(S256, phases, o).fma(wv, acc0);
        acc1 = FloatVector.fromArray(S256, phases, o + lanes).fma(wv, acc1);
        acc2 = FloatVector.fromArray(S256, phases, o + 2 * lanes).fma(wv, acc2);
        acc3 = FloatVector.fromArray(S256, phases, o + 3 * lanes).fma(wv, acc3);
      }
      acc0.intoArray(phases, ext + i);
      acc1.intoArray(phases, ext + i + lanes);
      acc2.intoArray(phases, ext + i + 2 * lanes);
      acc3.intoArray(phases, ext + i + 3 * lanes);
    }
    for (; i < length; i += lanes) {
      FloatVector acc = bv;
      for (int t = 0; t < taps; t++) {
        acc = FloatVector.fromArray(S256, phases, base + i + tapOffset[t]).fma(FloatVector.broadcast(S256, w[wOff + t]), acc);
      }
      acc.intoArray(phases, ext + i);
    }
  }

  /** {@link #taps256} for exactly 9 taps, every weight and offset in a register; see {@link #taps9x128}. */
  private static void taps9x256(float[] phases, int base, int ext, int length, int[] tapOffset, float[] w, int wOff,
      float bias) {
    final FloatVector w0 = FloatVector.broadcast(S256, w[wOff + 0]);
    final FloatVector w1 = FloatVector.broadcast(S256, w[wOff + 1]);
    final FloatVector w2 = FloatVector.broadcast(S256, w[wOff + 2]);
    final FloatVector w3 = FloatVector.broadcast(S256, w[wOff + 3]);
    final FloatVector w4 = FloatVector.broadcast(S256, w[wOff + 4]);
    final FloatVector w5 = FloatVector.broadcast(S256, w[wOff + 5]);
    final FloatVector w6 = FloatVector.broadcast(S256, w[wOff + 6]);
    final FloatVector w7 = FloatVector.broadcast(S256, w[wOff + 7]);
    final FloatVector w8 = FloatVector.broadcast(S256, w[wOff + 8]);
    final int o0 = base + tapOffset[0];
    final int o1 = base + tapOffset[1];
    final int o2 = base + tapOffset[2];
    final int o3 = base + tapOffset[3];
    final int o4 = base + tapOffset[4];
    final int o5 = base + tapOffset[5];
    final int o6 = base + tapOffset[6];
    final int o7 = base + tapOffset[7];
    final int o8 = base + tapOffset[8];
    final FloatVector bv = FloatVector.broadcast(S256, bias);
    for (int i = 0; i < length; i += S256.length()) {
      FloatVector acc = bv;
      acc = FloatVector.fromArray(S256, phases, i + o0).fma(w0, acc);
      acc = FloatVector.fromArray(S256, phases, i + o1).fma(w1, acc);
      acc = FloatVector.fromArray(S256, phases, i + o2).fma(w2, acc);
      acc = FloatVector.fromArray(S256, phases, i + o3).fma(w3, acc);
      acc = FloatVector.fromArray(S256, phases, i + o4).fma(w4, acc);
      acc = FloatVector.fromArray(S256, phases, i + o5).fma(w5, acc);
      acc = FloatVector.fromArray(S256, phases, i + o6).fma(w6, acc);
      acc = FloatVector.fromArray(S256, phases, i + o7).fma(w7, acc);
      acc = FloatVector.fromArray(S256, phases, i + o8).fma(w8, acc);
      acc.intoArray(phases, ext + i);
    }
  }

  /**
   * y[yBand + r·q + j] = scratch[ext + r·width + j] for r &lt; rows, j &lt; q. A row's last vector
   * spills into the rows after it, which are stored later; only a spill past the band is masked.
   */
  private static void copyRows256(float[] scratch, int ext, int rows, int width, float[] y, int yBand, int q) {
    final int lanes = S256.length();
    final int bandEnd = yBand + rows * q;
    for (int r = 0; r < rows; r++) {
      int from = ext + r * width;
      int to = yBand + r * q;
      for (int j = 0; j < q; j += lanes) {
        FloatVector v = FloatVector.fromArray(S256, scratch, from + j);
        if (to + j + lanes <= bandEnd) {
          v.intoArray(y, to + j);
        } else {
          v.intoArray(y, to + j, S256.indexInRange(to + j, bandEnd));
        }
      }
    }
  }

  /**
   * x[src + 2j] → dst[evenDst + j] and x[src + 2j + 1] → dst[oddDst + j] for the first {@code cols}
   * columns: pairs of vectors split by two permutes, the tail by the same on masked loads and stores.
   */
  private static void deinterleave256(float[] x, int src, int cols, float[] dst, int evenDst, int oddDst) {
    final int lanes = S256.length();
    int col = 0;
    for (; col + 2 * lanes <= cols; col += 2 * lanes) {
      FloatVector a = FloatVector.fromArray(S256, x, src + col);
      FloatVector b = FloatVector.fromArray(S256, x, src + col + lanes);
      a.rearrange(EVEN256, b).intoArray(dst, evenDst + col / 2);
      a.rearrange(ODD256, b).intoArray(dst, oddDst + col / 2);
    }
    if (col < cols) {
      int rest = cols - col;
      FloatVector a = FloatVector.fromArray(S256, x, src + col, S256.indexInRange(col, cols));
      FloatVector b = FloatVector.fromArray(S256, x, src + col + lanes, S256.indexInRange(col + lanes, cols));
      a.rearrange(EVEN256, b).intoArray(dst, evenDst + col / 2, S256.indexInRange(0, (rest + 1) / 2));
      a.rearrange(ODD256, b).intoArray(dst, oddDst + col / 2, S256.indexInRange(0, rest / 2));
    }
  }

  /**
   * The band of {@code rows} output rows for one output channel, into y[yBand …]: its outputs in
   * ext layout (row r at r·width), then each row's first q copied out.
   */
  private static void band512(float[] scratch, int base, int ext, int rows, int width, int[] tapOffset, float[] w,
      int wOff, float bias, float[] y, int yBand, int q) {
    int length = rows * width;
    if (tapOffset.length == 9) {
      taps9x512(scratch, base, ext, length, tapOffset, w, wOff, bias);
    } else {
      taps512(scratch, base, ext, length, tapOffset, w, wOff, bias);
    }
    copyRows512(scratch, ext, rows, width, y, yBand, q);
  }

  /**
   * ext[i] = bias + Σ_t w[wOff + t]·phases[base + i + tapOffset[t]] at scratch[ext + i], for i in
   * [0, length) rounded up to whole vectors; four vectors at a time share each broadcast weight
   * and tap offset.
   */
  private static void taps512(float[] phases, int base, int ext, int length, int[] tapOffset, float[] w, int wOff,
      float bias) {
    final int lanes = S512.length();
    final int taps = tapOffset.length;
    final FloatVector bv = FloatVector.broadcast(S512, bias);
    int i = 0;
    for (; i + 3 * lanes < length; i += 4 * lanes) {
      FloatVector acc0 = bv, acc1 = bv, acc2 = bv, acc3 = bv;
      for (int t = 0; t < taps; t++) {
        FloatVector wv = FloatVector.broadcast(S512, w[wOff + t]);
        int o = base + i + tapOffset[t];
        acc0 = FloatVector.fromArray(S512, phases, o).fma(wv, acc0);
        acc1 = FloatVector.fromArray(S512, phases, o + lanes).fma(wv, acc1);
        acc2 = FloatVector.fromArray(S512, phases, o + 2 * lanes).fma(wv, acc2);
        acc3 = FloatVector.fromArray(S512, phases, o + 3 * lanes).fma(wv, acc3);
      }
      acc0.intoArray(phases, ext + i);
      acc1.intoArray(phases, ext + i + lanes);
      acc2.intoArray(phases, ext + i + 2 * lanes);
      acc3.intoArray(phases, ext + i + 3 * lanes);
    }
    for (; i < length; i += lanes) {
      FloatVector acc = bv;
      for (int t = 0; t < taps; t++) {
        acc = FloatVector.fromArray(S512, phases, base + i + tapOffset[t]).fma(FloatVector.broadcast(S512, w[wOff + t]), acc);
      }
      acc.intoArray(phases, ext + i);
    }
  }

  /** {@link #taps512} for exactly 9 taps, every weight and offset in a register; see {@link #taps9x128}. */
  private static void taps9x512(float[] phases, int base, int ext, int length, int[] tapOffset, float[] w, int wOff,
      float bias) {
    final FloatVector w0 = FloatVector.broadcast(S512, w[wOff + 0]);
    final FloatVector w1 = FloatVector.broadcast(S512, w[wOff + 1]);
    final FloatVector w2 = FloatVector.broadcast(S512, w[wOff + 2]);
    final FloatVector w3 = FloatVector.broadcast(S512, w[wOff + 3]);
    final FloatVector w4 = FloatVector.broadcast(S512, w[wOff + 4]);
    final FloatVector w5 = FloatVector.broadcast(S512, w[wOff + 5]);
    final FloatVector w6 = FloatVector.broadcast(S512, w[wOff + 6]);
    final FloatVector w7 = FloatVector.broadcast(S512, w[wOff + 7]);
    final FloatVector w8 = FloatVector.broadcast(S512, w[wOff + 8]);
    final int o0 = base + tapOffset[0];
    final int o1 = base + tapOffset[1];
    final int o2 = base + tapOffset[2];
    final int o3 = base + tapOffset[3];
    final int o4 = base + tapOffset[4];
    final int o5 = base + tapOffset[5];
    final int o6 = base + tapOffset[6];
    final int o7 = base + tapOffset[7];
    final int o8 = base + tapOffset[8];
    final FloatVector bv = FloatVector.broadcast(S512, bias);
    for (int i = 0; i < length; i += S512.length()) {
      FloatVector acc = bv;
      acc = FloatVector.fromArray(S512, phases, i + o0).fma(w0, acc);
      acc = FloatVector.fromArray(S512, phases, i + o1).fma(w1, acc);
      acc = FloatVector.fromArray(S512, phases, i + o2).fma(w2, acc);
      acc = FloatVector.fromArray(S512, phases, i + o3).fma(w3, acc);
      acc = FloatVector.fromArray(S512, phases, i + o4).fma(w4, acc);
      acc = FloatVector.fromArray(S512, phases, i + o5).fma(w5, acc);
      acc = FloatVector.fromArray(S512, phases, i + o6).fma(w6, acc);
      acc = FloatVector.fromArray(S512, phases, i + o7).fma(w7, acc);
      acc = FloatVector.fromArray(S512, phases, i + o8).fma(w8, acc);
      acc.intoArray(phases, ext + i);
    }
  }

  /**
   * y[yBand + r·q + j] = scratch[ext + r·width + j] for r &lt; rows, j &lt; q. A row's last vector
   * spills into the rows after it, which are stored later; only a spill past the band is masked.
   */
  private static void copyRows512(float[] scratch, int ext, int rows, int width, float[] y, int yBand, int q) {
    final int lanes = S512.length();
    final int bandEnd = yBand + rows * q;
    for (int r = 0; r < rows; r++) {
      int from = ext + r * width;
      int to = yBand + r * q;
      for (int j = 0; j < q; j += lanes) {
        FloatVector v = FloatVector.fromArray(S512, scratch, from + j);
        if (to + j + lanes <= bandEnd) {
          v.intoArray(y, to + j);
        } else {
          v.intoArray(y, to + j, S512.indexInRange(to + j, bandEnd));
        }
      }
    }
  }

  /**
   * x[src + 2j] → dst[evenDst + j] and x[src + 2j + 1] → dst[oddDst + j] for the first {@code cols}
   * columns: pairs of vectors split by two permutes, the tail by the same on masked loads and stores.
   */
  private static void deinterleave512(float[] x, int src, int cols, float[] dst, int evenDst, int oddDst) {
    final int lanes = S512.length();
    int col = 0;
    for (; col + 2 * lanes <= cols; col += 2 * lanes) {
      FloatVector a = FloatVector.fromArray(S512, x, src + col);
      FloatVector b = FloatVector.fromArray(S512, x, src + col + lanes);
      a.rearrange(EVEN512, b).intoArray(dst, evenDst + col / 2);
      a.rearrange(ODD512, b).intoArray(dst, oddDst + col / 2);
    }
    if (col < cols) {
      int rest = cols - col;
      FloatVector a = FloatVector.fromArray(S512, x, src + col, S512.indexInRange(col, cols));
      FloatVector b = FloatVector.fromArray(S512, x, src + col + lanes, S512.indexInRange(col + lanes, cols));
      a.rearrange(EVEN512, b).intoArray(dst, evenDst + col / 2, S512.indexInRange(0, (rest + 1) / 2));
      a.rearrange(ODD512, b).intoArray(dst, oddDst + col / 2, S512.indexInRange(0, rest / 2));
    }
  }
}
