package dev.vfuse.simd;

import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.D2F;
import static jdk.incubator.vector.VectorOperators.EQ;
import static jdk.incubator.vector.VectorOperators.F2D;
import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.LSHR;
import static jdk.incubator.vector.VectorOperators.MAX;
import static jdk.incubator.vector.VectorOperators.MIN;

import dev.vfuse.kernel.PoolGeometry;
import java.util.Arrays;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * MaxPool, AveragePool and GlobalAveragePool on the Vector API, bit-identical to
 * {@code ReferenceKernels} (NaN payloads aside).
 *
 * <p><b>Max pooling</b>, vectorized along the output row: lane i of a vector holds output column
 * q + i and starts at −∞; the taps are visited in the reference's (r, s) order and each one does
 * {@code m = v > m ? v : m} lane by lane (compare GT and blend). That is the reference's
 * {@code if (v > m) m = v} per lane, so NaN inputs are skipped, a window with no number gives −∞,
 * and among +0.0 and −0.0 the first in (r, s) order wins, exactly as in the reference. (MAX would
 * propagate NaN and order the zeros.)
 *
 * <p><b>Average pooling</b>: the reference sums each window in double in (r, s) order and divides
 * the double sum by the count, rounding once. Floats widen to double exactly, so the vector kernel
 * does the same per lane: it widens the taps to double vectors (half as many lanes as the float
 * species), adds them in (r, s) order, divides by the count in double and narrows to float; each
 * lane performs the reference's operations, in its order, with IEEE rounding. No reassociation
 * anywhere, hence bit-identical.
 *
 * <p>Both walk the output row in three parts: the columns [0, qA) and [qB, Q) whose window crosses
 * the left or right edge of the input (padding, ceil mode) run the scalar reference code; the
 * interior columns, where every horizontal tap lands inside the input, run as vectors (full ones,
 * then one masked tail). Rows cut by the top or bottom edge stay vectorized: only the in-range taps
 * r in [rFirst, rEnd) are visited, and the count of average pooling is constant along the row.
 * Loads by horizontal stride: 1 reads the input run in place; 2 loads two vectors and picks the
 * even lanes with two single-vector permutes and a blend (no gather); any other stride gathers.
 *
 * <p><b>Global average pooling</b> ({@code y[i] = (float) (Σ_j x[i·spatial + j] / spatial)}, the
 * reference summing in double in j order) sums each plane with contiguous vector loads, in vector
 * order, which equals the sequential sum whenever every double addition of it is exact, in any
 * order. The kernel proves that per group of planes from the exponents it sees along the way, and
 * recomputes the (rare) groups it cannot prove with the reference's sequential loop. The argument,
 * for the elements of one plane (a group's range contains each of its planes' ranges):
 *
 * <ul>
 *   <li>Let the finite nonzero elements have biased exponent fields (subnormals counted as 1) in
 *       [eMin, eMax]. Each is an integer multiple of 2^(eMin−150), below 2^(eMax−126) in magnitude.
 *       Every partial sum of n of them, in any order, is a multiple of 2^(eMin−150) below
 *       n·2^(eMax−126) ≤ 2^(⌈log2 n⌉ + eMax − eMin + 24)·2^(eMin−150), so it is exactly
 *       representable in double (53-bit significand) when eMax − eMin ≤ 29 − ⌈log2 n⌉. Then every
 *       double addition, of the reference and of the vector code, returns the exact sum, and both
 *       end with the same double. (For n = 49 that allows 23 binades between the largest and the
 *       smallest nonzero element, for n = 12800 fifteen.)
 *   <li>Zeros: both start from +0.0, and in round-to-nearest a sum of exact-zero value is −0.0
 *       only if both addends are −0.0, so neither can produce −0.0: the signs agree.
 *   <li>NaN and ±∞ (excluded from the exponent range): finite partial sums stay below 2^160, so
 *       nothing overflows, and the result is NaN if any element is NaN or both infinities occur,
 *       else the infinity that occurs, whatever the order.
 * </ul>
 *
 * Equal sums give equal quotients sum / spatial and equal roundings to float.
 *
 * <p>The hot loops exist once per width (suffixes 128, 256, 512), each on {@code static final}
 * species: C2 emits vector instructions only for a species it can prove constant. The copies
 * are textually identical apart from the width suffix of their constants: change all three
 * together. Stateless; the only allocation is a gather index map per call for horizontal strides
 * above 2, never inside the loops.
 */
final class F32Pool {

  private F32Pool() {}

  private static final VectorSpecies<Float> F128 = FloatVector.SPECIES_128;
  private static final VectorSpecies<Float> F256 = FloatVector.SPECIES_256;
  private static final VectorSpecies<Float> F512 = FloatVector.SPECIES_512;

  // Float species with as many lanes as the double species of the same width: the floats of a double vector.
  private static final VectorSpecies<Float> H128 = FloatVector.SPECIES_64;
  private static final VectorSpecies<Float> H256 = FloatVector.SPECIES_128;
  private static final VectorSpecies<Float> H512 = FloatVector.SPECIES_256;

  private static final VectorSpecies<Double> D128 = DoubleVector.SPECIES_128;
  private static final VectorSpecies<Double> D256 = DoubleVector.SPECIES_256;
  private static final VectorSpecies<Double> D512 = DoubleVector.SPECIES_512;

