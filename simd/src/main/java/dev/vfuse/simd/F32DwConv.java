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
 * Float depthwise convolution on the Vector API: one input channel per group (groups == C), K = m·C
 * output channels, output channel k reading input channel k / m. Any kernel R×S, stride, dilation,
 * asymmetric padding and batch, with the fused epilogue of {@link PreparedConv}.
 *
 * <pre>
 *   y[n,k,p,q] = bias[k] + Σ_{r,s} w[k,0,r,s] · x[n, k/m, p·strideH − padTop + r·dilationH, q·strideW − padLeft + s·dilationW]
 * </pre>
 *
 * <p>Phase planes. Work goes by bands of output rows of one input plane. A band's input rows are
 * copied once into scratch, padding written as zeros, and split into strideH·strideW phase planes:
 * padded row i and padded column j go to phase plane (i mod strideH, j mod strideW), at row
 * i / strideH and column j / strideW, every phase plane {@code phaseWidth} columns wide. Then tap
 * (r, s) of output (p, q) sits at a fixed distance from position p·phaseWidth + q of the phase planes:
 *
 * <pre>
 *   ext[p·phaseWidth + q] = bias + Σ_{r,s} w[r,s] · phases[p·phaseWidth + q + tapOffset(r,s)]
 *   tapOffset(r,s) = ((r·dH mod sH)·sW + s·dW mod sW)·phasePlane + (r·dH / sH)·phaseWidth + s·dW / sW
 * </pre>
 *
 * so the whole band is one contiguous run of outputs, every tap one contiguous vector load: no
 * gather, no border case, no masks, whatever the stride, dilation or kernel size. The columns
 * q ≥ Q of each row (phaseWidth − Q of them, about (S−1)·dW/sW) are computed and dropped. A stride of
 * 2 is deinterleaved with one two-vector permute per vector ({@code selectFrom}); a stride of 1 is a
 * plain copy.
 *
 * <p>After its convolution, each output band is copied out row by row and gets the epilogue (bias
 * is already in the sum; offsets, residual, activation) through {@link F32Epilogue}, while in cache.
 *
 * <p>Precision: the reference sums in double and rounds once; this kernel starts from the bias and
 * adds the taps in (r, s) order with one float FMA each, so |simd − reference| ≤
 * R·S·2⁻²³·(|bias| + Σ|w·x|). A tap in the padding adds w·0, which is exactly nothing for a finite
 * weight. The epilogue after it is the exact float ops of {@code ConvEpilogue}.
 *
 * <p>Threads: a unit is (image, input channel, band), computing the band for the channel's m
 * outputs; a run cuts the units into {@link #TASKS_PER_THREAD} contiguous ranges per thread. Each
 * worker uses its own slice of the scratch: the phase planes of one band and its outputs. A run on
 * one thread allocates nothing.
 */
public final class F32DwConv implements PreparedConv {

  /**
   * Target size in floats of one band's phase planes (24 KiB): the band, its outputs and the weights
   * stay in a 32–48 KiB L1 while the taps sweep them.
   */
  static final int BAND_FLOATS = 6144;

  /** Tasks per thread when a run is split: enough that threads finishing at different times even out. */
  static final int TASKS_PER_THREAD = 4;

  private static final VectorSpecies<Float> S128 = FloatVector.SPECIES_128;
  private static final VectorSpecies<Float> S256 = FloatVector.SPECIES_256;
  private static final VectorSpecies<Float> S512 = FloatVector.SPECIES_512;

  /** Lane i holds 2·i and 2·i + 1: {@code selectFrom(a, b)} picks the even / odd lanes of the pair a:b. */
  private static final FloatVector EVEN128 = pairIndexes(S128, 0);
  private static final FloatVector ODD128 = pairIndexes(S128, 1);
  private static final FloatVector EVEN256 = pairIndexes(S256, 0);
  private static final FloatVector ODD256 = pairIndexes(S256, 1);
  private static final FloatVector EVEN512 = pairIndexes(S512, 0);
  private static final FloatVector ODD512 = pairIndexes(S512, 1);

  private final VectorSpecies<Float> species;
  private final int n, c, h, w, k, multiplier, p, q;
  private final int strideH, strideW, padTop, padLeft;
  private final float[] weight;
  private final float[] bias;
  private final float[] offsets;
  private final Activation activation;

  /** Taps per output (R·S) and each tap's distance into the phase planes, in (r, s) order. */
  private final int taps;
  private final int[] tapOffset;
  /** Output rows per band, bands per plane, padded input rows one output row reaches ((R−1)·dH + 1). */
  private final int bandRows;
  private final int bands;
  private final int reach;
  /**
   * Input columns [0, splitCols) are materialized (the others are read by no output); phase φ of a
   * padded row holds them at columns [phaseFirst[φ], phaseEnd[φ]), zeros elsewhere.
   */
  private final int splitCols;
  private final int[] phaseFirst;
  private final int[] phaseEnd;
  /** Columns and floats of one phase plane; every output row of a band is phaseWidth long in ext. */
  private final int phaseWidth;
  private final int phasePlane;
  /** Floats of the phase planes including the slack the last vectors read, and of the ext outputs. */
  private final int phasesFloats;
  private final int extFloats;

  private F32DwConv(VectorSpecies<Float> species, ConvGeometry g, float[] weight, float[] bias, float[] offsets,
      Activation activation) {
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
    this.bias = bias;
    this.offsets = offsets;
    this.activation = activation;

    int sH = strideH, sW = strideW, dH = g.dilationH(), dW = g.dilationW(), R = g.r(), S = g.s();
    int lanes = species.length();
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
    this.extFloats = roundUp(bandRows * phaseWidth, lanes);
    this.phasesFloats = Math.max(sH * sW * phasePlane, maxOffset + extFloats);
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
      float[] offsets, Activation activation) {
    if (!supports(g)) {
      throw new IllegalArgumentException("not a depthwise convolution: " + g);
    }
    return new F32DwConv(species, g, weight, bias, offsets, activation);
  }

  /**
   * The convolution of {@link ConvGeometry} for a geometry {@link #supports} accepts, without
   * epilogue, on the calling thread; {@code bias} may be null. Allocates its scratch.
   */
  public static void run(VectorSpecies<Float> species, ConvGeometry g, float[] x, float[] weight, float[] bias,
      float[] y) {
    PreparedConv conv = prepare(species, g, weight, bias, null, null);
    conv.run(x, null, y, new float[conv.scratchPerWorker()], Parallel.SERIAL);
  }

  @Override
  public int scratchPerWorker() {
    return phasesFloats + extFloats;
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
    boolean epilogue = offsets != null || residual != null || activation != null;
    for (int u = from; u < to; u++) {
      int band = u % bands;
      int channel = u / bands % c;
      int image = u / (bands * c);
      int p0 = band * bandRows;
      int rows = Math.min(bandRows, p - p0);
      int length = rows * phaseWidth;
      splitBand(x, (image * c + channel) * h * w, p0, rows, scratch, base);
      for (int j = 0; j < multiplier; j++) {
        int oc = channel * multiplier + j;
        float b = bias == null ? 0f : bias[oc];
        switch (species.vectorBitSize()) {
          case 128 -> taps128(scratch, base, tapOffset, taps, weight, oc * taps, b, ext, length);
          case 256 -> taps256(scratch, base, tapOffset, taps, weight, oc * taps, b, ext, length);
          case 512 -> taps512(scratch, base, tapOffset, taps, weight, oc * taps, b, ext, length);
          default -> throw new IllegalArgumentException("unsupported species " + species);
        }
        int yBand = (image * k + oc) * plane + p0 * q;
        for (int row = 0; row < rows; row++) {
          System.arraycopy(scratch, ext + row * phaseWidth, y, yBand + row * q, q);
        }
        if (epilogue) {
          F32Epilogue.apply(species, y, yBand, rows * q, false, 0f, offsets, oc * plane + p0 * q, residual, yBand,
              activation);
        }
      }
    }
  }

  /**
   * Writes the phase planes of the band of output rows [p0, p0 + rows) of the input plane at
   * x[xPlane …] into scratch[base …]: every position an output of the band reads, padding as 0.
   */
  private void splitBand(float[] x, int xPlane, int p0, int rows, float[] scratch, int base) {
    int inputRows = (rows - 1) * strideH + reach;
    for (int i = 0; i < inputRows; i++) {
      int row = p0 * strideH + i - padTop;
      int dst = base + (i % strideH) * strideW * phasePlane + (i / strideH) * phaseWidth;
      if (row < 0 || row >= h) {
        for (int phase = 0; phase < strideW; phase++) {
          Arrays.fill(scratch, dst + phase * phasePlane, dst + phase * phasePlane + phaseWidth, 0f);
        }
      } else {
        splitRow(x, xPlane + row * w, scratch, dst);
      }
    }
  }

  /**
   * One padded input row into its strideW phase rows at scratch[dst + φ·phasePlane …]: input column
   * col goes to phase (col + padLeft) mod strideW, column (col + padLeft) / strideW; zeros around.
   */
  private void splitRow(float[] x, int src, float[] scratch, int dst) {
    int sW = strideW;
    if (sW == 1) {
      if (phaseEnd[0] > phaseFirst[0]) {
        System.arraycopy(x, src + phaseFirst[0] - padLeft, scratch, dst + phaseFirst[0], phaseEnd[0] - phaseFirst[0]);
      }
    } else if (sW == 2) {
      int evenDst = dst + (padLeft & 1) * phasePlane + padLeft / 2;
      int oddDst = dst + ((padLeft + 1) & 1) * phasePlane + (padLeft + 1) / 2;
      switch (species.vectorBitSize()) {
        case 128 -> deinterleave128(x, src, splitCols, scratch, evenDst, oddDst);
        case 256 -> deinterleave256(x, src, splitCols, scratch, evenDst, oddDst);
        case 512 -> deinterleave512(x, src, splitCols, scratch, evenDst, oddDst);
        default -> throw new IllegalArgumentException("unsupported species " + species);
      }
    } else {
      for (int phase = 0; phase < sW; phase++) {
        int row = dst + phase * phasePlane;
        int col = src + phaseFirst[phase] * sW + phase - padLeft;
        for (int j = phaseFirst[phase]; j < phaseEnd[phase]; j++, col += sW) {
          scratch[row + j] = x[col];
        }
      }
    }
    for (int phase = 0; phase < sW; phase++) {
      int row = dst + phase * phasePlane;
      Arrays.fill(scratch, row, row + phaseFirst[phase], 0f);
      Arrays.fill(scratch, row + phaseEnd[phase], row + phaseWidth, 0f);
    }
  }

  private static FloatVector pairIndexes(VectorSpecies<Float> sp, int parity) {
    float[] index = new float[sp.length()];
    for (int i = 0; i < index.length; i++) {
      index[i] = 2 * i + parity;
    }
    return FloatVector.fromArray(sp, index, 0);
  }

  private static int roundUp(int value, int multiple) {
    return Math.ceilDiv(value, multiple) * multiple;
  }

  // The methods below exist once per width, identical but for the species constant: C2 compiles the
  // Vector API to machine vectors only for a species it can prove constant, and a species parameter
  // defeats that unless the whole method inlines (measured: 5.5 ms vs 1.0 ms on a MobileNetV2 3x3 layer).

  /**
   * ext[i] = bias + Σ_t w[wOff + t]·phases[base + i + tapOffset[t]] for i in [0, length) rounded up
   * to whole vectors, into scratch[ext …]; four vectors at a time share each broadcast weight.
   */
  private static void taps128(float[] scratch, int base, int[] tapOffset, int taps, float[] w, int wOff, float bias,
      int ext, int length) {
    final int lanes = S128.length();
    final FloatVector bv = FloatVector.broadcast(S128, bias);
    int i = 0;
    for (; i + 3 * lanes < length; i += 4 * lanes) {
      FloatVector acc0 = bv, acc1 = bv, acc2 = bv, acc3 = bv;
      for (int t = 0; t < taps; t++) {
        FloatVector wv = FloatVector.broadcast(S128, w[wOff + t]);
        int o = base + i + tapOffset[t];
        acc0 = FloatVector.fromArray(S128, scratch, o).fma(wv, acc0);
        acc1 = FloatVector.fromArray(S128, scratch, o + lanes).fma(wv, acc1);
        acc2 = FloatVector.fromArray(S128, scratch, o + 2 * lanes).fma(wv, acc2);
        acc3 = FloatVector.fromArray(S128, scratch, o + 3 * lanes).fma(wv, acc3);
      }
      acc0.intoArray(scratch, ext + i);
      acc1.intoArray(scratch, ext + i + lanes);
      acc2.intoArray(scratch, ext + i + 2 * lanes);
      acc3.intoArray(scratch, ext + i + 3 * lanes);
    }
    for (; i < length; i += lanes) {
      FloatVector acc = bv;
      for (int t = 0; t < taps; t++) {
        acc = FloatVector.fromArray(S128, scratch, base + i + tapOffset[t]).fma(FloatVector.broadcast(S128, w[wOff + t]), acc);
      }
      acc.intoArray(scratch, ext + i);
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
      EVEN128.selectFrom(a, b).intoArray(dst, evenDst + col / 2);
      ODD128.selectFrom(a, b).intoArray(dst, oddDst + col / 2);
    }
    if (col < cols) {
      int rest = cols - col;
      FloatVector a = FloatVector.fromArray(S128, x, src + col, S128.indexInRange(col, cols));
      FloatVector b = FloatVector.fromArray(S128, x, src + col + lanes, S128.indexInRange(col + lanes, cols));
      EVEN128.selectFrom(a, b).intoArray(dst, evenDst + col / 2, S128.indexInRange(0, (rest + 1) / 2));
      ODD128.selectFrom(a, b).intoArray(dst, oddDst + col / 2, S128.indexInRange(0, rest / 2));
    }
  }

  /**
   * ext[i] = bias + Σ_t w[wOff + t]·phases[base + i + tapOffset[t]] for i in [0, length) rounded up
   * to whole vectors, into scratch[ext …]; four vectors at a time share each broadcast weight.
   */
  private static void taps256(float[] scratch, int base, int[] tapOffset, int taps, float[] w, int wOff, float bias,
      int ext, int length) {
    final int lanes = S256.length();
    final FloatVector bv = FloatVector.broadcast(S256, bias);
    int i = 0;
    for (; i + 3 * lanes < length; i += 4 * lanes) {
      FloatVector acc0 = bv, acc1 = bv, acc2 = bv, acc3 = bv;
      for (int t = 0; t < taps; t++) {
        FloatVector wv = FloatVector.broadcast(S256, w[wOff + t]);
        int o = base + i + tapOffset[t];
        acc0 = FloatVector.fromArray(S256, scratch, o).fma(wv, acc0);
        acc1 = FloatVector.fromArray(S256, scratch, o + lanes).fma(wv, acc1);
        acc2 = FloatVector.fromArray(S256, scratch, o + 2 * lanes).fma(wv, acc2);
        acc3 = FloatVector.fromArray(S256, scratch, o + 3 * lanes).fma(wv, acc3);
      }
      acc0.intoArray(scratch, ext + i);
      acc1.intoArray(scratch, ext + i + lanes);
      acc2.intoArray(scratch, ext + i + 2 * lanes);
      acc3.intoArray(scratch, ext + i + 3 * lanes);
    }
    for (; i < length; i += lanes) {
      FloatVector acc = bv;
      for (int t = 0; t < taps; t++) {
        acc = FloatVector.fromArray(S256, scratch, base + i + tapOffset[t]).fma(FloatVector.broadcast(S256, w[wOff + t]), acc);
      }
      acc.intoArray(scratch, ext + i);
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
      EVEN256.selectFrom(a, b).intoArray(dst, evenDst + col / 2);
      ODD256.selectFrom(a, b).intoArray(dst, oddDst + col / 2);
    }
    if (col < cols) {
      int rest = cols - col;
      FloatVector a = FloatVector.fromArray(S256, x, src + col, S256.indexInRange(col, cols));
      FloatVector b = FloatVector.fromArray(S256, x, src + col + lanes, S256.indexInRange(col + lanes, cols));
      EVEN256.selectFrom(a, b).intoArray(dst, evenDst + col / 2, S256.indexInRange(0, (rest + 1) / 2));
      ODD256.selectFrom(a, b).intoArray(dst, oddDst + col / 2, S256.indexInRange(0, rest / 2));
    }
  }

  /**
   * ext[i] = bias + Σ_t w[wOff + t]·phases[base + i + tapOffset[t]] for i in [0, length) rounded up
   * to whole vectors, into scratch[ext …]; four vectors at a time share each broadcast weight.
   */
  private static void taps512(float[] scratch, int base, int[] tapOffset, int taps, float[] w, int wOff, float bias,
      int ext, int length) {
    final int lanes = S512.length();
    final FloatVector bv = FloatVector.broadcast(S512, bias);
    int i = 0;
    for (; i + 3 * lanes < length; i += 4 * lanes) {
      FloatVector acc0 = bv, acc1 = bv, acc2 = bv, acc3 = bv;
      for (int t = 0; t < taps; t++) {
        FloatVector wv = FloatVector.broadcast(S512, w[wOff + t]);
        int o = base + i + tapOffset[t];
        acc0 = FloatVector.fromArray(S512, scratch, o).fma(wv, acc0);
        acc1 = FloatVector.fromArray(S512, scratch, o + lanes).fma(wv, acc1);
        acc2 = FloatVector.fromArray(S512, scratch, o + 2 * lanes).fma(wv, acc2);
        acc3 = FloatVector.fromArray(S512, scratch, o + 3 * lanes).fma(wv, acc3);
      }
      acc0.intoArray(scratch, ext + i);
      acc1.intoArray(scratch, ext + i + lanes);
      acc2.intoArray(scratch, ext + i + 2 * lanes);
      acc3.intoArray(scratch, ext + i + 3 * lanes);
    }
    for (; i < length; i += lanes) {
      FloatVector acc = bv;
      for (int t = 0; t < taps; t++) {
        acc = FloatVector.fromArray(S512, scratch, base + i + tapOffset[t]).fma(FloatVector.broadcast(S512, w[wOff + t]), acc);
      }
      acc.intoArray(scratch, ext + i);
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
      EVEN512.selectFrom(a, b).intoArray(dst, evenDst + col / 2);
      ODD512.selectFrom(a, b).intoArray(dst, oddDst + col / 2);
    }
    if (col < cols) {
      int rest = cols - col;
      FloatVector a = FloatVector.fromArray(S512, x, src + col, S512.indexInRange(col, cols));
      FloatVector b = FloatVector.fromArray(S512, x, src + col + lanes, S512.indexInRange(col + lanes, cols));
      EVEN512.selectFrom(a, b).intoArray(dst, evenDst + col / 2, S512.indexInRange(0, (rest + 1) / 2));
      ODD512.selectFrom(a, b).intoArray(dst, oddDst + col / 2, S512.indexInRange(0, rest / 2));
    }
  }
}
