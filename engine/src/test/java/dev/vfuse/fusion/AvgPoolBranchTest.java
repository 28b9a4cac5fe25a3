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

/** AveragePool branches in {@link BranchMerge}: DBB's average and 1×1 → average branches, on x and after a 1×1 conv. */
class AvgPoolBranchTest {
  private static final List<FusionPass> MERGE = List.of(new BranchMerge());
  /**
   * As in {@link BranchMergeTest}: the merged weights are rounded once and each output's sum is
   * reassociated, n·ε_f32 relative to Σ|w·x| for a reduction of n = (C/g)·9 ≤ 54 terms, |x| < 2, the
   * summed |w| of up to five branches with BN scales (|s| ≲ 2.7) below ~10: the rounding random walk
   * stays well under 1e-5·(1 + |y|), a misplaced tap, a wrong divisor or a lost border bias is O(0.1).
   */
  private static final double TOLERANCE = 1e-5;

  /**
   * The DBB block x → {3×3 conv-BN, 1×1 conv-BN, 1×1 conv-BN → AvgPool 3×3 → BN, identity-BN or
   * AvgPool → BN on x} summed, through the standard pipeline: one Conv. Groups 1 and 2, stride 1 and
   * 2 (the pool's stride alike); with padding 1 (count_include_pad = 1, the 1×1's bias through shift
   * taps) or none (only the 3×3 and the 1×1 → average branch align; either count_include_pad).
   */
  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
  void dbbBlockBecomesOneConvInTheStandardPipeline(long seed) throws Exception {
    FusionHarness h = new FusionHarness(seed);
    SplittableRandom r = h.random();
    int groups = 1 + r.nextInt(2);
    int c = groups * (1 + r.nextInt(3));
    int stride = 1 + r.nextInt(2);
    int pad = r.nextInt(4) == 0 ? 0 : 1;
    int onX = pad == 1 ? r.nextInt(3) : 0;
    int k = onX > 0 ? c : groups * (1 + r.nextInt(3));
    if (onX == 1 && stride != 1) {
      onX = 2;
    }
    boolean chainBias = r.nextBoolean();
    boolean chainBn = r.nextBoolean();
    boolean poolBn = r.nextBoolean();
    long includePad = pad == 1 ? 1 : r.nextInt(2);
    int height = 5 + r.nextInt(5);
    int width = 5 + r.nextInt(5);
    h.input("x", 2, c, height, width).output("y");
    List<String> leaves = new ArrayList<>();
    leaves.add(conv(h, "conv3", "x", c, k, 3, stride, pad, groups, r.nextBoolean(), true));
    if (pad == 1) {
      leaves.add(conv(h, "conv1", "x", c, k, 1, stride, 0, groups, r.nextBoolean(), true));
    }
    String y1 = conv(h, "convA", "x", c, k, 1, 1, 0, groups, chainBias, chainBn);
    leaves.add(avgPool(h, "avgA", y1, k, 3, stride, pad, includePad, poolBn));
    if (onX == 1) {
      h.batchNorm("idbn", "x", "idbn.y", c, 1e-5f);
      leaves.add("idbn.y");
    } else if (onX == 2) {
      leaves.add(avgPool(h, "avgX", "x", c, 3, stride, 1, 1, true));
    }
    addTree(h, leaves, "y");
    var outcome = h.check(PassManager.standard().passes(), TOLERANCE, 2, 2, c, height, width);
    String geometry = "groups=" + groups + " C=" + c + " K=" + k + " stride=" + stride + " pad=" + pad + " onX=" + onX
        + " chainBias=" + chainBias + " chainBn=" + chainBn + " poolBn=" + poolBn + " " + outcome.entries();
    assertThat(outcome.fused().nodes()).as(geometry).singleElement().satisfies(n -> {
      assertThat(n.opType()).isEqualTo("Conv");
      assertThat(n.name()).isEqualTo("conv3");
      assertThat(n.attributes().getInt("group", 1)).isEqualTo(groups);
      assertThat(n.domain()).as(geometry).isEqualTo(pad == 1 && (chainBias || chainBn) ? "vfuse" : "");
    });
    assertThat(outcome.entries()).filteredOn(e -> e.pass().equals("branch-merge")).singleElement()
        .satisfies(e -> assertThat(e.fused()).as(geometry).isTrue());
  }

