package dev.vfuse.quant;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.exec.Program;
import dev.vfuse.fusion.PassManager;
import dev.vfuse.io.Npy;
import dev.vfuse.ir.Graph;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.Node;
import dev.vfuse.models.Fixtures;
import dev.vfuse.onnx.OnnxImporter;
import dev.vfuse.simd.SimdKernels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * What data-free correction promises, measured layer by layer on whole models: fed the float
 * model's own input, each corrected int8 layer's mean output (per channel, linear part, borders
 * included) is closer to float than the uncorrected layer's, by the factor the BatchNorm
 * statistics allow. This is the "local" shift (W̃ − W)·E[x] the correction targets; it holds even
 * where the model's output error does not improve (mobilenet_v3_small, docs/QUANTIZATION.md:
 * there the output's mean shift is created at the activations, by the quantization error's
 * correlation with the pre-activation, which first moments cannot see).
 *
 * <p>The bound: the statistics predict the per-channel input means of these calibration images
 * to 10–80% (the images vary, and a squeeze-excite's gate is a product of approximations), so
 * the measured median residual is 0.1–0.4 of the uncorrected shift; a sign or layout fault in the
 * correction gives 1 or more.
 */
class LocalMeanShiftOnModelsTest {

  @ParameterizedTest(name = "{0}")
  @CsvSource({"resnet18, 0.25", "mobilenet_v3_small, 0.6"})
  void eachCorrectedLayerShiftsLessOnTheFloatInput(String name, double medianBound) throws Exception {
    SimdKernels kernels = new SimdKernels();
    Graph g = fused(name, kernels);
    List<NdArray[]> samples = samples(name);
    Graph none = WeightQuantizer.quantize(g, false, true).graph();
    WeightQuantizer.Result analytical = WeightQuantizer.quantize(g, true, true);
    List<String> corrected = analytical.layers().stream().filter(l -> l.correction().startsWith("analytical"))
        .map(QuantizedLayer::name).toList();
    List<Double> ratios = new ArrayList<>();
    Lockstep.run(List.of(g), samples, kernels, (n, inputs, linear) -> {
      if (!corrected.contains(n.name())) {
        return;
      }
      NdArray[] plain = new NdArray[inputs[0].length];
      NdArray[] fixed = new NdArray[inputs[0].length];
      for (int s = 0; s < plain.length; s++) {
        plain[s] = linearOn(none, n.name(), inputs[0][s], kernels);
        fixed[s] = linearOn(analytical.graph(), n.name(), inputs[0][s], kernels);
      }
      double before = ModelQuantizer.meanShift(linear[0], plain);
      double after = ModelQuantizer.meanShift(linear[0], fixed);
      ratios.add(after / before);
    });
    double[] sorted = ratios.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    double median = sorted[sorted.length / 2];
    System.out.printf("%s: %d corrected layers, local mean shift after/before: median %.3f, quartiles %.3f %.3f%n", name,
        sorted.length, median, sorted[sorted.length / 4], sorted[3 * sorted.length / 4]);
    assertThat(sorted.length).isGreaterThan(10);
    assertThat(median).as("%s median local shift ratio", name).isLessThan(medianBound);
  }

  /**
   * Where mobilenet_v3_small's remaining output shift comes from: at each activation f after a
   * corrected layer, the shift of the mean output, E[f(z + ε)] − E[f(z)] (z the float
   * pre-activation, ε the int8 model's error there), is E[f'(z)·ε] to first order: P(f' > 0)·E[ε],
   * the mean error the layer receives, plus Cov(f'(z), ε), nonzero because ε is a linear function
   * of the same inputs as z. The covariance part dominates in the first layers (the shift is
   * 2–4× P·E[ε] there); later layers mostly carry it on, each correction assuming an unshifted
   * input. Neither part is visible to first moments. Measured: the first-order term accounts for
   * the shift to 1–15% in the first twelve such layers (held to 20%; the second-order term grows
   * deeper in).
   */
  @org.junit.jupiter.api.Test
  void mobilenetV3RemainingShiftIsMadeAtTheActivations() throws Exception {
    SimdKernels kernels = new SimdKernels();
    Graph g = fused("mobilenet_v3_small", kernels);
    Graph analytical = WeightQuantizer.quantize(g, true, true).graph();
    List<double[]> rows = new ArrayList<>(); // per layer, mean square over channels of: measured, first order − measured, P·E[ε]
    Lockstep.run(List.of(g, analytical), samples("mobilenet_v3_small"), kernels, (n, inputs, linear) -> {
      dev.vfuse.kernel.Activation f = dev.vfuse.ops.ActivationAttributes.read(n.attributes());
      boolean residual = n.inputs().size() > 3 && !n.input(3).isEmpty();
      if (f == null || residual || dev.vfuse.fusion.OutputStatistics.mean(n) == null) {
        return;
      }
      int k = linear[0][0].shape[1];
      int plane = linear[0][0].size() / k;
      double[] shift = new double[k], firstOrder = new double[k], active = new double[k], error = new double[k];
      long count = 0;
      for (int s = 0; s < linear[0].length; s++) {
        float[] z = linear[0][s].f;
        float[] q = linear[1][s].f;
        for (int i = 0; i < z.length; i++) {
          int c = i / plane;
          double e = (double) q[i] - z[i];
          double slope = ((double) f.apply(z[i] + 1e-3f) - f.apply(z[i] - 1e-3f)) / 2e-3;
          shift[c] += (double) f.apply(q[i]) - f.apply(z[i]);
          firstOrder[c] += slope * e;
          active[c] += slope;
          error[c] += e;
        }
        count += plane;
      }
      double[] r = new double[3];
      for (int c = 0; c < k; c++) {
        double measured = shift[c] / count;
        r[0] += measured * measured / k;
        r[1] += Math.pow(firstOrder[c] / count - measured, 2) / k;
        r[2] += Math.pow(active[c] / count * error[c] / count, 2) / k;
      }
      rows.add(r);
    });
    assertThat(rows).hasSizeGreaterThan(12);
    for (int l = 0; l < 12; l++) {
      double[] r = rows.get(l);
      System.out.printf("layer %2d: post-activation shift %.2e, first-order term off by %.2f, P·E[eps] %.2e%n", l,
          Math.sqrt(r[0]), Math.sqrt(r[1] / r[0]), Math.sqrt(r[2]));
      assertThat(Math.sqrt(r[1] / r[0])).as("layer %d first-order term", l).isLessThan(0.2);
    }
  }

  private static Graph fused(String name, SimdKernels kernels) throws Exception {
    Path dir = Fixtures.torchDir("quant/" + name);
    Graph g = OnnxImporter.read(Files.readAllBytes(dir.resolve("model.onnx"))).graph();
    return PassManager.standard(kernels).run(Program.foldConstants(g, kernels)).graph();
  }

  /** The first 8 calibration images of fixture {@code name}. */
  private static List<NdArray[]> samples(String name) throws Exception {
    List<NdArray[]> samples = new ArrayList<>();
    try (var files = Files.list(Fixtures.torchDir("quant/" + name).resolve("calibration"))) {
      for (Path p : files.sorted().limit(8).toList()) {
        var t = Npy.read(p);
        samples.add(new NdArray[] {NdArray.ofFloats(t.shape(), t.floats())});
      }
    }
    return samples;
  }

  /** The linear part of layer {@code name} of {@code g} on input {@code x}. */
  private static NdArray linearOn(Graph g, String name, NdArray x, SimdKernels kernels) {
    Node n = g.nodes().stream().filter(m -> m.name().equals(name)).findFirst().orElseThrow();
    Node linear = Lockstep.linearPart(n);
    NdArray[] in = new NdArray[linear.inputs().size()];
    in[0] = x;
    for (int i = 1; i < in.length; i++) {
      in[i] = linear.input(i).isEmpty() ? null : g.constants().get(linear.input(i));
    }
    try {
      return Program.evaluateNode(linear, g.opset(), in, kernels)[0];
    } catch (dev.vfuse.ModelFormatException e) {
      throw new IllegalStateException(e);
    }
  }
}
