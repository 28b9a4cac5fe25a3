package dev.vfuse.fusion;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.exec.Executor;
import dev.vfuse.exec.Program;
import dev.vfuse.ir.Graph;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ops.ChannelBlockOps;
import dev.vfuse.simd.SimdKernels;
import dev.vfuse.simd.VectorWidth;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link ChannelBlockedLayout} on inverted residual blocks with squeeze-excitation, random channel
 * counts around the block and random strides: the rewritten graph must be bit-identical to the
 * original on the reference backend (whose blocked conv is the plain conv itself, so any wiring
 * mistake shows), run on the SIMD kernels within a reduction-scaled bound, convert only at the
 * graph's edges, and keep what the layout does not serve, saying why.
 */
class ChannelBlockedLayoutTest {

  /**
   * SIMD against the reference, relative to the output's scale (max |reference|, as the model tests
   * measure): float FMA chains against double sums over at most 3·3·78 taps per conv, each within
   * about L·2⁻²⁴·Σ|terms| ≈ 5·10⁻⁶ of the layer's scale, through five convs; 10⁻⁵ of the scale per
   * element is above that and far below any wiring error (a wrong channel or position is O(1)).
   * Per element relative to |reference| would fail where the sum cancels.
   */
  private static final double SIMD_TOLERANCE = 1e-5;

  /**
   * stem 3×3 s2 (3 → c) · Clip → expand 1×1 (c → e) · Clip → depthwise 3×3 stride s · Clip →
   * squeeze-excitation (GAP → 1×1 → Relu → 1×1 → HardSigmoid → Mul) → project 1×1 (e → c) → Add the
   * stem's output when s = 1 → GAP; outputs: the pooled vector and the project output.
   */
  private static FusionHarness block(long seed, int c, int e, int stride) {
    FusionHarness h = new FusionHarness(seed).input("x", 1, 3, 17, 19);
    SplittableRandom r = h.random();
    Map<String, Object> clip = Map.of();
    h.node("stem", "Conv", List.of("x", h.constant("w0", -1, 1, c, 3, 3, 3), h.constant("b0", -1, 1, c)), List.of("s"),
        Map.of("strides", new long[] {2, 2}, "pads", new long[] {1, 1, 1, 1}));
    h.node("stem_act", "Clip", List.of("s", h.constant("lo", scalar(0)), h.constant("hi", scalar(6))), List.of("sa"), clip);
    h.node("expand", "Conv", List.of("sa", h.constant("w1", -1, 1, e, c, 1, 1), h.constant("b1", -1, 1, e)), List.of("ex"),
        Map.of());
    h.node("expand_act", "Relu", List.of("ex"), List.of("exa"), Map.of());
    h.node("dw", "Conv", List.of("exa", h.constant("w2", -1, 1, e, 1, 3, 3), h.constant("b2", -1, 1, e)), List.of("d"),
        Map.of("group", (long) e, "strides", new long[] {stride, stride}, "pads", new long[] {1, 1, 1, 1}));
    h.node("dw_act", "HardSwish", List.of("d"), List.of("da"), Map.of());
    int squeeze = Math.max(1, e / 4);
    h.node("se_pool", "GlobalAveragePool", List.of("da"), List.of("sp"), Map.of());
    h.node("se_fc1", "Conv", List.of("sp", h.constant("w3", -1, 1, squeeze, e, 1, 1), h.constant("b3", -1, 1, squeeze)),
        List.of("f1"), Map.of());
    h.node("se_relu", "Relu", List.of("f1"), List.of("f1a"), Map.of());
    h.node("se_fc2", "Conv", List.of("f1a", h.constant("w4", -1, 1, e, squeeze, 1, 1), h.constant("b4", -1, 1, e)),
        List.of("f2"), Map.of());
    h.node("se_gate", "HardSigmoid", List.of("f2"), List.of("g"), Map.of());
    h.node("se_scale", "Mul", List.of("g", "da"), List.of("sc"), Map.of());
    h.node("project", "Conv", List.of("sc", h.constant("w5", -1, 1, c, e, 1, 1), h.constant("b5", -1, 1, c)),
        List.of(stride == 1 ? "pr" : "y"), Map.of());
    if (stride == 1) {
      h.node("residual", "Add", List.of("pr", "sa"), List.of("y"), Map.of());
    }
    h.node("head", "GlobalAveragePool", List.of("y"), List.of("pooled"), Map.of());
    assertThat(r).isNotNull();
    return h.output("pooled").output("y");
  }

