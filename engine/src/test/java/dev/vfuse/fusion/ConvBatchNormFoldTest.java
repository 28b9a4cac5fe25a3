package dev.vfuse.fusion;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ConvBatchNormFoldTest {
  private static final List<FusionPass> PASS = List.of(new ConvBatchNormFold());
  /** Fused and unfused differ by float rounding of W·s and of the per-layer sums: a few ulp of the terms. */
  private static final double TOLERANCE = 1e-5;

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
  void randomConvGeometryMatchesUnfused(long seed) throws Exception {
    FusionHarness h = new FusionHarness(seed);
    var r = h.random();
    int groups = List.of(1, 1, 2, 4).get(r.nextInt(4));
    int c = groups * (1 + r.nextInt(3));
    int k = groups * (1 + r.nextInt(3));
    int kernel = 1 + r.nextInt(3);
    boolean bias = r.nextBoolean();
    h.input("x", 2, c, 5 + r.nextInt(4), 5 + r.nextInt(4)).output("y");
    h.constant("w", -1, 1, k, c / groups, kernel, kernel);
    List<String> in = new ArrayList<>(List.of("x", "w"));
    if (bias) {
      in.add(h.constant("b", -1, 1, k));
    }
    int pad = r.nextInt(2);
    h.node("conv", "Conv", in, List.of("t"), Map.of("group", groups, "pads", new long[] {pad, pad, pad, pad},
        "strides", new long[] {1 + r.nextInt(2), 1 + r.nextInt(2)}));
    h.batchNorm("bn", "t", "y", k, 1e-3f);
    var outcome = h.check(PASS, TOLERANCE, 2, 2, c, h.graph().inputs().get(0).dims().get(2), h.graph().inputs().get(0).dims().get(3));
    assertThat(outcome.count("BatchNormalization")).isZero();
    assertThat(outcome.fusedCount()).isEqualTo(1);
  }

  /** Pitfall 1: a ConvTranspose weight is [C, K/g, R, S]; scaling axis 0 is silently wrong when C ≠ K or groups > 1. */
  @ParameterizedTest
  @ValueSource(ints = {1, 2, 4})
  void transposedConvScalesTheOutputChannelAxis(int groups) throws Exception {
    FusionHarness h = new FusionHarness(groups);
    int c = 4 * groups;
    int kPerGroup = 3;
    h.input("x", 1, c, 4, 5).output("y");
    h.constant("w", -1, 1, c, kPerGroup, 3, 3);
    h.constant("b", -1, 1, kPerGroup * groups);
    h.node("deconv", "ConvTranspose", List.of("x", "w", "b"), List.of("t"), Map.of("group", groups,
        "strides", new long[] {2, 2}, "pads", new long[] {1, 1, 1, 1}, "output_padding", new long[] {1, 1}));
    h.batchNorm("bn", "t", "y", kPerGroup * groups, 1e-5f);
    var outcome = h.check(PASS, TOLERANCE, 2, 1, c, 4, 5);
    assertThat(outcome.count("BatchNormalization")).isZero();
  }

  /** Pitfalls 2 and 3: with a bias b' = (b − μ)·s + β; without one, μ and β must not be dropped. */
  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void biasIsShiftedNotAdded(boolean bias) throws Exception {
    FusionHarness h = new FusionHarness(3);
    h.input("x", 1, 3, 6, 6).output("y");
    h.constant("w", -1, 1, 4, 3, 3, 3);
    List<String> in = new ArrayList<>(List.of("x", "w"));
    if (bias) {
      in.add(h.constant("b", 2, 3, 4));
    }
    h.node("conv", "Conv", in, List.of("t"), Map.of("pads", new long[] {1, 1, 1, 1}));
    h.batchNorm("bn", "t", "y", 4, 1e-5f);
    h.check(PASS, TOLERANCE, 2, 1, 3, 6, 6);
  }

  /** Pitfall 7: never across a nonlinearity, and never when the conv output has a second reader. */
  @Test
  void keepsBatchNormBehindReluOrSharedOutput() throws Exception {
    FusionHarness h = new FusionHarness(4);
    h.input("x", 1, 2, 5, 5).output("y").output("t");
    h.constant("w", -1, 1, 2, 2, 3, 3);
    h.node("conv", "Conv", List.of("x", "w"), List.of("t"), Map.of());
    h.node("relu", "Relu", List.of("t"), List.of("r"), Map.of());
    h.batchNorm("bn", "r", "y", 2, 1e-5f);
    var g = new PassManager(PASS).run(h.graph());
    assertThat(g.report().fusedCount()).isZero();
    FusionHarness shared = new FusionHarness(5);
    shared.input("x", 1, 2, 5, 5).output("y").output("t");
    shared.constant("w", -1, 1, 2, 2, 3, 3);
    shared.node("conv", "Conv", List.of("x", "w"), List.of("t"), Map.of());
    shared.batchNorm("bn", "t", "y", 2, 1e-5f);
    var r = new PassManager(PASS).run(shared.graph());
    assertThat(r.report().fusedCount()).isZero();
    assertThat(r.report().entries()).anySatisfy(e -> assertThat(e.message()).contains("kept BatchNorm bn").contains("graph output"));
  }

  /** Pitfalls 5, 6 and 9: ε from the node inside the root, folded in double; denormal variance, negative γ, huge variance. */
  @Test
  void extremeStatisticsStayFiniteAndExact() throws Exception {
    FusionHarness h = new FusionHarness(6);
    h.input("x", 1, 2, 4, 4).output("y");
    h.constant("w", -1, 1, 4, 2, 3, 3);
    h.node("conv", "Conv", List.of("x", "w"), List.of("t"), Map.of("pads", new long[] {1, 1, 1, 1}));
    h.constant("bn.gamma", dev.vfuse.ir.NdArray.ofFloats(new int[] {4}, new float[] {-0.7f, 1e-6f, 2f, 1f}));
    h.constant("bn.beta", dev.vfuse.ir.NdArray.ofFloats(new int[] {4}, new float[] {0.1f, -0.2f, 3f, 0f}));
    h.constant("bn.mean", dev.vfuse.ir.NdArray.ofFloats(new int[] {4}, new float[] {-741f, 0.5f, 1f, 70000f}));
    h.constant("bn.var", dev.vfuse.ir.NdArray.ofFloats(new int[] {4}, new float[] {5.6e-45f, 4.8e7f, 1e-30f, 1e5f}));
    h.node("bn", "BatchNormalization", List.of("t", "bn.gamma", "bn.beta", "bn.mean", "bn.var"), List.of("y"),
        Map.of("epsilon", 1e-3f));
    var outcome = h.check(PASS, 1e-5, 3, 1, 2, 4, 4);
    assertThat(outcome.fusedCount()).isEqualTo(1);
  }

  /** Zero variance with zero ε would divide by zero: refused with the channel named. */
  @Test
  void refusesZeroVariancePlusEpsilon() throws Exception {
    FusionHarness h = new FusionHarness(7);
    h.input("x", 1, 1, 3, 3).output("y");
    h.constant("w", -1, 1, 1, 1, 1, 1);
    h.node("conv", "Conv", List.of("x", "w"), List.of("t"), Map.of());
    h.constant("bn.gamma", dev.vfuse.ir.NdArray.ofFloats(new int[] {1}, new float[] {1f}));
    h.constant("bn.beta", dev.vfuse.ir.NdArray.ofFloats(new int[] {1}, new float[] {0f}));
    h.constant("bn.mean", dev.vfuse.ir.NdArray.ofFloats(new int[] {1}, new float[] {0f}));
    h.constant("bn.var", dev.vfuse.ir.NdArray.ofFloats(new int[] {1}, new float[] {0f}));
    h.node("bn", "BatchNormalization", List.of("t", "bn.gamma", "bn.beta", "bn.mean", "bn.var"), List.of("y"),
        Map.of("epsilon", 0f));
    var r = new PassManager(PASS).run(h.graph());
    assertThat(r.report().fusedCount()).isZero();
    assertThat(r.report().entries().get(0).message()).contains("var + ε").contains("channel 0");
  }
}