  private static final VectorSpecies<Integer> I128 = IntVector.SPECIES_128;
  private static final VectorSpecies<Integer> I256 = IntVector.SPECIES_256;
  private static final VectorSpecies<Integer> I512 = IntVector.SPECIES_512;

  // Lane i takes lane 2i mod L: the even lanes of a vector, in its low half and again in its high half.
  private static final VectorShuffle<Float> EVEN128 = evenLanes(F128);
  private static final VectorShuffle<Float> EVEN256 = evenLanes(F256);
  private static final VectorShuffle<Float> EVEN512 = evenLanes(F512);

  // The high half of the lanes.
  private static final VectorMask<Float> HIGH128 = highHalf(F128);
  private static final VectorMask<Float> HIGH256 = highHalf(F256);
  private static final VectorMask<Float> HIGH512 = highHalf(F512);

  private static VectorShuffle<Float> evenLanes(VectorSpecies<Float> sp) {
    return VectorShuffle.fromOp(sp, i -> (2 * i) % sp.length());
  }

  private static VectorMask<Float> highHalf(VectorSpecies<Float> sp) {
    int lanes = sp.length();
    return VectorMask.fromLong(sp, ((1L << lanes) - 1) & -(1L << (lanes / 2)));
  }

  // ---------------------------------------------------------------- entry points

  /** ONNX MaxPool with the reference's semantics (NaN skipped, −∞ for an empty window). */
  static void maxPool2d(VectorSpecies<Float> sp, PoolGeometry g, float[] x, float[] y) {
    pool(sp, g, true, false, x, y);
  }

  /** ONNX AveragePool with the reference's semantics (double sum, one rounding, 0 for an empty window). */
  static void avgPool2d(VectorSpecies<Float> sp, PoolGeometry g, boolean countIncludePad, float[] x, float[] y) {
    pool(sp, g, false, countIncludePad, x, y);
  }

  /**
   * y[i] = (float) (Σ_j x[i·spatial + j] / spatial) for i in [0, planes), equal to the reference's
   * sequential double sum: vector sums for the planes the class comment's exactness test accepts,
   * the sequential loop for the others.
   */
  static void globalAvgPool(VectorSpecies<Float> sp, int planes, int spatial, float[] x, float[] y) {
    int ceilLog2 = 32 - Integer.numberOfLeadingZeros(spatial - 1);
    int maxSpan = 29 - ceilLog2;
    switch (sp.vectorBitSize()) {
      case 128 -> gap128(planes, spatial, x, y, maxSpan);
      case 256 -> gap256(planes, spatial, x, y, maxSpan);
      case 512 -> gap512(planes, spatial, x, y, maxSpan);
      default -> throw new IllegalArgumentException("unsupported species " + sp);
    }
  }

  /**
   * Planes per exponent-range test of global average pooling: up to 8 small planes share one test
   * (its horizontal reductions cost about as much as summing 49 elements), a plane of 512 elements
   * or more has its own (a failed test redoes its whole group sequentially).
   */
  private static int gapGroup(int spatial) {
    return Math.clamp(512 / spatial, 1, 8);
  }

  /** The reference's mean of x[base … base + spatial): a sequential double sum, one division, one rounding. */
  private static float sequentialMean(float[] x, int base, int spatial) {
    double sum = 0.0;
    for (int j = base; j < base + spatial; j++) {
      sum += x[j];
    }
    return (float) (sum / spatial);
  }

  // ---------------------------------------------------------------- window walk

  private static void pool(VectorSpecies<Float> sp, PoolGeometry g, boolean max, boolean countIncludePad, float[] x,
      float[] y) {
    final int H = g.h(), W = g.w(), R = g.r(), S = g.s(), P = g.p(), Q = g.q();
    final int sH = g.strideH(), sW = g.strideW(), dH = g.dilationH(), dW = g.dilationW();
    final int padT = g.padTop(), padL = g.padLeft();
    final int paddedH = padT + H + g.padBottom();
    final int paddedW = padL + W + g.padRight();
    final int bits = sp.vectorBitSize();
    if (bits != 128 && bits != 256 && bits != 512) {
      throw new IllegalArgumentException("unsupported species " + sp);
    }
    // Interior columns [qA, qB): q·sW − padL ≥ 0 and q·sW − padL + (S−1)·dW ≤ W − 1.
    final int qA = Math.min(Q, Math.ceilDiv(padL, sW));
    final int qB = Math.clamp(Math.floorDiv(W - 1 - (S - 1) * dW + padL, sW) + 1, qA, Q);
    final int[] maps = sW > 2 ? gatherMaps(sp.length(), sW) : null;
    final int rowStep = dH * W;
    for (int plane = 0; plane < g.n() * g.c(); plane++) {
      int xPlane = plane * H * W;
      int yPlane = plane * P * Q;
      for (int p = 0; p < P; p++) {
        int h0 = p * sH - padT;
        int rFirst = first(h0, dH, R);
        int rEnd = end(h0, dH, H, R);
        int yRow = yPlane + p * Q;
        if (rFirst >= rEnd) {
          // No row of the window is in the input: every window of the row is empty.
          Arrays.fill(y, yRow, yRow + Q, max ? Float.NEGATIVE_INFINITY : 0f);
          continue;
        }
        // Element (r, s) of the window of output column q: x[rowBase + r·rowStep + q·sW + s·dW].
        int rowBase = xPlane + h0 * W - padL;
        if (max) {
          for (int q = 0; q < qA; q++) {
            y[yRow + q] = maxAt(x, xPlane, W, h0, dH, rFirst, rEnd, q * sW - padL, dW, S);
          }
          switch (bits) {
            case 128 -> maxRow128(x, rowBase, rowStep, rFirst, rEnd, S, dW, sW, maps, qA, qB, y, yRow);
            case 256 -> maxRow256(x, rowBase, rowStep, rFirst, rEnd, S, dW, sW, maps, qA, qB, y, yRow);
            default -> maxRow512(x, rowBase, rowStep, rFirst, rEnd, S, dW, sW, maps, qA, qB, y, yRow);
          }
          for (int q = qB; q < Q; q++) {
            y[yRow + q] = maxAt(x, xPlane, W, h0, dH, rFirst, rEnd, q * sW - padL, dW, S);
          }
        } else {
          int rCount = countIncludePad ? count(h0 + padT, dH, paddedH, R) : rEnd - rFirst;
          // Interior windows have all S columns inside the input (hence inside the padded input).
          double interiorCount = (double) rCount * S;
          for (int q = 0; q < qA; q++) {
            y[yRow + q] = avgAt(x, xPlane, W, h0, dH, rFirst, rEnd, q * sW - padL, dW, S, countIncludePad, rCount,
                padL, paddedW);
          }
          switch (bits) {
            case 128 -> avgRow128(x, rowBase, rowStep, rFirst, rEnd, S, dW, sW, maps, qA, qB, interiorCount, y, yRow);
            case 256 -> avgRow256(x, rowBase, rowStep, rFirst, rEnd, S, dW, sW, maps, qA, qB, interiorCount, y, yRow);
            default -> avgRow512(x, rowBase, rowStep, rFirst, rEnd, S, dW, sW, maps, qA, qB, interiorCount, y, yRow);
          }
          for (int q = qB; q < Q; q++) {
            y[yRow + q] = avgAt(x, xPlane, W, h0, dH, rFirst, rEnd, q * sW - padL, dW, S, countIncludePad, rCount,
                padL, paddedW);
          }
        }
      }
    }
  }

