package dev.vfuse.kernel;

/**
 * Geometry of a 2-D transposed convolution (ONNX {@code ConvTranspose}), batch included.
 *
 * <p>Input x is [N, C, H, W]; weight is [C, K/groups, R, S] (input channels first, unlike Conv);
 * bias, if any, is [K]; output is [N, K, P, Q] with
 *
 * <pre>
 *   P = strideH·(H−1) + outputPadH + dilationH·(R−1) + 1 − padTop − padBottom
 *   Q = strideW·(W−1) + outputPadW + dilationW·(S−1) + 1 − padLeft − padRight
 *   y[n,k,p,q] = bias[k] + Σ over (c, h, w, r, s) with p = h·strideH − padTop + r·dilationH,
 *                q = w·strideW − padLeft + s·dilationW, c in the group of k:
 *                x[n,c,h,w] · w[c, k − g·K/groups, r, s]
 * </pre>
 *
 * Output positions that no input reaches (for example those added by output padding) hold the
 * bias alone.
 */
public record ConvTransposeGeometry(
    int n, int c, int h, int w, int k, int r, int s,
    int strideH, int strideW, int dilationH, int dilationW,
    int padTop, int padLeft, int padBottom, int padRight,
    int outputPadH, int outputPadW,
    int groups) {

  public ConvTransposeGeometry {
    Checks.positive("n", n, "c", c, "h", h, "w", w, "k", k, "r", r, "s", s);
    Checks.positive("strideH", strideH, "strideW", strideW, "dilationH", dilationH, "dilationW", dilationW, "groups", groups);
    Checks.nonNegative("padTop", padTop, "padLeft", padLeft, "padBottom", padBottom, "padRight", padRight);
    Checks.nonNegative("outputPadH", outputPadH, "outputPadW", outputPadW, "outputPadH", outputPadH, "outputPadW", outputPadW);
    if (c % groups != 0 || k % groups != 0) {
      throw new IllegalArgumentException("channels C=" + c + " and K=" + k + " must be divisible by groups=" + groups);
    }
    // In long: a hostile file's strides and dilations must not wrap the output size around.
    long p = (long) strideH * (h - 1) + outputPadH + (long) dilationH * (r - 1) + 1 - padTop - padBottom;
    long q = (long) strideW * (w - 1) + outputPadW + (long) dilationW * (s - 1) + 1 - padLeft - padRight;
    if (p <= 0 || q <= 0) {
      throw new IllegalArgumentException("pads leave an empty output: " + p + "x" + q);
    }
    if (p > Integer.MAX_VALUE || q > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("output of " + p + "x" + q + " exceeds 2^31 - 1 along an axis");
    }
  }

  /** Output height. */
  public int p() {
    return strideH * (h - 1) + outputPadH + dilationH * (r - 1) + 1 - padTop - padBottom;
  }

  /** Output width. */
  public int q() {
    return strideW * (w - 1) + outputPadW + dilationW * (s - 1) + 1 - padLeft - padRight;
  }

  public long weightSize() {
    return (long) c * (k / groups) * r * s;
  }

  public long outputSize() {
    return (long) n * k * p() * q();
  }

  public long flops() {
    return 2L * n * c * h * w * (k / groups) * r * s;
  }
}
