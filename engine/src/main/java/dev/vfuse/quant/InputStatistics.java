package dev.vfuse.quant;

import dev.vfuse.fusion.LayerInputStatistics;
import dev.vfuse.fusion.OutputStatistics;
import dev.vfuse.ir.Graph;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.Node;
import dev.vfuse.kernel.Activation;
import dev.vfuse.ops.ActivationAttributes;
import java.util.HashMap;
import java.util.Map;

/**
 * Per-channel mean and variance of the values of a fused graph, as far as folded BatchNorms tell
 * them: the data-free half of bias correction needs E[x] for the input of every quantized layer.
 *
 * <p>A conv carrying {@link OutputStatistics} produces N(β, γ²) per channel before its fused
 * residual add and activation; a residual adds its own mean and variance (the two taken as
 * independent), and the activation maps the sum through {@link NormalMoments}, which takes it as
 * normal. Standalone Add and activations do the same; average pools, Resize, Flatten/Reshape of
 * [N, C, 1, 1] and Identity keep each channel's mean (and, as an approximation only used for a
 * later nonlinearity, its variance); Concat on channels concatenates. A conv without a BN (the
 * 1×1 layers of a squeeze-excite) passes its mean on by linearity, and a product of two values
 * with statistics (the excite) has the product of their means, the two taken as independent.
 * Anything else (MaxPool, the model's input) has no statistics, and the reason is kept for the
 * report.
 */
public final class InputStatistics {
  /** Mean and variance per channel. */
  public record Moments(double[] mean, double[] var) {
    int channels() {
      return mean.length;
    }
  }

  private final Map<String, Moments> known = new HashMap<>();
  private final Map<String, String> unknown = new HashMap<>();
  /** Per layer checked: RMS over channels of (predicted − recorded output mean) / recorded std. */
  private final Map<String, Double> mismatch = new HashMap<>();
  /** Values computed from a layer whose statistics contradict each other: why. */
  private final Map<String, String> contradicted = new HashMap<>();

  private InputStatistics() {}

  /** Propagates statistics through {@code g} (topologically sorted) from its folded BatchNorms. */
  public static InputStatistics of(Graph g) {
    InputStatistics s = new InputStatistics();
    Map<String, Moments> measured = new HashMap<>();
    for (Node n : g.nodes()) {
      Moments m = recordedInput(n);
      if (m != null) {
        measured.put(n.input(0), m);
      }
    }
    g.inputs().forEach(v -> s.unknown.put(v.name(), "it is the model input " + v.name()));
    g.inputs().forEach(v -> s.settle(v.name(), measured));
    for (Node n : g.nodes()) {
      String out = n.outputs().get(0);
      for (String in : n.inputs()) {
        String c = in.isEmpty() ? null : s.contradicted.get(in);
        if (c != null) {
          s.contradicted.put(out, c);
          break;
        }
      }
      String why = s.propagate(g, n);
      if (why != null) {
        s.unknown.put(out, why);
        s.known.remove(out);
      }
      s.settle(out, measured);
    }
    return s;
  }

  /** A value a folded BN measured takes the BN's statistics: they describe it, not an assumption carried to it. */
  private void settle(String v, Map<String, Moments> measured) {
    Moments m = measured.get(v);
    if (m != null) {
      known.put(v, m);
      unknown.remove(v);
    }
  }

  /** The statistics a BN folded forward into {@code n} recorded for n's input ({@link LayerInputStatistics}), or null. */
  private static Moments recordedInput(Node n) {
    float[] mean = LayerInputStatistics.mean(n);
    float[] std = LayerInputStatistics.std(n);
    if (mean == null || std == null) {
      return null;
    }
    double[] m = new double[mean.length];
    double[] v = new double[mean.length];
    for (int c = 0; c < m.length; c++) {
      m[c] = mean[c];
      v[c] = (double) std[c] * std[c];
    }
    return new Moments(m, v);
  }