  /** One max-pool output, the reference's loop: column taps [sFirst, sEnd) of the window starting at w0. */
  private static float maxAt(float[] x, int xPlane, int W, int h0, int dH, int rFirst, int rEnd, int w0, int dW,
      int S) {
    int sFirst = first(w0, dW, S);
    int sEnd = end(w0, dW, W, S);
    float m = Float.NEGATIVE_INFINITY;
    for (int r = rFirst; r < rEnd; r++) {
      int xRow = xPlane + (h0 + r * dH) * W + w0;
      for (int s = sFirst; s < sEnd; s++) {
        float v = x[xRow + s * dW];
        if (v > m) {
          m = v;
        }
      }
    }
    return m;
  }

  /** One average-pool output, the reference's loop and count; rows [rFirst, rEnd) are not empty. */
  private static float avgAt(float[] x, int xPlane, int W, int h0, int dH, int rFirst, int rEnd, int w0, int dW,
      int S, boolean countIncludePad, int rCount, int padL, int paddedW) {
    int sFirst = first(w0, dW, S);
    int sEnd = end(w0, dW, W, S);
    double sum = 0.0;
    for (int r = rFirst; r < rEnd; r++) {
      int xRow = xPlane + (h0 + r * dH) * W + w0;
      for (int s = sFirst; s < sEnd; s++) {
        sum += x[xRow + s * dW];
      }
    }
    int count = countIncludePad ? rCount * count(w0 + padL, dW, paddedW, S) : rCount * Math.max(0, sEnd - sFirst);
    return count == 0 ? 0f : (float) (sum / count);
  }

  /** The first tap t ≥ 0 with start + t·dilation ≥ 0, at most taps. */
  private static int first(int start, int dilation, int taps) {
    return start >= 0 ? 0 : Math.min(taps, Math.ceilDiv(-start, dilation));
  }

  /** One past the last tap t &lt; taps with start + t·dilation &lt; size, at least 0. */
  private static int end(int start, int dilation, int size, int taps) {
    return Math.clamp(Math.floorDiv(size - 1 - start, dilation) + 1, 0, taps);
  }

  /** How many taps land inside [0, size). */
  private static int count(int start, int dilation, int size, int taps) {
    return Math.max(0, end(start, dilation, size, taps) - first(start, dilation, taps));
  }

  /**
   * Gather maps of strided runs, segments of {@code lanes} entries:
   * segment c (1 ≤ c ≤ lanes) is {0, stride, …, (c−1)·stride, 0, …, 0}, the first c elements of the
   * run and in-range dummies after them. (A masked gather still range-checks its unset lanes, so a
   * tail reads element 0 of the run there instead.)
   */
  private static int[] gatherMaps(int lanes, int stride) {
    int[] maps = new int[(lanes + 1) * lanes];
    for (int c = 1; c <= lanes; c++) {
      for (int i = 0; i < c; i++) {
        maps[c * lanes + i] = i * stride;
      }
    }
    return maps;
  }

  /** How far past its first element a full vector of lanes outputs reads, at horizontal stride sW. */
  private static int reach(int lanes, int sW) {
    return sW == 2 ? 2 * lanes - 1 : (lanes - 1) * sW;
  }


  // ---------------------------------------------------------------- 128-bit copies

