package dev.vfuse.ops;

import static dev.vfuse.ops.Conformance.feed;
import static dev.vfuse.ops.Conformance.randomTensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/** MaxPool, AveragePool and GlobalAveragePool against ONNX Runtime. */
class PoolConformanceTest {

  /** One pooling window; spatial arrays per axis, pads [begins…, ends…] or null, autoPad null when absent. */
  record Case(String name, int[] x, int[] kernel, int[] strides, int[] dilations, int[] pads, String autoPad, boolean ceil) {
    int window() {
      return Arrays.stream(kernel).reduce(1, (a, b) -> a * b);
    }

    @Override
    public String toString() {
      return name + " x" + Arrays.toString(x) + " kernel" + Arrays.toString(kernel) + " s" + Arrays.toString(strides)
          + (dilations == null ? "" : " d" + Arrays.toString(dilations)) + (pads == null ? "" : " pads" + Arrays.toString(pads))
          + (autoPad == null ? "" : " " + autoPad) + (ceil ? " ceil" : "");
    }
  }

  private static int[] a(int... v) {
    return v;
  }

  static Stream<Case> cases() {
    List<Case> list = new ArrayList<>(List.of(
        new Case("2x2 s2", a(1, 3, 8, 8), a(2, 2), a(2, 2), null, null, null, false),
        new Case("3x3 s2 pad1 (resnet)", a(2, 4, 11, 12), a(3, 3), a(2, 2), null, a(1, 1, 1, 1), null, false),
        new Case("3x3 s2 ceil", a(1, 3, 10, 11), a(3, 3), a(2, 2), null, null, null, true),
        new Case("3x3 s2 pad1 ceil", a(1, 2, 10, 9), a(3, 3), a(2, 2), null, a(1, 1, 1, 1), null, true),
        new Case("2x2 s2 ceil odd", a(1, 2, 7, 9), a(2, 2), a(2, 2), null, null, null, true),
        new Case("3x3 s3 asym pads ceil", a(1, 2, 10, 8), a(3, 3), a(3, 3), null, a(0, 2, 1, 0), null, true),
        new Case("5x3 s1x2 pads 2/1", a(1, 3, 9, 10), a(5, 3), a(1, 2), null, a(2, 1, 2, 1), null, false),
        new Case("2x1 s2x1", a(1, 4, 8, 5), a(2, 1), a(2, 1), null, null, null, false),
        new Case("3x3 s1 SAME_UPPER", a(1, 2, 7, 6), a(3, 3), a(1, 1), null, null, "SAME_UPPER", false),
        new Case("2x2 s2 SAME_UPPER", a(1, 2, 7, 7), a(2, 2), a(2, 2), null, null, "SAME_UPPER", false),
        new Case("3x3 s2 SAME_LOWER", a(1, 2, 8, 7), a(3, 3), a(2, 2), null, null, "SAME_LOWER", false),
        new Case("3x3 VALID s2", a(1, 2, 9, 8), a(3, 3), a(2, 2), null, null, "VALID", false),
        new Case("1x1 s2 (ResNet-D shortcut)", a(1, 4, 9, 8), a(1, 1), a(2, 2), null, null, null, false),
        new Case("1-D k3 s2 pad1", a(2, 3, 15), a(3), a(2), null, a(1, 1), null, false),
        new Case("1-D k4 s3 ceil", a(1, 3, 14), a(4), a(3), null, null, null, true)));
    SplittableRandom rng = new SplittableRandom(0x9001);
    for (int i = 0; i < 8; i++) {
      int[] k = {1 + rng.nextInt(4), 1 + rng.nextInt(4)};
      int[] s = {1 + rng.nextInt(3), 1 + rng.nextInt(3)};
      int[] pads = {rng.nextInt(k[0]), rng.nextInt(k[1]), rng.nextInt(k[0]), rng.nextInt(k[1])};
      list.add(new Case("random" + i, a(1 + rng.nextInt(2), 1 + rng.nextInt(4), k[0] + rng.nextInt(8), k[1] + rng.nextInt(8)),
          k, s, null, pads, null, rng.nextBoolean()));
    }
    return list.stream();
  }

