package dev.vfuse.quant;

import dev.vfuse.ModelFormatException;
import dev.vfuse.ir.Graph;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.Node;
import dev.vfuse.kernel.ConvGeometry;
import dev.vfuse.kernel.ConvTransposeGeometry;
import dev.vfuse.kernel.Int8Weights;
import dev.vfuse.kernel.Kernels;
import dev.vfuse.ops.ConvGeometries;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * GPTQ rounding (Frantar et al., "GPTQ: Accurate Post-Training Quantization for Generative
 * Pre-trained Transformers", ICLR 2023, after Optimal Brain Quantization): int8 values chosen so
 * that each layer's output on the calibration inputs moves least, not each weight.
 *
 * <p>For one output channel with float weights w over the layer's F inputs (a conv's or
 * ConvTranspose's Cg·R·S taps of its group, a Gemm's K features) and H = Σ x xᵀ over the
 * calibration's output positions (the input each tap brings to that position, 0 where none),
 * the output error of rounded weights w̃ is (w̃ − w)ᵀ H (w̃ − w). The inputs are rounded one at
 * a time, and after rounding input j the weights not yet rounded move by
 *
 * <pre>
 *   w_m −= (w_j − w̃_j) / U_jj · U_jm        (m > j; H⁻¹ = UᵀU, U upper triangular)
 * </pre>
 *
 * which is the least-squares answer to the error just made. Scales stay max|w|/127 of the float
 * weights (the {@link Int8Weights} contract) and values are clamped to ±127. As in GPTQ, H gets
 * 1% of its mean diagonal added, so an input the calibration never exercises (all zero) is rounded
 * to nearest instead of receiving arbitrary feedback; with uncorrelated inputs H is diagonal and
 * the result is exactly nearest rounding.
 *
 * <p>H is accumulated on the float model's inputs to each layer (the layers run in order, each on
 * the float outputs before it), from at most {@link #POSITIONS} positions per layer spread evenly
 * over the calibration, as XᵀX on the backend's GEMM, in double across chunks. Layers with more
 * than {@link #MAX_INPUTS} inputs per output channel (H and its factorization grow as F² and F³)
 * keep nearest rounding; the report says so.
 */
final class GptqRounding {
  /** Largest F a layer may have: H is F² doubles, its factorization 2F³/3 flops. */
  static final int MAX_INPUTS = 1152;
  /** Positions (im2col rows) per layer and group that H is measured on. */
  static final int POSITIONS = 32768;
  private static final double DAMPENING = 0.01;
  /** Rows per XᵀX product. */
  private static final int CHUNK = 512;

  /** Int8 weights for the layers rounded by GPTQ, and why the others were not. */
  record Rounded(Map<String, Int8Weights> weights, Map<String, String> nearestWhy) {}

  private GptqRounding() {}

  /** Rounds every quantizable layer of {@code fused} it can on the {@code calibration} inputs. */
  static Rounded round(Graph fused, List<NdArray[]> calibration, Kernels kernels) throws ModelFormatException {
    Map<String, Int8Weights> weights = new HashMap<>();
    Map<String, String> why = new HashMap<>();
    Lockstep.run(List.of(fused), calibration, kernels, (layer, inputs, linear) -> {
      NdArray w = fused.constants().get(layer.input(1));
      String refusal = refusal(layer, w, inputs[0]);
      if (refusal != null) {
        why.put(layer.name(), refusal);
        return;
      }
      weights.put(layer.name(), switch (layer.opType()) {
        case "Gemm" -> gemm(layer, w, inputs[0], kernels);
        case "ConvTranspose" -> convTranspose(layer, w, inputs[0], kernels);
        default -> conv(layer, w, inputs[0], kernels);
      });
    });
    return new Rounded(weights, why);
  }

  /**
   * Why a layer keeps nearest rounding, or null: too many inputs per output channel, or fewer
   * calibration rows than inputs (H would be singular but for the dampening, and GPTQ would fit
   * the calibration instead of the data).
   */
  private static String refusal(Node layer, NdArray w, NdArray[] xs) {
    int inputs = switch (layer.opType()) {
      case "Gemm" -> layer.attributes().getInt("transB", 0) != 0 ? w.shape[1] : w.shape[0];
      case "ConvTranspose" -> w.size() / w.shape[1] / layer.attributes().getInt("group", 1);
      default -> w.size() / w.shape[0];
    };
    if (inputs > MAX_INPUTS) {
      return inputs + " inputs per output channel, over GPTQ's " + MAX_INPUTS + ": nearest";
    }
    long rows = 0;
    for (NdArray x : xs) {
      rows += switch (layer.opType()) {
        case "Gemm" -> x.size() / inputs;
        case "ConvTranspose" -> {
          ConvTransposeGeometry g = ConvGeometries.convTranspose(layer.attributes(), x.shape, w.shape);
          yield (long) g.n() * g.p() * g.q();
        }
        default -> {
          ConvGeometry g = ConvGeometries.conv(layer.attributes(), x.shape, w.shape);
          yield (long) g.n() * g.p() * g.q();
        }
      };
    }
    return rows < inputs ? "calibration gives " + rows + " rows for " + inputs + " inputs: nearest" : null;
  }

  /** A conv, group by group: H from the im2col rows of each group's input channels. */
  private static Int8Weights conv(Node layer, NdArray w, NdArray[] xs, Kernels kernels) {
    int k = w.shape[0];
    int f = w.size() / k;
    Int8Weights nearest = Int8Weights.quantize(w.f, Int8Weights.rows(k, f));
    byte[] values = nearest.values().clone();
    int groups = layer.attributes().getInt("group", 1);
    Positions[] samples = new Positions[xs.length];
    for (int i = 0; i < xs.length; i++) {
      ConvGeometry g = ConvGeometries.conv(layer.attributes(), xs[i].shape, w.shape);
      float[] x = xs[i].f;
      samples[i] = new Positions(g.n(), g.p(), g.q(), (n, group, p, q, rows, at) -> im2col(g, x, n, group, p, q, rows, at));
    }
    int perGroup = k / groups;
    for (int group = 0; group < groups; group++) {
      double[][] u = inverseUpperFactor(hessian(samples, group, f, kernels), f);
      feedback(w.f, nearest.scales(), values, u, group * perGroup, (group + 1) * perGroup, (unit, l) -> unit * f + l);
    }
    return new Int8Weights(values, nearest.scales());
  }

  /**
   * A ConvTranspose (weights [C, K/g, R, S]), group by group: output channel k of group g reads
   * input channel c of the group through tap (r, s) at output (p, q) when p = i·strideH − padTop +
   * r·dilationH for an input row i (likewise columns); its weights are W[c, k mod K/g, r, s].
   */
  private static Int8Weights convTranspose(Node layer, NdArray w, NdArray[] xs, Kernels kernels) {
    int groups = layer.attributes().getInt("group", 1);
    int c = w.shape[0];
    int kg = w.shape[1];
    int taps = w.size() / (c * kg);
    int cg = c / groups;
    int f = cg * taps;
    Int8Weights nearest = Int8Weights.quantize(w.f, Int8Weights.convTranspose(c, kg * groups, groups, taps));
    byte[] values = nearest.values().clone();
    Positions[] samples = new Positions[xs.length];
    for (int i = 0; i < xs.length; i++) {
      ConvTransposeGeometry g = ConvGeometries.convTranspose(layer.attributes(), xs[i].shape, w.shape);
      float[] x = xs[i].f;
      samples[i] = new Positions(g.n(), g.p(), g.q(),
          (n, group, p, q, rows, at) -> transposedColumn(g, x, n, group, p, q, rows, at));
    }
    for (int group = 0; group < groups; group++) {
      double[][] u = inverseUpperFactor(hessian(samples, group, f, kernels), f);
      int first = group * cg;
      int firstUnit = group * kg;
      // Input l = (c', r, s) of output channel firstUnit + kk is W[first + c', kk, r, s].
      feedback(w.f, nearest.scales(), values, u, firstUnit, firstUnit + kg,
          (unit, l) -> ((first + l / taps) * kg + unit - firstUnit) * taps + l % taps);
    }
    return new Int8Weights(values, nearest.scales());
  }

  /** Writes the F inputs that output (n, p, q) of a group reads into rows[at …]. */
  private interface Column {
    void write(int n, int group, int p, int q, float[] rows, int at);
  }

  /** The output positions of one calibration sample ([n, p, q]) and what each reads. */
  private record Positions(int batch, int height, int width, Column column) {}

  /**
   * H = Σ x xᵀ of {@code group} over at most {@link #POSITIONS} output positions, every step-th
   * of all the samples' positions in order.
   */
  private static double[] hessian(Positions[] samples, int group, int f, Kernels kernels) {
    long total = 0;
    for (Positions s : samples) {
      total += (long) s.batch() * s.height() * s.width();
    }
    long step = Math.max(1, (total + POSITIONS - 1) / POSITIONS);
    SecondMoments h = new SecondMoments(f, kernels);
    long base = 0; // global index of the sample's first position; every step-th global index is taken
    for (Positions s : samples) {
      int plane = s.height() * s.width();
      long count = (long) s.batch() * plane;
      for (long at = (step - base % step) % step; at < count; at += step) {
        int n = (int) (at / plane);
        int pq = (int) (at % plane);
        s.column().write(n, group, pq / s.width(), pq % s.width(), h.rows, h.nextRow());
        h.added();
      }
      base += count;
    }
    return h.sum();
  }

  /** What output (n, p, q) of a ConvTranspose receives from each [c', r, s] of {@code group}: x or 0. */
  private static void transposedColumn(ConvTransposeGeometry g, float[] x, int n, int group, int p, int q, float[] rows,
      int at) {
    int cg = g.c() / g.groups();
    int i = at;
    for (int c = 0; c < cg; c++) {
      int plane = ((n * g.c()) + group * cg + c) * g.h() * g.w();
      for (int r = 0; r < g.r(); r++) {
        int restY = p + g.padTop() - r * g.dilationH();
        int y = restY >= 0 && restY % g.strideH() == 0 ? restY / g.strideH() : -1;
        for (int s = 0; s < g.s(); s++) {
          int restX = q + g.padLeft() - s * g.dilationW();
          int xx = restX >= 0 && restX % g.strideW() == 0 ? restX / g.strideW() : -1;
          rows[i++] = y < 0 || y >= g.h() || xx < 0 || xx >= g.w() ? 0f : x[plane + y * g.w() + xx];
        }
      }
    }
  }

  /** A Gemm (transA = 0): H from the rows of A; output unit j's weights are column j of op(B). */
  private static Int8Weights gemm(Node layer, NdArray w, NdArray[] as, Kernels kernels) {
    boolean transB = layer.attributes().getInt("transB", 0) != 0;
    int kDim = transB ? w.shape[1] : w.shape[0];
    int nDim = transB ? w.shape[0] : w.shape[1];
    Int8Weights nearest = Int8Weights.quantize(w.f, Int8Weights.gemm(transB, nDim, kDim));
    byte[] values = nearest.values().clone();
    SecondMoments h = new SecondMoments(kDim, kernels);
    for (NdArray a : as) {
      int m = a.size() / kDim;
      for (int i = 0; i < m; i++) {
        System.arraycopy(a.f, i * kDim, h.rows, h.nextRow(), kDim);
        h.added();
      }
    }
    // Input l of unit j sits at j·K + l (transB) or l·N + j.
    feedback(w.f, nearest.scales(), values, inverseUpperFactor(h.sum(), kDim), 0, nDim,
        (unit, l) -> transB ? unit * kDim + l : l * nDim + unit);
    return new Int8Weights(values, nearest.scales());
  }

  /** Row (n, output position (p, q)) of the im2col matrix of {@code group}: [Cg, R, S], 0 where the window pads. */
  private static void im2col(ConvGeometry g, float[] x, int n, int group, int p, int q, float[] rows, int at) {
    int cg = g.c() / g.groups();
    int i = at;
    for (int c = 0; c < cg; c++) {
      int plane = ((n * g.c()) + group * cg + c) * g.h() * g.w();
      for (int r = 0; r < g.r(); r++) {
        int y = p * g.strideH() - g.padTop() + r * g.dilationH();
        for (int s = 0; s < g.s(); s++) {
          int xx = q * g.strideW() - g.padLeft() + s * g.dilationW();
          rows[i++] = y < 0 || y >= g.h() || xx < 0 || xx >= g.w() ? 0f : x[plane + y * g.w() + xx];
        }
      }
    }
  }

  /**
   * H = Σ x xᵀ of rows written into {@link #rows} one at a time: each chunk of {@link #CHUNK} rows
   * adds XᵀX, computed on the backend's GEMM in float, to H in double.
   */
  private static final class SecondMoments {
    final float[] rows;
    private final int f;
    private final Kernels kernels;
    private final double[] h;
    private final float[] product;
    private int filled;

    SecondMoments(int f, Kernels kernels) {
      this.f = f;
      this.kernels = kernels;
      this.rows = new float[CHUNK * f];
      this.h = new double[f * f];
      this.product = new float[f * f];
    }

    /** Where in {@link #rows} the next row goes; call {@link #added} once it is written. */
    int nextRow() {
      return filled * f;
    }

    void added() {
      if (++filled == CHUNK) {
        flush();
      }
    }

    /** H over every row added. */
    double[] sum() {
      flush();
      return h;
    }

    private void flush() {
      if (filled == 0) {
        return;
      }
      kernels.gemm(true, false, f, f, filled, 1f, rows, 0, f, rows, 0, f, 0f, product, 0, f);
      for (int i = 0; i < product.length; i++) {
        h[i] += product[i];
      }
      filled = 0;
    }
  }

  /** Index in the weight array of input l of output unit (channel) {@code unit}. */
  private interface Position {
    int of(int unit, int l);
  }

  /**
   * GPTQ on output units [from, to), which share H and so its factor U (F × F, from
   * {@link #inverseUpperFactor}); unit u's scale is scales[u].
   */
  private static void feedback(float[] w, float[] scales, byte[] values, double[][] u, int from, int to,
      Position position) {
    int f = u.length;
    double[] rest = new double[f];
    for (int unit = from; unit < to; unit++) {
      double scale = scales[unit];
      if (scale == 0) {
        continue;
      }
      for (int l = 0; l < f; l++) {
        rest[l] = w[position.of(unit, l)];
      }
      for (int j = 0; j < f; j++) {
        double q = Math.max(-Int8Weights.LEVELS, Math.min(Int8Weights.LEVELS, Math.rint(rest[j] / scale)));
        values[position.of(unit, j)] = (byte) q;
        double error = (rest[j] - q * scale) / u[j][j];
        double[] row = u[j];
        for (int m = j + 1; m < f; m++) {
          rest[m] -= error * row[m];
        }
      }
    }
  }

  /**
   * U with (H + λI)⁻¹ = UᵀU, U upper triangular: H = R·Rᵀ with R upper (Cholesky from the last
   * row up), then U = R⁻¹, since (R·Rᵀ)⁻¹ = R⁻ᵀ·R⁻¹. An input no position exercised (zero row
   * and column) gets λ alone and no coupling.
   */
  private static double[][] inverseUpperFactor(double[] h, int f) {
    double trace = 0;
    for (int i = 0; i < f; i++) {
      trace += h[i * f + i];
    }
    double lambda = trace > 0 ? DAMPENING * trace / f : 1;
    double[][] a = new double[f][f];
    for (int i = 0; i < f; i++) {
      for (int j = 0; j < f; j++) {
        a[i][j] = h[i * f + j];
      }
      a[i][i] += lambda;
    }
    // R upper with A = R Rᵀ: column j of R from the last one down to the first.
    double[][] r = new double[f][f];
    for (int j = f - 1; j >= 0; j--) {
      double d = a[j][j];
      for (int m = j + 1; m < f; m++) {
        d -= r[j][m] * r[j][m];
      }
      r[j][j] = Math.sqrt(Math.max(d, lambda * 1e-6));
      for (int i = j - 1; i >= 0; i--) {
        double s = a[i][j];
        for (int m = j + 1; m < f; m++) {
          s -= r[i][m] * r[j][m];
        }
        r[i][j] = s / r[j][j];
      }
    }
    // U = R⁻¹, upper triangular, row by row from the last: row i is −(Σ_{m>i} R[i][m]·U[m]) / R[i][i]
    // off the diagonal, summed as whole rows so that every access runs along a row.
    double[][] u = new double[f][f];
    for (int i = f - 1; i >= 0; i--) {
      double[] row = u[i];
      for (int m = i + 1; m < f; m++) {
        double coefficient = r[i][m];
        double[] below = u[m];
        for (int j = m; j < f; j++) {
          row[j] -= coefficient * below[j];
        }
      }
      double inverse = 1 / r[i][i];
      for (int j = i + 1; j < f; j++) {
        row[j] *= inverse;
      }
      row[i] = inverse;
    }
    return u;
  }
}
