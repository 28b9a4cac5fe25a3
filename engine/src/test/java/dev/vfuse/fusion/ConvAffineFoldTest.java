package dev.vfuse.fusion;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.ir.NdArray;
import dev.vfuse.ops.OpRegistry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ConvAffineFoldTest {
  private static final List<FusionPass> PASS = List.of(new ConvAffineFold());
  /**
   * Fused and unfused differ by the rounding of W·s and b·s + t and by the order of the float sums
   * over at most C/g·R·S = 27 taps of |x·w| ≤ 2, times up to three scales of |m| ≤ 2: a few ulp
   * of terms below 16, relative to 1 + |y|.
   */
  private static final double TOLERANCE = 1e-5;
  private static final int[][] PER_CHANNEL = {{-1, 1, 1}, {1, -1, 1, 1}, {}, {1}, {1, 1, 1, 1}, {1, 1, 1}};

  /** A per-channel constant: −1 in a shape stands for K. */
  private static String perChannel(FusionHarness h, String name, int k, double lo, double hi) {
    int[] shape = PER_CHANNEL[h.random().nextInt(PER_CHANNEL.length)].clone();
    for (int i = 0; i < shape.length; i++) {
      shape[i] = shape[i] < 0 ? k : shape[i];
    }
    return h.constant(name, lo, hi, shape);
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18})
  void randomConvThenAffineChainMatchesUnfused(long seed) throws Exception {
    FusionHarness h = new FusionHarness(seed);
    var r = h.random();
    boolean transposed = seed % 3 == 0;
    int groups = List.of(1, 1, 2, 3).get(r.nextInt(4));
    int c = groups * (1 + r.nextInt(3));
    int k = groups * (1 + r.nextInt(3));
    int kernel = 1 + r.nextInt(3);
    int hw = 4 + r.nextInt(4);
    h.input("x", 2, c, hw, hw + 1);
    h.constant("w", -1, 1, transposed ? new int[] {c, k / groups, kernel, kernel} : new int[] {k, c / groups, kernel, kernel});
    List<String> in = new ArrayList<>(List.of("x", "w"));
    if (r.nextBoolean()) {
      in.add(h.constant("b", -1, 1, k));
    }
    h.node("conv", transposed ? "ConvTranspose" : "Conv", in, List.of("v0"), Map.of("group", groups,
        "pads", new long[] {1, 0, 1, 0}, "strides", new long[] {1 + r.nextInt(2), 1}));
    int steps = 1 + r.nextInt(3);
    List<String> chain = new ArrayList<>();
    for (int i = 0; i < steps; i++) {
      boolean mul = r.nextBoolean();
      String constant = perChannel(h, "c" + i, k, mul ? -2 : -1, mul ? 2 : 1);
      String prev = "v" + i;
      h.node((mul ? "mul" : "add") + i, mul ? "Mul" : "Add", r.nextBoolean() ? List.of(prev, constant) : List.of(constant, prev),
          List.of("v" + (i + 1)), Map.of());
      chain.add(mul ? "Mul" : "Add");
    }
    h.output("v" + steps);
    var outcome = h.check(PASS, TOLERANCE, 2, 2, c, hw, hw + 1);
    assertThat(outcome.fused().nodes()).as("chain " + chain).hasSize(1);
    assertThat(outcome.fusedCount()).isEqualTo(1);
  }

  /**
   * PaddlePaddle's ConvTranspose → Add(bias [1, K, 1, 1]) → BN (PP-OCR det head): the bias and the
   * BN fold together, the BN's (b − μ)·s + β seeing the added bias. Pitfall 1: with groups = 2 and
   * C ≠ K the scale must run along axis 1 of the [C, K/g, R, S] weight.
   */
  @Test
  void transposedConvBiasAddThenBatchNormFoldTogether() throws Exception {
    FusionHarness h = new FusionHarness(40);
    int c = 6;
    int k = 4;
    h.input("x", 1, c, 5, 4).output("y");
    h.constant("w", -1, 1, c, k / 2, 2, 2);
    h.node("deconv", "ConvTranspose", List.of("x", "w"), List.of("t"), Map.of("group", 2, "strides", new long[] {2, 2}));
    h.constant("bias", 2, 3, 1, k, 1, 1);
    h.node("add", "Add", List.of("t", "bias"), List.of("u"), Map.of());
    h.batchNorm("bn", "u", "v", k, 1e-5f);
    h.node("relu", "Relu", List.of("v"), List.of("y"), Map.of());
    var outcome = h.check(PASS, TOLERANCE, 2, 1, c, 5, 4);
    assertThat(outcome.count("Add")).isZero();
    assertThat(outcome.count("BatchNormalization")).isZero();
    assertThat(outcome.entries()).singleElement().satisfies(e -> assertThat(e.message())
        .isEqualTo("fold Add add, BatchNormalization bn into ConvTranspose deconv"));
  }

  /**
   * A rank-1 [K] constant against [N, K, H, W] broadcasts along W (numpy aligns from the right),
   * here with W = K so the graph is valid: folding it per channel would be silently wrong.
   */
  @Test
  void refusesRank1ConstantThatBroadcastsAlongWidth() throws Exception {
    FusionHarness h = new FusionHarness(41);
    h.input("x", 1, 2, 3, 4).output("y");
    h.constant("w", -1, 1, 4, 2, 1, 1);
    h.node("conv", "Conv", List.of("x", "w"), List.of("t"), Map.of());
    h.constant("m", -2, 2, 4);
    h.node("mul", "Mul", List.of("m", "t"), List.of("y"), Map.of());
    var outcome = h.check(PASS, 0, 1, 1, 2, 3, 4);
    assertThat(outcome.fusedCount()).isZero();
    assertThat(outcome.entries()).singleElement().satisfies(e -> assertThat(e.message())
        .startsWith("kept Mul mul after Conv conv").contains("rank-1 constant [4]").contains("last axis"));
  }

  /**
   * Constants of size K on a spatial axis (here H = W = K, so numpy broadcasting accepts them), on
   * the batch axis, or with more axes than the output are not per-channel: refused, output unchanged.
   */
  @Test
  void refusesConstantsNotAlongTheChannelAxis() throws Exception {
    assertThat(convThenAdd(3, 1, 1).check(PASS, TOLERANCE, 1, 1, 2, 3, 3).fusedCount()).as("[3, 1, 1] is per-channel").isEqualTo(1);
    for (int[] shape : new int[][] {{1, 1, 1, 3}, {1, 1, 3, 1}, {1, 3, 3, 3}, {3, 1, 1, 1}, {2, 1, 3, 1, 1}}) {
      var outcome = convThenAdd(shape).check(PASS, 0, 1, 1, 2, 3, 3);
      assertThat(outcome.fusedCount()).as(java.util.Arrays.toString(shape)).isZero();
      assertThat(outcome.entries()).singleElement().satisfies(e -> assertThat(e.message()).startsWith("kept Add add after Conv conv"));
    }
  }

  /** x [1, 2, 3, 3] → 1×1 Conv to K = 3 channels → Add of a constant of the given shape. */
  private static FusionHarness convThenAdd(int... shape) {
    FusionHarness h = new FusionHarness(42);
    h.input("x", 1, 2, 3, 3).output("y");
    h.constant("w", -1, 1, 3, 2, 1, 1);
    h.node("conv", "Conv", List.of("x", "w"), List.of("t"), Map.of());
    h.constant("a", -1, 1, shape);
    h.node("add", "Add", List.of("t", "a"), List.of("y"), Map.of());
    return h;
  }

  /** PaddleOCR's hardswish reads the conv output twice (Add 3 and Mul): the Add is not folded; nor into a graph output. */
  @Test
  void refusesSharedOrGraphOutput() throws Exception {
    FusionHarness h = new FusionHarness(43);
    h.input("x", 1, 2, 4, 4).output("y");
    h.constant("w", -1, 1, 3, 2, 3, 3);
    h.node("conv", "Conv", List.of("x", "w"), List.of("t"), Map.of("pads", new long[] {1, 1, 1, 1}));
    h.constant("three", NdArray.ofFloats(new int[0], new float[] {3f}));
    h.node("add", "Add", List.of("t", "three"), List.of("u"), Map.of());
    h.node("mul", "Mul", List.of("t", "u"), List.of("y"), Map.of());
    var outcome = h.check(PASS, 0, 1, 1, 2, 4, 4);
    assertThat(outcome.entries()).singleElement().satisfies(e -> assertThat(e.message())
        .contains("the Conv output is also read by Mul 'mul'"));

    FusionHarness out = new FusionHarness(44);
    out.input("x", 1, 2, 4, 4).output("y").output("t");
    out.constant("w", -1, 1, 3, 2, 3, 3);
    out.node("conv", "Conv", List.of("x", "w"), List.of("t"), Map.of());
    out.constant("a", -1, 1, 1, 3, 1, 1);
    out.node("add", "Add", List.of("t", "a"), List.of("y"), Map.of());
    var r = new PassManager(PASS).run(out.graph());
    assertThat(r.report().entries()).singleElement().satisfies(e -> assertThat(e.message()).contains("is a graph output"));
  }

  /**
   * A vfuse-domain Conv without activation takes the fold and stays in its domain; one with a
   * fused Relu does not (pitfall 7: Mul by a negative constant does not commute with Relu).
   */
  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void fusedConvTakesTheFoldOnlyWithoutActivation(boolean activation) throws Exception {
    FusionHarness h = new FusionHarness(45);
    h.input("x", 1, 2, 5, 5).output("y");
    h.constant("w", -1, 1, 3, 2, 3, 3);
    h.constant("b", -1, 1, 3);
    Map<String, Object> a = new LinkedHashMap<>(Map.of("pads", new long[] {1, 1, 1, 1}));
    if (activation) {
      a.put("activation", "Relu");
    }
    h.vfuseNode("conv", "Conv", List.of("x", "w", "b"), List.of("t"), a);
    h.constant("m", NdArray.ofFloats(new int[] {3, 1, 1}, new float[] {-1.5f, 0.5f, 2f}));
    h.node("mul", "Mul", List.of("t", "m"), List.of("y"), Map.of());
    var outcome = h.check(PASS, activation ? 0 : TOLERANCE, 2, 1, 2, 5, 5);
    if (activation) {
      assertThat(outcome.entries()).singleElement().satisfies(e -> assertThat(e.message()).contains("activation"));
    } else {
      assertThat(outcome.fused().nodes()).singleElement().satisfies(n -> assertThat(n.domain()).isEqualTo(OpRegistry.VFUSE_DOMAIN));
    }
  }

  /** Folded weights beyond float range are refused, not rounded to infinity. */
  @Test
  void refusesOverflow() throws Exception {
    FusionHarness h = new FusionHarness(46);
    h.input("x", 1, 1, 3, 3).output("y");
    h.constant("w", NdArray.ofFloats(new int[] {1, 1, 1, 1}, new float[] {1e10f}));
    h.node("conv", "Conv", List.of("x", "w"), List.of("t"), Map.of());
    h.constant("m", NdArray.ofFloats(new int[0], new float[] {1e30f}));
    h.node("mul", "Mul", List.of("t", "m"), List.of("y"), Map.of());
    var r = new PassManager(PASS).run(h.graph());
    assertThat(r.report().fusedCount()).isZero();
    assertThat(r.report().entries()).singleElement().satisfies(e -> assertThat(e.message()).contains("overflow"));
  }
}
