package dev.vfuse.quant;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.ElementType;
import dev.vfuse.ModelFormatException;
import dev.vfuse.Quantization.BiasCorrection;
import dev.vfuse.ValueInfo;
import dev.vfuse.exec.Executor;
import dev.vfuse.exec.Program;
import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.Graph;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.Node;
import dev.vfuse.kernel.Activation;
import dev.vfuse.ops.ActivationAttributes;
import dev.vfuse.ops.OpRegistry;
import dev.vfuse.simd.SimdKernels;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Empirical correction does what it says: after it, each int8 layer's mean linear output over the
 * calibration inputs equals the float model's, channel by channel, with the corrections of the
 * layers before it in place (layer by layer); without it the means differ measurably.
 */
class EmpiricalBiasCorrectionTest {

  @Test
  void eachLayersMeanOutputOnTheCalibrationMatchesFloat() throws Exception {
    SplittableRandom random = new SplittableRandom(5);
    Graph g = threeConvs(random);
    List<NdArray[]> calibration = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      float[] x = new float[3 * 9 * 8];
      for (int j = 0; j < x.length; j++) {
        x[j] = (float) (0.5 + random.nextGaussian());
      }
      calibration.add(new NdArray[] {NdArray.ofFloats(new int[] {1, 3, 9, 8}, x)});
    }
    SimdKernels kernels = new SimdKernels();
    Graph corrected = ModelQuantizer.quantize(g, BiasCorrection.EMPIRICAL, dev.vfuse.Quantization.Rounding.NEAREST, false, calibration, List.of(), kernels).graph();
    Graph none = ModelQuantizer.quantize(g, BiasCorrection.NONE, dev.vfuse.Quantization.Rounding.NEAREST, false, calibration, List.of(), kernels).graph();
    for (String layer : List.of("c1", "c2", "c3")) {
      double[] f = linearMeans(g, layer, calibration, kernels);
      double[] q = linearMeans(corrected, layer, calibration, kernels);
      double[] u = linearMeans(none, layer, calibration, kernels);
      double worstCorrected = 0, worstNone = 0, scale = 0;
      for (int k = 0; k < f.length; k++) {
        worstCorrected = Math.max(worstCorrected, Math.abs(q[k] - f[k]));
        worstNone = Math.max(worstNone, Math.abs(u[k] - f[k]));
        scale = Math.max(scale, Math.abs(f[k]));
      }
      // Float rounding of the outputs and the bias: a few ulps of the channel means' scale.
      assertThat(worstCorrected).as("%s corrected mean shift", layer).isLessThan(1e-5 * scale);
      assertThat(worstNone).as("%s uncorrected mean shift", layer).isGreaterThan(1e-3 * scale);
    }
  }

  /** Per-channel mean over the samples of the linear output of {@code layer} (its activation removed). */
  private static double[] linearMeans(Graph g, String layer, List<NdArray[]> samples, SimdKernels kernels)
      throws ModelFormatException, dev.vfuse.VfuseException {
    List<Node> nodes = new ArrayList<>();
    for (Node n : g.nodes()) {
      nodes.add(n.name().equals(layer) ? Lockstep.linearPart(n) : n);
      if (n.name().equals(layer)) {
        break;
      }
    }
    String out = nodes.get(nodes.size() - 1).outputs().get(0);
    Graph prefix = new Graph(nodes, g.constants(), g.inputs(),
        List.of(new ValueInfo(out, ElementType.FLOAT32, List.of(), List.of())), g.opset());
    Executor e = new Executor(Program.compile(Program.withReferencedConstants(prefix)), kernels);
    NdArray[] ys = new NdArray[samples.size()];
    for (int i = 0; i < ys.length; i++) {
      ys[i] = e.run(samples.get(i))[0].copy();
    }
    return ModelQuantizer.channelMeans(ys);
  }

  /** x → c1 (3×3 pad 1, ReLU) → c2 (1×1, ReLU) → c3 (3×3 pad 1, groups 2): float weights, no statistics. */
  private static Graph threeConvs(SplittableRandom random) {
    Map<String, NdArray> constants = new LinkedHashMap<>();
    List<Node> nodes = new ArrayList<>();
    int[][] shapes = {{8, 3, 3, 3}, {6, 8, 1, 1}, {4, 3, 3, 3}};
    String in = "x";
    for (int l = 0; l < 3; l++) {
      int[] s = shapes[l];
      float[] w = new float[s[0] * s[1] * s[2] * s[3]];
      for (int i = 0; i < w.length; i++) {
        w[i] = (float) random.nextDouble(-1, 1);
      }
      float[] b = new float[s[0]];
      for (int i = 0; i < b.length; i++) {
        b[i] = (float) random.nextDouble(-0.3, 0.3);
      }
      String name = "c" + (l + 1);
      constants.put(name + ".w", NdArray.ofFloats(s, w));
      constants.put(name + ".b", NdArray.ofFloats(new int[] {s[0]}, b));
      Map<String, Object> a = new HashMap<>();
      a.put("kernel_shape", new long[] {s[2], s[3]});
      a.put("pads", s[2] == 3 ? new long[] {1, 1, 1, 1} : new long[] {0, 0, 0, 0});
      a.put("group", l == 2 ? 2L : 1L);
      if (l < 2) {
        ActivationAttributes.put(new Activation.Relu(), a);
      }
      String out = l == 2 ? "y" : name + ".out";
      nodes.add(new Node(name, "Conv", OpRegistry.VFUSE_DOMAIN, List.of(in, name + ".w", name + ".b"), List.of(out),
          new Attributes(a)));
      in = out;
    }
    return new Graph(nodes, constants, List.of(new ValueInfo("x", ElementType.FLOAT32, List.of(), List.of())),
        List.of(new ValueInfo("y", ElementType.FLOAT32, List.of(), List.of())), 13);
  }
}