  /**
   * Max pool, output columns [qA, qB) of one row: full vectors while their loads stay inside x,
   * then masked ones. The loads are written out here, not in helpers: a helper compiled on its own
   * first is not inlined later ("already compiled into a big method"), and then every vector is boxed.
   */
  private static void maxRow128(float[] x, int rowBase, int rowStep, int rFirst, int rEnd, int S, int dW, int sW,
      int[] maps, int qA, int qB, float[] y, int yRow) {
    final VectorSpecies<Float> sp = F128;
    final VectorShuffle<Float> even = EVEN128;
    final VectorMask<Float> high = HIGH128;
    final int lanes = sp.length();
    final FloatVector empty = FloatVector.broadcast(sp, Float.NEGATIVE_INFINITY);
    // Last element the last vector of the row may read, relative to rowBase + q·sW.
    final int last = (rEnd - 1) * rowStep + (S - 1) * dW + reach(lanes, sW);
    int q = qA;
    for (; q + lanes <= qB && rowBase + q * sW + last < x.length; q += lanes) {
      FloatVector m = empty;
      for (int r = rFirst; r < rEnd; r++) {
        int xr = rowBase + r * rowStep + q * sW;
        for (int s = 0; s < S; s++) {
          int o = xr + s * dW;
          FloatVector v;
          if (sW == 1) {
            v = FloatVector.fromArray(sp, x, o);
          } else if (sW == 2) {
            v = FloatVector.fromArray(sp, x, o).rearrange(even)
                .blend(FloatVector.fromArray(sp, x, o + lanes).rearrange(even), high);
          } else {
            v = FloatVector.fromArray(sp, x, o, maps, lanes * lanes);
          }
          m = m.blend(v, v.compare(GT, m));
        }
      }
      m.intoArray(y, yRow + q);
    }
    for (; q < qB; q += lanes) {
      int count = Math.min(lanes, qB - q);
      VectorMask<Float> part = sp.indexInRange(0, count);
      VectorMask<Float> lo = sp.indexInRange(0, 2 * count - 1);
      VectorMask<Float> hi = sp.indexInRange(lanes, 2 * count - 1);
      FloatVector m = empty;
      for (int r = rFirst; r < rEnd; r++) {
        int xr = rowBase + r * rowStep + q * sW;
        for (int s = 0; s < S; s++) {
          int o = xr + s * dW;
          FloatVector v;
          if (sW == 1) {
            v = FloatVector.fromArray(sp, x, o, part);
          } else if (sW == 2) {
            v = FloatVector.fromArray(sp, x, o, lo).rearrange(even)
                .blend(FloatVector.fromArray(sp, x, o + lanes, hi).rearrange(even), high);
          } else {
            v = FloatVector.fromArray(sp, x, o, maps, count * lanes);
          }
          m = m.blend(v, v.compare(GT, m));
        }
      }
      m.intoArray(y, yRow + q, part);
    }
  }

  /** Average pool, output columns [qA, qB) of one row, in double vectors of half the float lanes; loads as in {@link #maxRow128}. */
  private static void avgRow128(float[] x, int rowBase, int rowStep, int rFirst, int rEnd, int S, int dW, int sW,
      int[] maps, int qA, int qB, double count, float[] y, int yRow) {
    final VectorSpecies<Float> sp = F128;
    final VectorSpecies<Float> hp = H128;
    final VectorSpecies<Double> dp = D128;
    final VectorShuffle<Float> even = EVEN128;
    final int lanes = dp.length();
    final int mapWidth = sp.length();
    final int last = (rEnd - 1) * rowStep + (S - 1) * dW + reach(lanes, sW);
    int q = qA;
    for (; q + lanes <= qB && rowBase + q * sW + last < x.length; q += lanes) {
      DoubleVector sum = DoubleVector.zero(dp);
      for (int r = rFirst; r < rEnd; r++) {
        int xr = rowBase + r * rowStep + q * sW;
        for (int s = 0; s < S; s++) {
          int o = xr + s * dW;
          DoubleVector v;
          if (sW == 1) {
            v = (DoubleVector) FloatVector.fromArray(hp, x, o).convertShape(F2D, dp, 0);
          } else if (sW == 2) {
            v = (DoubleVector) FloatVector.fromArray(sp, x, o).rearrange(even).convertShape(F2D, dp, 0);
          } else {
            v = (DoubleVector) FloatVector.fromArray(hp, x, o, maps, lanes * mapWidth).convertShape(F2D, dp, 0);
          }
          sum = sum.add(v);
        }
      }
      ((FloatVector) sum.div(count).convertShape(D2F, hp, 0)).intoArray(y, yRow + q);
    }
    for (; q < qB; q += lanes) {
      int part = Math.min(lanes, qB - q);
      VectorMask<Float> partMask = hp.indexInRange(0, part);
      VectorMask<Float> pairMask = sp.indexInRange(0, 2 * part - 1);
      DoubleVector sum = DoubleVector.zero(dp);
      for (int r = rFirst; r < rEnd; r++) {
        int xr = rowBase + r * rowStep + q * sW;
        for (int s = 0; s < S; s++) {
          int o = xr + s * dW;
          DoubleVector v;
          if (sW == 1) {
            v = (DoubleVector) FloatVector.fromArray(hp, x, o, partMask).convertShape(F2D, dp, 0);
          } else if (sW == 2) {
            v = (DoubleVector) FloatVector.fromArray(sp, x, o, pairMask).rearrange(even).convertShape(F2D, dp, 0);
          } else {
            v = (DoubleVector) FloatVector.fromArray(hp, x, o, maps, part * mapWidth).convertShape(F2D, dp, 0);
          }
          sum = sum.add(v);
        }
      }
      ((FloatVector) sum.div(count).convertShape(D2F, hp, 0)).intoArray(y, yRow + q, partMask);
    }
  }