  /** The moments of value {@code v}, or null (see {@link #whyUnknown}). */
  public Moments moments(String v) {
    return known.get(v);
  }

  /**
   * Why the statistics of value {@code v} cannot be trusted, or null: it is computed from a layer
   * whose input statistics, pushed through its float weights, contradict the output statistics
   * recorded on it ({@link #MISMATCH}), so at least one of the two is not a description of the
   * data this model sees.
   */
  public String contradiction(String v) {
    return contradicted.get(v);
  }

  /** The check of layer {@code name} (see {@link #MISMATCH}), or NaN when it was not checked. */
  public double mismatch(String name) {
    return mismatch.getOrDefault(name, Double.NaN);
  }

  /**
   * The largest mismatch a layer's statistics may show before they count as contradicting each
   * other: RMS over output channels of (W·E[x] + b − β) / |γ|, with E[x] the statistics of the
   * layer's input, W and b its float weights and bias (every tap reading E[x], as inside the
   * image; a ConvTranspose's taps averaged over its stride phases) and β, |γ| the mean and
   * standard deviation recorded on its output by the BN folded into it. Measured on the torch
   * quantization fixtures, whose BN statistics describe the data they see: 0.02–0.28 (zero
   * padding, the normal approximation through each activation and the squeeze-excite gates make
   * it nonzero; the largest are mobilenet_v3_small's). On the fusion fixtures' random BN
   * statistics, which describe no data: 0.40–0.77 on the RepVGG and DBB blocks, but 0.21–0.23 on
   * the ConvTranspose block, which this threshold does not catch (docs/QUANTIZATION.md).
   */
  public static final double MISMATCH = 0.35;

  /** Why value {@code v} has no statistics. */
  public String whyUnknown(String v) {
    return unknown.getOrDefault(v, "no statistics reach " + v);
  }

  /** Records the moments of n's first output, or returns why there are none. */
  private String propagate(Graph g, Node n) {
    String label = n.opType() + " " + n.name();
    String out = n.outputs().get(0);
    switch (n.opType()) {
      case "Conv", "ConvTranspose", "Gemm" -> {
        float[] mean = OutputStatistics.mean(n);
        float[] std = OutputStatistics.std(n);
        if (mean == null) {
          return linear(g, n, label);
        }
        double[] m = new double[mean.length];
        double[] v = new double[mean.length];
        for (int c = 0; c < m.length; c++) {
          m[c] = mean[c];
          v[c] = (double) std[c] * std[c];
        }
        Moments pre = new Moments(m, v);
        check(g, n, label, pre);
        if (n.inputs().size() > 3 && !n.input(3).isEmpty()) {
          Moments residual = known.get(n.input(3));
          if (residual == null || residual.channels() != m.length) {
            return "the residual added in " + label + " has no statistics";
          }
          pre = sum(pre, residual);
        }
        known.put(out, activate(ActivationAttributes.read(n.attributes()), pre));
        return null;
      }
      case "Mul" -> {
        Moments a = known.get(n.input(0));
        Moments b = known.get(n.input(1));
        if (a == null || b == null || a.channels() != b.channels()) {
          return "it comes from " + label + " of values without matching statistics";
        }
        double[] m = new double[a.channels()];
        double[] v = new double[a.channels()];
        for (int c = 0; c < m.length; c++) {
          double ma = a.mean()[c], mb = b.mean()[c], va = a.var()[c], vb = b.var()[c];
          m[c] = ma * mb;
          v[c] = ma * ma * vb + mb * mb * va + va * vb;
        }
        known.put(out, new Moments(m, v));
        return null;
      }
      case "Add" -> {
        Moments a = known.get(n.input(0));
        Moments b = known.get(n.input(1));
        if (a == null || b == null || a.channels() != b.channels()) {
          return "it comes from " + label + " of values without matching statistics";
        }
        known.put(out, sum(a, b));
        return null;
      }
      case "Relu", "Sigmoid", "HardSwish", "Tanh", "Clip" -> {
        Moments x = known.get(n.input(0));
        Activation f = standalone(g, n);
        if (x == null || f == null) {
          return "it comes from " + label + (x == null ? " of a value without statistics" : " with non-constant bounds");
        }
        known.put(out, activate(f, x));
        return null;
      }
      case "GlobalAveragePool", "AveragePool", "Resize", "Identity", "Dropout", "Flatten", "Reshape" -> {
        Moments x = known.get(n.input(0));
        if (x == null) {
          return "it comes from " + label + " of a value without statistics";
        }
        known.put(out, x); // per-channel means survive; Flatten/Reshape are checked by their reader
        return null;
      }
      case "Concat" -> {
        if (n.attributes().getInt("axis", 0) != 1) {
          return "it comes from " + label + " on an axis other than channels";
        }
        Moments[] parts = new Moments[n.inputs().size()];
        int total = 0;
        for (int i = 0; i < parts.length; i++) {
          parts[i] = known.get(n.input(i));
          if (parts[i] == null) {
            return "input " + i + " of " + label + " has no statistics";
          }
          total += parts[i].channels();
        }
        double[] m = new double[total];
        double[] v = new double[total];
        int at = 0;
        for (Moments p : parts) {
          System.arraycopy(p.mean(), 0, m, at, p.channels());
          System.arraycopy(p.var(), 0, v, at, p.channels());
          at += p.channels();
        }
        known.put(out, new Moments(m, v));
        return null;
      }
      default -> {
        return "it comes from " + label;
      }
    }
  }

