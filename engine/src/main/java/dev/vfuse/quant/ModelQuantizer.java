package dev.vfuse.quant;

import dev.vfuse.ModelFormatException;
import dev.vfuse.Quantization.BiasCorrection;
import dev.vfuse.Quantization.Rounding;
import dev.vfuse.ir.Attributes;
import dev.vfuse.fusion.GraphEditor;
import dev.vfuse.ir.Graph;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.Node;
import dev.vfuse.kernel.Kernels;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Quantizes a fused graph's weights to int8 (rounded to nearest, or by {@link GptqRounding} on the
 * calibration inputs), corrects the biases as asked, and measures the result against float on
 * evaluation inputs when there are any.
 *
 * <p>Empirical correction (as AIMET's, layer by layer): the float graph and the int8 graph run side
 * by side on the calibration inputs ({@link Lockstep}); at each quantized layer, once every input
 * has reached it,
 *
 * <pre>
 *   Δ_k = mean over samples and positions of (y_int8 − y_float)_k      (linear outputs, channel k)
 *   b_k −= Δ_k                                                          (a Gemm: C_j −= Δ_j / β)
 * </pre>
 *
 * and the int8 run continues from the corrected output, so later layers are corrected on inputs
 * that carry the earlier corrections.
 */
public final class ModelQuantizer {

  /** The int8 graph and the report. */
  public record Result(Graph graph, QuantizationReport report) {}

  private ModelQuantizer() {}

  /**
   * @param calibration samples (inputs in graph order) for empirical correction and GPTQ rounding
   * @param evaluation samples on which to measure errors, possibly none
   */
  public static Result quantize(Graph fused, BiasCorrection correction, Rounding rounding, boolean equalize,
      List<NdArray[]> calibration, List<NdArray[]> evaluation, Kernels kernels) throws ModelFormatException {
    int equalized = 0;
    if (equalize) {
      CrossLayerEqualization.Result cle = CrossLayerEqualization.apply(fused);
      fused = cle.graph();
      equalized = cle.pairs();
    }
    GptqRounding.Rounded rounded = rounding == Rounding.GPTQ ? GptqRounding.round(fused, calibration, kernels) : null;
    // Uncorrected int8: the result for NONE, the base of EMPIRICAL, the comparison of an evaluation.
    WeightQuantizer.Result plain = correction == BiasCorrection.ANALYTICAL && evaluation.isEmpty() ? null
        : WeightQuantizer.quantize(fused, false, true, rounded);
    Graph corrected;
    List<QuantizedLayer> layers;
    switch (correction) {
      case NONE -> {
        corrected = plain.graph();
        layers = plain.layers();
      }
      case ANALYTICAL -> {
        WeightQuantizer.Result r = WeightQuantizer.quantize(fused, true, true, rounded);
        corrected = r.graph();
        layers = r.layers();
      }
      default -> {
        Map<String, double[]> deltas = empiricalDeltas(fused, plain.graph(), calibration, kernels);
        corrected = withBiasDeltas(plain.graph(), deltas);
        layers = new ArrayList<>();
        for (QuantizedLayer l : plain.layers()) {
          double[] d = deltas.get(l.name());
          double max = 0;
          for (double v : d) {
            max = Math.max(max, Math.abs(v));
          }
          layers.add(l.withCorrection("empirical", null, max));
        }
      }
    }
    double[] model = {Double.NaN, Double.NaN, Double.NaN, Double.NaN};
    if (!evaluation.isEmpty()) {
      layers = evaluate(fused, plain.graph(), corrected, layers, evaluation, kernels, model);
    }
    QuantizationReport report = new QuantizationReport(correction.name().toLowerCase(java.util.Locale.ROOT),
        rounding.name().toLowerCase(java.util.Locale.ROOT), equalized, bytes(fused), bytes(corrected), layers,
        evaluation.size(), model[0], model[1], model[2], model[3]);
    return new Result(corrected, report);
  }

  /** Bytes of every constant of {@code g}. */
  static long bytes(Graph g) {
    return g.constants().values().stream().mapToLong(NdArray::bytes).sum();
  }

  /** Per layer, the change of bias that makes its int8 mean output equal the float one. */
  private static Map<String, double[]> empiricalDeltas(Graph fused, Graph int8, List<NdArray[]> calibration,
      Kernels kernels) throws ModelFormatException {
    Map<String, double[]> deltas = new LinkedHashMap<>();
    Lockstep.run(List.of(fused, int8), calibration, kernels, (layer, inputs, linear) -> {
      double[] diff = channelMeans(linear[1]);
      double[] reference = channelMeans(linear[0]);
      double[] delta = new double[diff.length];
      for (int k = 0; k < delta.length; k++) {
        delta[k] = reference[k] - diff[k];
      }
      for (NdArray y : linear[1]) {
        addPerChannel(y, delta);
      }
      deltas.put(layer.name(), delta);
    });
    return deltas;
  }

  /** Mean over samples and positions of each channel (axis 1) of same-shaped arrays. */
  static double[] channelMeans(NdArray[] ys) {
    int k = ys[0].shape[1];
    int inner = ys[0].size() / (ys[0].shape[0] * k);
    double[] sum = new double[k];
    long count = 0;
    for (NdArray y : ys) {
      int n = y.size();
      for (int i = 0; i < n; i++) {
        sum[(i / inner) % k] += y.f[i];
      }
      count += n / k;
    }
    for (int c = 0; c < k; c++) {
      sum[c] /= count;
    }
    return sum;
  }

  private static void addPerChannel(NdArray y, double[] delta) {
    int k = y.shape[1];
    int inner = y.size() / (y.shape[0] * k);
    for (int i = 0; i < y.size(); i++) {
      y.f[i] = (float) (y.f[i] + delta[(i / inner) % k]);
    }
  }

  /** {@code g} with bias_k += delta_k on each layer named in {@code deltas} (C += delta/β for a Gemm). */
  private static Graph withBiasDeltas(Graph g, Map<String, double[]> deltas) {
    GraphEditor editor = new GraphEditor(g);
    for (Node n : g.nodes()) {
      double[] d = deltas.get(n.name());
      if (d == null) {
        continue;
      }
      boolean gemm = n.opType().equals("Gemm");
      NdArray old = n.inputs().size() > 2 && !n.input(2).isEmpty() ? g.constants().get(n.input(2)) : null;
      Attributes attributes = n.attributes();
      double beta = 1;
      if (gemm && old == null) {
        Map<String, Object> m = attributes.toMap();
        m.put("beta", 1f);
        attributes = new Attributes(m);
      } else if (gemm) {
        beta = attributes.getFloat("beta", 1f);
      }
      float[] bias = new float[d.length];
      for (int k = 0; k < d.length; k++) {
        bias[k] = (float) ((old == null ? 0 : (double) old.f[k]) + d[k] / beta);
      }
      List<String> inputs = new ArrayList<>(n.inputs());
      while (inputs.size() < 3) {
        inputs.add("");
      }
      inputs.set(2, editor.addConstant(n.name() + ".bias_empirical",
          NdArray.ofFloats(old == null ? new int[] {d.length} : old.shape.clone(), bias)));
      editor.replace(List.of(n), new Node(n.name(), n.opType(), n.domain(), inputs, n.outputs(), attributes));
    }
    return editor.build();
  }

  /**
   * Runs float, int8 and corrected int8 side by side on the evaluation inputs: per layer the
   * errors of the linear outputs, and into {@code model} the output errors (relative RMS and max
   * |diff|, uncorrected then corrected).
   */
  private static List<QuantizedLayer> evaluate(Graph fused, Graph int8, Graph corrected, List<QuantizedLayer> layers,
      List<NdArray[]> evaluation, Kernels kernels, double[] model) throws ModelFormatException {
    Map<String, double[]> errors = new HashMap<>();
    NdArray[][][] outputs = Lockstep.run(List.of(fused, int8, corrected), evaluation, kernels, (layer, inputs, linear) -> {
      double[] e = new double[4];
      e[0] = relativeRms(linear[0], linear[1]);
      e[1] = relativeRms(linear[0], linear[2]);
      e[2] = meanShift(linear[0], linear[1]);
      e[3] = meanShift(linear[0], linear[2]);
      errors.put(layer.name(), e);
    });
    List<QuantizedLayer> out = new ArrayList<>();
    for (QuantizedLayer l : layers) {
      double[] e = errors.get(l.name());
      out.add(e == null ? l : l.withErrors(e[0], e[1], e[2], e[3]));
    }
    double[][] diff = new double[2][3]; // per variant: Σ diff², Σ ref², max |diff|
    for (int s = 0; s < evaluation.size(); s++) {
      for (int o = 0; o < outputs[0][s].length; o++) {
        float[] ref = outputs[0][s][o].toFloats();
        for (int v = 0; v < 2; v++) {
          float[] got = outputs[v + 1][s][o].toFloats();
          for (int i = 0; i < ref.length; i++) {
            double d = (double) got[i] - ref[i];
            diff[v][0] += d * d;
            diff[v][1] += (double) ref[i] * ref[i];
            diff[v][2] = Math.max(diff[v][2], Math.abs(d));
          }
        }
      }
    }
    model[0] = Math.sqrt(diff[0][0] / diff[0][1]);
    model[1] = Math.sqrt(diff[1][0] / diff[1][1]);
    model[2] = diff[0][2];
    model[3] = diff[1][2];
    return out;
  }

  /** ‖y − ref‖ / ‖ref‖ over all samples. */
  static double relativeRms(NdArray[] ref, NdArray[] y) {
    double num = 0, den = 0;
    for (int s = 0; s < ref.length; s++) {
      for (int i = 0; i < ref[s].size(); i++) {
        double d = (double) y[s].f[i] - ref[s].f[i];
        num += d * d;
        den += (double) ref[s].f[i] * ref[s].f[i];
      }
    }
    return den == 0 ? (num == 0 ? 0 : Double.POSITIVE_INFINITY) : Math.sqrt(num / den);
  }

  /** RMS over channels of the per-channel mean shift, relative to the RMS of ref. */
  static double meanShift(NdArray[] ref, NdArray[] y) {
    double[] a = channelMeans(ref);
    double[] b = channelMeans(y);
    double shift = 0;
    for (int k = 0; k < a.length; k++) {
      shift += (b[k] - a[k]) * (b[k] - a[k]);
    }
    double den = 0;
    long n = 0;
    for (NdArray r : ref) {
      for (int i = 0; i < r.size(); i++) {
        den += (double) r.f[i] * r.f[i];
      }
      n += r.size();
    }
    double rms = Math.sqrt(den / n);
    return rms == 0 ? 0 : Math.sqrt(shift / a.length) / rms;
  }

}