  /**
   * Global average pool, in groups of {@link #gapGroup} planes: per plane the double sum in vector
   * order (two accumulators of half the float lanes each), per group the exponent range of the
   * finite nonzero elements. When the range is at most maxSpan (see the class comment) every plane
   * of the group is exact and keeps its vector sum; otherwise the group is redone sequentially.
   */
  private static void gap128(int planes, int spatial, float[] x, float[] y, int maxSpan) {
    final VectorSpecies<Float> sp = F128;
    final VectorSpecies<Float> hp = H128;
    final VectorSpecies<Double> dp = D128;
    final VectorSpecies<Integer> ip = I128;
    final int lanes = sp.length();
    final int half = hp.length();
    final int bound = spatial - spatial % lanes;
    final VectorMask<Float> tail = sp.indexInRange(bound, spatial);
    final VectorMask<Float> tail0 = hp.indexInRange(bound, spatial);
    final VectorMask<Float> tail1 = hp.indexInRange(bound + half, spatial);
    final int group = gapGroup(spatial);
    for (int g = 0; g < planes; g += group) {
      int gEnd = Math.min(planes, g + group);
      IntVector top = IntVector.zero(ip);
      IntVector bottom = IntVector.broadcast(ip, 255);
      for (int i = g; i < gEnd; i++) {
        int base = i * spatial;
        DoubleVector sum0 = DoubleVector.zero(dp);
        DoubleVector sum1 = DoubleVector.zero(dp);
        for (int j = 0; j < bound; j += lanes) {
          IntVector bits = FloatVector.fromArray(sp, x, base + j).reinterpretAsInts();
          IntVector exponent = bits.lanewise(LSHR, 23).and(0xff).max(1);
          top = top.max(exponent.blend(0, exponent.compare(EQ, 255)));
          bottom = bottom.min(exponent.blend(255, bits.and(0x7fff_ffff).compare(EQ, 0)));
          sum0 = sum0.add(FloatVector.fromArray(hp, x, base + j).convertShape(F2D, dp, 0));
          sum1 = sum1.add(FloatVector.fromArray(hp, x, base + j + half).convertShape(F2D, dp, 0));
        }
        if (bound < spatial) {
          int j = base + bound;
          IntVector bits = FloatVector.fromArray(sp, x, j, tail).reinterpretAsInts();
          IntVector exponent = bits.lanewise(LSHR, 23).and(0xff).max(1);
          top = top.max(exponent.blend(0, exponent.compare(EQ, 255)));
          bottom = bottom.min(exponent.blend(255, bits.and(0x7fff_ffff).compare(EQ, 0)));
          sum0 = sum0.add(FloatVector.fromArray(hp, x, j, tail0).convertShape(F2D, dp, 0));
          sum1 = sum1.add(FloatVector.fromArray(hp, x, j + half, tail1).convertShape(F2D, dp, 0));
        }
        y[i] = (float) (sum0.add(sum1).reduceLanes(ADD) / spatial);
      }
      if (top.reduceLanes(MAX) - bottom.reduceLanes(MIN) > maxSpan) {
        for (int i = g; i < gEnd; i++) {
          y[i] = sequentialMean(x, i * spatial, spatial);
        }
      }
    }
  }

  // ---------------------------------------------------------------- 256-bit copies

  /**
   * Max pool, output columns [qA, qB) of one row: full vectors while their loads stay inside x,
   * then masked ones. The loads are written out here, not in helpers: a helper compiled on its own
   * first is not inlined later ("already compiled into a big method"), and then every vector is boxed.
   */
  private static void maxRow256(float[] x, int rowBase, int rowStep, int rFirst, int rEnd, int S, int dW, int sW,
      int[] maps, int qA, int qB, float[] y, int yRow) {
    final VectorSpecies<Float> sp = F256;
    final VectorShuffle<Float> even = EVEN256;
    final VectorMask<Float> high = HIGH256;
    final int lanes = sp.length();
    final FloatVector empty = FloatVector.broadcast(sp, Float.NEGATIVE_INFINITY);
    // Last element the last vector of the row may read, relative to rowBase + q·sW.
    final int last = (rEnd - 1) * rowStep + (S - 1) * dW + reach(lanes, sW);
    int q = qA;
    for (; q + lanes <= qB && rowBase + q * sW + last < x.length; q += lanes) {
      FloatVector m = empty;
      for (int r = rFirst; r < rEnd; r++) {
        int xr = rowBase + r * rowStep + q * sW;
        for (int s = 0; s < S; s++) {
          int o = xr + s * dW;
          FloatVector v;
          if (sW == 1) {
            v = FloatVector.fromArray(sp, x, o);
          } else if (sW == 2) {
            v = FloatVector.fromArray(sp, x, o).rearrange(even)
                .blend(FloatVector.fromArray(sp, x, o + lanes).rearrange(even), high);
          } else {
            v = FloatVector.fromArray(sp, x, o, maps, lanes * lanes);
          }
          m = m.blend(v, v.compare(GT, m));
        }
      }
      m.intoArray(y, yRow + q);
    }
    for (; q < qB; q += lanes) {
      int count = Math.min(lanes, qB - q);
      VectorMask<Float> part = sp.indexInRange(0, count);
      VectorMask<Float> lo = sp.indexInRange(0, 2 * count - 1);
      VectorMask<Float> hi = sp.indexInRange(lanes, 2 * count - 1);
      FloatVector m = empty;
      for (int r = rFirst; r < rEnd; r++) {
        int xr = rowBase + r * rowStep + q * sW;
        for (int s = 0; s < S; s++) {
          int o = xr + s * dW;
          FloatVector v;
          if (sW == 1) {
            v = FloatVector.fromArray(sp, x, o, part);
          } else if (sW == 2) {
            v = FloatVector.fromArray(sp, x, o, lo).rearrange(even)
                .blend(FloatVector.fromArray(sp, x, o + lanes, hi).rearrange(even), high);
          } else {
            v = FloatVector.fromArray(sp, x, o, maps, count * lanes);
          }
          m = m.blend(v, v.compare(GT, m));
        }
      }
      m.intoArray(y, yRow + q, part);
    }
  }