  /**
   * A conv without a folded BN (a squeeze-excite's 1×1 layers): its mean is exact by linearity,
   * W·E[x] + b (every tap reading E[x], as inside the image); its variance is unknown and taken
   * as 0, so an activation after it is applied to the mean.
   */
  private String linear(Graph g, Node n, String label) {
    Moments x = known.get(n.input(0));
    String missing = OutputStatistics.whyMissing(n);
    String noBatchNorm = "it comes from " + label + ", which no BatchNorm was folded into"
        + (missing == null ? "" : " (" + missing + ")");
    if (n.opType().equals("Gemm")) {
      return x == null ? noBatchNorm : linearGemm(g, n, x, noBatchNorm);
    }
    if (x == null || n.opType().equals("ConvTranspose") || (n.inputs().size() > 3 && !n.input(3).isEmpty())) {
      return noBatchNorm; // a ConvTranspose's outputs differ in mean by phase: no one mean to pass on
    }
    double[] m = convMean(g, n, x);
    if (m == null) {
      return noBatchNorm;
    }
    known.put(n.outputs().get(0), activate(ActivationAttributes.read(n.attributes()), new Moments(m, new double[m.length])));
    return null;
  }

  /**
   * The mean of conv {@code n}'s linear output inside the image, W·E[x] + b + Σ_t T[k, t] (T its
   * shift taps, if any), or null where that cannot be computed (a ConvTranspose, whose outputs
   * receive different numbers of taps; weights that are not float constants).
   */
  private static double[] convMean(Graph g, Node n, Moments x) {
    NdArray w = g.constants().get(n.input(1));
    NdArray b = n.inputs().size() > 2 && !n.input(2).isEmpty() ? g.constants().get(n.input(2)) : null;
    NdArray taps = n.inputs().size() > 4 && !n.input(4).isEmpty() ? g.constants().get(n.input(4)) : null;
    if (w == null || w.f == null || (b != null && b.f == null)
        || (n.inputs().size() > 2 && !n.input(2).isEmpty() && b == null)
        || (n.inputs().size() > 4 && !n.input(4).isEmpty() && (taps == null || taps.f == null))) {
      return null;
    }
    if (n.opType().equals("ConvTranspose")) {
      return convTransposeMean(n, w, b, taps, x);
    }
    int k = w.shape[0];
    int cg = w.shape[1];
    int kernelTaps = w.size() / (k * cg);
    int groups = n.attributes().getInt("group", 1);
    if (cg * groups != x.channels() || (taps != null && taps.size() % k != 0)) {
      return null;
    }
    double[] m = new double[k];
    int perChannel = taps == null ? 0 : taps.size() / k;
    for (int ch = 0; ch < k; ch++) {
      double sum = b == null ? 0 : b.f[ch];
      int group = ch / (k / groups);
      for (int c = 0; c < cg; c++) {
        for (int t = 0; t < kernelTaps; t++) {
          sum += (double) w.f[(ch * cg + c) * kernelTaps + t] * x.mean()[group * cg + c];
        }
      }
      for (int t = 0; t < perChannel; t++) {
        sum += taps.f[ch * perChannel + t];
      }
      m[ch] = sum;
    }
    return m;
  }

