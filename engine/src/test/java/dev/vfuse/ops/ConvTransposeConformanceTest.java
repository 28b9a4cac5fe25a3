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

/**
 * ConvTranspose against ONNX Runtime: groups, output_padding, pads, dilations, strides 1–3,
 * output_shape (odd and even total padding, which the specification splits with the extra pad at
 * the beginning) and auto_pad SAME_UPPER/SAME_LOWER (output = input·stride), with and without bias,
 * 1-D and 2-D. ORT 1.29 follows the ConvTranspose-11 specification in all of these, so both engines
 * run the same bytes.
 */
class ConvTransposeConformanceTest {

  /**
   * One ConvTranspose node; spatial arrays have one entry per spatial axis; pads ([begins…, ends…])
   * null when absent; outputShape (spatial only) null when absent; autoPad null when absent.
   */
  record Case(String name, int n, int c, int[] in, int k, int[] kernel, int[] strides, int[] dilations, int[] pads,
      int[] outputPadding, int[] outputShape, String autoPad, int group, boolean bias) {
    int reduction() {
      return c / group * Arrays.stream(kernel).reduce(1, (a, b) -> a * b);
    }

    @Override
    public String toString() {
      return name + " N" + n + " C" + c + " in" + Arrays.toString(in) + " K" + k + " kernel" + Arrays.toString(kernel)
          + " s" + Arrays.toString(strides) + " d" + Arrays.toString(dilations)
          + (pads == null ? "" : " pads" + Arrays.toString(pads))
          + (outputPadding == null ? "" : " outpad" + Arrays.toString(outputPadding))
          + (outputShape == null ? "" : " output_shape" + Arrays.toString(outputShape))
          + (autoPad == null ? "" : " " + autoPad) + " g" + group + (bias ? " bias" : "");
    }
  }

  private static int[] a(int... v) {
    return v;
  }

