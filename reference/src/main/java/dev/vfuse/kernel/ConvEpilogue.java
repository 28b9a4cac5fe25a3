package dev.vfuse.kernel;

/**
 * What a fused convolution does with each output element after its reduction, in this order:
 *
 * <pre>
 *   v = conv(x, w) + bias[k]                 (as the unfused kernel, rounded to float)
 *   v = v + offsets.at(k, p, q)              if offsets != null   (float add)
 *   v = v + residual[n, k, p, q]             if residual != null  (float add)
 *   y = activation(v)                        if activation != null
 * </pre>
 *
 * {@code offsets} is a per-position bias of shape [K, P, Q], shared by the batch: the exact fold of
 * a BatchNorm that precedes a padded convolution, whose shift reaches border outputs through fewer
 * taps than interior ones. It is stored as its distinct rows ({@link PositionOffsets}), since only
 * the border rows differ. {@code residual} has the output's shape [N, K, P, Q] and may not alias
 * the output. Any of the three may be null.
 */
public record ConvEpilogue(PositionOffsets offsets, float[] residual, Activation activation) {

  /** Applies the epilogue in place to y = [n, k, plane] after the reduction and bias; plane = P·Q. */
  public void applyTo(int n, int k, int plane, float[] y) {
    for (int b = 0; b < n; b++) {
      for (int ch = 0; ch < k; ch++) {
        int base = (b * k + ch) * plane;
        for (int i = 0; i < plane; i++) {
          float v = y[base + i];
          if (offsets != null) {
            v += offsets.at(ch, i / offsets.width(), i % offsets.width());
          }
          if (residual != null) {
            v += residual[base + i];
          }
          y[base + i] = activation == null ? v : activation.apply(v);
        }
      }
    }
  }
}