  private static NdArray scalar(float v) {
    return NdArray.ofFloats(new int[0], new float[] {v});
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4, 5, 6})
  void rewritesInvertedResidualBlocksExactlyOnTheReference(long seed) throws Exception {
    SplittableRandom r = new SplittableRandom(seed);
    int block = List.of(4, 8, 16).get(r.nextInt(3));
    int c = 1 + r.nextInt(2 * block + 3);
    int e = c * (2 + r.nextInt(4));
    int stride = 1 + r.nextInt(2);
    FusionHarness h = block(seed, c, e, stride);
    FusionHarness.Outcome o = h.check(List.of(new ConvEpilogueFusion(), new ChannelBlockedLayout(block)), 0, 2, 1, 3, 17, 19);
    String where = "block " + block + " c " + c + " e " + e + " stride " + stride + ": " + o.entries();
    assertThat(o.count(ChannelBlockOps.CONV)).as(where).isEqualTo(4);
    assertThat(o.count("Conv")).as(where + ": the squeeze-excitation convs stay NCHW").isEqualTo(2);
    assertThat(o.count(ChannelBlockOps.SCALE_CHANNELS)).as(where).isEqualTo(1);
    assertThat(o.count(ChannelBlockOps.GLOBAL_AVERAGE_POOL)).as(where).isEqualTo(2);
    assertThat(o.count(ChannelBlockOps.FROM)).as(where + ": only the graph output y leaves the blocks").isEqualTo(1);
    assertThat(o.count(ChannelBlockOps.TO)).as(where).isZero();
  }

  @ParameterizedTest
  @ValueSource(ints = {128, 256, 512})
  void runsOnTheSimdKernelsWithinTheReductionBound(int bits) throws Exception {
    SimdKernels simd = new SimdKernels(VectorWidth.forBits(bits));
    int block = simd.species().length();
    for (long seed = 10; seed < 14; seed++) {
      int c = 1 + (int) (seed * 5 % (2 * block + 3));
      int stride = (int) (seed % 2) + 1;
      FusionHarness h = block(seed, c, 3 * c, stride);
      assertBlockedSimdMatchesReference(h, simd, bits + "-bit, c " + c + ", stride " + stride, 1, 3, 17, 19);
    }
  }

  /** The graph blocked at simd's block and run on simd against the original on the reference, within SIMD_TOLERANCE of the scale. */
  private static void assertBlockedSimdMatchesReference(FusionHarness h, SimdKernels simd, String where, int... shape)
      throws Exception {
    Graph original = h.graph();
    Graph blocked = new PassManager(List.of(new ConvEpilogueFusion(), new ChannelBlockedLayout(simd.species().length())))
        .run(original).graph();
    NdArray x = h.randomInput(shape);
    NdArray[] expected = new Executor(Program.compile(original), new dev.vfuse.reference.ReferenceKernels())
        .run(new NdArray[] {x});
    NdArray[] actual = new Executor(Program.compile(blocked), simd).run(new NdArray[] {x});
    for (int out = 0; out < expected.length; out++) {
      float[] e = expected[out].toFloats(), a = actual[out].toFloats();
      assertThat(a).hasSize(e.length);
      double scale = 1;
      for (float v : e) {
        scale = Math.max(scale, Math.abs(v));
      }
      for (int i = 0; i < e.length; i++) {
        assertThat((double) Math.abs(a[i] - e[i])).as("%s, output %d at %d", where, out, i)
            .isLessThanOrEqualTo(SIMD_TOLERANCE * scale);
      }
    }
  }

  @Test
  void keepsWhatTheLayoutDoesNotServeAndSaysWhy() throws Exception {
    FusionHarness h = new FusionHarness(7).input("x", 1, 3, 12, 12);
    h.node("stem", "Conv", List.of("x", h.constant("w0", -1, 1, 8, 3, 3, 3)), List.of("s"),
        Map.of("pads", new long[] {1, 1, 1, 1}));
    h.node("dw", "Conv", List.of("s", h.constant("w1", -1, 1, 8, 1, 3, 3)), List.of("d"),
        Map.of("group", 8L, "pads", new long[] {1, 1, 1, 1}));
    h.node("full", "Conv", List.of("d", h.constant("w2", -1, 1, 8, 8, 3, 3)), List.of("f"),
        Map.of("pads", new long[] {1, 1, 1, 1}));
    h.node("dw2", "Conv", List.of("d", h.constant("w3", -1, 1, 8, 1, 3, 3)), List.of("d2"),
        Map.of("group", 8L, "pads", new long[] {1, 1, 1, 1}));
    h.node("dw2_gate", "Sigmoid", List.of("d2"), List.of("d2g"), Map.of());
    h.node("sum", "Add", List.of("f", "d2g"), List.of("y"), Map.of());
    h.output("y");
    FusionHarness.Outcome o = h.check(List.of(new ConvEpilogueFusion(), new ChannelBlockedLayout(8)), 0, 1, 1, 3, 12, 12);
    assertThat(o.count(ChannelBlockOps.CONV)).as(o.entries().toString()).isEqualTo(2);
    assertThat(o.entries()).anySatisfy(entry -> {
      assertThat(entry.fused()).isFalse();
      assertThat(entry.message()).contains("'full'").contains("keeps its NCHW kernel");
    });
    assertThat(o.entries()).anySatisfy(entry -> {
      assertThat(entry.fused()).isFalse();
      assertThat(entry.message()).contains("'dw2'").contains("Sigmoid has no vector form");
    });
  }

  /**
   * resnet's basic block on a size² input: 3×3 stride 2 (c → k) · Relu → 3×3 (k → k), a 1×1 stride-2
   * shortcut, Add, Relu, GlobalAveragePool; outputs the pooled vector and y.
   */
  private static FusionHarness basicBlock(long seed, int c, int k, int size) {
    FusionHarness h = new FusionHarness(seed).input("x", 1, c, size, size);
    Map<String, Object> s2 = Map.of("strides", new long[] {2, 2}, "pads", new long[] {1, 1, 1, 1});
    h.node("conv1", "Conv", List.of("x", h.constant("w1", -1, 1, k, c, 3, 3), h.constant("b1", -1, 1, k)), List.of("a"), s2);
    h.node("relu1", "Relu", List.of("a"), List.of("ar"), Map.of());
    h.node("conv2", "Conv", List.of("ar", h.constant("w2", -1, 1, k, k, 3, 3), h.constant("b2", -1, 1, k)), List.of("b"),
        Map.of("pads", new long[] {1, 1, 1, 1}));
    h.node("shortcut", "Conv", List.of("x", h.constant("w3", -1, 1, k, c, 1, 1), h.constant("b3", -1, 1, k)),
        List.of("sc"), Map.of("strides", new long[] {2, 2}));
    h.node("add", "Add", List.of("b", "sc"), List.of("sum"), Map.of());
    h.node("relu2", "Relu", List.of("sum"), List.of("y"), Map.of());
    h.node("pool", "GlobalAveragePool", List.of("y"), List.of("pooled"), Map.of());
    return h.output("pooled").output("y");
  }

  /**
   * The basic block onto a 7×7 plane: every conv has at most SMALL_PLANE output positions, so all
   * three run blocked, the first two from the plain input; only the pooled vector and y leave the
   * blocks. Bit-identical on the reference, within the reduction bound on the SIMD kernels.
   */
  @ParameterizedTest
  @ValueSource(ints = {128, 256, 512})
  void runsSmallPlaneBasicBlocksBlocked(int bits) throws Exception {
    SimdKernels simd = new SimdKernels(VectorWidth.forBits(bits));
    int block = simd.species().length();
    int c = block + 3;
    FusionHarness h = basicBlock(bits, c, 2 * block + 1, 14);
    FusionHarness.Outcome o = h.check(List.of(new ConvEpilogueFusion(), new ChannelBlockedLayout(block)), 0, 2, 1, c, 14, 14);
    assertThat(o.count(ChannelBlockOps.CONV)).as(o.entries().toString()).isEqualTo(3);
    assertThat(o.count(ChannelBlockOps.GLOBAL_AVERAGE_POOL)).as(o.entries().toString()).isEqualTo(1);
    assertThat(o.count(ChannelBlockOps.FROM)).as("only the graph output y leaves the blocks").isEqualTo(1);
    assertThat(o.count(ChannelBlockOps.TO)).isZero();
    assertBlockedSimdMatchesReference(h, simd, bits + "-bit", 1, c, 14, 14);
  }

  /**
   * The basic block onto 15²: more than SMALL_PLANE positions, at most STRIDED_PLANE, so the
   * stride-2 conv runs blocked and the stride-1 conv after it keeps NCHW, saying why.
   */
  @ParameterizedTest
  @ValueSource(ints = {128, 256, 512})
  void runsStridedConvsBlockedOnLargerPlanes(int bits) throws Exception {
    SimdKernels simd = new SimdKernels(VectorWidth.forBits(bits));
    int block = simd.species().length();
    int c = block - 1;
    FusionHarness h = basicBlock(bits + 1, c, block + 2, 30);
    FusionHarness.Outcome o = h.check(List.of(new ConvEpilogueFusion(), new ChannelBlockedLayout(block)), 0, 2, 1, c, 30, 30);
    assertThat(o.entries()).as(o.entries().toString()).anySatisfy(entry -> {
      assertThat(entry.fused()).isTrue();
      assertThat(entry.message()).contains("'conv1'").contains("from an NCHW input");
    });
    assertThat(o.entries()).anySatisfy(entry -> {
      assertThat(entry.fused()).isFalse();
      assertThat(entry.message()).contains("'conv2'").contains("more than 49 output positions (784 when strided)");
    });
    assertBlockedSimdMatchesReference(h, simd, bits + "-bit", 1, c, 30, 30);
  }

  /**
   * resnet's stem on a size² RGB input: 7×7 stride 2 (3 → k) · Relu → MaxPool 3×3 stride 2 pad 1 →
   * 3×3 (k → k) plus the pool as its residual; output y. The stem runs blocked because only a max
   * pool reads it, the pool runs on the blocks, and its one conversion feeds both readers.
   */
  private static FusionHarness stem(long seed, int k, int size) {
    FusionHarness h = new FusionHarness(seed).input("x", 1, 3, size, size);
    h.node("stem", "Conv", List.of("x", h.constant("w1", -1, 1, k, 3, 7, 7), h.constant("b1", -1, 1, k)), List.of("s"),
        Map.of("strides", new long[] {2, 2}, "pads", new long[] {3, 3, 3, 3}));
    h.node("relu", "Relu", List.of("s"), List.of("sr"), Map.of());
    h.node("pool", "MaxPool", List.of("sr"), List.of("p"), Map.of("kernel_shape", new long[] {3, 3},
        "strides", new long[] {2, 2}, "pads", new long[] {1, 1, 1, 1}));
    h.node("conv", "Conv", List.of("p", h.constant("w2", -1, 1, k, k, 3, 3), h.constant("b2", -1, 1, k)), List.of("c"),
        Map.of("pads", new long[] {1, 1, 1, 1}));
    h.node("add", "Add", List.of("c", "p"), List.of("y"), Map.of());
    return h.output("y");
  }

  @ParameterizedTest
  @ValueSource(ints = {128, 256, 512})
  void runsAStemAndItsMaxPoolOnBlocks(int bits) throws Exception {
    SimdKernels simd = new SimdKernels(VectorWidth.forBits(bits));
    int block = simd.species().length();
    int k = 2 * block + 3;
    FusionHarness h = stem(bits + 2, k, 37);
    FusionHarness.Outcome o = h.check(List.of(new ConvEpilogueFusion(), new ChannelBlockedLayout(block)), 0, 2, 1, 3, 37, 37);
    String entries = o.entries().toString();
    assertThat(o.count(ChannelBlockOps.CONV)).as(entries).isEqualTo(1);
    assertThat(o.count(ChannelBlockOps.MAX_POOL)).as(entries).isEqualTo(1);
    assertThat(o.count("MaxPool")).as(entries).isZero();
    assertThat(o.count(ChannelBlockOps.FROM)).as("the pooled value leaves the blocks once: " + entries).isEqualTo(1);
    assertThat(o.count("Conv")).as("the 3×3 conv keeps NCHW: " + entries).isEqualTo(1);
    assertBlockedSimdMatchesReference(h, simd, bits + "-bit", 1, 3, 37, 37);
  }

  /** A stem read by a max pool and by something else stays NCHW: its whole output would have to leave the blocks. */
  @Test
  void keepsAStemThatMoreThanMaxPoolsRead() throws Exception {
    FusionHarness h = new FusionHarness(7).input("x", 1, 3, 20, 20);
    h.node("stem", "Conv", List.of("x", h.constant("w1", -1, 1, 8, 3, 3, 3), h.constant("b1", -1, 1, 8)), List.of("s"),
        Map.of("pads", new long[] {1, 1, 1, 1}));
    h.node("pool", "MaxPool", List.of("s"), List.of("p"), Map.of("kernel_shape", new long[] {2, 2},
        "strides", new long[] {2, 2}));
    h.node("act", "Sigmoid", List.of("s"), List.of("a"), Map.of());
    h.output("p").output("a");
    FusionHarness.Outcome o = h.check(List.of(new ChannelBlockedLayout(4)), 0, 2, 1, 3, 20, 20);
    assertThat(o.count(ChannelBlockOps.CONV)).as(o.entries().toString()).isZero();
    assertThat(o.count("MaxPool")).isEqualTo(1);
  }
}