  static Stream<Case> cases() {
    List<Case> list = new ArrayList<>(List.of(
        new Case("k2 s2 upsample", 1, 4, a(5, 6), 3, a(2, 2), a(2, 2), a(1, 1), null, null, null, null, 1, true),
        new Case("k3 s1 pad1", 1, 3, a(6, 5), 4, a(3, 3), a(1, 1), a(1, 1), a(1, 1, 1, 1), null, null, null, 1, true),
        new Case("k3 s2 pad1 outpad1", 2, 3, a(5, 5), 2, a(3, 3), a(2, 2), a(1, 1), a(1, 1, 1, 1), a(1, 1), null, null, 1, true),
        new Case("k4 s2 pad1 (DCGAN)", 1, 6, a(4, 5), 3, a(4, 4), a(2, 2), a(1, 1), a(1, 1, 1, 1), null, null, null, 1, false),
        new Case("k3 s3 asym pads outpad 2/1", 1, 2, a(4, 3), 3, a(3, 3), a(3, 3), a(1, 1), a(0, 2, 1, 0), a(2, 1), null, null, 1, true),
        new Case("k3 s2 dil2 pads", 1, 3, a(5, 4), 2, a(3, 3), a(2, 2), a(2, 2), a(1, 2, 2, 1), null, null, null, 1, true),
        new Case("k3 s1 dil3", 1, 2, a(4, 4), 3, a(3, 3), a(1, 1), a(3, 3), null, null, null, null, 1, false),
        new Case("k5x3 s2x1 dil 1x2", 1, 3, a(4, 6), 2, a(5, 3), a(2, 1), a(1, 2), a(2, 1, 2, 1), a(1, 0), null, null, 1, true),
        new Case("groups2", 1, 4, a(5, 5), 6, a(3, 3), a(2, 2), a(1, 1), a(1, 1, 1, 1), a(1, 1), null, null, 2, true),
        new Case("groups3 k2 s2", 2, 6, a(3, 4), 3, a(2, 2), a(2, 2), a(1, 1), null, null, null, null, 3, false),
        new Case("depthwise", 1, 5, a(4, 4), 5, a(4, 4), a(2, 2), a(1, 1), a(1, 1, 1, 1), null, null, null, 5, true),
        new Case("depthwise multiplier 2", 1, 3, a(4, 3), 6, a(3, 3), a(2, 2), a(1, 1), a(1, 1, 1, 1), a(1, 0), null, null, 3, true),
        new Case("output_shape even total", 1, 3, a(5, 5), 2, a(3, 3), a(2, 2), a(1, 1), null, null, a(9, 9), null, 1, true),
        new Case("output_shape odd total", 1, 3, a(5, 4), 2, a(3, 3), a(2, 2), a(1, 1), null, null, a(10, 8), null, 1, true),
        new Case("output_shape odd total s3 + outpad", 1, 2, a(4, 4), 3, a(4, 4), a(3, 3), a(1, 1), null, a(1, 2), a(11, 12), null, 1, false),
        new Case("output_shape dil2", 1, 2, a(4, 5), 2, a(3, 3), a(2, 2), a(2, 2), null, null, a(9, 11), null, 1, true),
        new Case("output_shape groups2", 1, 4, a(3, 4), 4, a(3, 3), a(2, 2), a(1, 1), null, null, a(6, 8), null, 2, true),
        new Case("SAME_UPPER k3 s2", 1, 3, a(4, 5), 2, a(3, 3), a(2, 2), a(1, 1), null, null, null, "SAME_UPPER", 1, true),
        new Case("SAME_LOWER k3 s2", 1, 3, a(4, 5), 2, a(3, 3), a(2, 2), a(1, 1), null, null, null, "SAME_LOWER", 1, true),
        new Case("SAME_UPPER k4 s2", 1, 2, a(3, 3), 2, a(4, 4), a(2, 2), a(1, 1), null, null, null, "SAME_UPPER", 1, false),
        new Case("1-D k3 s2 pads outpad", 1, 3, a(7), 4, a(3), a(2), a(1), a(1, 0), a(1), null, null, 1, true),
        new Case("1-D k4 s3 d2 group2", 2, 4, a(5), 2, a(4), a(3), a(2), a(2, 1), null, null, null, 2, true),
        new Case("1-D output_shape odd", 1, 2, a(6), 3, a(3), a(2), a(1), null, null, a(12), null, 1, true)));
    SplittableRandom rng = new SplittableRandom(0x7A5);
    for (int i = 0; i < 10; i++) {
      int group = 1 + rng.nextInt(3);
      int c = group * (1 + rng.nextInt(3));
      int k = group * (1 + rng.nextInt(3));
      int[] kernel = {1 + rng.nextInt(4), 1 + rng.nextInt(4)};
      int[] st = {1 + rng.nextInt(3), 1 + rng.nextInt(3)};
      int[] d = {1 + rng.nextInt(2), 1 + rng.nextInt(2)};
      int[] pads = {rng.nextInt(kernel[0]), rng.nextInt(kernel[1]), rng.nextInt(kernel[0]), rng.nextInt(kernel[1])};
      // output_padding must be smaller than the stride (ORT checks it against the stride only)
      int[] outPad = {rng.nextInt(st[0]), rng.nextInt(st[1])};
      list.add(new Case("random" + i, 1 + rng.nextInt(2), c, a(2 + rng.nextInt(5), 2 + rng.nextInt(5)), k, kernel, st, d,
          pads, outPad, null, null, group, rng.nextBoolean()));
    }
    return list.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void convTranspose(Case t) {
    SplittableRandom rng = new SplittableRandom(t.toString().hashCode());
    int rank = t.in().length;
    int[] x = new int[rank + 2];
    x[0] = t.n();
    x[1] = t.c();
    System.arraycopy(t.in(), 0, x, 2, rank);
    int[] w = new int[rank + 2];
    w[0] = t.c();
    w[1] = t.k() / t.group();
    System.arraycopy(t.kernel(), 0, w, 2, rank);
    float[] weights = uniform(rng, Conformance.size(w), -1, 1);
    float[] bias = t.bias() ? uniform(rng, t.k(), -1, 1) : null;
    OnnxModelBuilder m = model(t, x, w, weights, bias);
    Conformance.check("ConvTranspose", m, Conformance.feed("x", randomTensor(rng, x)), Tolerance.reduction(t.reduction() + 1));
  }

  private static OnnxModelBuilder model(Case t, int[] x, int[] w, float[] weights, float[] bias) {
    OnnxModelBuilder m = new OnnxModelBuilder(13).input("x", x).initializer("w", w, weights);
    if (bias != null) {
      m.floats("b", bias);
    }
    OnnxModelBuilder.Node node = bias != null ? m.node("ConvTranspose", "x", "w", "b") : m.node("ConvTranspose", "x", "w");
    node.out("y").ints("strides", t.strides()).ints("dilations", t.dilations()).ints("kernel_shape", t.kernel());
    if (t.group() != 1) {
      node.intAttr("group", t.group());
    }
    if (t.pads() != null) {
      node.ints("pads", t.pads());
    }
    if (t.outputPadding() != null) {
      node.ints("output_padding", t.outputPadding());
    }
    if (t.outputShape() != null) {
      node.ints("output_shape", t.outputShape());
    }
    if (t.autoPad() != null) {
      node.stringAttr("auto_pad", t.autoPad());
    }
    return m.output("y");
  }

  @AfterAll
  static void summary() {
    Conformance.printSummary("ConvTranspose");
  }
}