  /**
   * A ConvTranspose's mean output inside the image: with strides s_h, s_w each output position
   * receives R·S/(s_h·s_w) taps on average (stride 2, 3×3: 2·2, 2·1, 1·2 and 1·1 taps on the
   * four phases), so b_k + (Σ_{c, t} W[c, k, t]·E[x_c] + Σ_t T[k, t]) / (s_h·s_w).
   */
  private static double[] convTransposeMean(Node n, NdArray w, NdArray b, NdArray taps, Moments x) {
    int c = w.shape[0];
    int kg = w.shape[1];
    int groups = n.attributes().getInt("group", 1);
    int k = kg * groups;
    int kernelTaps = w.size() / (c * kg);
    int[] strides = n.attributes().getInts("strides", new int[] {1, 1});
    double phases = 1;
    for (int st : strides) {
      phases *= st;
    }
    if (c != x.channels() || c % groups != 0 || (taps != null && taps.size() != k * kernelTaps)) {
      return null;
    }
    double[] m = new double[k];
    for (int ch = 0; ch < c; ch++) {
      int group = ch / (c / groups);
      for (int kk = 0; kk < kg; kk++) {
        for (int t = 0; t < kernelTaps; t++) {
          m[group * kg + kk] += (double) w.f[(ch * kg + kk) * kernelTaps + t] * x.mean()[ch] / phases;
        }
      }
    }
    for (int out = 0; out < k; out++) {
      for (int t = 0; taps != null && t < kernelTaps; t++) {
        m[out] += taps.f[out * kernelTaps + t] / phases;
      }
      m[out] += b == null ? 0 : b.f[out];
    }
    return m;
  }

  /** The mean of Gemm {@code n}'s output, α·Σ_l op(B)[l, j]·E[a_l] + β·C_j, or null where that cannot be computed. */
  private static double[] gemmMean(Graph g, Node n, Moments x) {
    NdArray w = g.constants().get(n.input(1));
    NdArray c = n.inputs().size() > 2 && !n.input(2).isEmpty() ? g.constants().get(n.input(2)) : null;
    boolean transB = n.attributes().getInt("transB", 0) != 0;
    if (w == null || w.f == null || w.rank() != 2 || n.attributes().getInt("transA", 0) != 0
        || (n.inputs().size() > 2 && !n.input(2).isEmpty() && (c == null || c.f == null))) {
      return null;
    }
    int kDim = transB ? w.shape[1] : w.shape[0];
    int nDim = transB ? w.shape[0] : w.shape[1];
    if (kDim != x.channels() || (c != null && c.size() != nDim && c.size() != 1)) {
      return null;
    }
    double alpha = n.attributes().getFloat("alpha", 1f);
    double beta = n.attributes().getFloat("beta", 1f);
    double[] m = new double[nDim];
    for (int j = 0; j < nDim; j++) {
      double sum = c == null ? 0 : beta * c.f[c.size() == 1 ? 0 : j];
      for (int l = 0; l < kDim; l++) {
        sum += alpha * w.f[transB ? j * kDim + l : l * nDim + j] * x.mean()[l];
      }
      m[j] = sum;
    }
    return m;
  }