  /** Average pool, output columns [qA, qB) of one row, in double vectors of half the float lanes; loads as in {@link #maxRow256}. */
  private static void avgRow256(float[] x, int rowBase, int rowStep, int rFirst, int rEnd, int S, int dW, int sW,
      int[] maps, int qA, int qB, double count, float[] y, int yRow) {
    final VectorSpecies<Float> sp = F256;
    final VectorSpecies<Float> hp = H256;
    final VectorSpecies<Double> dp = D256;
    final VectorShuffle<Float> even = EVEN256;
    final int lanes = dp.length();
    final int mapWidth = sp.length();
    final int last = (rEnd - 1) * rowStep + (S - 1) * dW + reach(lanes, sW);
    int q = qA;
    for (; q + lanes <= qB && rowBase + q * sW + last < x.length; q += lanes) {
      DoubleVector sum = DoubleVector.zero(dp);
      for (int r = rFirst; r < rEnd; r++) {
        int xr = rowBase + r * rowStep + q * sW;
        for (int s = 0; s < S; s++) {
          int o = xr + s * dW;
          DoubleVector v;
          if (sW == 1) {
            v = (DoubleVector) FloatVector.fromArray(hp, x, o).convertShape(F2D, dp, 0);
          } else if (sW == 2) {
            v = (DoubleVector) FloatVector.fromArray(sp, x, o).rearrange(even).convertShape(F2D, dp, 0);
          } else {
            v = (DoubleVector) FloatVector.fromArray(hp, x, o, maps, lanes * mapWidth).convertShape(F2D, dp, 0);
          }
          sum = sum.add(v);
        }
      }
      ((FloatVector) sum.div(count).convertShape(D2F, hp, 0)).intoArray(y, yRow + q);
    }
    for (; q < qB; q += lanes) {
      int part = Math.min(lanes, qB - q);
      VectorMask<Float> partMask = hp.indexInRange(0, part);
      VectorMask<Float> pairMask = sp.indexInRange(0, 2 * part - 1);
      DoubleVector sum = DoubleVector.zero(dp);
      for (int r = rFirst; r < rEnd; r++) {
        int xr = rowBase + r * rowStep + q * sW;
        for (int s = 0; s < S; s++) {
          int o = xr + s * dW;
          DoubleVector v;
          if (sW == 1) {
            v = (DoubleVector) FloatVector.fromArray(hp, x, o, partMask).convertShape(F2D, dp, 0);
          } else if (sW == 2) {
            v = (DoubleVector) FloatVector.fromArray(sp, x, o, pairMask).rearrange(even).convertShape(F2D, dp, 0);
          } else {
            v = (DoubleVector) FloatVector.fromArray(hp, x, o, maps, part * mapWidth).convertShape(F2D, dp, 0);
          }
          sum = sum.add(v);
        }
      }
      ((FloatVector) sum.div(count).convertShape(D2F, hp, 0)).intoArray(y, yRow + q, partMask);
    }
  }

