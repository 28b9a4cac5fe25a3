package dev.vfuse.fusion;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.Graph;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.Node;
import dev.vfuse.ops.OpRegistry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BatchNormConvFoldTest {
  private static final List<FusionPass> PASS = List.of(new BatchNormConvFold());
  /**
   * Fused and unfused differ only by float rounding: unfused rounds BN(x) and then sums n = (C/g)·R·S
   * products; fused sums the n products W'·x (W' rounded once) and adds offsets that sum up to R·S
   * rounded taps. Each side is off by a few ulp of Σ|products|. Here |W| < 1, |x| < 2, |s| < 2.7 and
   * |t| < 3.5, and n ≤ 75 (3 channels per group × 5×5; a ConvTranspose output gathers at most
   * 3 × 4×4), so Σ|products| is about n·0.5·2 ≤ 75 and a few ulp of it (2⁻²⁴ ≈ 6e-8) about 5e-6.
   * 1e-5·(1 + |y|) covers that with room (the worst seen is 8e-7); the border error of the naive
   * fold (pitfall 8), |Σ W·t| over the missing taps, is above 0.1, four orders higher.
   */
  private static final double TOLERANCE = 1e-5;

  /**
   * Adds a BN whose scale is 0 in channel 0 and negative in some others, with shifts up to ±3, so a
   * border that misses or double-counts the shift is visible.
   */
  private static void batchNorm(FusionHarness h, String name, String in, String out, int c) {
    SplittableRandom r = h.random();
    float[] gamma = new float[c];
    for (int i = 1; i < c; i++) {
      gamma[i] = (float) (r.nextDouble(0.5, 1.5) * (r.nextInt(3) == 0 ? -1 : 1));
    }
    h.constant(name + ".gamma", NdArray.ofFloats(new int[] {c}, gamma));
    h.constant(name + ".beta", -2, 2, c);
    h.constant(name + ".mean", -1, 1, c);
    h.constant(name + ".var", 0.3, 2.0, c);
    h.node(name, "BatchNormalization", List.of(in, name + ".gamma", name + ".beta", name + ".mean", name + ".var"),
        List.of(out), Map.of("epsilon", 1e-5f));
  }

  private static int[] dims(FusionHarness h) {
    return h.graph().inputs().get(0).dims().stream().mapToInt(Integer::intValue).toArray();
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24})
  void randomConvGeometryMatchesUnfused(long seed) throws Exception {
    FusionHarness h = new FusionHarness(seed);
    SplittableRandom r = h.random();
    int mode = r.nextInt(4);
    int groups;
    int c;
    int k;
    if (mode == 0) {
      c = 2 + r.nextInt(5);
      groups = c;
      k = c * (1 + r.nextInt(2));
    } else {
      groups = List.of(1, 2, 4).get(r.nextInt(3));
      c = groups * (1 + r.nextInt(3));
      k = groups * (1 + r.nextInt(3));
    }
    int kh = List.of(1, 3, 5).get(r.nextInt(3));
    int kw = r.nextInt(3) == 0 ? List.of(1, 3, 5).get(r.nextInt(3)) : kh;
    int dh = 1 + r.nextInt(2);
    int dw = 1 + r.nextInt(2);
    int[] strides = {1 + r.nextInt(3), 1 + r.nextInt(3)};
    Map<String, Object> attributes = new LinkedHashMap<>(Map.of("group", groups, "strides", strides(strides),
        "dilations", new long[] {dh, dw}));
    int padding = r.nextInt(6);
    switch (padding) {
      case 0 -> { }
      case 1 -> {
        int p = 1 + r.nextInt(2);
        attributes.put("pads", new long[] {p, p, p, p});
      }
      case 2 -> attributes.put("pads", new long[] {r.nextInt(3), r.nextInt(3), r.nextInt(3), r.nextInt(3)});
      case 3 -> attributes.put("auto_pad", "SAME_UPPER");
      case 4 -> attributes.put("auto_pad", "SAME_LOWER");
      default -> attributes.put("auto_pad", "VALID");
    }
    int height = (kh - 1) * dh + 1 + r.nextInt(6);
    int width = (kw - 1) * dw + 1 + r.nextInt(6);
    boolean bias = r.nextBoolean();
    h.input("x", 2, c, height, width).output("y");
    batchNorm(h, "bn", "x", "xn", c);
    h.constant("w", -1, 1, k, c / groups, kh, kw);
    List<String> in = new ArrayList<>(List.of("xn", "w"));
    if (bias) {
      in.add(h.constant("b", -1, 1, k));
    }
    h.node("conv", "Conv", in, List.of("y"), attributes);
    var outcome = h.check(PASS, TOLERANCE, 2, dims(h));
    assertThat(outcome.count("BatchNormalization")).isZero();
    assertThat(outcome.fusedCount()).isEqualTo(1);
    boolean padded = switch (padding) {
      case 0, 5 -> false;
      case 1 -> true;
      case 2 -> !Arrays.equals(((long[]) attributes.get("pads")), new long[4]);
      default -> kh > 1 || kw > 1;
    };
    Node fused = outcome.fused().nodes().get(0);
    assertThat(outcome.entries().get(0).message()).as("%s", attributes)
        .endsWith(padded ? "(border-exact via shift taps)" : "(no padding: shift folded into the bias)");
    assertThat(fused.domain()).isEqualTo(padded ? OpRegistry.VFUSE_DOMAIN : "");
    assertThat(fused.input(4).isEmpty()).isEqualTo(!padded);
  }

  private static long[] strides(int[] s) {
    return new long[] {s[0], s[1]};
  }

  /**
   * Pitfall 8: BN before a padded conv. The naive fold (W' = W·s, b' = b + Σ_all taps W·t) adds
   * the shift through taps that fall on the padded zeros, so it is wrong on the border and right in
   * the interior; the shift taps are exact everywhere.
   */
  @Test
  void pitfall8NaiveFoldIsWrongOnTheBorderOfAPaddedConv() throws Exception {
    int c = 3;
    int k = 4;
    int size = 7;
    FusionHarness h = new FusionHarness(88);
    h.input("x", 1, c, size, size).output("y");
    batchNorm(h, "bn", "x", "xn", c);
    h.constant("w", -1, 1, k, c, 3, 3);
    h.constant("b", -1, 1, k);
    h.node("conv", "Conv", List.of("xn", "w", "b"), List.of("y"), Map.of("pads", new long[] {1, 1, 1, 1}));
    Graph original = h.graph();
    var outcome = h.check(PASS, TOLERANCE, 2, 1, c, size, size);
    assertThat(outcome.entries().get(0).message()).isEqualTo("fold BatchNorm bn into Conv conv (border-exact via shift taps)");

    Map<String, NdArray> p = original.constants();
    float[] w = p.get("w").f;
    double[] s = new double[c];
    double[] t = new double[c];
    for (int ch = 0; ch < c; ch++) {
      s[ch] = p.get("bn.gamma").f[ch] / Math.sqrt(p.get("bn.var").f[ch] + 1e-5);
      t[ch] = p.get("bn.beta").f[ch] - p.get("bn.mean").f[ch] * s[ch];
    }
    float[] naiveW = new float[w.length];
    float[] naiveB = p.get("b").f.clone();
    for (int i = 0; i < w.length; i++) {
      int ch = (i / 9) % c;
      naiveW[i] = (float) (w[i] * s[ch]);
      naiveB[i / (9 * c)] += (float) (w[i] * t[ch]);
    }
    Graph naive = new Graph(List.of(new Node("conv", "Conv", "", List.of("x", "nw", "nb"), List.of("y"),
        new Attributes(Map.of("pads", new long[] {1, 1, 1, 1})))),
        Map.of("nw", NdArray.ofFloats(new int[] {k, c, 3, 3}, naiveW), "nb", NdArray.ofFloats(new int[] {k}, naiveB)),
        original.inputs(), original.outputs(), 13);
    NdArray x = h.randomInput(1, c, size, size);
    float[] expected = FusionHarness.run(original, x);
    float[] exact = FusionHarness.run(outcome.fused(), x);
    float[] wrong = FusionHarness.run(naive, x);
    double naiveBorder = 0;
    double naiveInterior = 0;
    double exactWorst = 0;
    for (int i = 0; i < expected.length; i++) {
      int row = (i / size) % size;
      int col = i % size;
      boolean border = row == 0 || col == 0 || row == size - 1 || col == size - 1;
      double d = Math.abs(wrong[i] - expected[i]);
      if (border) {
        naiveBorder = Math.max(naiveBorder, d);
      } else {
        naiveInterior = Math.max(naiveInterior, d);
      }
      exactWorst = Math.max(exactWorst, Math.abs(exact[i] - expected[i]) / (1 + Math.abs(expected[i])));
    }
    assertThat(naiveInterior).as("naive fold in the interior").isLessThan(1e-4);
    assertThat(naiveBorder).as("naive fold on the border").isGreaterThan(0.1);
    assertThat(exactWorst).as("shift-taps fold everywhere").isLessThan(TOLERANCE);
  }

  /** The ConvTranspose input channel is axis 0 of [C, K/g, R, S]; every output gets a varying number of taps. */
  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
  void transposedConvWithGroupsStrideAndOutputPadding(int seed) throws Exception {
    FusionHarness h = new FusionHarness(100 + seed);
    SplittableRandom r = h.random();
    int groups = List.of(1, 2, 3).get(r.nextInt(3));
    int c = groups * (1 + r.nextInt(3));
    int kPerGroup = 1 + r.nextInt(3);
    int kh = List.of(1, 2, 3, 4).get(r.nextInt(4));
    int kw = List.of(1, 2, 3, 4).get(r.nextInt(4));
    int[] strides = {1 + r.nextInt(3), 1 + r.nextInt(3)};
    int[] dil = {1 + r.nextInt(2), 1 + r.nextInt(2)};
    int[] outPad = {r.nextInt(Math.max(strides[0], dil[0])), r.nextInt(Math.max(strides[1], dil[1]))};
    int ph = ((kh - 1) * dil[0]) / 2;
    int pw = ((kw - 1) * dil[1]) / 2;
    long[] pads = {r.nextInt(ph + 1), r.nextInt(pw + 1), r.nextInt(ph + 1), r.nextInt(pw + 1)};
    boolean bias = r.nextBoolean();
    int height = 2 + r.nextInt(4);
    int width = 2 + r.nextInt(4);
    h.input("x", 2, c, height, width).output("y");
    batchNorm(h, "bn", "x", "xn", c);
    h.constant("w", -1, 1, c, kPerGroup, kh, kw);
    List<String> in = new ArrayList<>(List.of("xn", "w"));
    if (bias) {
      in.add(h.constant("b", -1, 1, kPerGroup * groups));
    }
    h.node("deconv", "ConvTranspose", in, List.of("y"), Map.of("group", groups, "strides", strides(strides),
        "dilations", strides(dil), "pads", pads, "output_padding", strides(outPad)));
    var outcome = h.check(PASS, TOLERANCE, 2, dims(h));
    assertThat(outcome.count("BatchNormalization")).isZero();
    assertThat(outcome.entries().get(0).message())
        .isEqualTo("fold BatchNorm bn into ConvTranspose deconv (border-exact via shift taps)");
  }

  /** A 1-D conv (weight [K, C, S]) and a 1-D ConvTranspose take shift taps of shape [K, 1, 1, S] and [1, K, 1, S]. */
  @Test
  void oneDimensionalConvAndConvTranspose() throws Exception {
    FusionHarness h = new FusionHarness(21);
    h.input("x", 2, 4, 9).output("y");
    batchNorm(h, "bn", "x", "xn", 4);
    h.constant("w", -1, 1, 6, 2, 3);
    h.node("conv", "Conv", List.of("xn", "w"), List.of("y"), Map.of("group", 2, "pads", new long[] {2, 1}));
    var outcome = h.check(PASS, TOLERANCE, 2, 2, 4, 9);
    assertThat(outcome.fusedCount()).isEqualTo(1);
    assertThat(outcome.fused().constants().values()).anySatisfy(v -> assertThat(v.shape).containsExactly(6, 1, 1, 3));

    FusionHarness t = new FusionHarness(22);
    t.input("x", 1, 4, 5).output("y");
    batchNorm(t, "bn", "x", "xn", 4);
    t.constant("w", -1, 1, 4, 3, 3);
    t.node("deconv", "ConvTranspose", List.of("xn", "w"), List.of("y"), Map.of("group", 2, "strides", new long[] {2},
        "pads", new long[] {1, 0}, "output_padding", new long[] {1}));
    var transposed = t.check(PASS, TOLERANCE, 2, 1, 4, 5);
    assertThat(transposed.fusedCount()).isEqualTo(1);
    assertThat(transposed.fused().constants().values()).anySatisfy(v -> assertThat(v.shape).containsExactly(1, 6, 1, 3));
  }

  /** One BN read by a padded Conv, an unpadded 1×1 Conv and a ConvTranspose: each gets its own weights, the BN goes. */
  @Test
  void foldsIntoEveryConvReader() throws Exception {
    FusionHarness h = new FusionHarness(31);
    h.input("x", 1, 4, 6, 6).output("y");
    batchNorm(h, "bn", "x", "xn", 4);
    h.constant("w3", -1, 1, 5, 4, 3, 3);
    h.constant("w1", -1, 1, 5, 4, 1, 1);
    h.constant("wt", -1, 1, 4, 5, 1, 1);
    h.node("conv3", "Conv", List.of("xn", "w3"), List.of("a"), Map.of("pads", new long[] {1, 1, 1, 1}));
    h.node("conv1", "Conv", List.of("xn", "w1", h.constant("b1", -1, 1, 5)), List.of("b"), Map.of());
    h.node("deconv", "ConvTranspose", List.of("xn", "wt"), List.of("c"), Map.of());
    h.node("add", "Add", List.of("a", "b"), List.of("ab"), Map.of());
    h.node("add2", "Add", List.of("ab", "c"), List.of("y"), Map.of());
    var outcome = h.check(PASS, TOLERANCE, 2, 1, 4, 6, 6);
    assertThat(outcome.count("BatchNormalization")).isZero();
    assertThat(outcome.entries()).extracting(FusionLog.Entry::message).containsExactly(
        "fold BatchNorm bn into Conv conv3 (border-exact via shift taps)",
        "fold BatchNorm bn into Conv conv1 (no padding: shift folded into the bias)",
        "fold BatchNorm bn into ConvTranspose deconv (border-exact via shift taps)");
  }

  /**
   * A vfuse Conv that already applies a residual add and a Relu still takes the BN in front of it:
   * the BN acts before the convolution, so no nonlinearity is crossed.
   */
  @Test
  void foldsIntoAConvWithFusedActivationAndResidual() throws Exception {
    FusionHarness h = new FusionHarness(41);
    h.input("x", 1, 3, 6, 5).output("y");
    batchNorm(h, "bn", "x", "xn", 3);
    h.constant("w", -1, 1, 3, 3, 3, 3);
    h.constant("b", -1, 1, 3);
    Graph plain = h.graph();
    Node fusedConv = new Node("conv", "Conv", OpRegistry.VFUSE_DOMAIN, List.of("xn", "w", "b", "x"), List.of("y"),
        new Attributes(Map.of("pads", new long[] {1, 1, 1, 1}, "activation", "Relu")));
    List<Node> nodes = new ArrayList<>(plain.nodes());
    nodes.add(fusedConv);
    Graph g = new Graph(nodes, plain.constants(), plain.inputs(), plain.outputs(), 13);
    PassManager.Result r = new PassManager(PASS).run(g);
    assertThat(r.report().fusedCount()).isEqualTo(1);
    Node out = r.graph().nodes().get(0);
    assertThat(out.inputs()).hasSize(5);
    assertThat(out.input(3)).isEqualTo("x");
    assertThat(out.attributes().getString("activation", null)).isEqualTo("Relu");
    for (int trial = 0; trial < 2; trial++) {
      NdArray x = h.randomInput(1, 3, 6, 5);
      float[] expected = FusionHarness.run(g, x);
      float[] actual = FusionHarness.run(r.graph(), x);
      for (int i = 0; i < expected.length; i++) {
        assertThat(Math.abs((double) actual[i] - expected[i])).as("index %d", i).isLessThanOrEqualTo(TOLERANCE * (1 + Math.abs(expected[i])));
      }
    }
  }

  /** BN → BN → Conv: visited last to first, both fold into an unpadded conv; a padded one takes only the second. */
  @Test
  void chainedBatchNorms() throws Exception {
    for (boolean padded : new boolean[] {false, true}) {
      FusionHarness h = new FusionHarness(padded ? 52 : 51);
      h.input("x", 1, 3, 5, 5).output("y");
      batchNorm(h, "bn1", "x", "x1", 3);
      batchNorm(h, "bn2", "x1", "x2", 3);
      h.constant("w", -1, 1, 2, 3, 3, 3);
      h.node("conv", "Conv", List.of("x2", "w"), List.of("y"), padded ? Map.of("pads", new long[] {1, 1, 1, 1}) : Map.of());
      var outcome = h.check(PASS, TOLERANCE, 2, 1, 3, 5, 5);
      assertThat(outcome.count("BatchNormalization")).isEqualTo(padded ? 1 : 0);
      if (padded) {
        assertThat(outcome.entries()).extracting(FusionLog.Entry::message).contains(
            "kept BatchNorm bn1 before Conv conv: the Conv already carries a folded input BatchNorm (shift_taps)");
      }
    }
  }

  /** Kept, with the reason: another reader, a graph output, a non-constant parameter, a conv that cannot take it. */
  @Test
  void refusesWhatCannotBeFolded() throws Exception {
    FusionHarness other = new FusionHarness(61);
    other.input("x", 1, 2, 4, 4).output("y").output("r");
    batchNorm(other, "bn", "x", "xn", 2);
    other.constant("w", -1, 1, 2, 2, 1, 1);
    other.node("conv", "Conv", List.of("xn", "w"), List.of("y"), Map.of());
    other.node("relu", "Relu", List.of("xn"), List.of("r"), Map.of());
    assertKept(other.graph(), "kept BatchNorm bn before Conv conv: its output is also read by Relu relu");

    FusionHarness output = new FusionHarness(62);
    output.input("x", 1, 2, 4, 4).output("y").output("xn");
    batchNorm(output, "bn", "x", "xn", 2);
    output.constant("w", -1, 1, 2, 2, 1, 1);
    output.node("conv", "Conv", List.of("xn", "w"), List.of("y"), Map.of());
    assertKept(output.graph(), "kept BatchNorm bn before Conv conv: its output is a graph output");

    FusionHarness variable = new FusionHarness(63);
    variable.input("x", 1, 2, 4, 4).input("gamma", 2).output("y");
    variable.constant("bn.beta", 0, 1, 2);
    variable.constant("bn.mean", 0, 1, 2);
    variable.constant("bn.var", 1, 2, 2);
    variable.node("bn", "BatchNormalization", List.of("x", "gamma", "bn.beta", "bn.mean", "bn.var"), List.of("xn"), Map.of());
    variable.constant("w", -1, 1, 2, 2, 1, 1);
    variable.node("conv", "Conv", List.of("xn", "w"), List.of("y"), Map.of());
    assertKept(variable.graph(), "kept BatchNorm bn before Conv conv: its scale, bias, mean or variance is not a constant");

    FusionHarness weight = new FusionHarness(64);
    weight.input("x", 1, 2, 4, 4).input("wv", 2, 2, 3, 3).output("y");
    batchNorm(weight, "bn", "x", "xn", 2);
    weight.constant("w", -1, 1, 2, 2, 3, 3);
    weight.node("conv", "Conv", List.of("xn", "w"), List.of("a"), Map.of("pads", new long[] {1, 1, 1, 1}));
    weight.node("conv2", "Conv", List.of("xn", "wv"), List.of("c"), Map.of("pads", new long[] {1, 1, 1, 1}));
    weight.node("add", "Add", List.of("a", "c"), List.of("y"), Map.of());
    assertKept(weight.graph(), "kept BatchNorm bn before Conv conv, Conv conv2: Conv conv2: its weight or bias is not a constant");

    FusionHarness asWeight = new FusionHarness(65);
    asWeight.input("x", 1, 1, 4, 4).output("y");
    batchNorm(asWeight, "bn", "x", "xn", 1);
    asWeight.node("conv", "Conv", List.of("xn", "xn"), List.of("y"), Map.of());
    assertKept(asWeight.graph(), "kept BatchNorm bn before Conv conv: Conv conv reads it as a weight, bias or residual, not only as its input X");

    FusionHarness huge = new FusionHarness(66);
    huge.input("x", 1, 1, 4, 4).output("y");
    huge.constant("bn.gamma", NdArray.ofFloats(new int[] {1}, new float[] {3e38f}));
    huge.constant("bn.beta", NdArray.ofFloats(new int[] {1}, new float[] {0f}));
    huge.constant("bn.mean", NdArray.ofFloats(new int[] {1}, new float[] {0f}));
    huge.constant("bn.var", NdArray.ofFloats(new int[] {1}, new float[] {0.99f}));
    huge.node("bn", "BatchNormalization", List.of("x", "bn.gamma", "bn.beta", "bn.mean", "bn.var"), List.of("xn"),
        Map.of("epsilon", 0f));
    huge.constant("w", NdArray.ofFloats(new int[] {1, 1, 1, 1}, new float[] {2f}));
    huge.node("conv", "Conv", List.of("xn", "w"), List.of("y"), Map.of());
    assertKept(huge.graph(), "kept BatchNorm bn before Conv conv: the folded weights overflow float");
  }

  private static void assertKept(Graph g, String message) {
    PassManager.Result r = new PassManager(PASS).run(g);
    assertThat(r.report().fusedCount()).isZero();
    assertThat(r.report().entries()).extracting(FusionLog.Entry::message).containsExactly(message);
    assertThat(r.graph().nodes()).isEqualTo(g.nodes());
  }
}
