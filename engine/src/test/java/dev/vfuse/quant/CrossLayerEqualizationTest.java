package dev.vfuse.quant;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.ElementType;
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
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Equalization leaves the float model's output as it was and gives both layers the same range per channel. */
class CrossLayerEqualizationTest {

  @Test
  void conserveTheOutputAndEqualizeTheRanges() throws Exception {
    SplittableRandom random = new SplittableRandom(3);
    int c = 6;
    Map<String, NdArray> constants = new LinkedHashMap<>();
    // Layer 1's output channels span four orders of magnitude, as after a folded BN.
    float[] w1 = new float[c * 3 * 9];
    for (int i = 0; i < w1.length; i++) {
      w1[i] = (float) (random.nextDouble(-1, 1) * Math.pow(10, (i / 27) % 4 - 2));
    }
    float[] w2 = new float[4 * c * 9];
    for (int i = 0; i < w2.length; i++) {
      w2[i] = (float) random.nextDouble(-1, 1);
    }
    constants.put("w1", NdArray.ofFloats(new int[] {c, 3, 3, 3}, w1));
    constants.put("b1", NdArray.ofFloats(new int[] {c}, new float[] {0.1f, -0.2f, 0.3f, 0.01f, -0.02f, 0.5f}));
    constants.put("w2", NdArray.ofFloats(new int[] {4, c, 3, 3}, w2));
    Map<String, Object> a1 = conv();
    ActivationAttributes.put(new Activation.Relu(), a1);
    Graph g = new Graph(List.of(
        new Node("l1", "Conv", OpRegistry.VFUSE_DOMAIN, List.of("x", "w1", "b1"), List.of("h"), new Attributes(a1)),
        new Node("l2", "Conv", "", List.of("h", "w2"), List.of("y"), new Attributes(conv()))),
        constants, List.of(new ValueInfo("x", ElementType.FLOAT32, List.of(), List.of())),
        List.of(new ValueInfo("y", ElementType.FLOAT32, List.of(), List.of())), 13);

    CrossLayerEqualization.Result r = CrossLayerEqualization.apply(g);
    assertThat(r.pairs()).isEqualTo(1);

    float[] x = new float[2 * 3 * 7 * 6];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) random.nextDouble(-1, 1);
    }
    NdArray in = NdArray.ofFloats(new int[] {2, 3, 7, 6}, x);
    SimdKernels k = new SimdKernels();
    float[] before = new Executor(Program.compile(g), k).run(new NdArray[] {in})[0].toFloats();
    float[] after = new Executor(Program.compile(r.graph()), k).run(new NdArray[] {in})[0].toFloats();
    double scale = 0;
    for (float v : before) {
      scale = Math.max(scale, Math.abs(v));
    }
    for (int i = 0; i < before.length; i++) {
      // Each weight is rescaled with one rounding: a few float ulps of the output's scale.
      assertThat((double) Math.abs(after[i] - before[i])).as("output %d", i).isLessThan(1e-5 * scale);
    }

    NdArray e1 = r.graph().constants().get(r.graph().nodes().get(0).input(1));
    NdArray e2 = r.graph().constants().get(r.graph().nodes().get(1).input(1));
    for (int ch = 0; ch < c; ch++) {
      double r1 = 0, r2 = 0;
      for (int i = 0; i < 27; i++) {
        r1 = Math.max(r1, Math.abs(e1.f[ch * 27 + i]));
      }
      for (int kk = 0; kk < 4; kk++) {
        for (int t = 0; t < 9; t++) {
          r2 = Math.max(r2, Math.abs(e2.f[(kk * c + ch) * 9 + t]));
        }
      }
      assertThat(r1).as("channel %d: equal ranges", ch).isCloseTo(r2, org.assertj.core.data.Percentage.withPercentage(1e-4));
    }
  }

  private static Map<String, Object> conv() {
    Map<String, Object> a = new HashMap<>();
    a.put("kernel_shape", new long[] {3, 3});
    a.put("pads", new long[] {1, 1, 1, 1});
    return a;
  }
}