  /**
   * Global average pool, in groups of {@link #gapGroup} planes: per plane the double sum in vector
   * order (two accumulators of half the float lanes each), per group the exponent range of the
   * finite nonzero elements. When the range is at most maxSpan (see the class comment) every plane
   * of the group is exact and keeps its vector sum; otherwise the group is redone sequentially.
   */
  private static void gap256(int planes, int spatial, float[] x, float[] y, int maxSpan) {
    final VectorSpecies<Float> sp = F256;
    final VectorSpecies<Float> hp = H256;
    final VectorSpecies<Double> dp = D256;
    final VectorSpecies<Integer> ip = I256;
    final int lanes = sp.length();
    final int half = hp.length();
    final int bound = spatial - spatial % lanes;
    final VectorMask<Float> tail = sp.indexInRange(bound, spatial);
    final VectorMask<Float> tail0 = hp.indexInRange(bound, spatial);
    final VectorMask<Float> tail1 = hp.indexInRange(bound + half, spatial);
    final int group = gapGroup(spatial);
    for (int g = 0; g < planes; g += group) {
      int gEnd = Math.min(planes, g + group);
      IntVector top = IntVector.zero(ip);
      IntVector bottom = IntVector.broadcast(ip, 255);
      for (int i = g; i < gEnd; i++) {
        int base = i * spatial;
        DoubleVector sum0 = DoubleVector.zero(dp);
        DoubleVector sum1 = DoubleVector.zero(dp);
        for (int j = 0; j < bound; j += lanes) {
          IntVector bits = FloatVector.fromArray(sp, x, base + j).reinterpretAsInts();
          IntVector exponent = bits.lanewise(LSHR, 23).and(0xff).max(1);
          top = top.max(exponent.blend(0, exponent.compare(EQ, 255)));
          bottom = bottom.min(exponent.blend(255, bits.and(0x7fff_ffff).compare(EQ, 0)));
          sum0 = sum0.add(FloatVector.fromArray(hp, x, base + j).convertShape(F2D, dp, 0));
          sum1 = sum1.add(FloatVector.fromArray(hp, x, base + j + half).convertShape(F2D, dp, 0));
        }
        if (bound < spatial) {
          int j = base + bound;
          IntVector bits = FloatVector.fromArray(sp, x, j, tail).reinterpretAsInts();
          IntVector exponent = bits.lanewise(LSHR, 23).and(0xff).max(1);
          top = top.max(exponent.blend(0, exponent.compare(EQ, 255)));
          bottom = bottom.min(exponent.blend(255, bits.and(0x7fff_ffff).compare(EQ, 0)));
          sum0 = sum0.add(FloatVector.fromArray(hp, x, j, tail0).convertShape(F2D, dp, 0));
          sum1 = sum1.add(FloatVector.fromArray(hp, x, j + half, tail1).convertShape(F2D, dp, 0));
        }
        y[i] = (float) (sum0.add(sum1).reduceLanes(ADD) / spatial);
      }
      if (top.reduceLanes(MAX) - bottom.reduceLanes(MIN) > maxSpan) {
        for (int i = g; i < gEnd; i++) {
          y[i] = sequentialMean(x, i * spatial, spatial);
        }
      }
    }
  }

  // ---------------------------------------------------------------- 512-bit copies

  /**
   * Max pool, output columns [qA, qB) of one row: full vectors while their loads stay inside x,
   * then masked ones. The loads are written out here, not in helpers: a helper compiled on its own
   * first is not inlined later ("already compiled into a big method"), and then every vector is boxed.
   */
  private static void maxRow512(float[] x, int rowBase, int rowStep, int rFirst, int rEnd, int S, int dW, int sW,
      int[] maps, int qA, int qB, float[] y, int yRow) {
    final VectorSpecies<Float> sp = F512;
    final VectorShuffle<Float> even = EVEN512;
    final VectorMask<Float> high = HIGH512;
    final int lanes = sp.length();
    final FloatVector empty = FloatVector.broadcast(sp, Float.NEGATIVE_INFINITY);
    // Last element the last vector of the row may read, relative to rowBase + q·sW.
    final int last = (rEnd - 1) * rowStep + (S - 1) * dW + reach(lanes, sW);
    int q = qA;
    for (; q + lanes <= qB && rowBase + q * sW + last < x.length; q += lanes) {
      FloatVector m = empty;
      for (int r = rFirst; r < rEnd; r++) {
        int xr = rowBase + r * rowStep + q * sW;
        for (int s = 0; s < S; s++) {
          int o = xr + s * dW;
          FloatVector v;
          if (sW == 1) {
            v = FloatVector.fromArray(sp, x, o);
          } else if (sW == 2) {
            v = FloatVector.fromArray(sp, x, o).rearrange(even)
                .blend(FloatVector.fromArray(sp, x, o + lanes).rearrange(even), high);
          } else {
            v = FloatVector.fromArray(sp, x, o, maps, lanes * lanes);
          }
          m = m.blend(v, v.compare(GT, m));
        }
      }
      m.intoArray(y, yRow + q);
    }
    for (; q < qB; q += lanes) {
      int count = Math.min(lanes, qB - q);
      VectorMask<Float> part = sp.indexInRange(0, count);
      VectorMask<Float> lo = sp.indexInRange(0, 2 * count - 1);
      VectorMask<Float> hi = sp.indexInRange(lanes, 2 * count - 1);
      FloatVector m = empty;
      for (int r = rFirst; r < rEnd; r++) {
        int xr = rowBase + r * rowStep + q * sW;
        for (int s = 0; s < S; s++) {
          int o = xr + s * dW;
          FloatVector v;
          if (sW == 1) {
            v = FloatVector.fromArray(sp, x, o, part);
          } else if (sW == 2) {
            v = FloatVector.fromArray(sp, x, o, lo).rearrange(even)
                .blend(FloatVector.fromArray(sp, x, o + lanes, hi).rearrange(even), high);
          } else {
            v = FloatVector.fromArray(sp, x, o, maps, count * lanes);
          }
          m = m.blend(v, v.compare(GT, m));
        }
      }
      m.intoArray(y, yRow + q, part);
    }
  }

