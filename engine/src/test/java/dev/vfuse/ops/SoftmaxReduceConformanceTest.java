package dev.vfuse.ops;

import static dev.vfuse.ops.Conformance.feed;
import static dev.vfuse.ops.Conformance.uniform;

import dev.vfuse.Tensor;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Softmax (opset 11: coerced to 2-D at axis; opset 13: one axis) and ReduceMean against ONNX Runtime. */
class SoftmaxReduceConformanceTest {

  private static int[] dims(String s) {
    return Arrays.stream(s.split("x")).mapToInt(Integer::parseInt).toArray();
  }

  /**
   * Softmax: y_i = e_i / Σ e_j with e = exp(x − max), all positive. ORT (MLAS) evaluates exp with a
   * polynomial accurate to a few ulps, sums L positive terms in float (relative error ≤ (L − 1)u),
   * takes the reciprocal and multiplies: relative error ≤ (L + 1)u + 2·δexp. With δexp ≤ 2 ulp = 4u
   * that is (L + 9)u; k = L + 8 in units of EPS = 2u covers it twice. Inputs in [−6, 6] keep e
   * away from underflow, so a relative bound is meaningful; atol = MIN_NORMAL.
   */
  private static Tolerance softmax(int length) {
    return new Tolerance.Relative(length + 8, Float.MIN_NORMAL);
  }

  @ParameterizedTest(name = "opset {0} axis {1} on {2}")
  @CsvSource({
      "11, 1, 2x3x4x5", "11, NaN, 2x3x4x5", "11, 2, 2x3x4x5", "11, -1, 2x3x4x5", "11, 0, 3x7", "11, 1, 4x10",
      "13, -1, 2x3x4x5", "13, 1, 2x3x4x5", "13, NaN, 2x3x4x5", "13, 0, 2x3x4x5", "13, 2, 2x3x4x5", "13, 1, 1x1000",
      "12, 1, 1x17x5"})
  void softmax(int opset, double axis, String shape) {
    int[] x = dims(shape);
    OnnxModelBuilder m = new OnnxModelBuilder(opset).input("x", x);
    OnnxModelBuilder.Node n = m.node("Softmax", "x").out("y");
    if (!Double.isNaN(axis)) {
      n.intAttr("axis", (long) axis);
    }
    m.output("y");
    int rank = x.length;
    int ax = Double.isNaN(axis) ? (opset >= 13 ? rank - 1 : 1) : ((int) axis + rank) % rank;
    int length = opset >= 13 ? x[ax] : Conformance.size(Arrays.copyOfRange(x, ax, rank));
    SplittableRandom rng = new SplittableRandom((shape + opset + axis).hashCode());
    Conformance.check("Softmax", m, feed("x", Tensor.ofFloats(x, uniform(rng, Conformance.size(x), -6, 6))), softmax(length));
  }

  @ParameterizedTest(name = "axes {0} keepdims {1} on {2}")
  @CsvSource({
      "'2,3', 1, 2x3x4x5", "'2,3', 0, 2x3x4x5", "'', 1, 2x3x4x5", "'', 0, 2x3x4x5", "'1', 0, 2x3x4x5", "'-1', 1, 2x3x4x5",
      "'0,2', 0, 2x3x4x5", "'-3,-1', 1, 2x3x4x5", "'0', 1, 7", "'1', 1, 3x200", "'', NaN, 4x5"})
  void reduceMean(String axes, double keepdims, String shape) {
    int[] x = dims(shape);
    OnnxModelBuilder m = new OnnxModelBuilder(13).input("x", x);
    OnnxModelBuilder.Node n = m.node("ReduceMean", "x").out("y");
    int count = 1;
    if (!axes.isEmpty()) {
      long[] a = Arrays.stream(axes.split(",")).mapToLong(Long::parseLong).toArray();
      n.ints("axes", a);
      for (long v : a) {
        count *= x[(int) ((v + x.length) % x.length)];
      }
    } else {
      count = Conformance.size(x);
    }
    if (!Double.isNaN(keepdims)) {
      n.intAttr("keepdims", (long) keepdims);
    }
    m.output("y");
    SplittableRandom rng = new SplittableRandom((shape + axes + keepdims).hashCode());
    Conformance.check("ReduceMean", m, feed("x", Conformance.randomTensor(rng, x)), Tolerance.reduction(count));
  }

  @AfterAll
  static void summary() {
    Conformance.printSummary("Softmax", "ReduceMean");
  }
}
