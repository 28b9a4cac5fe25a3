package dev.vfuse.simd;

import dev.vfuse.kernel.Activation;
import dev.vfuse.kernel.ConvTransposeGeometry;
import dev.vfuse.kernel.Int8Weights;
import dev.vfuse.kernel.Parallel;
import dev.vfuse.kernel.PositionOffsets;
import dev.vfuse.kernel.PreparedConv;
import java.util.Arrays;
import java.util.Objects;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Prepared f32 ConvTranspose (any groups, strides, pads, dilation, output padding) as GEMM plus
 * col2im, with the fused epilogue of {@code ConvEpilogue}.
 *
 * <p>With Cg = C/groups input and Kg = K/groups output channels per group, the weight of group g is
 * a Cg × (Kg·R·S) matrix. For image n and group g,
 *
 * <pre>
 *   cols[(k·R + r)·S + s, h·W + w] = Σ_c weight[g·Cg + c, k, r, s] · x[n, g·Cg + c, h, w]      (GEMM)
 *   y[n, g·Kg + k, h·strideH − padTop + r·dilationH, w·strideW − padLeft + s·dilationW] += cols[…]   (col2im)
 * </pre>
 *
 * which is the gather of {@link ConvTransposeGeometry} read as a scatter. The weight is
 * transposed once, in {@link #prepare}, to (Kg·R·S) × Cg per group, so the GEMM reads it
 * row-major.
 *
 * <p>Work is cut into independent tasks that own disjoint blocks of y: (image, group, block of at
 * most {@link #MAX_GEMM_ROWS}/(R·S) output channels, chunk of output rows [p0, p1)). A task
 * computes the columns of only the input rows that reach its output rows (adjacent chunks share a
 * few input rows when R·dilationH &gt; strideH, computed twice), into its worker's scratch slice,
 * zeroes its output tile, scatter-adds the columns that land in it, then runs the epilogue
 * ({@link F32Epilogue}: bias, offsets, residual, activation) on the tile while it is in cache.
 * The chunk height is fixed at prepare time so that a tile of columns is about
 * {@link #COLUMN_BUDGET} floats; when the tasks would be fewer than three per thread it is cut
 * further at run time (smaller tiles fit the same scratch).
 *
 * <p>Precision: the GEMM accumulates over Cg in float with FMA, the col2im adds the taps of an
 * output in float, the bias is added in float: |simd − reference| stays within
 * (L + 2)·2⁻²³·Σ|terms| for L = Cg·(taps reaching the output), as the tests check.
 *
 * <p>Int8 weights ({@link #prepareInt8}) are transposed the same way and kept as bytes, with the K
 * channel scales; each task's GEMM dequantizes its rows of A (q·scale, rounded once to float
 * exactly as {@link Int8Weights#dequantize}) while packing them, which it does anyway, so the result
 * is that of the float kernel on the dequantized weights and no float copy of the weight exists.
 *
 * <p>Allocation per run: the task lambda when it runs on several threads; the GEMM's columns and
 * its packing work space live in the caller's scratch.
 */
final class F32ConvTranspose {

  /** Output channels per task are capped so that a task's GEMM has at most this many rows (MC of the GEMM). */
  static final int MAX_GEMM_ROWS = 144;

  /** Target size in floats of one worker's column tile (256 KB: in L2 while col2im reads it back). */
  static final int COLUMN_BUDGET = 1 << 16;

  private static final VectorSpecies<Float> S128 = FloatVector.SPECIES_128;
  private static final VectorSpecies<Float> S256 = FloatVector.SPECIES_256;
  private static final VectorSpecies<Float> S512 = FloatVector.SPECIES_512;

  private F32ConvTranspose() {}

  /**
   * Prepares the transposed convolution for repeated runs; weight is [C, K/groups, R, S], bias [K]
   * or null, offsets [K, P, Q] or null, activation or null. The arrays must not change afterwards
   * (the weight is copied into its transposed layout; bias and offsets are read at run time).
   */
  static PreparedConv prepare(VectorSpecies<Float> sp, ConvTransposeGeometry g, float[] weight, float[] bias,
      PositionOffsets offsets, Activation activation) {
    return new Prepared(sp, g, weight, null, bias, offsets, activation);
  }

  /** {@link #prepare} with int8 weights in the layout of {@link Int8Weights#convTranspose}, kept as int8. */
  static PreparedConv prepareInt8(VectorSpecies<Float> sp, ConvTransposeGeometry g, Int8Weights weight, float[] bias,
      PositionOffsets offsets, Activation activation) {
    return new Prepared(sp, g, null, weight, bias, offsets, activation);
  }

  private static final class Prepared implements PreparedConv {
    private final VectorSpecies<Float> sp;
    private final F32GemmPacked gemm;
    private final ConvTransposeGeometry g;
    private final float[] weightT; // [groups][Kg·R·S][Cg], or null for int8
    private final byte[] int8T; // the same layout, int8, or null
    private final float[] scales; // [K] for int8, or null
    private final float[] bias;
    private final PositionOffsets offsets;
    private final Activation activation;
    private final int cg, kg, rs, gemmRowsPerGroup;
    private final int channelsPerTask, channelBlocks;
    private final int chunkRows;
    /** Per worker: the GEMM's output columns, then the GEMM's packing work space. */
    private final int columns;
    private final int scratch;
    // Per tap s: the input columns [wLo, wHi) whose output column w·strideW − padLeft + s·dilationW lies in [0, Q).
    private final int[] wLo, wHi;

    Prepared(VectorSpecies<Float> sp, ConvTransposeGeometry g, float[] weight, Int8Weights int8, float[] bias,
        PositionOffsets offsets, Activation activation) {
      this.sp = Objects.requireNonNull(sp, "species");
      this.gemm = new F32GemmPacked(sp);
      this.g = g;
      this.bias = bias;
      this.offsets = offsets;
      this.activation = activation;
      int groups = g.groups();
      this.cg = g.c() / groups;
      this.kg = g.k() / groups;
      this.rs = g.r() * g.s();
      this.gemmRowsPerGroup = kg * rs;
      int size = groups * gemmRowsPerGroup * cg;
      this.weightT = int8 == null ? new float[size] : null;
      this.int8T = int8 == null ? null : new byte[size];
      this.scales = int8 == null ? null : int8.scales();
      for (int grp = 0; grp < groups; grp++) {
        for (int c = 0; c < cg; c++) {
          int src = (grp * cg + c) * gemmRowsPerGroup;
          int dst = grp * gemmRowsPerGroup * cg + c;
          for (int m = 0; m < gemmRowsPerGroup; m++) {
            if (int8 == null) {
              weightT[dst + m * cg] = weight[src + m];
            } else {
              int8T[dst + m * cg] = int8.values()[src + m];
            }
          }
        }
      }
      this.channelsPerTask = Math.clamp(MAX_GEMM_ROWS / rs, 1, kg);
      this.channelBlocks = Math.ceilDiv(kg, channelsPerTask);
      int rowsPerTask = channelsPerTask * rs;
      int chunk = g.p();
      while (chunk > 1 && (long) rowsPerTask * inputRowsBound(chunk) * g.w() > COLUMN_BUDGET) {
        chunk--;
      }
      this.chunkRows = chunk;
      this.columns = rowsPerTask * inputRowsBound(chunk) * g.w();
      this.scratch = columns + gemm.workFloats(rowsPerTask, inputRowsBound(chunk) * g.w(), cg);
      int S = g.s(), W = g.w(), Q = g.q(), sW = g.strideW();
      this.wLo = new int[S];
      this.wHi = new int[S];
      for (int s = 0; s < S; s++) {
        int t = s * g.dilationW() - g.padLeft();
        wLo[s] = Math.clamp(Math.ceilDiv(-t, sW), 0, W);
        wHi[s] = Math.clamp(Math.floorDiv(Q - 1 - t, sW) + 1, wLo[s], W);
      }
    }

    /**
     * At most how many input rows reach a chunk of {@code rows} output rows: input row h reaches
     * output row h·strideH − padTop + r·dilationH, so the rows of a chunk [p0, p0 + rows) come from
     * the h with h·strideH in an interval of length rows − 1 + (R−1)·dilationH.
     */
    private int inputRowsBound(int rows) {
      return Math.min(g.h(), (rows - 1 + (g.r() - 1) * g.dilationH()) / g.strideH() + 1);
    }

    @Override
    public int scratchPerWorker() {
      return scratch;
    }


    @Override
    public void run(float[] x, float[] residual, float[] y, float[] scratchAll, Parallel parallel) {
      int P = g.p();
      int units = g.n() * g.groups() * channelBlocks;
      int rows = chunkRows;
      int wanted = 3 * parallel.threads();
      if (parallel.threads() > 1 && units * Math.ceilDiv(P, rows) < wanted) {
        rows = Math.min(rows, Math.ceilDiv(P, Math.ceilDiv(wanted, units)));
      }
      final int chunkRowsRun = rows;
      final int chunks = Math.ceilDiv(P, rows);
      parallel.forEach(units * chunks,
          (task, worker) -> task(task % chunks, task / chunks, chunkRowsRun, worker, x, residual, y, scratchAll));
    }

    /** Output rows of chunk {@code chunk} for the channel block {@code unit} = (n·groups + group)·channelBlocks + block. */
    private void task(int chunk, int unit, int rowsPerChunk, int worker, float[] x, float[] residual, float[] y,
        float[] scratchAll) {
      final int C = g.c(), H = g.h(), W = g.w(), K = g.k(), R = g.r(), S = g.s(), P = g.p(), Q = g.q();
      final int sH = g.strideH(), sW = g.strideW(), dH = g.dilationH(), padT = g.padTop(), padL = g.padLeft();
      final int dW = g.dilationW();
      int block = unit % channelBlocks;
      int image = unit / channelBlocks / g.groups();
      int group = unit / channelBlocks % g.groups();
      int p0 = chunk * rowsPerChunk;
      int p1 = Math.min(P, p0 + rowsPerChunk);
      int k0 = block * channelsPerTask;
      int kCount = Math.min(kg, k0 + channelsPerTask) - k0;
      int kFirst = group * kg + k0; // first output channel of the task
      int pq = P * Q;
      int tileOff = p0 * Q;
      int tileLen = (p1 - p0) * Q;
      for (int kk = 0; kk < kCount; kk++) {
        int yTile = ((image * K + kFirst + kk) * P + p0) * Q;
        Arrays.fill(y, yTile, yTile + tileLen, 0f);
      }

      // Input rows that reach [p0, p1) through some tap r.
      int hStart = Math.max(0, Math.ceilDiv(p0 + padT - (R - 1) * dH, sH));
      int hEnd = Math.min(H, Math.floorDiv(p1 - 1 + padT, sH) + 1);
      if (hStart < hEnd) {
        int cols = (hEnd - hStart) * W;
        int base = worker * scratch;
        int aOff = (group * gemmRowsPerGroup + k0 * rs) * cg;
        int xOff = (image * C + group * cg) * H * W + hStart * W;
        if (int8T == null) {
          gemm.gemm(false, false, kCount * rs, cols, cg, 1f, weightT, aOff, cg, x, xOff, H * W,
              0f, scratchAll, base, cols, scratchAll, base + columns);
        } else {
          // GEMM row kk·R·S + tap is output channel kFirst + kk
          gemm.gemmInt8A(kCount * rs, cols, cg, 1f, int8T, scales, kFirst, rs, aOff, cg, x, xOff, H * W,
              0f, scratchAll, base, cols, scratchAll, base + columns);
        }
        for (int kk = 0; kk < kCount; kk++) {
          int yPlane = (image * K + kFirst + kk) * pq;
          for (int r = 0; r < R; r++) {
            int shift = padT - r * dH; // p = h·sH − shift
            int hLo = Math.max(hStart, Math.ceilDiv(p0 + shift, sH));
            int hHi = Math.min(hEnd, Math.floorDiv(p1 - 1 + shift, sH) + 1);
            for (int h = hLo; h < hHi; h++) {
              int yRow = yPlane + (h * sH - shift) * Q;
              int colRow = base + (kk * rs + r * S) * cols + (h - hStart) * W;
              for (int s = 0; s < S; s++) {
                int lo = wLo[s];
                int len = wHi[s] - lo;
                if (len <= 0) {
                  continue;
                }
                int src = colRow + s * cols + lo;
                int dst = yRow + lo * sW + s * dW - padL;
                if (sW == 2 && dW == 1 && s + 1 < S && wLo[s + 1] == lo && wHi[s + 1] == wHi[s]) {
                  // taps s and s + 1 fill the even and odd columns of one run: add them interleaved
                  scatterPair(y, dst, scratchAll, src, src + cols, len);
                  s++;
                } else {
                  scatterAdd(sW, y, dst, scratchAll, src, len);
                }
              }
            }
          }
        }
      }

      boolean epilogue = bias != null || offsets != null || residual != null || activation != null;
      if (epilogue) {
        for (int kk = 0; kk < kCount; kk++) {
          int k = kFirst + kk;
          int yTile = (image * K + k) * pq + tileOff;
          F32Epilogue.apply(sp, y, yTile, tileLen, bias != null, bias == null ? 0f : bias[k],
              offsets, k, tileOff, residual, yTile, activation);
        }
      }
    }

    /** y[dst + i·stride] += c[src + i] for i in [0, len). */
    private void scatterAdd(int stride, float[] y, int dst, float[] c, int src, int len) {
      if (stride == 1) {
        switch (sp.vectorBitSize()) {
          case 128 -> addRun128(y, dst, c, src, len);
          case 256 -> addRun256(y, dst, c, src, len);
          default -> addRun512(y, dst, c, src, len);
        }
      } else if (stride == 2) {
        switch (sp.vectorBitSize()) {
          case 128 -> addEven128(y, dst, c, src, len);
          case 256 -> addEven256(y, dst, c, src, len);
          default -> addEven512(y, dst, c, src, len);
        }
      } else {
        for (int i = 0; i < len; i++) {
          y[dst + i * stride] += c[src + i];
        }
      }
    }

    /** y[dst + 2i] += c[a + i] and y[dst + 2i + 1] += c[b + i] for i in [0, len). */
    private void scatterPair(float[] y, int dst, float[] c, int a, int b, int len) {
      switch (sp.vectorBitSize()) {
        case 128 -> addPair128(y, dst, c, a, b, len);
        case 256 -> addPair256(y, dst, c, a, b, len);
        default -> addPair512(y, dst, c, a, b, len);
      }
    }
  }

  // Lane j of a zipped half takes lane j/2 (low) or L/2 + j/2 (high) of its source: each source lane twice.
  private static final VectorShuffle<Float> ZIP_LO_128 = zip(S128, 0);
  private static final VectorShuffle<Float> ZIP_HI_128 = zip(S128, 1);
  private static final VectorShuffle<Float> ZIP_LO_256 = zip(S256, 0);
  private static final VectorShuffle<Float> ZIP_HI_256 = zip(S256, 1);
  private static final VectorShuffle<Float> ZIP_LO_512 = zip(S512, 0);
  private static final VectorShuffle<Float> ZIP_HI_512 = zip(S512, 1);
  private static final VectorMask<Float> ODD_128 = odd(S128);
  private static final VectorMask<Float> ODD_256 = odd(S256);
  private static final VectorMask<Float> ODD_512 = odd(S512);

  private static VectorShuffle<Float> zip(VectorSpecies<Float> sp, int half) {
    return VectorShuffle.fromOp(sp, j -> half * sp.length() / 2 + j / 2);
  }

  private static VectorMask<Float> odd(VectorSpecies<Float> sp) {
    return VectorMask.fromLong(sp, 0xAAAA_AAAA_AAAA_AAAAL);
  }

  // Per-width copies on static final species (C2 emits vector code only for a constant species).

  private static void addRun128(float[] y, int dst, float[] c, int src, int len) {
    final VectorSpecies<Float> sp = S128;
    int i = 0;
    for (int bound = sp.loopBound(len); i < bound; i += sp.length()) {
      FloatVector.fromArray(sp, y, dst + i).add(FloatVector.fromArray(sp, c, src + i)).intoArray(y, dst + i);
    }
    for (; i < len; i++) {
      y[dst + i] += c[src + i];
    }
  }

  private static void addRun256(float[] y, int dst, float[] c, int src, int len) {
    final VectorSpecies<Float> sp = S256;
    int i = 0;
    for (int bound = sp.loopBound(len); i < bound; i += sp.length()) {
      FloatVector.fromArray(sp, y, dst + i).add(FloatVector.fromArray(sp, c, src + i)).intoArray(y, dst + i);
    }
    for (; i < len; i++) {
      y[dst + i] += c[src + i];
    }
  }

  private static void addRun512(float[] y, int dst, float[] c, int src, int len) {
    final VectorSpecies<Float> sp = S512;
    int i = 0;
    for (int bound = sp.loopBound(len); i < bound; i += sp.length()) {
      FloatVector.fromArray(sp, y, dst + i).add(FloatVector.fromArray(sp, c, src + i)).intoArray(y, dst + i);
    }
    for (; i < len; i++) {
      y[dst + i] += c[src + i];
    }
  }

  private static void addEven128(float[] y, int dst, float[] c, int src, int len) {
    final VectorSpecies<Float> sp = S128;
    final VectorMask<Float> even = ODD_128.not();
    final int lanes = sp.length();
    int i = 0;
    for (int bound = sp.loopBound(len); i < bound; i += lanes) {
      FloatVector v = FloatVector.fromArray(sp, c, src + i);
      int o = dst + 2 * i;
      FloatVector.fromArray(sp, y, o).add(v.rearrange(ZIP_LO_128)).intoArray(y, o, even);
      FloatVector.fromArray(sp, y, o + lanes).add(v.rearrange(ZIP_HI_128)).intoArray(y, o + lanes, even);
    }
    for (; i < len; i++) {
      y[dst + 2 * i] += c[src + i];
    }
  }

  private static void addPair128(float[] y, int dst, float[] c, int a, int b, int len) {
    final VectorSpecies<Float> sp = S128;
    final VectorMask<Float> odd = ODD_128;
    final int lanes = sp.length();
    int i = 0;
    for (int bound = sp.loopBound(len); i < bound; i += lanes) {
      FloatVector va = FloatVector.fromArray(sp, c, a + i);
      FloatVector vb = FloatVector.fromArray(sp, c, b + i);
      int o = dst + 2 * i;
      FloatVector lo = va.rearrange(ZIP_LO_128).blend(vb.rearrange(ZIP_LO_128), odd);
      FloatVector hi = va.rearrange(ZIP_HI_128).blend(vb.rearrange(ZIP_HI_128), odd);
      FloatVector.fromArray(sp, y, o).add(lo).intoArray(y, o);
      FloatVector.fromArray(sp, y, o + lanes).add(hi).intoArray(y, o + lanes);
    }
    for (; i < len; i++) {
      y[dst + 2 * i] += c[a + i];
      y[dst + 2 * i + 1] += c[b + i];
    }
  }

  private static void addEven256(float[] y, int dst, float[] c, int src, int len) {
    final VectorSpecies<Float> sp = S256;
    final VectorMask<Float> even = ODD_256.not();
    final int lanes = sp.length();
    int i = 0;
    for (int bound = sp.loopBound(len); i < bound; i += lanes) {
      FloatVector v = FloatVector.fromArray(sp, c, src + i);
      int o = dst + 2 * i;
      FloatVector.fromArray(sp, y, o).add(v.rearrange(ZIP_LO_256)).intoArray(y, o, even);
      FloatVector.fromArray(sp, y, o + lanes).add(v.rearrange(ZIP_HI_256)).intoArray(y, o + lanes, even);
    }
    for (; i < len; i++) {
      y[dst + 2 * i] += c[src + i];
    }
  }

  private static void addPair256(float[] y, int dst, float[] c, int a, int b, int len) {
    final VectorSpecies<Float> sp = S256;
    final VectorMask<Float> odd = ODD_256;
    final int lanes = sp.length();
    int i = 0;
    for (int bound = sp.loopBound(len); i < bound; i += lanes) {
      FloatVector va = FloatVector.fromArray(sp, c, a + i);
      FloatVector vb = FloatVector.fromArray(sp, c, b + i);
      int o = dst + 2 * i;
      FloatVector lo = va.rearrange(ZIP_LO_256).blend(vb.rearrange(ZIP_LO_256), odd);
      FloatVector hi = va.rearrange(ZIP_HI_256).blend(vb.rearrange(ZIP_HI_256), odd);
      FloatVector.fromArray(sp, y, o).add(lo).intoArray(y, o);
      FloatVector.fromArray(sp, y, o + lanes).add(hi).intoArray(y, o + lanes);
    }
    for (; i < len; i++) {
      y[dst + 2 * i] += c[a + i];
      y[dst + 2 * i + 1] += c[b + i];
    }
  }

  private static void addEven512(float[] y, int dst, float[] c, int src, int len) {
    final VectorSpecies<Float> sp = S512;
    final VectorMask<Float> even = ODD_512.not();
    final int lanes = sp.length();
    int i = 0;
    for (int bound = sp.loopBound(len); i < bound; i += lanes) {
      FloatVector v = FloatVector.fromArray(sp, c, src + i);
      int o = dst + 2 * i;
      FloatVector.fromArray(sp, y, o).add(v.rearrange(ZIP_LO_512)).intoArray(y, o, even);
      FloatVector.fromArray(sp, y, o + lanes).add(v.rearrange(ZIP_HI_512)).intoArray(y, o + lanes, even);
    }
    for (; i < len; i++) {
      y[dst + 2 * i] += c[src + i];
    }
  }

  private static void addPair512(float[] y, int dst, float[] c, int a, int b, int len) {
    final VectorSpecies<Float> sp = S512;
    final VectorMask<Float> odd = ODD_512;
    final int lanes = sp.length();
    int i = 0;
    for (int bound = sp.loopBound(len); i < bound; i += lanes) {
      FloatVector va = FloatVector.fromArray(sp, c, a + i);
      FloatVector vb = FloatVector.fromArray(sp, c, b + i);
      int o = dst + 2 * i;
      FloatVector lo = va.rearrange(ZIP_LO_512).blend(vb.rearrange(ZIP_LO_512), odd);
      FloatVector hi = va.rearrange(ZIP_HI_512).blend(vb.rearrange(ZIP_HI_512), odd);
      FloatVector.fromArray(sp, y, o).add(lo).intoArray(y, o);
      FloatVector.fromArray(sp, y, o + lanes).add(hi).intoArray(y, o + lanes);
    }
    for (; i < len; i++) {
      y[dst + 2 * i] += c[a + i];
      y[dst + 2 * i + 1] += c[b + i];
    }
  }
}
