package dev.vfuse.fusion;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.ir.Node;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SequentialConvMergeTest {
  private static final List<FusionPass> MERGE = List.of(new SequentialConvMerge());
  private static final List<FusionPass> FOLD_AND_MERGE = List.of(new ConvBatchNormFold(), new SequentialConvMerge());
  /**
   * The merge reassociates Σ_m W2·(Σ_c W1·x + b1) into Σ_c (Σ_m W2·W1)·x + Σ_m W2·b1 and rounds each
   * merged weight once: n·ε_f32 relative to Σ|terms| for reductions of n ≤ M·R·S + C ≈ 100 terms
   * here, |x| < 2, |W| < 1 (BN scales ≲ 2.7), so ~1e-5·(1 + |y|) with the typical √n growth; a
   * misplaced tap or a lost border term is off by O(1).
   */
  private static final double TOLERANCE = 1e-5;

  private static final int[][] KERNELS = {{1, 1}, {3, 3}, {5, 5}, {1, 3}, {3, 1}, {3, 3}};

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
  void randomGeometryMatchesUnfused(long seed) throws Exception {
    FusionHarness h = new FusionHarness(seed);
    SplittableRandom r = h.random();
    int g2 = List.of(1, 1, 2).get(r.nextInt(3));
    int g1 = g2 * (1 + r.nextInt(2));
    int c = g1 * (1 + r.nextInt(3));
    int m = c + g1 * r.nextInt(3);
    int k = g2 * (1 + r.nextInt(3));
    int[] kernel = KERNELS[r.nextInt(KERNELS.length)];
    int stride = 1 + r.nextInt(2);
    int dilation = r.nextInt(4) == 0 ? 2 : 1;
    long[] pads = r.nextBoolean() ? new long[4] : new long[] {r.nextInt(3), r.nextInt(3), r.nextInt(3), r.nextInt(3)};
    boolean bias1 = r.nextBoolean();
    boolean bn1 = r.nextInt(3) == 0;
    boolean bias2 = r.nextBoolean();
    int height = 6 + r.nextInt(4);
    int width = 6 + r.nextInt(4);
    h.input("x", 1, c, height, width).output("y");
    pointwise(h, "conv1", "x", bn1 ? "t" : "y1", c, m, g1, bias1);
    if (bn1) {
      h.batchNorm("bn1", "t", "y1", m, 1e-5f);
    }
    h.constant("w2", -1, 1, k, m / g2, kernel[0], kernel[1]);
    List<String> in = new ArrayList<>(List.of("y1", "w2"));
    if (bias2) {
      in.add(h.constant("b2", -1, 1, k));
    }
    h.node("conv2", "Conv", in, List.of("y"), Map.of("group", g2, "pads", pads,
        "strides", new long[] {stride, stride}, "dilations", new long[] {dilation, dilation}));
    var outcome = h.check(FOLD_AND_MERGE, TOLERANCE, 2, 1, c, height, width);
    String geometry = "g1=" + g1 + " g2=" + g2 + " C=" + c + " M=" + m + " K=" + k + " kernel=" + kernel[0] + "×" + kernel[1]
        + " pads=" + java.util.Arrays.toString(pads) + " " + outcome.entries();
    assertThat(outcome.fused().nodes()).as(geometry).singleElement().satisfies(n -> {
      boolean padded = java.util.Arrays.stream(pads).anyMatch(p -> p != 0);
      assertThat(n.domain()).as(geometry).isEqualTo((bias1 || bn1) && padded ? "vfuse" : "");
      assertThat(n.attributes().getInt("group", 1)).isEqualTo(g2);
    });
  }

  /** A padded k×k sees zeros where b1 would be: the bias goes into shift taps, exact at the borders. */
  @Test
  void paddedKxKTakesTheBiasAsShiftTaps() throws Exception {
    FusionHarness h = new FusionHarness(101);
    h.input("x", 1, 3, 5, 6).output("y");
    h.constant("conv1.w", -1, 1, 4, 3, 1, 1);
    h.constant("conv1.b", 2, 3, 4);
    h.node("conv1", "Conv", List.of("x", "conv1.w", "conv1.b"), List.of("y1"), Map.of());
    h.constant("w2", -1, 1, 5, 4, 3, 3);
    h.node("conv2", "Conv", List.of("y1", "w2"), List.of("y"), Map.of("pads", new long[] {1, 1, 1, 1}));
    var outcome = h.check(MERGE, TOLERANCE, 2, 1, 3, 5, 6);
    Node merged = outcome.fused().nodes().getLast();
    assertThat(merged.domain()).isEqualTo("vfuse");
    assertThat(merged.input(4)).isNotEmpty();
    assertThat(outcome.entries()).extracting(FusionLog.Entry::message)
        .contains("merge 1×1 Conv conv1 into 3×3 Conv conv2 (border-exact: its bias through shift taps)");
  }

  /** Without padding every tap reads inside: the bias folds into a plain Conv's bias. */
  @Test
  void unpaddedKxKTakesTheBiasIntoItsBias() throws Exception {
    FusionHarness h = new FusionHarness(102);
    h.input("x", 1, 3, 7, 6).output("y");
    pointwise(h, "conv1", "x", "y1", 3, 4, 1, true);
    h.constant("w2", -1, 1, 5, 4, 3, 3);
    h.constant("b2", -1, 1, 5);
    h.node("conv2", "Conv", List.of("y1", "w2", "b2"), List.of("y"), Map.of("strides", new long[] {2, 1}));
    var outcome = h.check(MERGE, TOLERANCE, 2, 1, 3, 7, 6);
    assertThat(outcome.fused().nodes()).singleElement().satisfies(n -> {
      assertThat(n.domain()).isEmpty();
      assertThat(n.inputs()).hasSize(3);
    });
  }

  /** A BN between the two convs folded forward into the k×k (shift taps) keeps its taps; the 1×1's bias adds to them. */
  @Test
  void existingShiftTapsAreAddedTo() throws Exception {
    FusionHarness h = new FusionHarness(103);
    h.input("x", 1, 2, 6, 5).output("y");
    pointwise(h, "conv1", "x", "y1", 2, 3, 1, true);
    h.batchNorm("bn", "y1", "z", 3, 1e-5f);
    h.constant("w2", -1, 1, 4, 3, 3, 3);
    h.node("conv2", "Conv", List.of("z", "w2"), List.of("y"), Map.of("pads", new long[] {1, 0, 1, 2}));
    var outcome = h.check(List.of(new BatchNormConvFold(), new SequentialConvMerge()), TOLERANCE, 2, 1, 2, 6, 5);
    assertThat(outcome.fused().nodes()).singleElement().satisfies(n -> assertThat(n.input(4)).isNotEmpty());
  }

  /** 1×1 → 1×1 → 3×3: the pair merges first, then the result into the 3×3; the last conv's activation stays. */
  @Test
  void chainMergesAndKeepsTheLastActivation() throws Exception {
    FusionHarness h = new FusionHarness(104);
    h.input("x", 1, 2, 5, 5).output("y");
    pointwise(h, "conv1", "x", "y1", 2, 3, 1, true);
    pointwise(h, "conv2", "y1", "y2", 3, 4, 1, true);
    h.constant("w3", -1, 1, 4, 4, 3, 3);
    h.vfuseNode("conv3", "Conv", List.of("y2", "w3"), List.of("y"), Map.of("pads", new long[] {1, 1, 1, 1},
        "activation", "LeakyRelu", "activation_params", new float[] {0.1f}));
    var outcome = h.check(MERGE, TOLERANCE, 2, 1, 2, 5, 5);
    assertThat(outcome.fused().nodes()).singleElement().satisfies(n -> {
      assertThat(n.name()).isEqualTo("conv3");
      assertThat(n.attributes().getString("activation", null)).isEqualTo("LeakyRelu");
    });
    assertThat(outcome.fusedCount()).isEqualTo(2);
  }

  /** A bottleneck (M < C) merged would multiply the work: kept with the numbers. */
  @Test
  void bottleneckIsKeptForCost() throws Exception {
    FusionHarness h = new FusionHarness(105);
    h.input("x", 1, 8, 5, 5).output("y");
    pointwise(h, "conv1", "x", "y1", 8, 2, 1, false);
    h.constant("w2", -1, 1, 8, 2, 3, 3);
    h.node("conv2", "Conv", List.of("y1", "w2"), List.of("y"), Map.of());
    assertKept(h, new int[] {1, 8, 5, 5},
        "kept 1×1 Conv conv1 before Conv conv2: the merged conv would cost 576 multiply-adds per output, the pair 160");
  }

  /** A strided or padded 1×1 changes the grid the k×k sees. */
  @Test
  void stridedOrPaddedPointwiseIsKept() throws Exception {
    for (var attrs : List.<Map<String, Object>>of(Map.of("strides", new long[] {2, 2}), Map.of("pads", new long[] {1, 1, 1, 1}))) {
      FusionHarness h = new FusionHarness(106);
      h.input("x", 1, 2, 6, 6).output("y");
      h.constant("conv1.w", -1, 1, 3, 2, 1, 1);
      h.node("conv1", "Conv", List.of("x", "conv1.w"), List.of("y1"), attrs);
      h.constant("w2", -1, 1, 3, 3, 3, 3);
      h.node("conv2", "Conv", List.of("y1", "w2"), List.of("y"), Map.of());
      assertKept(h, new int[] {1, 2, 6, 6}, "kept 1×1 Conv conv1 before Conv conv2: the 1×1 conv has stride "
          + (attrs.containsKey("strides") ? "2×2" : "1×1") + " or padding");
    }
  }

  /** The 1×1 output read elsewhere (here a graph output) must stay. */
  @Test
  void sharedIntermediateIsKept() throws Exception {
    FusionHarness h = new FusionHarness(107);
    h.input("x", 1, 2, 5, 5).output("y").output("y1");
    pointwise(h, "conv1", "x", "y1", 2, 3, 1, true);
    h.constant("w2", -1, 1, 3, 3, 3, 3);
    h.node("conv2", "Conv", List.of("y1", "w2"), List.of("y"), Map.of());
    assertKept(h, new int[] {1, 2, 5, 5}, "kept 1×1 Conv conv1 before Conv conv2: its output has other readers or is a graph output");
  }

  /** A 1×1 with an activation is not linear; a dense 1×1 before a grouped conv would mix its groups. */
  @Test
  void activationOrGroupMixingIsKept() throws Exception {
    FusionHarness h = new FusionHarness(108);
    h.input("x", 1, 2, 5, 5).output("y");
    h.constant("conv1.w", -1, 1, 4, 2, 1, 1);
    h.vfuseNode("conv1", "Conv", List.of("x", "conv1.w"), List.of("y1"), Map.of("activation", "Relu"));
    h.constant("w2", -1, 1, 4, 4, 3, 3);
    h.node("conv2", "Conv", List.of("y1", "w2"), List.of("y"), Map.of());
    assertKept(h, new int[] {1, 2, 5, 5},
        "kept 1×1 Conv conv1 before Conv conv2: it applies an activation, a residual add or shift taps");
    FusionHarness grouped = new FusionHarness(109);
    grouped.input("x", 1, 2, 5, 5).output("y");
    pointwise(grouped, "conv1", "x", "y1", 2, 4, 1, false);
    grouped.constant("w2", -1, 1, 4, 2, 3, 3);
    grouped.node("conv2", "Conv", List.of("y1", "w2"), List.of("y"), Map.of("group", 2));
    assertKept(grouped, new int[] {1, 2, 5, 5},
        "kept 1×1 Conv conv1 before Conv conv2: the 1×1 conv's group=1 mixes the groups of Conv conv2 (group=2)");
  }

  private static void assertKept(FusionHarness h, int[] inputShape, String message) throws Exception {
    var outcome = h.check(MERGE, 0, 1, inputShape);
    assertThat(outcome.fusedCount()).isZero();
    assertThat(outcome.entries()).extracting(FusionLog.Entry::message).containsExactly(message);
  }

  /** A 1×1 conv c → m channels with {@code groups}, weight name.w and optionally bias name.b. */
  private static void pointwise(FusionHarness h, String name, String in, String out, int c, int m, int groups, boolean bias) {
    h.constant(name + ".w", -1, 1, m, c / groups, 1, 1);
    List<String> inputs = new ArrayList<>(List.of(in, name + ".w"));
    if (bias) {
      inputs.add(h.constant(name + ".b", -1, 1, m));
    }
    h.node(name, "Conv", inputs, List.of(out), Map.of("group", groups));
  }
}