  /** The DBB block with every kind of pool branch, named in the log; the 1×1's bias reaches border outputs through taps. */
  @Test
  void logNamesEveryPoolBranch() throws Exception {
    FusionHarness h = new FusionHarness(101);
    h.input("x", 1, 4, 6, 5).output("y");
    String a = conv(h, "conv3", "x", 4, 4, 3, 1, 1, 2, true, false);
    String b = avgPool(h, "avgA", conv(h, "convA", "x", 4, 4, 1, 1, 0, 2, true, false), 4, 3, 1, 1, 1, true);
    String c = avgPool(h, "avgX", "x", 4, 3, 1, 1, 1, false);
    h.node("add1", "Add", List.of(a, b), List.of("s"), Map.of());
    h.node("add2", "Add", List.of("s", c), List.of("y"), Map.of());
    var outcome = h.check(MERGE, TOLERANCE, 2, 1, 4, 6, 5);
    assertThat(outcome.entries()).extracting(FusionLog.Entry::message).containsExactly("merge 3 branches (3×3 conv3, "
        + "1×1 convA → 3×3 AveragePool avgA → BN avgA_bn, 3×3 AveragePool avgX) of Add add2 into Conv conv3");
    assertThat(outcome.fused().nodes()).singleElement().satisfies(n -> {
      assertThat(n.domain()).isEqualTo("vfuse");
      assertThat(n.input(4)).isNotEmpty();
    });
  }

  /** An unpadded pool averages the 1×1's bias over all R·S taps: it stays a bias, the merged conv is a plain Conv. */
  @Test
  void unpaddedPoolKeepsTheBiasABias() throws Exception {
    FusionHarness h = new FusionHarness(102);
    h.input("x", 1, 3, 7, 6).output("y");
    String a = conv(h, "conv3", "x", 3, 5, 3, 2, 0, 1, false, false);
    String b = avgPool(h, "avgA", conv(h, "convA", "x", 3, 5, 1, 1, 0, 1, true, false), 5, 3, 2, 0, 0, false);
    h.node("add", "Add", List.of(a, b), List.of("y"), Map.of());
    var outcome = h.check(MERGE, TOLERANCE, 2, 1, 3, 7, 6);
    assertThat(outcome.fused().nodes()).singleElement().satisfies(n -> {
      assertThat(n.domain()).isEmpty();
      assertThat(n.inputs()).hasSize(3);
    });
  }

  /**
   * torch's export of count_include_pad=True: Pad(0) → AveragePool without pads, the same divisor
   * R·S; the Pad's pads become the branch's, its zeros where the 1×1's bias is not. A Pad of another
   * value is kept.
   */
  @Test
  void zeroPadBeforeThePoolIsItsPadding() throws Exception {
    for (float value : new float[] {0f, 0.5f}) {
      FusionHarness h = new FusionHarness(110);
      h.input("x", 1, 3, 6, 5).output("y");
      String a = conv(h, "conv3", "x", 3, 3, 3, 1, 1, 1, true, false);
      String y1 = conv(h, "convA", "x", 3, 3, 1, 1, 0, 1, true, false);
      h.constant("pads", dev.vfuse.ir.NdArray.ofLongs(new int[] {8}, new long[] {0, 0, 1, 1, 0, 0, 1, 1}));
      h.constant("value", dev.vfuse.ir.NdArray.ofFloats(new int[] {}, new float[] {value}));
      h.node("pad", "Pad", List.of(y1, "pads", "value"), List.of("padded"), Map.of());
      String b = avgPool(h, "avg", "padded", 3, 3, 1, 0, 0, true);
      h.node("add", "Add", List.of(a, b), List.of("y"), Map.of());
      if (value != 0) {
        assertKept(h, new int[] {1, 3, 6, 5},
            "kept branches of Add add: Pad pad before AveragePool avg is not a constant-0 padding of the two spatial axes");
        continue;
      }
      var outcome = h.check(MERGE, TOLERANCE, 2, 1, 3, 6, 5);
      assertThat(outcome.entries()).extracting(FusionLog.Entry::message).containsExactly(
          "merge 2 branches (3×3 conv3, 1×1 convA → Pad pad → 3×3 AveragePool avg → BN avg_bn) of Add add into Conv conv3");
      assertThat(outcome.fused().nodes()).singleElement().satisfies(n -> assertThat(n.input(4)).isNotEmpty());
    }
  }

