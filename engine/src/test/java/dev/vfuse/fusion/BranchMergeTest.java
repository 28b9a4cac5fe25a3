package dev.vfuse.fusion;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.exec.Executor;
import dev.vfuse.exec.Program;
import dev.vfuse.io.Npy;
import dev.vfuse.ir.Graph;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.Node;
import dev.vfuse.models.Fixtures;
import dev.vfuse.onnx.OnnxImporter;
import dev.vfuse.reference.ReferenceKernels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BranchMergeTest {
  private static final List<FusionPass> MERGE = List.of(new BranchMerge());
  private static final List<FusionPass> FOLD_AND_MERGE = List.of(new ConvBatchNormFold(), new BranchMerge());
  /**
   * Fused and unfused differ by the rounding of the summed weights (one rounding per weight) and
   * the reassociation of each output's sum: n·ε_f32 relative to Σ|w·x| for a reduction of length
   * n = (C/g)·Rm·Sm ≤ 75 here, with |x| < 2 and the summed |w| of up to four branches below 4
   * (BN scales included): 75 · 1.2e-7 · 8 ≈ 7e-5 in the worst case, 1e-5 against 1 + |y| leaves
   * room only for the rounding-error random walk, not for a misplaced tap.
   */
  private static final double TOLERANCE = 1e-5;

  /** Kernel shapes a random branch draws from: square, 1×1 and ACNet's asymmetric ones. */
  private static final int[][] KERNELS = {{1, 1}, {3, 3}, {5, 5}, {1, 3}, {3, 1}, {1, 5}, {5, 1}, {3, 3}};

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24})
  void randomBranchGeometryMatchesUnfused(long seed) throws Exception {
    FusionHarness h = new FusionHarness(seed);
    SplittableRandom r = h.random();
    int groups = List.of(1, 1, 2, 4).get(r.nextInt(4));
    int c = groups * (1 + r.nextInt(3));
    int stride = r.nextInt(4) == 0 ? 2 : 1;
    int dilation = r.nextInt(4) == 0 ? 2 : 1;
    int extraPad = r.nextInt(4) == 0 ? 1 : 0;
    int identity = stride == 1 && extraPad == 0 ? r.nextInt(3) : 0;
    int k = identity > 0 ? c : groups * (1 + r.nextInt(3));
    int convs = 1 + r.nextInt(3);
    if (convs == 1 && identity == 0) {
      convs = 2;
    }
    int height = 5 + r.nextInt(5);
    int width = 5 + r.nextInt(5);
    h.input("x", 2, c, height, width).output("y");
    List<String> leaves = new ArrayList<>();
    for (int i = 0; i < convs; i++) {
      int[] kernel = KERNELS[r.nextInt(KERNELS.length)];
      leaves.add(convBranch(h, "conv" + i, "x", c, k, kernel, stride, dilation, groups, extraPad, r.nextBoolean(), r.nextBoolean()));
    }
    if (identity == 1) {
      leaves.add("x");
    } else if (identity == 2) {
      h.batchNorm("idbn", "x", "idbn.y", c, 1e-5f);
      leaves.add("idbn.y");
    }
    addTree(h, leaves, "y");
    var outcome = h.check(FOLD_AND_MERGE, TOLERANCE, 2, 2, c, height, width);
    assertThat(outcome.count("Conv")).as(outcome.fused().nodes().toString()).isEqualTo(1);
    assertThat(outcome.count("Add")).isZero();
    assertThat(outcome.count("BatchNormalization")).isZero();
    assertThat(outcome.entries()).filteredOn(e -> e.pass().equals("branch-merge")).singleElement()
        .satisfies(e -> assertThat(e.fused()).isTrue());
  }

  /** ACNet: 3×3 + 1×3 + 3×1, each with BN, plus identity-BN: one 3×3 conv, the log naming every branch. */
  @Test
  void acnetAsymmetricBranchesWithIdentityBn() throws Exception {
    FusionHarness h = new FusionHarness(101);
    h.input("x", 1, 4, 7, 6).output("y");
    String a = convBranch(h, "conv1", "x", 4, 4, new int[] {3, 3}, 1, 1, 1, 0, false, true);
    String b = convBranch(h, "conv2", "x", 4, 4, new int[] {1, 3}, 1, 1, 1, 0, false, true);
    String c = convBranch(h, "conv3", "x", 4, 4, new int[] {3, 1}, 1, 1, 1, 0, false, true);
    h.batchNorm("bn4", "x", "bn4.y", 4, 1e-3f);
    h.node("add1", "Add", List.of(b, a), List.of("s1"), Map.of());
    h.node("add2", "Add", List.of(c, "bn4.y"), List.of("s2"), Map.of());
    h.node("add3", "Add", List.of("s1", "s2"), List.of("y"), Map.of());
    var outcome = h.check(FOLD_AND_MERGE, TOLERANCE, 2, 1, 4, 7, 6);
    assertThat(outcome.count("Conv")).isEqualTo(1);
    assertThat(outcome.fused().nodes().get(0).name()).isEqualTo("conv1");
    assertThat(outcome.entries()).anySatisfy(e -> assertThat(e.message())
        .isEqualTo("merge 4 branches (1×3 conv2, 3×3 conv1, 3×1 conv3, identity-BN bn4) of Add add3 into Conv conv1"));
  }

  /** A vfuse.ScaleShift on x (a BN that an earlier pass could not fold) is an identity scaled per channel, grouped conv here. */
  @Test
  void scaleShiftIsAScaledIdentity() throws Exception {
    FusionHarness h = new FusionHarness(117);
    h.input("x", 1, 4, 5, 6).output("y");
    String a = convBranch(h, "conv1", "x", 4, 4, new int[] {3, 3}, 1, 1, 2, 0, true, false);
    h.constant("ss.scale", -2, 2, 4);
    h.constant("ss.shift", -1, 1, 4);
    h.vfuseNode("ss", "ScaleShift", List.of("x", "ss.scale", "ss.shift"), List.of("z"), Map.of());
    h.node("add", "Add", List.of("z", a), List.of("y"), Map.of());
    var outcome = h.check(MERGE, TOLERANCE, 2, 1, 4, 5, 6);
    assertThat(outcome.entries()).extracting(FusionLog.Entry::message)
        .containsExactly("merge 2 branches (identity-ScaleShift ss, 3×3 conv1) of Add add into Conv conv1");
  }

  /** Only 1×3 and 3×1: the merged kernel is 3×3 although no branch has that shape. */
  @Test
  void crossOfAsymmetricKernelsBecomesSquare() throws Exception {
    FusionHarness h = new FusionHarness(102);
    h.input("x", 1, 3, 5, 6).output("y");
    String a = convBranch(h, "conv1", "x", 3, 5, new int[] {1, 3}, 2, 1, 1, 1, true, false);
    String b = convBranch(h, "conv2", "x", 3, 5, new int[] {3, 1}, 2, 1, 1, 1, true, false);
    h.node("add", "Add", List.of(a, b), List.of("y"), Map.of());
    var outcome = h.check(MERGE, TOLERANCE, 2, 1, 3, 5, 6);
    Node merged = outcome.fused().nodes().get(0);
    assertThat(merged.attributes().getInts("kernel_shape", null)).containsExactly(3, 3);
    assertThat(merged.attributes().getInts("pads", null)).containsExactly(2, 2, 2, 2);
  }

  /** A dilated 3×3 and a 1×1 merge (the 1×1 does not dilate), and auto_pad SAME with stride 1 resolves. */
  @Test
  void dilatedKernelAndSamePaddingMerge() throws Exception {
    FusionHarness h = new FusionHarness(103);
    h.input("x", 1, 4, 8, 7).output("y");
    h.constant("w3", -1, 1, 4, 4, 3, 3);
    h.constant("w1", -1, 1, 4, 4, 1, 1);
    h.node("conv3", "Conv", List.of("x", "w3"), List.of("a"), Map.of("dilations", new long[] {2, 2}, "auto_pad", "SAME_UPPER"));
    h.node("conv1", "Conv", List.of("x", "w1"), List.of("b"), Map.of("dilations", new long[] {3, 3}));
    h.node("add", "Add", List.of("a", "b"), List.of("s"), Map.of());
    h.node("add2", "Add", List.of("x", "s"), List.of("y"), Map.of());
    var outcome = h.check(MERGE, TOLERANCE, 2, 1, 4, 8, 7);
    assertThat(outcome.count("Conv")).isEqualTo(1);
    assertThat(outcome.fused().nodes().get(0).attributes().getInts("dilations", null)).containsExactly(2, 2);
  }

  /** BN before the branches folds (BatchNormConvFold) into shift taps on the padded 3×3; the taps merge too. */
  @Test
  void shiftTapsOfFoldedInputBatchNormAreSummed() throws Exception {
    FusionHarness h = new FusionHarness(104);
    h.input("x", 1, 3, 6, 5).output("y");
    h.batchNorm("bn0", "x", "h", 3, 1e-5f);
    String a = convBranch(h, "conv1", "h", 3, 4, new int[] {3, 3}, 1, 1, 1, 0, true, false);
    String b = convBranch(h, "conv2", "h", 3, 4, new int[] {1, 1}, 1, 1, 1, 0, false, false);
    h.node("add", "Add", List.of(a, b), List.of("y"), Map.of());
    var outcome = h.check(List.of(new BatchNormConvFold(), new BranchMerge()), TOLERANCE, 3, 1, 3, 6, 5);
    assertThat(outcome.fused().nodes()).singleElement().satisfies(n -> {
      assertThat(n.domain()).isEqualTo("vfuse");
      assertThat(n.input(4)).isNotEmpty();
    });
  }

  /** A sum that also adds something else: the sub-sum of branches merges, the outer Add stays and says why. */
  @Test
  void branchesBesideAnotherAddendMergeAsASubSum() throws Exception {
    FusionHarness h = new FusionHarness(105);
    h.input("x", 1, 2, 5, 5).output("y");
    String a = convBranch(h, "conv1", "x", 2, 2, new int[] {3, 3}, 1, 1, 1, 0, true, false);
    String b = convBranch(h, "conv2", "x", 2, 2, new int[] {1, 1}, 1, 1, 1, 0, true, false);
    h.node("relu", "Relu", List.of("x"), List.of("r"), Map.of());
    h.node("add1", "Add", List.of(a, b), List.of("s"), Map.of());
    h.node("add2", "Add", List.of("s", "r"), List.of("y"), Map.of());
    var outcome = h.check(MERGE, TOLERANCE, 2, 1, 2, 5, 5);
    assertThat(outcome.count("Conv")).isEqualTo(1);
    assertThat(outcome.count("Add")).isEqualTo(1);
    assertThat(outcome.entries()).extracting(FusionLog.Entry::message).containsExactly(
        "kept branches of Add add2: it also adds r (Relu relu), which is not a branch of x",
        "merge 2 branches (3×3 conv1, 1×1 conv2) of Add add1 into Conv conv1");
  }

  /** Pitfall 10: branches of different strides are kept (here both give 2×2 outputs). */
  @Test
  void strideMismatchIsKept() throws Exception {
    FusionHarness h = new FusionHarness(106);
    h.input("x", 1, 2, 4, 4).output("y");
    String a = convBranch(h, "conv1", "x", 2, 2, new int[] {3, 3}, 1, 1, 1, -1, true, false);
    String b = convBranch(h, "conv2", "x", 2, 2, new int[] {1, 1}, 2, 1, 1, 0, true, false);
    h.node("add", "Add", List.of(a, b), List.of("y"), Map.of());
    assertKept(h, new int[] {1, 2, 4, 4}, "kept branches of Add add: 1×1 branch conv2 has stride 2×2, 3×3 branch conv1 stride 1×1");
  }

  /** Pitfall 10: branches of different group counts are kept. */
  @Test
  void groupsMismatchIsKept() throws Exception {
    FusionHarness h = new FusionHarness(107);
    h.input("x", 1, 4, 5, 5).output("y");
    String a = convBranch(h, "conv1", "x", 4, 4, new int[] {3, 3}, 1, 1, 2, 0, true, false);
    String b = convBranch(h, "conv2", "x", 4, 4, new int[] {1, 1}, 1, 1, 1, 0, true, false);
    h.node("add", "Add", List.of(a, b), List.of("y"), Map.of());
    assertKept(h, new int[] {1, 4, 5, 5}, "kept branches of Add add: 1×1 branch conv2 has group=1, 3×3 branch conv1 group=2");
  }

  /** Pitfall 10: the small kernel must sit in the centre; off-centre pads and an even size difference are kept. */
  @Test
  void offCentrePaddingIsKept() throws Exception {
    FusionHarness h = new FusionHarness(108);
    h.input("x", 1, 2, 5, 5).output("y");
    h.constant("w3", -1, 1, 2, 2, 3, 3);
    h.constant("w1", -1, 1, 2, 2, 1, 1);
    h.node("conv1", "Conv", List.of("x", "w3"), List.of("a"), Map.of("pads", new long[] {2, 2, 0, 0}));
    h.node("conv2", "Conv", List.of("x", "w1"), List.of("b"), Map.of());
    h.node("add", "Add", List.of("a", "b"), List.of("y"), Map.of());
    assertKept(h, new int[] {1, 2, 5, 5},
        "kept branches of Add add: 1×1 branch conv2 padding 0 is not centre-aligned with the 3×3 branch conv1 padding [2, 2, 0, 0]");
    FusionHarness even = new FusionHarness(109);
    even.input("x", 1, 2, 5, 5).output("y");
    even.constant("w3", -1, 1, 2, 2, 3, 3);
    even.constant("w2", -1, 1, 2, 2, 2, 2);
    even.node("conv1", "Conv", List.of("x", "w3"), List.of("a"), Map.of("pads", new long[] {1, 1, 1, 1}));
    even.node("conv2", "Conv", List.of("x", "w2"), List.of("b"), Map.of("pads", new long[] {1, 1, 0, 0}));
    even.node("add", "Add", List.of("a", "b"), List.of("y"), Map.of());
    assertKept(even, new int[] {1, 2, 5, 5}, "kept branches of Add add: 2×2 branch conv2 cannot be centred in the 3×3 kernel");
  }

  /** Pitfall 10: an identity needs C == K; here x has one channel that the Add broadcasts over K = 3. */
  @Test
  void identityWithCinNotCoutIsKept() throws Exception {
    FusionHarness h = new FusionHarness(110);
    h.input("x", 1, 1, 5, 5).output("y");
    String a = convBranch(h, "conv1", "x", 1, 3, new int[] {3, 3}, 1, 1, 1, 0, true, false);
    h.node("add", "Add", List.of(a, "x"), List.of("y"), Map.of());
    assertKept(h, new int[] {1, 1, 5, 5},
        "kept branches of Add add: the identity branch needs as many input as output channels, the convs map 1 → 3");
  }

  /** Pitfall 10: a branch output read outside the pattern (or a graph output) keeps the branches. */
  @Test
  void intermediateReadElsewhereIsKept() throws Exception {
    FusionHarness h = new FusionHarness(111);
    h.input("x", 1, 2, 5, 5).output("y");
    String a = convBranch(h, "conv1", "x", 2, 2, new int[] {3, 3}, 1, 1, 1, 0, true, false);
    String b = convBranch(h, "conv2", "x", 2, 2, new int[] {1, 1}, 1, 1, 1, 0, true, false);
    h.node("add", "Add", List.of(a, b), List.of("s"), Map.of());
    h.node("relu", "Relu", List.of(b), List.of("r"), Map.of());
    h.node("mul", "Mul", List.of("s", "r"), List.of("y"), Map.of());
    assertKept(h, new int[] {1, 2, 5, 5},
        "kept branches of Add add: the output of 1×1 conv2 is also read outside the branches or is a graph output");
  }

  /** A partial sum that is also a graph output stops the tree: the sum below it merges, the Add above keeps x. */
  @Test
  void partialSumReadElsewhereSplitsTheTree() throws Exception {
    FusionHarness h = new FusionHarness(112);
    h.input("x", 1, 3, 5, 4).output("y").output("s");
    String a = convBranch(h, "conv1", "x", 3, 3, new int[] {3, 3}, 1, 1, 1, 0, true, false);
    String b = convBranch(h, "conv2", "x", 3, 3, new int[] {1, 1}, 1, 1, 1, 0, true, false);
    h.node("add1", "Add", List.of(a, b), List.of("s"), Map.of());
    h.node("add2", "Add", List.of("s", "x"), List.of("y"), Map.of());
    var outcome = h.check(MERGE, TOLERANCE, 2, 1, 3, 5, 4);
    assertThat(outcome.count("Conv")).isEqualTo(1);
    assertThat(outcome.count("Add")).isEqualTo(1);
  }

  /** Branches must be linear: a vfuse Conv that applies an activation is not one. */
  @Test
  void convWithFusedActivationIsKept() throws Exception {
    FusionHarness h = new FusionHarness(113);
    h.input("x", 1, 2, 5, 5).output("y");
    h.constant("w3", -1, 1, 2, 2, 3, 3);
    h.constant("w1", -1, 1, 2, 2, 1, 1);
    h.vfuseNode("conv1", "Conv", List.of("x", "w3"), List.of("a"), Map.of("pads", new long[] {1, 1, 1, 1}, "activation", "Relu"));
    h.node("conv2", "Conv", List.of("x", "w1"), List.of("b"), Map.of());
    h.node("add", "Add", List.of("a", "b"), List.of("y"), Map.of());
    assertKept(h, new int[] {1, 2, 5, 5},
        "kept branches of Add add: Conv conv1 applies an activation or residual add (not a linear branch)");
  }

  /** When the whole sum cannot merge, a partial sum of mergeable branches still does; only the top is logged as kept. */
  @Test
  void refusedSumStillMergesItsMergeableSubSum() throws Exception {
    FusionHarness h = new FusionHarness(116);
    h.input("x", 1, 2, 5, 5).output("y");
    String a = convBranch(h, "conv1", "x", 2, 2, new int[] {3, 3}, 1, 1, 1, 0, true, false);
    String b = convBranch(h, "conv2", "x", 2, 2, new int[] {1, 1}, 1, 1, 1, 0, true, false);
    h.constant("w3", -1, 1, 2, 2, 3, 3);
    h.vfuseNode("conv3", "Conv", List.of("x", "w3"), List.of("c"), Map.of("pads", new long[] {1, 1, 1, 1}, "activation", "Relu"));
    h.node("add1", "Add", List.of(a, b), List.of("s"), Map.of());
    h.node("add2", "Add", List.of("s", "c"), List.of("y"), Map.of());
    var outcome = h.check(MERGE, TOLERANCE, 2, 1, 2, 5, 5);
    assertThat(outcome.count("Conv")).isEqualTo(2);
    assertThat(outcome.entries()).extracting(FusionLog.Entry::message).containsExactly(
        "kept branches of Add add2: Conv conv3 applies an activation or residual add (not a linear branch)",
        "merge 2 branches (3×3 conv1, 1×1 conv2) of Add add1 into Conv conv1");
  }

  /** SAME padding with stride 2 depends on the input size, which the pass does not know. */
  @Test
  void sizeDependentSamePaddingIsKept() throws Exception {
    FusionHarness h = new FusionHarness(114);
    h.input("x", 1, 2, 6, 6).output("y");
    h.constant("w3", -1, 1, 2, 2, 3, 3);
    h.constant("w1", -1, 1, 2, 2, 1, 1);
    h.node("conv1", "Conv", List.of("x", "w3"), List.of("a"), Map.of("strides", new long[] {2, 2}, "auto_pad", "SAME_UPPER"));
    h.node("conv2", "Conv", List.of("x", "w1"), List.of("b"), Map.of("strides", new long[] {2, 2}));
    h.node("add", "Add", List.of("a", "b"), List.of("y"), Map.of());
    assertKept(h, new int[] {1, 2, 6, 6},
        "kept branches of Add add: Conv conv1: its pads depend on the input size (auto_pad SAME_UPPER with strides 2×2)");
  }

  /** The residual Add of conv(h) and x is no branch pattern: nothing logged, nothing changed. */
  @Test
  void residualAddOfAnotherTensorIsNotACandidate() throws Exception {
    FusionHarness h = new FusionHarness(115);
    h.input("x", 1, 2, 5, 5).output("y");
    h.node("relu", "Relu", List.of("x"), List.of("r"), Map.of());
    String a = convBranch(h, "conv1", "r", 2, 2, new int[] {3, 3}, 1, 1, 1, 0, true, false);
    h.node("add", "Add", List.of(a, "x"), List.of("y"), Map.of());
    var outcome = h.check(MERGE, 0, 1, 1, 2, 5, 5);
    assertThat(outcome.entries()).isEmpty();
    assertThat(outcome.count("Add")).isEqualTo(1);
  }

  /**
   * The RepVGG-style torch fixture (3×3 conv-BN + 1×1 conv-BN + identity-BN blocks, one with stride
   * 2 and no identity, one grouped): after Conv → BN folding and the merge, one Conv per block.
   */
  @Test
  void repvggBlocksBecomeOneConvPerBlockAndMatchTorch() throws Exception {
    Path dir = Fixtures.torchDir("repvgg_blocks");
    Graph g = Program.foldConstants(OnnxImporter.read(Files.readAllBytes(dir.resolve("model.onnx"))).graph(),
        new ReferenceKernels());
    var result = new PassManager(FOLD_AND_MERGE).run(g);
    assertThat(g.opHistogram()).containsEntry("Conv", 7).containsEntry("Add", 5).containsEntry("BatchNormalization", 9);
    assertThat(result.graph().opHistogram()).containsEntry("Conv", 4).doesNotContainKeys("Add", "BatchNormalization");
    assertThat(result.report().entries()).filteredOn(e -> e.pass().equals("branch-merge"))
        .extracting(FusionLog.Entry::message).allMatch(m -> m.startsWith("merge ")).hasSize(3);
    var input = Npy.read(dir.resolve("input.npy"));
    var expected = Npy.read(dir.resolve("output.npy")).floats();
    float[] actual = new Executor(Program.compile(result.graph()), new ReferenceKernels())
        .run(new NdArray[] {NdArray.ofFloats(input.shape(), input.floats())})[0].toFloats();
    double scale = 0;
    double worst = 0;
    for (int i = 0; i < expected.length; i++) {
      scale = Math.max(scale, Math.abs(expected[i]));
      worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
    }
    assertThat(worst / scale).as("max error relative to max|torch output|").isLessThanOrEqualTo(1e-5);
  }

  private static void assertKept(FusionHarness h, int[] inputShape, String message) throws Exception {
    var outcome = h.check(MERGE, 0, 1, inputShape);
    assertThat(outcome.fusedCount()).isZero();
    assertThat(outcome.entries()).extracting(FusionLog.Entry::message).containsExactly(message);
  }

  /**
   * A conv branch R×S on {@code in} with centre-aligned pads d·(R − 1)/2 + extraPad (or 0 when
   * extraPad is −1), optionally with bias and a following BN; returns the branch output.
   */
  private static String convBranch(FusionHarness h, String name, String in, int c, int k, int[] kernel, int stride, int dilation,
      int groups, int extraPad, boolean bias, boolean batchNorm) {
    h.constant(name + ".w", -1, 1, k, c / groups, kernel[0], kernel[1]);
    List<String> inputs = new ArrayList<>(List.of(in, name + ".w"));
    if (bias) {
      inputs.add(h.constant(name + ".b", -1, 1, k));
    }
    long ph = extraPad < 0 ? 0 : dilation * (kernel[0] - 1) / 2 + extraPad;
    long pw = extraPad < 0 ? 0 : dilation * (kernel[1] - 1) / 2 + extraPad;
    String out = batchNorm ? name + ".t" : name + ".y";
    h.node(name, "Conv", inputs, List.of(out), Map.of("group", groups, "strides", new long[] {stride, stride},
        "dilations", new long[] {dilation, dilation}, "pads", new long[] {ph, pw, ph, pw}));
    if (batchNorm) {
      h.batchNorm(name + "_bn", out, name + ".y", k, 1e-5f);
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
