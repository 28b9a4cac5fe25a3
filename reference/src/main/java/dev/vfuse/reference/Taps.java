package dev.vfuse.reference;

/**
 * Which taps of a dilated window land inside an axis of length {@code size}. Tap t of a window that
 * starts at {@code start} reads position start + t·dilation; the in-range taps of a window form the
 * interval [{@link #first}, {@link #end}), which is empty when first ≥ end.
 */
final class Taps {
  private Taps() {}

  /** The first tap t ≥ 0 with start + t·dilation ≥ 0, at most {@code taps}. */
  static int first(int start, int dilation, int taps) {
    return start >= 0 ? 0 : Math.min(taps, Math.ceilDiv(-start, dilation));
  }

  /** One past the last tap t &lt; taps with start + t·dilation &lt; size, at least 0. */
  static int end(int start, int dilation, int size, int taps) {
    return Math.clamp(Math.floorDiv(size - 1 - start, dilation) + 1, 0, taps);
  }

  /** How many taps land inside [0, size). */
  static int count(int start, int dilation, int size, int taps) {
    return Math.max(0, end(start, dilation, size, taps) - first(start, dilation, taps));
  }

  /**
   * For a transposed convolution: lists every tap t in [0, taps) and input position i in [0, size)
   * with i·stride + t·dilation == out, tap into {@code tapOut} and position into {@code posOut};
   * returns how many there are. {@code out} is the output position plus the leading pad.
   */
  static int transposed(int out, int stride, int dilation, int size, int taps, int[] tapOut, int[] posOut) {
    int count = 0;
    for (int t = 0; t < taps; t++) {
      int rest = out - t * dilation;
      if (rest >= 0 && rest % stride == 0 && rest / stride < size) {
        tapOut[count] = t;
        posOut[count] = rest / stride;
        count++;
      }
    }
    return count;
  }
}