  /** Pitfall 10: with pads, count_include_pad=0 divides border windows by fewer than R·S — no conv does that. */
  @Test
  void paddedPoolExcludingPadIsKept() throws Exception {
    FusionHarness h = new FusionHarness(103);
    h.input("x", 1, 2, 5, 5).output("y");
    String a = conv(h, "conv3", "x", 2, 2, 3, 1, 1, 1, true, false);
    h.node("avg", "AveragePool", List.of("x"), List.of("p"), Map.of("kernel_shape", new long[] {3, 3},
        "pads", new long[] {1, 1, 1, 1}));
    h.node("add", "Add", List.of(a, "p"), List.of("y"), Map.of());
    assertKept(h, new int[] {1, 2, 5, 5}, "kept branches of Add add: AveragePool avg has pads 1 with count_include_pad=0: "
        + "a border window divides by fewer than 9");
  }

  /** ceil_mode may add a window past the pads, whose divisor is smaller: kept even where it adds none. */
  @Test
  void ceilModePoolIsKept() throws Exception {
    FusionHarness h = new FusionHarness(104);
    h.input("x", 1, 2, 5, 5).output("y");
    String a = conv(h, "conv3", "x", 2, 2, 3, 1, 1, 1, true, false);
    h.node("avg", "AveragePool", List.of("x"), List.of("p"), Map.of("kernel_shape", new long[] {3, 3},
        "pads", new long[] {1, 1, 1, 1}, "count_include_pad", 1, "ceil_mode", 1));
    h.node("add", "Add", List.of(a, "p"), List.of("y"), Map.of());
    assertKept(h, new int[] {1, 2, 5, 5},
        "kept branches of Add add: AveragePool avg has ceil_mode=1: a window past the pads divides by fewer than 9");
  }

  /** Pitfall 10: the pool's stride must be the convs' (here both outputs are 2×2). */
  @Test
  void poolStrideMismatchIsKept() throws Exception {
    FusionHarness h = new FusionHarness(105);
    h.input("x", 1, 2, 4, 4).output("y");
    String a = conv(h, "conv3", "x", 2, 2, 3, 1, 0, 1, true, false);
    String b = avgPool(h, "avg", conv(h, "convA", "x", 2, 2, 1, 1, 0, 1, true, false), 2, 3, 2, 1, 1, false);
    h.node("add", "Add", List.of(a, b), List.of("y"), Map.of());
    assertKept(h, new int[] {1, 2, 4, 4},
        "kept branches of Add add: 3×3 AveragePool branch avg has stride 2×2, 3×3 branch conv3 stride 1×1");
  }

  /** A pool wider than every conv would turn 1×1 convs into a 3×3 one: more work than the branches. */
  @Test
  void poolWiderThanTheConvsIsKeptForCost() throws Exception {
    FusionHarness h = new FusionHarness(106);
    h.input("x", 1, 3, 5, 5).output("y");
    String a = conv(h, "conv1", "x", 3, 3, 1, 1, 0, 1, true, false);
    String b = avgPool(h, "avg", conv(h, "convA", "x", 3, 3, 1, 1, 0, 1, true, false), 3, 3, 1, 1, 1, false);
    h.node("add", "Add", List.of(a, b), List.of("y"), Map.of());
    assertKept(h, new int[] {1, 3, 5, 5}, "kept branches of Add add: 3×3 AveragePool branch avg is wider than the conv kernels "
        + "(1×1): the merged conv would cost more than the branches");
  }

  /** Only a 1×1 conv before the pool composes into one R×S kernel. */
  @Test
  void poolAfterAWiderConvIsKept() throws Exception {
    FusionHarness h = new FusionHarness(107);
    h.input("x", 1, 2, 5, 5).output("y");
    String a = conv(h, "conv3", "x", 2, 2, 3, 1, 1, 1, true, false);
    String b = avgPool(h, "avg", conv(h, "convB", "x", 2, 2, 3, 1, 1, 1, true, false), 2, 3, 1, 1, 1, false);
    h.node("add", "Add", List.of(a, b), List.of("y"), Map.of());
    assertKept(h, new int[] {1, 2, 5, 5},
        "kept branches of Add add: the 3×3 Conv convB before AveragePool avg is not a 1×1 conv with stride 1 and no padding");
  }

