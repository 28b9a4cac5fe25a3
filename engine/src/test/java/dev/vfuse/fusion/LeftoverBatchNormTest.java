package dev.vfuse.fusion;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.Node;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LeftoverBatchNormTest {
  private static final List<FusionPass> PASS = List.of(new LeftoverBatchNorm());
  /**
   * The pool fold moves s and t past a mean over H·W ≤ 30 values and through a Gemm over K ≤ 24:
   * each path rounds a few times per term (|terms| ≤ 12), so K·2⁻²⁰ relative to 1 + |y| as for
   * the Gemm fold, plus 2⁻²⁰ for the mean. A ScaleShift rounds s and t once where BatchNormOp
   * rounds its own way: a few ulp, inside the same bound.
   */
  private static double tolerance(int k) {
    return (k + 1) * Math.scalb(1.0, -20);
  }

  /** How the pooled [N, C, 1, 1] reaches the Gemm as [M, K]. */
  private static final String[] FLATTENS = {"Flatten axis 1", "Flatten axis 0", "Reshape [0, -1]", "Reshape [-1, C]",
      "Reshape [1, -1]"};

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
  void randomPoolThenGemmFoldsTheBatchNormIntoTheGemm(long seed) throws Exception {
    FusionHarness h = new FusionHarness(seed);
    var r = h.random();
    int n = 1 + r.nextInt(2);
    int c = 1 + r.nextInt(12);
    int hh = 1 + r.nextInt(5);
    int ww = 1 + r.nextInt(6);
    String flatten = FLATTENS[(int) (seed % FLATTENS.length)];
    boolean allBatch = flatten.equals("Flatten axis 0") || flatten.equals("Reshape [1, -1]");
    int m = allBatch ? 1 : n;
    int k = allBatch ? n * c : c;
    int out = 1 + r.nextInt(6);
    boolean transB = r.nextBoolean();
    h.input("x", n, c, hh, ww).output("y");
    h.node("relu", "Relu", List.of("x"), List.of("r"), Map.of());
    h.batchNorm("bn", "r", "t", c, 1e-5f);
    h.node("gap", "GlobalAveragePool", List.of("t"), List.of("p"), Map.of());
    if (flatten.startsWith("Flatten")) {
      h.node("flat", "Flatten", List.of("p"), List.of("f"), Map.of("axis", allBatch ? 0 : 1));
    } else {
      long[] shape = switch (flatten) {
        case "Reshape [0, -1]" -> new long[] {0, -1};
        case "Reshape [-1, C]" -> new long[] {-1, c};
        default -> new long[] {1, -1};
      };
      h.constant("shape", NdArray.ofLongs(new int[] {2}, shape));
      h.node("flat", "Reshape", List.of("p", "shape"), List.of("f"), Map.of());
    }
    h.constant("b", -1, 1, transB ? new int[] {out, k} : new int[] {k, out});
    List<String> in = new ArrayList<>(List.of("f", "b"));
    if (r.nextBoolean()) {
      in.add(r.nextBoolean() ? h.constant("c", -1, 1, out) : h.constant("c", -1, 1, m, out));
    }
    h.node("gemm", "Gemm", in, List.of("y"), Map.of("transB", transB ? 1 : 0, "alpha", List.of(1f, -0.5f).get(r.nextInt(2)),
        "beta", List.of(1f, 2f).get(r.nextInt(2))));
    var outcome = h.check(PASS, tolerance(k), 2, n, c, hh, ww);
    assertThat(outcome.count("BatchNormalization")).as(flatten).isZero();
    assertThat(outcome.count("ScaleShift")).isZero();
    assertThat(outcome.entries()).singleElement().satisfies(e -> assertThat(e.message())
        .startsWith("fold BatchNorm bn through GlobalAveragePool gap and"));
  }

  /** Reshaping [N, C, 1, 1] to [2N, C/2] splits each sample's channels over two rows: not per-column, so a ScaleShift. */
  @Test
  void reshapeThatSplitsChannelsKeepsAScaleShift() throws Exception {
    FusionHarness h = new FusionHarness(50);
    h.input("x", 2, 4, 3, 3).output("y");
    h.batchNorm("bn", "x", "t", 4, 1e-5f);
    h.node("gap", "GlobalAveragePool", List.of("t"), List.of("p"), Map.of());
    h.constant("shape", NdArray.ofLongs(new int[] {2}, new long[] {4, 2}));
    h.node("reshape", "Reshape", List.of("p", "shape"), List.of("f"), Map.of());
    h.constant("b", -1, 1, 2, 3);
    h.node("gemm", "Gemm", List.of("f", "b"), List.of("y"), Map.of());
    var outcome = h.check(PASS, tolerance(2), 2, 2, 4, 3, 3);
    assertThat(outcome.count("ScaleShift")).isEqualTo(1);
    assertThat(outcome.entries()).singleElement().satisfies(e -> assertThat(e.message())
        .startsWith("kept BatchNorm bn as ScaleShift: its input is a graph input; it feeds GlobalAveragePool 'gap'")
        .contains("inner dimension 2 is not a multiple of the 4 channels"));
  }

  /**
   * RepVGG's identity branch (Relu → BN → Add) has no linear neighbour: a ScaleShift whose scale and
   * shift are γ/sqrt(var + ε) and β − μ·scale computed in double and rounded once.
   */
  @Test
  void identityBranchBecomesScaleShiftRoundedOnce() throws Exception {
    FusionHarness h = new FusionHarness(51);
    h.input("x", 1, 3, 4, 4).output("y");
    h.node("relu", "Relu", List.of("x"), List.of("r"), Map.of());
    h.batchNorm("bn", "r", "t", 3, 1e-3f);
    h.node("add", "Add", List.of("t", "r"), List.of("y"), Map.of());
    var outcome = h.check(PASS, tolerance(0), 2, 1, 3, 4, 4);
    assertThat(outcome.entries()).singleElement().satisfies(e -> assertThat(e.message()).isEqualTo(
        "kept BatchNorm bn as ScaleShift: it follows Relu 'relu', a nonlinearity; it feeds Add 'add', which has no weights"));
    Node ss = outcome.fused().nodes().stream().filter(n -> n.opType().equals("ScaleShift")).findFirst().orElseThrow();
    assertThat(ss.domain()).isEqualTo("vfuse");
    var constants = outcome.fused().constants();
    var original = h.graph().constants();
    float[] scale = constants.get(ss.input(1)).f;
    float[] shift = constants.get(ss.input(2)).f;
    for (int i = 0; i < 3; i++) {
      double s = original.get("bn.gamma").f[i] / Math.sqrt((double) original.get("bn.var").f[i] + (double) 1e-3f);
      assertThat(scale[i]).isEqualTo((float) s);
      assertThat(shift[i]).isEqualTo((float) (original.get("bn.beta").f[i] - original.get("bn.mean").f[i] * s));
    }
  }

  /** max(s·x + t) = s·max(x) + t only for s ≥ 0: a BN with a negative γ before MaxPool is not moved across it. */
  @Test
  void negativeScaleBeforeMaxPoolIsNotCrossed() throws Exception {
    FusionHarness h = new FusionHarness(52);
    h.input("x", 1, 2, 4, 4).output("y");
    h.constant("bn.gamma", NdArray.ofFloats(new int[] {2}, new float[] {-1.5f, 0.8f}));
    h.constant("bn.beta", -0.5, 0.5, 2);
    h.constant("bn.mean", -0.5, 0.5, 2);
    h.constant("bn.var", 0.3, 2.0, 2);
    h.node("bn", "BatchNormalization", List.of("x", "bn.gamma", "bn.beta", "bn.mean", "bn.var"), List.of("t"), Map.of());
    h.node("pool", "MaxPool", List.of("t"), List.of("y"), Map.of("kernel_shape", new long[] {2, 2}));
    var outcome = h.check(PASS, tolerance(0), 2, 1, 2, 4, 4);
    assertThat(outcome.entries()).singleElement().satisfies(e -> assertThat(e.message())
        .endsWith("it feeds MaxPool 'pool', which does not commute with its negative scales"));
  }

  /** Pitfall 4 and shared parameters: two BNs read the same γ = 1, β = 0, μ, var constants; one folds, one becomes a ScaleShift. */
  @Test
  void sharedAffineFreeParametersServeTwoBatchNorms() throws Exception {
    FusionHarness h = new FusionHarness(53);
    h.input("x", 2, 3, 2, 2).output("y");
    h.constant("g", NdArray.ofFloats(new int[] {3}, new float[] {1, 1, 1}));
    h.constant("z", NdArray.ofFloats(new int[] {3}, new float[] {0, 0, 0}));
    h.constant("mu", NdArray.ofFloats(new int[] {3}, new float[] {2f, -1f, 0.25f}));
    h.constant("var", NdArray.ofFloats(new int[] {3}, new float[] {0.5f, 3f, 1f}));
    h.node("bn1", "BatchNormalization", List.of("x", "g", "z", "mu", "var"), List.of("t"), Map.of());
    h.node("relu", "Relu", List.of("t"), List.of("r"), Map.of());
    h.node("bn2", "BatchNormalization", List.of("r", "g", "z", "mu", "var"), List.of("u"), Map.of());
    h.node("gap", "GlobalAveragePool", List.of("u"), List.of("p"), Map.of());
    h.node("flat", "Flatten", List.of("p"), List.of("f"), Map.of());
    h.constant("b", -1, 1, 3, 5);
    h.node("gemm", "Gemm", List.of("f", "b"), List.of("y"), Map.of());
    var outcome = h.check(PASS, tolerance(3), 2, 2, 3, 2, 2);
    assertThat(outcome.count("BatchNormalization")).isZero();
    assertThat(outcome.count("ScaleShift")).isEqualTo(1);
    assertThat(outcome.fusedCount()).isEqualTo(1);
  }

  /** The pool output also read elsewhere (here a graph output) would change meaning: a ScaleShift instead. */
  @Test
  void poolOutputWithAnotherReaderKeepsAScaleShift() throws Exception {
    FusionHarness h = new FusionHarness(54);
    h.input("x", 1, 3, 2, 2).output("y").output("p");
    h.batchNorm("bn", "x", "t", 3, 1e-5f);
    h.node("gap", "GlobalAveragePool", List.of("t"), List.of("p"), Map.of());
    h.node("flat", "Flatten", List.of("p"), List.of("f"), Map.of());
    h.constant("b", -1, 1, 3, 2);
    h.node("gemm", "Gemm", List.of("f", "b"), List.of("y"), Map.of());
    var outcome = h.check(PASS, tolerance(3), 2, 1, 3, 2, 2);
    assertThat(outcome.count("ScaleShift")).isEqualTo(1);
    assertThat(outcome.entries()).singleElement().satisfies(e -> assertThat(e.message())
        .contains("not read by a Flatten or Reshape alone"));
  }

  /** A BN whose parameters are computed at run time cannot be rewritten at all: it stays, with the reason. */
  @Test
  void nonConstantParametersKeepTheBatchNorm() throws Exception {
    FusionHarness h = new FusionHarness(55);
    h.input("x", 1, 2, 3, 3).output("y");
    h.constant("g0", -1, 1, 2);
    h.node("abs", "Relu", List.of("g0"), List.of("g"), Map.of());
    h.constant("z", -1, 1, 2);
    h.constant("mu", -1, 1, 2);
    h.constant("var", 0.5, 1, 2);
    h.node("bn", "BatchNormalization", List.of("x", "g", "z", "mu", "var"), List.of("y"), Map.of());
    var outcome = h.check(PASS, 0, 1, 1, 2, 3, 3);
    assertThat(outcome.count("BatchNormalization")).isEqualTo(1);
    assertThat(outcome.entries()).singleElement().satisfies(e -> assertThat(e.message())
        .isEqualTo("kept BatchNorm bn: its scale, bias, mean or variance is not a constant"));
  }
}
