package dev.vfuse.ops;

import static dev.vfuse.ops.Conformance.randomTensor;
import static dev.vfuse.ops.Conformance.uniform;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Conv against ONNX Runtime: groups, depthwise, dilation, strides, pads, auto_pad, 1-D, with and without bias. */
class ConvConformanceTest {

  /**
   * One Conv node. Spatial arrays have one entry for 1-D, two for 2-D; pads has 2·rank entries
   * ([begins…, ends…], ONNX order) or is null when absent; autoPad null means the attribute is absent.
   */
  record Case(String name, int n, int c, int[] in, int k, int[] kernel, int[] strides, int[] dilations, int[] pads,
      String autoPad, int group, boolean bias, boolean kernelShapeAttr) {
    int reduction() {
      return c / group * Arrays.stream(kernel).reduce(1, (a, b) -> a * b);
    }

    @Override
    public String toString() {
      return name + " N" + n + " C" + c + " in" + Arrays.toString(in) + " K" + k + " kernel" + Arrays.toString(kernel)
          + " s" + Arrays.toString(strides) + " d" + Arrays.toString(dilations)
          + (pads == null ? "" : " pads" + Arrays.toString(pads)) + (autoPad == null ? "" : " " + autoPad)
          + " g" + group + (bias ? " bias" : "");
    }
  }

  private static int[] a(int... v) {
    return v;
  }