  /** A pool on x maps C → C: with K ≠ C it is no branch of the sum (the Add broadcasts one channel here). */
  @Test
  void poolOnXWithCinNotCoutIsKept() throws Exception {
    FusionHarness h = new FusionHarness(108);
    h.input("x", 1, 1, 5, 5).output("y");
    String a = conv(h, "conv3", "x", 1, 3, 3, 1, 1, 1, true, false);
    String b = avgPool(h, "avg", "x", 1, 3, 1, 1, 1, false);
    h.node("add", "Add", List.of(a, b), List.of("y"), Map.of());
    assertKept(h, new int[] {1, 1, 5, 5},
        "kept branches of Add add: 3×3 AveragePool branch avg needs as many input as output channels, the convs map 1 → 3");
  }

  /** The 1×1's output read by something else too: the pool does not own it, the branch is not one of x; nothing changes. */
  @Test
  void sharedPointwiseOutputIsNotAPoolBranch() throws Exception {
    FusionHarness h = new FusionHarness(109);
    h.input("x", 1, 2, 5, 5).output("y").output("convA.y");
    String a = conv(h, "conv3", "x", 2, 2, 3, 1, 1, 1, true, false);
    String y1 = conv(h, "convA", "x", 2, 2, 1, 1, 0, 1, true, false);
    String b = avgPool(h, "avg", y1, 2, 3, 1, 1, 1, false);
    h.node("add", "Add", List.of(a, b), List.of("y"), Map.of());
    var outcome = h.check(MERGE, 0, 1, 1, 2, 5, 5);
    assertThat(outcome.entries()).isEmpty();
    assertThat(outcome.fused().nodes()).extracting(Node::opType).containsExactly("Conv", "Conv", "AveragePool", "Add");
  }

  private static void assertKept(FusionHarness h, int[] inputShape, String message) throws Exception {
    var outcome = h.check(MERGE, 0, 1, inputShape);
    assertThat(outcome.fusedCount()).isZero();
    assertThat(outcome.entries()).extracting(FusionLog.Entry::message).containsExactly(message);
  }

  /** A square conv k×k on {@code in} with pads {@code pad}, optionally with bias and a following BN; returns its output. */
  private static String conv(FusionHarness h, String name, String in, int c, int k, int kernel, int stride, int pad, int groups,
      boolean bias, boolean batchNorm) {
    h.constant(name + ".w", -1, 1, k, c / groups, kernel, kernel);
    List<String> inputs = new ArrayList<>(List.of(in, name + ".w"));
    if (bias) {
      inputs.add(h.constant(name + ".b", -1, 1, k));
    }
    String out = batchNorm ? name + ".t" : name + ".y";
    h.node(name, "Conv", inputs, List.of(out), Map.of("group", groups, "strides", new long[] {stride, stride},
        "pads", new long[] {pad, pad, pad, pad}));
    if (batchNorm) {
      h.batchNorm(name + "_bn", out, name + ".y", k, 1e-5f);
    }
    return name + ".y";
  }

  /** An AveragePool kernel×kernel on {@code in} (c channels), optionally followed by a BN; returns its output. */
  private static String avgPool(FusionHarness h, String name, String in, int c, int kernel, int stride, int pad, long includePad,
      boolean batchNorm) {
    String out = batchNorm ? name + ".t" : name + ".y";
    h.node(name, "AveragePool", List.of(in), List.of(out), Map.of("kernel_shape", new long[] {kernel, kernel},
        "strides", new long[] {stride, stride}, "pads", new long[] {pad, pad, pad, pad}, "count_include_pad", includePad));
    if (batchNorm) {
      h.batchNorm(name + "_bn", out, name + ".y", c, 1e-5f);
    }
    return name + ".y";
  }

  /** Sums the leaves with a random binary tree of Adds, the last writing {@code out}. */
  private static void addTree(FusionHarness h, List<String> leaves, String out) {
    List<String> pending = new ArrayList<>(leaves);
    SplittableRandom r = h.random();
    int n = 0;
    while (pending.size() > 1) {
      String a = pending.remove(r.nextInt(pending.size()));
      String b = pending.remove(r.nextInt(pending.size()));
      String sum = pending.isEmpty() ? out : "sum" + n;
      h.node("add" + n++, "Add", List.of(a, b), List.of(sum), Map.of());
      pending.add(r.nextInt(pending.size() + 1), sum);
    }
  }
}