  /** Average pool, output columns [qA, qB) of one row, in double vectors of half the float lanes; loads as in {@link #maxRow512}. */
  private static void avgRow512(float[] x, int rowBase, int rowStep, int rFirst, int rEnd, int S, int dW, int sW,
      int[] maps, int qA, int qB, double count, float[] y, int yRow) {
    final VectorSpecies<Float> sp = F512;
    final VectorSpecies<Float> hp = H512;
    final VectorSpecies<Double> dp = D512;
    final VectorShuffle<Float> even = EVEN512;
    final int lanes = dp.length();
    final int mapWidth = sp.length();
    final int last = (rEnd - 1) * rowStep + (S - 1) * dW + reach(lanes, sW);
    int q = qA;
    for (; q + lanes <= qB && rowBase + q * sW + last < x.length; q += lanes) {
      DoubleVector sum = DoubleVector.zero(dp);
      for (int r = rFirst; r < rEnd; r++) {
        int xr = rowBase + r * rowStep + q * sW;
        for (int s = 0; s < S; s++) {
          int o = xr + s * dW;
          DoubleVector v;
          if (sW == 1) {
            v = (DoubleVector) FloatVector.fromArray(hp, x, o).convertShape(F2D, dp, 0);
          } else if (sW == 2) {
            v = (DoubleVector) FloatVector.fromArray(sp, x, o).rearrange(even).convertShape(F2D, dp, 0);
          } else {
            v = (DoubleVector) FloatVector.fromArray(hp, x, o, maps, lanes * mapWidth).convertShape(F2D, dp, 0);
          }
          sum = sum.add(v);
        }
      }
      ((FloatVector) sum.div(count).convertShape(D2F, hp, 0)).intoArray(y, yRow + q);
    }
    for (; q < qB; q += lanes) {
      int part = Math.min(lanes, qB - q);
      VectorMask<Float> partMask = hp.indexInRange(0, part);
      VectorMask<Float> pairMask = sp.indexInRange(0, 2 * part - 1);
      DoubleVector sum = DoubleVector.zero(dp);
      for (int r = rFirst; r < rEnd; r++) {
        int xr = rowBase + r * rowStep + q * sW;
        for (int s = 0; s < S; s++) {
          int o = xr + s * dW;
          DoubleVector v;
          if (sW == 1) {
            v = (DoubleVector) FloatVector.fromArray(hp, x, o, partMask).convertShape(F2D, dp, 0);
          } else if (sW == 2) {
            v = (DoubleVector) FloatVector.fromArray(sp, x, o, pairMask).rearrange(even).convertShape(F2D, dp, 0);
          } else {
            v = (DoubleVector) FloatVector.fromArray(hp, x, o, maps, part * mapWidth).convertShape(F2D, dp, 0);
          }
          sum = sum.add(v);
        }
      }
      ((FloatVector) sum.div(count).convertShape(D2F, hp, 0)).intoArray(y, yRow + q, partMask);
    }
  }

  /**
   * Global average pool, in groups of {@link #gapGroup} planes: per plane the double sum in vector
   * order (two accumulators of half the float lanes each), per group the exponent range of the
   * finite nonzero elements. When the range is at most maxSpan (see the class comment) every plane
   * of the group is exact and keeps its vector sum; otherwise the group is redone sequentially.
   */
  private static void gap512(int planes, int spatial, float[] x, float[] y, int maxSpan) {
    final VectorSpecies<Float> sp = F512;
    final VectorSpecies<Float> hp = H512;
    final VectorSpecies<Double> dp = D512;
    final VectorSpecies<Integer> ip = I512;
    final int lanes = sp.length();
    final int half = hp.length();
    final int bound = spatial - spatial % lanes;
    final VectorMask<Float> tail = sp.indexInRange(bound, spatial);
    final VectorMask<Float> tail0 = hp.indexInRange(bound, spatial);
    final VectorMask<Float> tail1 = hp.indexInRange(bound + half, spatial);
    final int group = gapGroup(spatial);
    for (int g = 0; g < planes; g += group) {
      int gEnd = Math.min(planes, g + group);
      IntVector top = IntVector.zero(ip);
      IntVector bottom = IntVector.broadcast(ip, 255);
      for (int i = g; i < gEnd; i++) {
        int base = i * spatial;
        DoubleVector sum0 = DoubleVector.zero(dp);
        DoubleVector sum1 = DoubleVector.zero(dp);
        for (int j = 0; j < bound; j += lanes) {
          IntVector bits = FloatVector.fromArray(sp, x, base + j).reinterpretAsInts();
          IntVector exponent = bits.lanewise(LSHR, 23).and(0xff).max(1);
          top = top.max(exponent.blend(0, exponent.compare(EQ, 255)));
          bottom = bottom.min(exponent.blend(255, bits.and(0x7fff_ffff).compare(EQ, 0)));
          sum0 = sum0.add(FloatVector.fromArray(hp, x, base + j).convertShape(F2D, dp, 0));
          sum1 = sum1.add(FloatVector.fromArray(hp, x, base + j + half).convertShape(F2D, dp, 0));
        }
        if (bound < spatial) {
          int j = base + bound;
          IntVector bits = FloatVector.fromArray(sp, x, j, tail).reinterpretAsInts();
          IntVector exponent = bits.lanewise(LSHR, 23).and(0xff).max(1);
          top = top.max(exponent.blend(0, exponent.compare(EQ, 255)));
          bottom = bottom.min(exponent.blend(255, bits.and(0x7fff_ffff).compare(EQ, 0)));
          sum0 = sum0.add(FloatVector.fromArray(hp, x, j, tail0).convertShape(F2D, dp, 0));
          sum1 = sum1.add(FloatVector.fromArray(hp, x, j + half, tail1).convertShape(F2D, dp, 0));
        }
        y[i] = (float) (sum0.add(sum1).reduceLanes(ADD) / spatial);
      }
      if (top.reduceLanes(MAX) - bottom.reduceLanes(MIN) > maxSpan) {
        for (int i = g; i < gEnd; i++) {
          y[i] = sequentialMean(x, i * spatial, spatial);
        }
      }
    }
  }
}