  /** Max pooling cases plus dilated windows (MaxPool-10+ only). */
  static Stream<Case> maxCases() {
    return Stream.concat(cases(), Stream.of(
        new Case("3x3 d2 pad2", a(1, 2, 11, 10), a(3, 3), a(1, 1), a(2, 2), a(2, 2, 2, 2), null, false),
        new Case("2x2 s2 d2 ceil", a(1, 2, 10, 9), a(2, 2), a(2, 2), a(2, 2), null, null, true),
        new Case("3x2 s1x2 d2x3 pads", a(1, 3, 9, 12), a(3, 2), a(1, 2), a(2, 3), a(1, 0, 2, 1), null, false),
        new Case("1-D k3 d2 s2 ceil", a(1, 2, 13), a(3), a(2), a(2), a(1, 1), null, true)));
  }

  private static OnnxModelBuilder model(String op, Case t, int opset, Integer countIncludePad) {
    OnnxModelBuilder m = new OnnxModelBuilder(opset).input("x", t.x());
    OnnxModelBuilder.Node n = m.node(op, "x").out("y").ints("kernel_shape", t.kernel()).ints("strides", t.strides());
    if (t.dilations() != null) {
      n.ints("dilations", t.dilations());
    }
    if (t.pads() != null) {
      n.ints("pads", t.pads());
    }
    if (t.autoPad() != null) {
      n.stringAttr("auto_pad", t.autoPad());
    }
    if (t.ceil()) {
      n.intAttr("ceil_mode", 1);
    }
    if (countIncludePad != null) {
      n.intAttr("count_include_pad", countIncludePad);
    }
    return m.output("y");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("maxCases")
  void maxPool(Case t) {
    SplittableRandom rng = new SplittableRandom(t.toString().hashCode());
    Conformance.check("MaxPool", model("MaxPool", t, 12, null), feed("x", randomTensor(rng, t.x())), Tolerance.EXACT);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void averagePoolExcludingPad(Case t) {
    SplittableRandom rng = new SplittableRandom(t.toString().hashCode());
    Conformance.check("AveragePool", model("AveragePool", t, 11, t.pads() == null || rng.nextBoolean() ? null : 0),
        feed("x", randomTensor(rng, t.x())), Tolerance.reduction(t.window()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void averagePoolIncludingPad(Case t) {
    SplittableRandom rng = new SplittableRandom(t.toString().hashCode() + 1);
    Conformance.check("AveragePool count_include_pad", model("AveragePool", t, 11, 1), feed("x", randomTensor(rng, t.x())),
        Tolerance.reduction(t.window()));
  }

  /**
   * A window larger than the input with ceil_mode=1: 2×2 stride 2 on 1×1 (a small dynamic input
   * late in a network). ONNX's output size ceil((1 − 2)/2 + 1) = 1 and ORT gives the 1×1 pool of
   * the one element; vfuse rejects the model at load ("window 2x2 is larger than the padded input",
   * from PoolGeometry's constructor, which checks the floor-mode extent even in ceil mode).
   */

  @ParameterizedTest(name = "{0}")
  @CsvSource({"MaxPool, 12", "AveragePool, 11"})
  void ceilModeWindowLargerThanInput(String op, int opset) {
    Case t = new Case("2x2 s2 ceil on 1x1", a(1, 2, 1, 1), a(2, 2), a(2, 2), null, null, null, true);
    Conformance.check(op, model(op, t, opset, null), feed("x", randomTensor(new SplittableRandom(3), t.x())),
        op.equals("MaxPool") ? Tolerance.EXACT : Tolerance.reduction(4));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"1x8x7x7", "2x3x13x11", "1x5x1x1", "2x4x9", "1x64x14x14", "1x2x3x4x5"})
  void globalAveragePool(String dims) {
    int[] shape = Arrays.stream(dims.split("x")).mapToInt(Integer::parseInt).toArray();
    OnnxModelBuilder m = new OnnxModelBuilder(13).input("x", shape);
    m.node("GlobalAveragePool", "x").out("y").end().output("y");
    int spatial = Conformance.size(Arrays.copyOfRange(shape, 2, shape.length));
    Conformance.check("GlobalAveragePool", m, feed("x", randomTensor(new SplittableRandom(dims.hashCode()), shape)),
        Tolerance.reduction(spatial));
  }

  @AfterAll
  static void summary() {
    Conformance.printSummary("MaxPool", "AveragePool", "GlobalAveragePool");
  }
}