  static Stream<Case> cases() {
    List<Case> list = new ArrayList<>(List.of(
        new Case("1x1", 1, 8, a(5, 7), 16, a(1, 1), a(1, 1), a(1, 1), null, null, 1, true, true),
        new Case("1x1 stride2 no-bias", 2, 5, a(9, 6), 3, a(1, 1), a(2, 2), a(1, 1), null, null, 1, false, false),
        new Case("3x3 pad1", 1, 6, a(8, 8), 10, a(3, 3), a(1, 1), a(1, 1), a(1, 1, 1, 1), null, 1, true, true),
        new Case("3x3 stride2 asym pads", 1, 4, a(9, 10), 6, a(3, 3), a(2, 2), a(1, 1), a(0, 1, 1, 0), null, 1, true, true),
        new Case("3x3 asym pads 2/0/0/2", 1, 3, a(6, 7), 5, a(3, 3), a(1, 1), a(1, 1), a(2, 0, 0, 2), null, 1, false, true),
        new Case("5x5 dilation2 pad2", 1, 4, a(13, 11), 5, a(5, 5), a(1, 1), a(2, 2), a(2, 2, 2, 2), null, 1, true, true),
        new Case("5x5 stride2 pad2", 2, 3, a(12, 12), 4, a(5, 5), a(2, 2), a(1, 1), a(2, 2, 2, 2), null, 1, true, false),
        new Case("7x7 stride2 pad3 stem", 1, 3, a(23, 19), 8, a(7, 7), a(2, 2), a(1, 1), a(3, 3, 3, 3), null, 1, true, true),
        new Case("7x7 stride2 no pad", 1, 3, a(16, 17), 4, a(7, 7), a(2, 2), a(1, 1), null, null, 1, false, true),
        new Case("groups2", 1, 8, a(7, 6), 12, a(3, 3), a(1, 1), a(1, 1), a(1, 1, 1, 1), null, 2, true, true),
        new Case("groups4 stride2", 2, 8, a(9, 9), 4, a(3, 3), a(2, 2), a(1, 1), a(1, 1, 1, 1), null, 4, true, true),
        new Case("depthwise 3x3 s1", 1, 8, a(10, 9), 8, a(3, 3), a(1, 1), a(1, 1), a(1, 1, 1, 1), null, 8, true, true),
        new Case("depthwise 3x3 s2", 1, 16, a(11, 12), 16, a(3, 3), a(2, 2), a(1, 1), a(1, 1, 1, 1), null, 16, true, true),
        new Case("depthwise 5x5 s2 no-bias", 1, 6, a(13, 14), 6, a(5, 5), a(2, 2), a(1, 1), a(2, 2, 2, 2), null, 6, false, true),
        new Case("depthwise multiplier K=2C", 1, 6, a(8, 9), 12, a(3, 3), a(1, 1), a(1, 1), a(1, 1, 1, 1), null, 6, true, true),
        new Case("depthwise multiplier K=2C s2 dil2", 2, 4, a(11, 10), 8, a(3, 3), a(2, 2), a(2, 2), a(2, 2, 2, 2), null, 4, true, false),
        new Case("dilation 2x3", 1, 3, a(12, 13), 4, a(3, 3), a(1, 1), a(2, 3), a(1, 2, 1, 3), null, 1, true, true),
        new Case("SAME_UPPER s2 odd total pad", 1, 3, a(8, 8), 5, a(3, 3), a(2, 2), a(1, 1), null, "SAME_UPPER", 1, true, true),
        new Case("SAME_LOWER s2 odd total pad", 1, 3, a(8, 8), 5, a(3, 3), a(2, 2), a(1, 1), null, "SAME_LOWER", 1, true, true),
        new Case("SAME_UPPER 4x4 s2", 1, 2, a(7, 9), 3, a(4, 4), a(2, 2), a(1, 1), null, "SAME_UPPER", 1, false, true),
        new Case("SAME_LOWER 4x4 s2", 1, 2, a(7, 9), 3, a(4, 4), a(2, 2), a(1, 1), null, "SAME_LOWER", 1, false, true),
        new Case("SAME_UPPER s1 dil2", 1, 3, a(9, 8), 4, a(3, 3), a(1, 1), a(2, 2), null, "SAME_UPPER", 1, true, true),
        new Case("SAME_LOWER depthwise s2", 1, 4, a(9, 10), 4, a(3, 3), a(2, 2), a(1, 1), null, "SAME_LOWER", 4, true, true),
        new Case("VALID s2", 1, 3, a(11, 10), 4, a(3, 3), a(2, 2), a(1, 1), null, "VALID", 1, true, true),
        new Case("1x3 pad 0/1", 1, 4, a(6, 9), 5, a(1, 3), a(1, 1), a(1, 1), a(0, 1, 0, 1), null, 1, true, true),
        new Case("3x1 pad 1/0 s2x1", 1, 4, a(9, 6), 5, a(3, 1), a(2, 1), a(1, 1), a(1, 0, 1, 0), null, 1, true, true),
        new Case("1x1 pads 2 (border = bias)", 1, 3, a(4, 5), 4, a(1, 1), a(1, 1), a(1, 1), a(2, 2, 2, 2), null, 1, true, true),
        new Case("3x3 on 2x2 input, pads 1", 1, 5, a(2, 2), 3, a(3, 3), a(1, 1), a(1, 1), a(1, 1, 1, 1), null, 1, true, true),
        new Case("3x3 pads 3 > kernel, dil2", 1, 2, a(5, 4), 3, a(3, 3), a(2, 1), a(2, 2), a(3, 3, 3, 3), null, 1, true, true),
        new Case("1-D k3", 2, 4, a(17), 6, a(3), a(1), a(1), a(1, 1), null, 1, true, true),
        new Case("1-D k3 s2 d2 pads 1/2", 1, 4, a(17), 6, a(3), a(2), a(2), a(1, 2), null, 1, true, true),
        new Case("1-D k5 group2 SAME_UPPER s2", 1, 4, a(14), 6, a(5), a(2), a(1), null, "SAME_UPPER", 2, false, true),
        new Case("1-D depthwise SAME_LOWER", 1, 5, a(12), 5, a(4), a(1), a(1), null, "SAME_LOWER", 5, true, false)));
    SplittableRandom rng = new SplittableRandom(0xC0FFEE);
    for (int i = 0; i < 14; i++) {
      int group = new int[] {1, 1, 2, 3}[rng.nextInt(4)];
      boolean depthwise = rng.nextInt(4) == 0;
      int c = depthwise ? 2 + rng.nextInt(7) : group * (1 + rng.nextInt(4));
      if (depthwise) {
        group = c;
      }
      int k = group * (1 + rng.nextInt(depthwise ? 2 : 4));
      int r = 1 + rng.nextInt(5);
      int s = 1 + rng.nextInt(5);
      int[] st = {1 + rng.nextInt(3), 1 + rng.nextInt(3)};
      int[] d = {1 + rng.nextInt(2), 1 + rng.nextInt(2)};
      int[] pads = {rng.nextInt(r), rng.nextInt(s), rng.nextInt(r), rng.nextInt(s)};
      int h = (r - 1) * d[0] + 1 + rng.nextInt(9);
      int w = (s - 1) * d[1] + 1 + rng.nextInt(9);
      String autoPad = switch (rng.nextInt(5)) {
        case 0 -> "SAME_UPPER";
        case 1 -> "SAME_LOWER";
        default -> null;
      };
      list.add(new Case("random" + i, 1 + rng.nextInt(2), c, a(h, w), k, a(r, s), st, d, autoPad == null ? pads : null,
          autoPad, group, rng.nextBoolean(), rng.nextBoolean()));
    }
    return list.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void conv(Case t) {
    SplittableRandom rng = new SplittableRandom(t.toString().hashCode());
    int rank = t.in().length;
    int[] x = new int[rank + 2];
    x[0] = t.n();
    x[1] = t.c();
    System.arraycopy(t.in(), 0, x, 2, rank);
    int[] w = new int[rank + 2];
    w[0] = t.k();
    w[1] = t.c() / t.group();
    System.arraycopy(t.kernel(), 0, w, 2, rank);
    float[] weights = uniform(rng, Conformance.size(w), -1, 1);
    float[] bias = t.bias() ? uniform(rng, t.k(), -1, 1) : null;
    OnnxModelBuilder m = model(t, x, w, weights, bias, t.pads(), t.autoPad());
    OnnxModelBuilder ort = m;
    if (t.autoPad() != null && t.autoPad().startsWith("SAME") && Arrays.stream(t.dilations()).anyMatch(d -> d > 1)) {
      // ORT rejects dilated SAME_*; it runs the pads the ONNX rule gives instead.
      ort = model(t, x, w, weights, bias, samePads(t), null);
    }
    Conformance.checkAgainst("Conv", m, ort, List.of(Conformance.feed("x", randomTensor(rng, x))),
        Tolerance.reduction(t.reduction() + 1));
  }

  private static OnnxModelBuilder model(Case t, int[] x, int[] w, float[] weights, float[] bias, int[] pads, String autoPad) {
    OnnxModelBuilder m = new OnnxModelBuilder(13).input("x", x).initializer("w", w, weights);
    if (bias != null) {
      m.floats("b", bias);
    }
    OnnxModelBuilder.Node node = bias != null ? m.node("Conv", "x", "w", "b") : m.node("Conv", "x", "w");
    node.out("y").ints("strides", t.strides()).ints("dilations", t.dilations());
    if (t.group() != 1) {
      node.intAttr("group", t.group());
    }
    if (t.kernelShapeAttr()) {
      node.ints("kernel_shape", t.kernel());
    }
    if (pads != null) {
      node.ints("pads", pads);
    }
    if (autoPad != null) {
      node.stringAttr("auto_pad", autoPad);
    }
    return m.output("y");
  }

  /**
   * ONNX auto_pad SAME_*: output = ceil(in / stride), total = (out − 1)·stride + (kernel − 1)·dilation
   * + 1 − in, split evenly; an odd extra pad goes at the end (SAME_UPPER) or the beginning (SAME_LOWER).
   */
  static int[] samePads(Case t) {
    int rank = t.in().length;
    int[] pads = new int[2 * rank];
    for (int i = 0; i < rank; i++) {
      int out = Math.ceilDiv(t.in()[i], t.strides()[i]);
      int total = Math.max(0, (out - 1) * t.strides()[i] + (t.kernel()[i] - 1) * t.dilations()[i] + 1 - t.in()[i]);
      int small = total / 2;
      pads[i] = t.autoPad().equals("SAME_UPPER") ? small : total - small;
      pads[i + rank] = total - pads[i];
    }
    return pads;
  }

  @AfterAll
  static void summary() {
    Conformance.printSummary("Conv");
  }
}
