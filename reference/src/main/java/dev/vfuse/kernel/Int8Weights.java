package dev.vfuse.kernel;

import java.util.Arrays;

/**
 * Weights quantized per output channel, symmetric, to int8: element i stands for
 *
 * <pre>
 *   w[i] = values[i] · scales[channel(i)]          (the product rounded to float once)
 * </pre>
 *
 * with values in [−127, 127] (−128 is never produced, so negating a channel stays in range).
 * {@link #quantize} chooses scale = max|w| / 127 per channel, so the largest weight of a channel
 * maps to ±127 and every weight moves by at most scale/2.
 *
 * <p>Which output channel an element belongs to depends on the operator's weight layout, given by
 * a {@link Layout}: Conv [K, C/g, R, S] is one channel a row; ConvTranspose [C, K/g, R, S] puts
 * output channel g·K/g + kk at [c ∈ group g, kk, ·, ·]; a Gemm's B scales by output column.
 *
 * @param values int8 weights, in the layout of the float weights they replace
 * @param scales one positive (or zero, for an all-zero channel) scale per output channel
 */
public record Int8Weights(byte[] values, float[] scales) {

  /** The largest magnitude a quantized weight takes. */
  public static final int LEVELS = 127;

  /** Maps a weight element of some operator's layout to its output channel. */
  public interface Layout {
    /** Weight elements. */
    int size();

    /** Output channels, the number of scales. */
    int channels();

    /** The output channel of element i. */
    int channelOf(int i);
  }

  /** Conv weights [K, C/g, R, S] (and any row-major [channels, perChannel] array): row i / perChannel. */
  public static Layout rows(int channels, int perChannel) {
    return new Layout() {
      public int size() {
        return channels * perChannel;
      }

      public int channels() {
        return channels;
      }

      public int channelOf(int i) {
        return i / perChannel;
      }
    };
  }

  /** Conv weights of {@code g}: one output channel a row of C/g·R·S. */
  public static Layout conv(ConvGeometry g) {
    return rows(g.k(), g.inputChannelsPerGroup() * g.r() * g.s());
  }

  /** ConvTranspose weights [C, K/g, R, S]: element (c, kk, r, s) scales with output channel group(c)·K/g + kk. */
  public static Layout convTranspose(ConvTransposeGeometry g) {
    return convTranspose(g.c(), g.k(), g.groups(), g.r() * g.s());
  }

  /** {@link #convTranspose(ConvTransposeGeometry)} from the weight's dimensions: C, K, groups and taps a kernel. */
  public static Layout convTranspose(int c, int k, int groups, int rs) {
    int kg = k / groups, cg = c / groups;
    return new Layout() {
      public int size() {
        return c * kg * rs;
      }

      public int channels() {
        return k;
      }

      public int channelOf(int i) {
        int row = i / rs; // c·Kg + kk
        return (row / kg / cg) * kg + row % kg;
      }
    };
  }

  /**
   * A GEMM's right operand op(B) (k × n), read as {@link Kernels#gemm} reads it with offset 0 and
   * leading dimension {@code ldb}: output column j is the channel. Only the k·n elements of op(B)
   * exist, so the array is [n, ldb] (transposed) or [k, ldb] with ldb = the row length.
   */
  public static Layout gemm(boolean transB, int n, int k) {
    return transB ? rows(n, k) : new Layout() {
      public int size() {
        return k * n;
      }

      public int channels() {
        return n;
      }

      public int channelOf(int i) {
        return i % n;
      }
    };
  }

  /**
   * Symmetric per-channel quantization, in double: scale_c = (float) (max|w| / 127) over the
   * channel, then values[i] = round-half-even(w[i] / scale_c) (from the float scale, so
   * {@link #dequantize} undoes it to within scale/2), clamped to ±127. An all-zero channel gets
   * scale 0 and zero values.
   *
   * @throws IllegalArgumentException if a weight is NaN or infinite
   */
  public static Int8Weights quantize(float[] w, Layout layout) {
    int n = layout.size();
    double[] amax = new double[layout.channels()];
    for (int i = 0; i < n; i++) {
      if (!Float.isFinite(w[i])) {
        throw new IllegalArgumentException("weight " + i + " is " + w[i]);
      }
      int ch = layout.channelOf(i);
      amax[ch] = Math.max(amax[ch], Math.abs((double) w[i]));
    }
    float[] scales = new float[amax.length];
    for (int ch = 0; ch < amax.length; ch++) {
      scales[ch] = (float) (amax[ch] / LEVELS);
    }
    byte[] values = new byte[n];
    for (int i = 0; i < n; i++) {
      float s = scales[layout.channelOf(i)];
      if (s != 0f) {
        double v = Math.rint(w[i] / (double) s);
        values[i] = (byte) Math.max(-LEVELS, Math.min(LEVELS, v));
      }
    }
    return new Int8Weights(values, scales);
  }

  /** The float weights these stand for: w[i] = values[i]·scales[channel(i)], rounded once. */
  public float[] dequantize(Layout layout) {
    int n = layout.size();
    float[] w = new float[n];
    for (int i = 0; i < n; i++) {
      w[i] = values[i] * scales[layout.channelOf(i)];
    }
    return w;
  }

  /** Bytes these weights take: one a value, four a scale. */
  public long bytes() {
    return values.length + 4L * scales.length;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Int8Weights other && Arrays.equals(values, other.values) && Arrays.equals(scales, other.scales);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(values) + Arrays.hashCode(scales);
  }

  @Override
  public String toString() {
    return "Int8Weights[" + values.length + " values, " + scales.length + " scales]";
  }
}
