package dev.vfuse.cli;

import dev.vfuse.ElementType;
import dev.vfuse.Tensor;
import java.util.Arrays;
import java.util.Locale;

/** One-line descriptions of tensors and timings for the CLI's output. */
final class Summaries {
  private Summaries() {}

  /** Like {@code FLOAT32 [1, 1000] min=-3.2 max=14.1 mean=0.00213}, with {@code nan=K} when there are NaNs. */
  static String tensor(Tensor t) {
    StringBuilder sb = new StringBuilder().append(t.elementType()).append(' ').append(Arrays.toString(t.shape()));
    int n = t.size();
    if (n == 0) {
      return sb.append(" (empty)").toString();
    }
    if (t.elementType() == ElementType.INT64) {
      long[] v = t.longs();
      long min = Long.MAX_VALUE;
      long max = Long.MIN_VALUE;
      for (long x : v) {
        min = Math.min(min, x);
        max = Math.max(max, x);
      }
      sb.append(" min=").append(min).append(" max=").append(max);
      if (n <= 8) {
        sb.append(" values=").append(Arrays.toString(v));
      }
      return sb.toString();
    }
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    double sum = 0;
    int nan = 0;
    for (int i = 0; i < n; i++) {
      float x = t.getFloat(i);
      if (Float.isNaN(x)) {
        nan++;
        continue;
      }
      min = Math.min(min, x);
      max = Math.max(max, x);
      sum += x;
    }
    if (nan < n) {
      sb.append(" min=").append(num(min)).append(" max=").append(num(max)).append(" mean=").append(num(sum / (n - nan)));
    }
    if (nan > 0) {
      sb.append(" nan=").append(nan);
    }
    if (n <= 8) {
      StringBuilder vals = new StringBuilder("[");
      for (int i = 0; i < n; i++) {
        vals.append(i > 0 ? ", " : "").append(num(t.getFloat(i)));
      }
      sb.append(" values=").append(vals).append(']');
    }
    return sb.toString();
  }

  /** Six significant digits, no exponent for ordinary magnitudes. */
  static String num(double v) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      return String.valueOf(v);
    }
    double a = Math.abs(v);
    if (a != 0 && (a < 1e-4 || a >= 1e7)) {
      return String.format(Locale.ROOT, "%.5e", v);
    }
    String s = new java.math.BigDecimal(v).round(new java.math.MathContext(6)).stripTrailingZeros().toPlainString();
    return s.equals("-0") ? "0" : s;
  }

  /** Milliseconds with three decimals. */
  static String ms(long nanos) {
    return String.format(Locale.ROOT, "%.3f", nanos / 1e6);
  }

  /** Median of the values (mean of the two middle ones for an even count); sorts {@code nanos}. */
  static long median(long[] nanos) {
    Arrays.sort(nanos);
    int m = nanos.length / 2;
    return nanos.length % 2 == 1 ? nanos[m] : (nanos[m - 1] + nanos[m]) / 2;
  }
}
