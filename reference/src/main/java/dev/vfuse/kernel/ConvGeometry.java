package dev.vfuse.kernel;

/**
 * Geometry of a 2-D convolution (ONNX {@code Conv}), batch included.
 *
 * <p>Input x is [N, C, H, W]; weight is [K, C/groups, R, S]; bias, if any, is [K]; output is
 * [N, K, P, Q] with
 *
 * <pre>
 *   P = (H + padTop + padBottom - dilationH·(R−1) − 1) / strideH + 1   (floor division)
 *   Q = (W + padLeft + padRight - dilationW·(S−1) − 1) / strideW + 1
 *   y[n,k,p,q] = bias[k] + Σ_{c∈group(k), r, s} w[k, c − g·C/groups, r, s] · x[n, c, p·strideH − padTop + r·dilationH, q·strideW − padLeft + s·dilationW]
 * </pre>
 *
 * where out-of-range input positions read as 0 and output channel k belongs to group
 * g = k / (K/groups). Depthwise is groups == C == K (or K a multiple of C).
 */
public record ConvGeometry(
    int n, int c, int h, int w, int k, int r, int s,
    int strideH, int strideW, int dilationH, int dilationW,
    int padTop, int padLeft, int padBottom, int padRight,
    int groups) {

  public ConvGeometry {
    Checks.positive("n", n, "c", c, "h", h, "w", w, "k", k, "r", r, "s", s);
    Checks.positive("strideH", strideH, "strideW", strideW, "dilationH", dilationH, "dilationW", dilationW, "groups", groups);
    Checks.nonNegative("padTop", padTop, "padLeft", padLeft, "padBottom", padBottom, "padRight", padRight);
    if (c % groups != 0 || k % groups != 0) {
      throw new IllegalArgumentException("channels C=" + c + " and K=" + k + " must be divisible by groups=" + groups);
    }
    // In long: a hostile file's pads and dilations must not wrap the output size around.
    long p = (long) h + padTop + padBottom - (long) dilationH * (r - 1) - 1;
    long q = (long) w + padLeft + padRight - (long) dilationW * (s - 1) - 1;
    if (p < 0 || q < 0) {
      throw new IllegalArgumentException("kernel " + r + "x" + s + " (dilation " + dilationH + "x" + dilationW
          + ") is larger than the padded input " + ((long) h + padTop + padBottom) + "x" + ((long) w + padLeft + padRight));
    }
    if (p >= Integer.MAX_VALUE || q >= Integer.MAX_VALUE) {
      throw new IllegalArgumentException("padded input " + ((long) h + padTop + padBottom) + "x"
          + ((long) w + padLeft + padRight) + " exceeds 2^31 - 1 along an axis");
    }
  }

  /** A square, symmetric convenience form: stride, dilation and pad equal in both axes. */
  public static ConvGeometry of(int n, int c, int h, int w, int k, int kernel, int stride, int pad, int dilation, int groups) {
    return new ConvGeometry(n, c, h, w, k, kernel, kernel, stride, stride, dilation, dilation, pad, pad, pad, pad, groups);
  }

  /** Output height. */
  public int p() {
    return (h + padTop + padBottom - dilationH * (r - 1) - 1) / strideH + 1;
  }

  /** Output width. */
  public int q() {
    return (w + padLeft + padRight - dilationW * (s - 1) - 1) / strideW + 1;
  }

  public int inputChannelsPerGroup() {
    return c / groups;
  }

  public int outputChannelsPerGroup() {
    return k / groups;
  }

  public boolean hasPadding() {
    return padTop != 0 || padLeft != 0 || padBottom != 0 || padRight != 0;
  }

  public long inputSize() {
    return (long) n * c * h * w;
  }

  public long weightSize() {
    return (long) k * (c / groups) * r * s;
  }

  public long outputSize() {
    return (long) n * k * p() * q();
  }

  /** Multiply-adds times two: the FLOP count benchmarks report. */
  public long flops() {
    return 2L * n * k * p() * q() * (c / groups) * r * s;
  }

  /** Length of one output's reduction, which sets the tolerance between backends. */
  public int reductionLength() {
    return (c / groups) * r * s;
  }
}
