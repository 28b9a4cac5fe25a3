package dev.vfuse.quant;

import dev.vfuse.ElementType;
import dev.vfuse.fusion.GraphEditor;
import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.Graph;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.Node;
import dev.vfuse.kernel.Int8Weights;
import dev.vfuse.ops.OpRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Per-output-channel symmetric int8 weights for every Conv, ConvTranspose (depthwise and grouped
 * included) and Gemm with constant float weights, after fusion, so the folded weights are the ones
 * quantized (rounded to nearest, or as {@link GptqRounding} chose); with data-free (analytical)
 * bias correction when asked.
 *
 * <p>Quantizing moves layer outputs on average: E[W̃x] − E[Wx] = (W̃ − W)·E[x] (Nagel et al.,
 * "Data-Free Quantization Through Weight Equalization and Bias Correction", ICCV 2019). With E[x]
 * per input channel from {@link InputStatistics}, the correction per output channel k and kernel
 * tap t is
 *
 * <pre>
 *   D[k, t] = Σ_{c ∈ group(k)} (W̃[k, c, t] − W[k, c, t])·E[x_c]        (in double)
 *   b_k    −= Σ_t D[k, t]                                                 at interior outputs
 * </pre>
 *
 * Where a conv pads, a border output reads the pad value 0 through some taps, not E[x], so it
 * shifts by Σ over its in-range taps only. The exact correction is therefore −D as shift taps
 * ({@code vfuse.Conv} input 4): at bind time they become the per-position offsets, the sum of the
 * taps each output position really reads (interior, edges and corners each get their own). A
 * ConvTranspose's border outputs receive fewer taps too and get the same treatment; for a Gemm it
 * is b_j −= α·Σ_l ΔB(l, j)·E[a_l] / β.
 *
 * <p>The correction removes the mean of the quantization error ε and leaves its spread, which an
 * activation after the layer turns into a further mean shift through Cov(f'(z), ε) (z the float
 * pre-activation; docs/QUANTIZATION.md), bounded by sd(f'(z))·σ_ε. Per output channel, with the
 * inputs' variances from the same statistics and inputs taken as uncorrelated,
 *
 * <pre>
 *   σ²_ε,k = Σ_{c ∈ group(k), t} (W̃[k, c, t] − W[k, c, t])²·Var[x_c]      (a Gemm: Σ_l α²·ΔB(l, k)²·Var[a_l])
 * </pre>
 *
 * and a layer is corrected only when sqrt(Σ_k (Σ_t D[k, t])²) ≥ {@link #SHIFT_TO_SPREAD}·sqrt(Σ_k σ²_ε,k):
 * where its mean shift is small against the error it leaves, the data-free statistics cannot tell
 * that removing it helps, and the layer is declined with that reason in the report.
 */
public final class WeightQuantizer {

  /**
   * The smallest ratio of a layer's predicted mean shift to the predicted spread of its
   * quantization error (RMS over output channels of each) at which analytical correction is
   * applied. Chosen by measurement on the torch quantization fixtures (docs/QUANTIZATION.md):
   * at 0 (always correct) mobilenet_v3_small's output error rose 6%; at 0.5 it fell on all seven
   * fixtures; at 1 the RepVGG fixture's layers were all declined.
   */
  static final double SHIFT_TO_SPREAD = 0.5;

  /** The result: the quantized graph and what happened to each layer. */
  public record Result(Graph graph, List<QuantizedLayer> layers) {}

  private final Graph g;
  private final InputStatistics stats;
  private final boolean analytical;
  private final boolean exactBorders;
  private final GraphEditor editor;
  private final List<QuantizedLayer> layers = new ArrayList<>();
  private final GptqRounding.Rounded rounded;

  private WeightQuantizer(Graph g, boolean analytical, boolean exactBorders, GptqRounding.Rounded rounded) {
    this.g = g;
    this.stats = analytical ? InputStatistics.of(g) : null;
    this.analytical = analytical;
    this.exactBorders = exactBorders;
    this.rounded = rounded;
    this.editor = new GraphEditor(g);
  }

  /**
   * Quantizes the weights of {@code fused} to nearest; with {@code analytical}, corrects the
   * biases from the folded BatchNorms' statistics, exactly at borders when {@code exactBorders}
   * (off only to measure what the border term is worth).
   */
  public static Result quantize(Graph fused, boolean analytical, boolean exactBorders) {
    return quantize(fused, analytical, exactBorders, null);
  }

  /** {@link #quantize(Graph, boolean, boolean)} with the layers {@code rounded} holds taking its values. */
  static Result quantize(Graph fused, boolean analytical, boolean exactBorders, GptqRounding.Rounded rounded) {
    WeightQuantizer q = new WeightQuantizer(fused, analytical, exactBorders, rounded);
    for (Node n : fused.nodes()) {
      Node rewritten = q.rewrite(n);
      if (rewritten != n) {
        q.editor.replace(List.of(n), rewritten);
      }
    }
    return new Result(q.editor.build(), List.copyOf(q.layers));
  }

  /** Whether {@code n} is a layer this pass quantizes in {@code g}. */
  static boolean quantizable(Graph g, Node n) {
    boolean conv = (n.opType().equals("Conv") || n.opType().equals("ConvTranspose"))
        && (n.domain().isEmpty() || n.domain().equals(OpRegistry.VFUSE_DOMAIN));
    boolean gemm = n.opType().equals("Gemm") && n.domain().isEmpty() && n.attributes().getInt("transA", 0) == 0;
    if (!conv && !gemm) {
      return false;
    }
    NdArray w = g.constants().get(n.input(1));
    return w != null && w.type == ElementType.FLOAT32 && (gemm ? w.rank() == 2 : w.rank() >= 3);
  }

  private Node rewrite(Node n) {
    if (!quantizable(g, n)) {
      return n;
    }
    NdArray w = g.constants().get(n.input(1));
    String op = n.opType();
    int groups = op.equals("Gemm") ? 1 : n.attributes().getInt("group", 1);
    boolean transB = n.attributes().getInt("transB", 0) != 0;
    int taps = 1;
    for (int d = 2; d < w.rank(); d++) {
      taps *= w.shape[d];
    }
    Int8Weights.Layout layout = switch (op) {
      case "Conv" -> Int8Weights.rows(w.shape[0], w.size() / w.shape[0]);
      case "ConvTranspose" -> Int8Weights.convTranspose(w.shape[0], w.shape[1] * groups, groups, taps);
      default -> Int8Weights.gemm(transB, transB ? w.shape[0] : w.shape[1], transB ? w.shape[1] : w.shape[0]);
    };
    Int8Weights gptq = rounded == null ? null : rounded.weights().get(n.name());
    Int8Weights q = gptq != null ? gptq : Int8Weights.quantize(w.f, layout);
    List<String> inputs = new ArrayList<>(n.inputs());
    inputs.set(1, add(n.name() + ".weight_int8", NdArray.ofInt8(w.shape.clone(), q)));
    QuantizedLayer layer = describe(n, op, groups, w, q, gptq != null ? "gptq" : "nearest",
        rounded == null || gptq != null ? null : rounded.nearestWhy().get(n.name()));
    Node out = new Node(n.name(), n.opType(), n.domain(), inputs, n.outputs(), n.attributes());
    if (analytical) {
      InputStatistics.Moments m = stats.moments(n.input(0));
      String contradiction = stats.contradiction(n.outputs().get(0));
      if (m == null) {
        layer = layer.withCorrection("none", "input statistics unknown: " + stats.whyUnknown(n.input(0)), 0);
      } else if (contradiction != null) {
        layer = layer.withCorrection("none", "input statistics not trusted: " + contradiction, 0);
      } else {
        Correction c = op.equals("Gemm") ? gemm(n, w, q, layout, m, transB)
            : conv(n, w, q, layout, m, groups, taps, op.equals("ConvTranspose"));
        if (c.reason != null) {
          layer = layer.withCorrection("none", c.reason, 0);
        } else {
          out = c.apply(out, inputs);
          layer = layer.withCorrection(c.borders ? "analytical, exact at borders" : "analytical", null, c.maxShift);
        }
        layer = layer.withShiftToSpread(c.shiftToSpread);
      }
    }
    layers.add(layer);
    return out;
  }

  private QuantizedLayer describe(Node n, String op, int groups, NdArray w, Int8Weights q, String rounding,
      String nearestReason) {
    float lo = Float.POSITIVE_INFINITY, hi = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < w.size(); i++) {
      lo = Math.min(lo, w.f[i]);
      hi = Math.max(hi, w.f[i]);
    }
    float sLo = Float.POSITIVE_INFINITY, sHi = 0;
    for (float s : q.scales()) {
      sLo = Math.min(sLo, s);
      sHi = Math.max(sHi, s);
    }
    return new QuantizedLayer(n.name(), op, groups, q.scales().length, lo, hi, sLo, sHi, 4L * w.size(), q.bytes(),
        rounding, nearestReason, "none", null, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
  }

  private String add(String hint, NdArray value) {
    return editor.addConstant(hint, value);
  }

  /** A bias correction to apply to a node, or the reason there is none. */
  private final class Correction {
    String reason;
    /** New bias (input 2) or null to keep it. */
    float[] bias;
    int[] biasShape;
    /** New shift taps (input 4, float or int8 per channel) or null. */
    NdArray taps;
    boolean borders;
    double maxShift;
    /** For a Gemm that had no C: beta becomes 1. */
    boolean setBetaOne;

    Correction refused(String why) {
      reason = why;
      return this;
    }

    /** sqrt(Σ_k shift_k²) / sqrt(Σ_k σ²_ε,k): the layer's mean shift against the spread of its quantization error. */
    double shiftToSpread = Double.NaN;

    /**
     * Whether the layer takes the correction (see the class comment): when its predicted mean
     * shift is at least {@link #SHIFT_TO_SPREAD} of the predicted spread of its quantization
     * error; otherwise refuses it with the reason.
     */
    void decide(double[] shift, double[] errorVariance) {
      double shiftSquares = 0;
      double variance = 0;
      for (int ch = 0; ch < shift.length; ch++) {
        shiftSquares += shift[ch] * shift[ch];
        variance += errorVariance[ch];
      }
      shiftToSpread = variance == 0 ? Double.POSITIVE_INFINITY : Math.sqrt(shiftSquares / variance);
      if (shiftToSpread < SHIFT_TO_SPREAD) {
        refused(String.format(java.util.Locale.ROOT, "its mean shift is %.2f of the spread of the quantization error the "
            + "correction would leave (below %.2f): removing it cannot be told to help, the activations after it see "
            + "mostly that error's correlation with their input", shiftToSpread, SHIFT_TO_SPREAD));
      }
    }

    Node apply(Node n, List<String> inputs) {
      List<String> in = new ArrayList<>(inputs);
      Attributes attributes = n.attributes();
      String domain = n.domain();
      while (in.size() < 3) {
        in.add("");
      }
      if (bias != null) {
        in.set(2, add(n.name() + ".bias_corrected", NdArray.ofFloats(biasShape, bias)));
      }
      if (taps != null) {
        while (in.size() < 5) {
          in.add("");
        }
        in.set(4, add(n.name() + ".shift_taps_corrected", taps));
        domain = OpRegistry.VFUSE_DOMAIN;
      }
      if (setBetaOne) {
        Map<String, Object> m = attributes.toMap();
        m.put("beta", 1f);
        attributes = new Attributes(m);
      }
      return new Node(n.name(), n.opType(), domain, in, n.outputs(), attributes);
    }
  }

  /** D[k, t] (see the class comment) and where it goes: the bias, or shift taps when borders matter. */
  private Correction conv(Node n, NdArray w, Int8Weights q, Int8Weights.Layout layout, InputStatistics.Moments m,
      int groups, int taps, boolean transposed) {
    Correction c = new Correction();
    double[] mean = m.mean();
    int k = layout.channels();
    int inputChannels = transposed ? w.shape[0] : w.shape[1] * groups;
    if (mean.length != inputChannels) {
      return c.refused("input statistics have " + mean.length + " channels, the layer reads " + inputChannels);
    }
    double[][] d = new double[k][taps];
    double[] errorVariance = new double[k];
    int rows = w.size() / taps; // Conv: K·Cg rows; ConvTranspose: C·Kg rows
    for (int row = 0; row < rows; row++) {
      int channel = layout.channelOf(row * taps);
      int input = transposed ? row / w.shape[1] : (channel / (k / groups)) * w.shape[1] + row % w.shape[1];
      double e = mean[input];
      for (int t = 0; t < taps; t++) {
        int i = row * taps + t;
        double delta = (double) q.values()[i] * q.scales()[channel] - w.f[i];
        d[channel][t] += delta * e;
        errorVariance[channel] += delta * delta * m.var()[input];
      }
    }
    double[] interior = new double[k];
    for (int ch = 0; ch < k; ch++) {
      for (int t = 0; t < taps; t++) {
        interior[ch] += d[ch][t];
      }
    }
    c.decide(interior, errorVariance);
    if (c.reason != null) {
      return c;
    }
    for (int ch = 0; ch < k; ch++) {
      c.maxShift = Math.max(c.maxShift, Math.abs(interior[ch]));
    }
    boolean pads = transposed || pads(n);
    if (pads && exactBorders && w.rank() == 4) {
      NdArray old = n.inputs().size() > 4 && !n.input(4).isEmpty() ? g.constants().get(n.input(4)) : null;
      int[] shape = transposed ? new int[] {1, k, w.shape[2], w.shape[3]} : new int[] {k, 1, w.shape[2], w.shape[3]};
      float[] t = new float[k * taps];
      for (int ch = 0; ch < k; ch++) {
        for (int tap = 0; tap < taps; tap++) {
          double before = old == null ? 0 : old.f[ch * taps + tap];
          t[ch * taps + tap] = (float) (before - d[ch][tap]);
        }
      }
      // Taps that only carry the correction are int8 too (per channel, like weights): as many as
      // a depthwise conv's weights, they would otherwise cost it four times its int8 weights, and
      // 1/254 of a correction is far below what the correction itself is known to.
      c.taps = old == null ? NdArray.ofInt8(shape, Int8Weights.quantize(t, Int8Weights.rows(k, taps)))
          : NdArray.ofFloats(shape, t);
      c.borders = true;
      return c;
    }
    NdArray b = n.input(2).isEmpty() ? null : g.constants().get(n.input(2));
    if (!n.input(2).isEmpty() && (b == null || b.f == null)) {
      return c.refused("its bias is not a constant");
    }
    c.biasShape = new int[] {k};
    c.bias = new float[k];
    for (int ch = 0; ch < k; ch++) {
      c.bias[ch] = (float) ((b == null ? 0 : (double) b.f[ch]) - interior[ch]);
    }
    return c;
  }

  /** Whether a conv reads padding: non-zero pads or a SAME auto_pad. */
  private static boolean pads(Node n) {
    String auto = n.attributes().getString("auto_pad", "NOTSET");
    if (auto.startsWith("SAME")) {
      return true;
    }
    if (!n.attributes().has("pads")) {
      return false;
    }
    for (long p : n.attributes().getLongs("pads")) {
      if (p != 0) {
        return true;
      }
    }
    return false;
  }

  /** C_j −= α·Σ_l (B̃ − B)(l, j)·E[a_l] / β. */
  private Correction gemm(Node n, NdArray w, Int8Weights q, Int8Weights.Layout layout, InputStatistics.Moments m,
      boolean transB) {
    Correction c = new Correction();
    double[] mean = m.mean();
    int kDim = transB ? w.shape[1] : w.shape[0];
    int nDim = layout.channels();
    if (mean.length != kDim) {
      return c.refused("input statistics have " + mean.length + " features, the Gemm reads " + kDim);
    }
    float alpha = n.attributes().getFloat("alpha", 1f);
    float beta = n.attributes().getFloat("beta", 1f);
    double[] shift = new double[nDim];
    double[] errorVariance = new double[nDim];
    for (int i = 0; i < w.size(); i++) {
      int j = layout.channelOf(i);
      int l = transB ? i % kDim : i / nDim;
      double delta = ((double) q.values()[i] * q.scales()[j] - w.f[i]) * alpha;
      shift[j] += delta * mean[l];
      errorVariance[j] += delta * delta * m.var()[l];
    }
    c.decide(shift, errorVariance);
    if (c.reason != null) {
      return c;
    }
    NdArray old = n.inputs().size() > 2 && !n.input(2).isEmpty() ? g.constants().get(n.input(2)) : null;
    if (old != null && (old.f == null || old.size() != nDim)) {
      return c.refused("its C is not a constant per-column bias");
    }
    if (n.inputs().size() > 2 && !n.input(2).isEmpty() && old == null) {
      return c.refused("its C is not a constant");
    }
    if (old != null && beta == 0f) {
      return c.refused("its beta is 0");
    }
    c.setBetaOne = old == null;
    double b = old == null ? 1 : beta;
    c.biasShape = old == null ? new int[] {nDim} : old.shape.clone();
    c.bias = new float[nDim];
    for (int j = 0; j < nDim; j++) {
      c.bias[j] = (float) ((old == null ? 0 : (double) old.f[j]) - shift[j] / b);
      c.maxShift = Math.max(c.maxShift, Math.abs(shift[j]));
    }
    return c;
  }
}