  /**
   * Checks layer {@code n}'s recorded output statistics {@code pre} against its input's pushed
   * through its float weights (see {@link #MISMATCH}); a contradiction marks its output, and so
   * everything computed from it, as untrusted.
   */
  private void check(Graph g, Node n, String label, Moments pre) {
    Moments x = known.get(n.input(0));
    if (x == null) {
      return;
    }
    double[] predicted = n.opType().equals("Gemm") ? gemmMean(g, n, x) : convMean(g, n, x);
    if (predicted == null || predicted.length != pre.channels()) {
      return;
    }
    double squares = 0;
    for (int c = 0; c < predicted.length; c++) {
      double z = (predicted[c] - pre.mean()[c]) / Math.sqrt(Math.max(pre.var()[c], 1e-30));
      squares += z * z;
    }
    double rms = Math.sqrt(squares / predicted.length);
    mismatch.put(n.name(), rms);
    if (rms > MISMATCH && !contradicted.containsKey(n.outputs().get(0))) {
      contradicted.put(n.outputs().get(0), String.format(java.util.Locale.ROOT,
          "the statistics of %s's input, through its weights, predict a mean output %.2f standard deviations (RMS over "
              + "channels) from the one its BatchNorm recorded (more than %.2f): the BN statistics do not describe one "
              + "data distribution", label, rms, MISMATCH));
    }
  }

  /**
   * A Gemm without a folded BN (a classifier): E[y_j] = α·Σ_l op(B)[l, j]·E[a_l] + β·C_j, with a
   * feature's mean that of its channel when A is a flattened [N, C, 1, 1]; variance unknown, 0.
   */
  private String linearGemm(Graph g, Node n, Moments x, String noBatchNorm) {
    double[] m = gemmMean(g, n, x);
    if (m == null) {
      return noBatchNorm;
    }
    known.put(n.outputs().get(0), new Moments(m, new double[m.length]));
    return null;
  }

  private static Activation standalone(Graph g, Node n) {
    return switch (n.opType()) {
      case "Relu" -> new Activation.Relu();
      case "Sigmoid" -> new Activation.Sigmoid();
      case "HardSwish" -> new Activation.HardSwish();
      case "Tanh" -> new Activation.Tanh();
      default -> clip(g, n);
    };
  }

  private static Activation clip(Graph g, Node n) {
    float lo = -Float.MAX_VALUE;
    float hi = Float.MAX_VALUE;
    if (g.opset() < 11) {
      lo = n.attributes().getFloat("min", lo);
      hi = n.attributes().getFloat("max", hi);
    } else {
      for (int i = 1; i <= 2 && i < n.inputs().size(); i++) {
        if (n.input(i).isEmpty()) {
          continue;
        }
        NdArray c = g.constants().get(n.input(i));
        if (c == null || c.f == null || c.size() != 1) {
          return null;
        }
        if (i == 1) {
          lo = c.f[0];
        } else {
          hi = c.f[0];
        }
      }
    }
    return lo <= hi ? new Activation.Clip(lo, hi) : null;
  }

  private static Moments sum(Moments a, Moments b) {
    double[] m = new double[a.channels()];
    double[] v = new double[a.channels()];
    for (int c = 0; c < m.length; c++) {
      m[c] = a.mean()[c] + b.mean()[c];
      v[c] = a.var()[c] + b.var()[c];
    }
    return new Moments(m, v);
  }

  private static Moments activate(Activation f, Moments x) {
    if (f == null) {
      return x;
    }
    double[] m = new double[x.channels()];
    double[] v = new double[x.channels()];
    for (int c = 0; c < m.length; c++) {
      double[] r = NormalMoments.of(f, x.mean()[c], Math.sqrt(x.var()[c]));
      m[c] = r[0];
      v[c] = r[1];
    }
    return new Moments(m, v);
  }
}
