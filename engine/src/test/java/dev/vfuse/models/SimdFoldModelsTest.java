package dev.vfuse.models;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.exec.Program;
import dev.vfuse.fusion.PassManager;
import dev.vfuse.ir.Graph;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.Node;
import dev.vfuse.kernel.FoldArithmetic;
import dev.vfuse.onnx.OnnxImporter;
import dev.vfuse.reference.ReferenceKernels;
import dev.vfuse.simd.SimdKernels;
import dev.vfuse.simd.VectorWidth;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The fusion passes fold with the arithmetic they are given: the standard pipeline on the simd
 * backend's fold arithmetic (every species) makes the same decisions, the same nodes and
 * bit-identical constants as on the scalar reference, and calls the given arithmetic as often.
 */
class SimdFoldModelsTest {

  @ParameterizedTest
  @ValueSource(strings = {"resnet18_op13", "mobilenet_v3_small_op13", "repvgg_blocks", "dbb_blocks", "convtranspose_bn",
      "bn_before_conv"})
  void simdFoldIsBitIdenticalToReference(String name) throws Exception {
    byte[] onnx = Files.readAllBytes(Fixtures.torchDir(name).resolve("model.onnx"));
    Graph folded = Program.foldConstants(OnnxImporter.read(onnx).graph(), new ReferenceKernels());
    Counting reference = new Counting(new ReferenceKernels());
    PassManager.Result expected = PassManager.standard(reference).run(folded);
    assertThat(reference.calls).as(name + ": fold arithmetic calls").containsKeys("batchNormAffine", "scaleBlocks");
    for (VectorSpecies<Float> species : VectorWidth.all()) {
      String context = name + " on " + species;
      Counting simd = new Counting(new SimdKernels(species));
      PassManager.Result actual = PassManager.standard(simd).run(folded);
      assertThat(simd.calls).as(context + ": calls").isEqualTo(reference.calls);
      assertThat(actual.report().entries()).as(context + ": log").isEqualTo(expected.report().entries());
      Graph e = expected.graph();
      Graph a = actual.graph();
      assertThat(a.nodes()).as(context + ": nodes").hasSameSizeAs(e.nodes());
      for (int i = 0; i < e.nodes().size(); i++) {
        Node en = e.nodes().get(i);
        Node an = a.nodes().get(i);
        assertThat(an.opType() + " " + an.name() + " " + an.inputs() + " → " + an.outputs()).as(context)
            .isEqualTo(en.opType() + " " + en.name() + " " + en.inputs() + " → " + en.outputs());
      }
      assertThat(a.constants().keySet()).as(context + ": constants").isEqualTo(e.constants().keySet());
      for (Map.Entry<String, NdArray> c : e.constants().entrySet()) {
        NdArray ec = c.getValue();
        NdArray ac = a.constants().get(c.getKey());
        assertThat(ac.shape).as(context + ": shape of " + c.getKey()).isEqualTo(ec.shape);
        // Arrays.equals on float[] compares floatToIntBits: bit for bit, any NaN equal to any NaN.
        assertThat(Arrays.equals(ac.f, ec.f) && Arrays.equals(ac.l, ec.l)).as(context + ": values of " + c.getKey())
            .isTrue();
      }
    }
  }

  /** Counts the calls of each method, delegating to a backend. */
  private static final class Counting implements FoldArithmetic {
    final Map<String, Integer> calls = new TreeMap<>();
    private final FoldArithmetic to;

    Counting(FoldArithmetic to) {
      this.to = to;
    }

    private void count(String method) {
      calls.merge(method, 1, Integer::sum);
    }

    @Override
    public boolean scaleBlocks(int n, float[] w, int block, double[] scale, float[] out) {
      count("scaleBlocks");
      return to.scaleBlocks(n, w, block, scale, out);
    }

    @Override
    public boolean affineBias(int channels, float[] b, double[] scale, double[] shift, float[] out) {
      count("affineBias");
      return to.affineBias(channels, b, scale, shift, out);
    }

    @Override
    public boolean roundToFloat(int n, double[] v, float[] out) {
      count("roundToFloat");
      return to.roundToFloat(n, v, out);
    }

    @Override
    public int batchNormAffine(int channels, float[] gamma, float[] beta, float[] mean, float[] var, float epsilon,
        double[] scale, double[] shift) {
      count("batchNormAffine");
      return to.batchNormAffine(channels, gamma, beta, mean, var, epsilon, scale, shift);
    }
  }
}
