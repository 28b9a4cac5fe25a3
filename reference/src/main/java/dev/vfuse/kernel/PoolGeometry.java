package dev.vfuse.kernel;

/**
 * Geometry of a 2-D pooling window (ONNX {@code MaxPool}, {@code AveragePool}), batch included.
 *
 * <p>Input is [N, C, H, W], output [N, C, P, Q] with
 *
 * <pre>
 *   P = round((H + padTop + padBottom − dilationH·(R−1) − 1) / strideH) + 1
 * </pre>
 *
 * where round is floor, or ceil when {@code ceilMode}. With ceil mode a window may reach past the
 * bottom/right padding only if it starts inside the input or the leading padding (the rule of
 * PyTorch and ONNX Runtime): the last window is dropped otherwise. Out-of-range positions are
 * skipped by max pooling; average pooling counts them only if {@code countIncludePad} and only
 * for positions inside the declared padding.
 */
public record PoolGeometry(
    int n, int c, int h, int w, int r, int s,
    int strideH, int strideW, int dilationH, int dilationW,
    int padTop, int padLeft, int padBottom, int padRight,
    boolean ceilMode) {

  public PoolGeometry {
    Checks.positive("n", n, "c", c, "h", h, "w", w, "r", r, "s", s);
    Checks.positive("strideH", strideH, "strideW", strideW, "dilationH", dilationH, "dilationW", dilationW);
    Checks.nonNegative("padTop", padTop, "padLeft", padLeft, "padBottom", padBottom, "padRight", padRight);
    // In long first: a hostile file's pads and dilations must not wrap the window around.
    long spanH = (long) h + padTop + padBottom - (long) dilationH * (r - 1) - 1;
    long spanW = (long) w + padLeft + padRight - (long) dilationW * (s - 1) - 1;
    long windowH = (long) dilationH * (r - 1) + 1;
    long windowW = (long) dilationW * (s - 1) + 1;
    if (Math.abs(spanH) >= Integer.MAX_VALUE / 2 || Math.abs(spanW) >= Integer.MAX_VALUE / 2
        || windowH >= Integer.MAX_VALUE / 2 || windowW >= Integer.MAX_VALUE / 2) {
      throw new IllegalArgumentException("window " + r + "x" + s + " (dilation " + dilationH + "x" + dilationW
          + ") on the padded input " + ((long) h + padTop + padBottom) + "x" + ((long) w + padLeft + padRight)
          + " exceeds 2^30 along an axis");
    }
    // fields are not assigned yet inside a compact constructor: compute from the parameters
    if (outputSize(h, padTop, padBottom, dilationH * (r - 1) + 1, strideH, ceilMode) < 1
        || outputSize(w, padLeft, padRight, dilationW * (s - 1) + 1, strideW, ceilMode) < 1) {
      throw new IllegalArgumentException("window " + r + "x" + s + " is larger than the padded input"
          + (ceilMode ? "" : " (floor mode)"));
    }
  }

  /** Output height. */
  public int p() {
    return outputSize(h, padTop, padBottom, dilationH * (r - 1) + 1, strideH, ceilMode);
  }

  /** Output width. */
  public int q() {
    return outputSize(w, padLeft, padRight, dilationW * (s - 1) + 1, strideW, ceilMode);
  }

  private static int outputSize(int in, int padBegin, int padEnd, int window, int stride, boolean ceilMode) {
    int span = in + padBegin + padEnd - window;
    int out = (ceilMode ? Math.ceilDiv(span, stride) : Math.floorDiv(span, stride)) + 1;
    if (ceilMode && (out - 1) * stride >= in + padBegin) {
      out--;
    }
    return out;
  }

  public long outputSize() {
    return (long) n * c * p() * q();
  }
}
