package dev.vfuse.ops;

import static dev.vfuse.ops.Conformance.feed;
import static dev.vfuse.ops.Conformance.uniform;

import ai.onnx.proto.OnnxMl.TensorProto;
import dev.vfuse.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The operators of the transformer recognizers and their relatives against ONNX Runtime: the unary
 * math ops, Pow, the variadic Max and Min, ReduceSum, ReduceMax and LayerNormalization (opset 17).
 *
 * <p>Tolerances, with vfuse's reference correctly rounded (one IEEE operation, or the double
 * result rounded once):
 *
 * <ul>
 *   <li>Sqrt, Reciprocal, Neg, Abs, Max, Min, Pow(x, 2) (= x·x in both engines), ReduceMax:
 *       one IEEE operation or none on the same floats, so {@link Tolerance#EXACT}.
 *   <li>Exp, Log, Erf and Pow with other exponents: ONNX Runtime evaluates them in float with its
 *       own approximations (Eigen's exp and log, MLAS's erf polynomial, the C library's powf), each
 *       within about 1 ulp, so the two engines differ by at most 1 ulp of ORT's result, 2 where
 *       the results straddle a power of two (ulp(ort) is then the smaller one): {@code Ulps(2)}.
 *       Log is the exception: ORT's result was measured exactly 2 ulp from the correctly rounded
 *       one at a point in [2, 4) (Eigen's float log is not within 1 ulp everywhere), which would
 *       leave no margin, so Log gets 3.
 *       Erf near 0 is tiny and its approximation's error absolute, so Erf also allows
 *       {@code 2·EPS·|x|}-sized slack through {@link Tolerance.Relative} with atol = MIN_NORMAL.
 *   <li>ReduceSum: a sum of L terms, {@link Tolerance#reduction}.
 *   <li>LayerNormalization: see {@link #layerNorm}.
 * </ul>
 */
class MathConformanceTest {

  private static int[] dims(String s) {
    return Arrays.stream(s.split("x")).mapToInt(Integer::parseInt).toArray();
  }

  @ParameterizedTest(name = "{0} on [{1}, {2})")
  @CsvSource({
      "Sqrt, 0, 100", "Sqrt, -1, 1", "Reciprocal, -3, 3", "Neg, -5, 5", "Abs, -5, 5",
      "Exp, -20, 20", "Log, 0, 1000", "Log, -1, 2", "Erf, -4, 4"})
  void unary(String op, double lo, double hi) {
    int[] shape = {2, 3, 37};
    SplittableRandom rng = new SplittableRandom((op + lo).hashCode());
    float[] x = uniform(rng, Conformance.size(shape), lo, hi);
    x[0] = 0f;
    x[1] = -0f;
    OnnxModelBuilder m = new OnnxModelBuilder(13).input("x", shape);
    m.node(op, "x").out("y").end().output("y");
    Tolerance tol = switch (op) {
      case "Exp" -> new Tolerance.Ulps(2);
      case "Log" -> new Tolerance.Ulps(3);
      case "Erf" -> new Tolerance.Relative(4, Float.MIN_NORMAL);
      default -> Tolerance.EXACT;
    };
    Conformance.check(op, m, feed("x", Tensor.ofFloats(shape, x)), tol);
  }

  @ParameterizedTest(name = "Pow exponent {0}")
  @CsvSource({"2", "0.5", "3", "-1.5", "tensor", "int64"})
  void pow(String exponent) {
    int[] shape = {3, 4, 5};
    SplittableRandom rng = new SplittableRandom(exponent.hashCode());
    float[] x = uniform(rng, Conformance.size(shape), 0, 4);
    x[0] = 0f;
    x[1] = -0f;
    OnnxModelBuilder m = new OnnxModelBuilder(13).input("x", shape);
    Map<String, Tensor> feed = feed("x", Tensor.ofFloats(shape, x));
    Tolerance tol = exponent.equals("2") ? Tolerance.EXACT : new Tolerance.Ulps(2);
    switch (exponent) {
      case "tensor" -> {
        m.input("e", 4, 5);
        feed.put("e", Tensor.ofFloats(new int[] {4, 5}, uniform(rng, 20, -2, 2)));
      }
      case "int64" -> m.initializer("e", new int[] {1}, new long[] {3});
      default -> m.initializer("e", new int[0], new float[] {Float.parseFloat(exponent)});
    }
    m.node("Pow", "x", "e").out("y").end().output("y");
    Conformance.check("Pow", m, feed, tol);
  }

  @ParameterizedTest(name = "{0} of {1}")
  @CsvSource({"Max, 2x3x4", "Max, 2x3x4;4", "Max, 2x3x4;3x1;1x1x4", "Min, 5x6", "Min, 1x6;5x1", "Min, 2x1x3;4x1;3"})
  void maxMin(String op, String shapes) {
    String[] each = shapes.split(";");
    OnnxModelBuilder m = new OnnxModelBuilder(13);
    Map<String, Tensor> feed = new LinkedHashMap<>();
    String[] names = new String[each.length];
    SplittableRandom rng = new SplittableRandom((op + shapes).hashCode());
    for (int i = 0; i < each.length; i++) {
      names[i] = "x" + i;
      m.input(names[i], dims(each[i]));
      feed.put(names[i], Conformance.randomTensor(rng, dims(each[i])));
    }
    m.node(op, names).out("y").end().output("y");
    Conformance.check(op, m, feed, Tolerance.EXACT);
  }

  @ParameterizedTest(name = "{0} opset {1} axes {2} keepdims {3} on {4}")
  @CsvSource({
      "ReduceSum, 13, '2', 1, 2x3x40", "ReduceSum, 13, '0,2', 0, 2x3x40", "ReduceSum, 13, '', 1, 4x50",
      "ReduceSum, 11, '-1', 1, 3x7x9", "ReduceMax, 13, '1', 0, 2x30x5", "ReduceMax, 13, '', 1, 3x4", "ReduceMax, 11, '-1,0', 1, 3x4x5"})
  void reduce(String op, int opset, String axes, int keepdims, String shape) {
    int[] x = dims(shape);
    long[] a = axes.isEmpty() ? new long[0] : Arrays.stream(axes.split(",")).mapToLong(Long::parseLong).toArray();
    OnnxModelBuilder m = new OnnxModelBuilder(opset).input("x", x);
    OnnxModelBuilder.Node n;
    if (op.equals("ReduceSum") && opset >= 13 && a.length > 0) {
      m.initializer("axes", new int[] {a.length}, a);
      n = m.node(op, "x", "axes");
    } else {
      n = m.node(op, "x");
      if (a.length > 0) {
        n.ints("axes", a);
      }
    }
    n.intAttr("keepdims", keepdims).out("y").end().output("y");
    int count = 1;
    for (long v : a) {
      count *= x[(int) ((v + x.length) % x.length)];
    }
    if (a.length == 0) {
      count = Conformance.size(x);
    }
    SplittableRandom rng = new SplittableRandom((op + shape + axes).hashCode());
    Conformance.check(op, m, feed("x", Conformance.randomTensor(rng, x)),
        op.equals("ReduceSum") ? Tolerance.reduction(count) : Tolerance.EXACT);
  }

  /**
   * LayerNormalization over the axes from {@code axis} on: ORT sums x and x² in float over L
   * elements and forms σ² = E[x²] − μ², so σ² is off by up to about 2L·u·E[x²], which with the
   * inputs here (uniform in [−1, 1) plus a shift of at most 0.5, E[x²]/σ² ≤ 2) is 4L·u relative;
   * 1/sqrt halves that, the normalized value ŷ = (x − μ)/σ carries it times |ŷ| ≤ √L, and γ·ŷ + β
   * rounds twice more. Bound: |Δ| ≤ k·EPS·|ort| + atol with k = 8 and
   * atol = (2L + 8)·EPS·max|γ|·max|ŷ| + 2·EPS·max|β|, max|ŷ| ≤ √L.
   */
  @ParameterizedTest(name = "axis {0} on {1}, bias {2}")
  @CsvSource({"-1, 2x5x120, true", "-1, 3x64, false", "1, 2x4x6, true", "-2, 2x3x7x5, true", "0, 6x10, true"})
  void layerNorm(int axis, String shape, boolean bias) {
    int[] x = dims(shape);
    int ax = (axis + x.length) % x.length;
    int[] normalized = Arrays.copyOfRange(x, ax, x.length);
    int l = Conformance.size(normalized);
    SplittableRandom rng = new SplittableRandom((shape + axis + bias).hashCode());
    float shift = (float) rng.nextDouble(-0.5, 0.5);
    float[] xv = uniform(rng, Conformance.size(x), -1, 1);
    for (int i = 0; i < xv.length; i++) {
      xv[i] += shift;
    }
    OnnxModelBuilder m = new OnnxModelBuilder(17).input("x", x);
    m.initializer("gamma", normalized, uniform(rng, l, -1.5, 1.5));
    if (bias) {
      m.initializer("beta", normalized, uniform(rng, l, -1, 1));
      m.node("LayerNormalization", "x", "gamma", "beta").intAttr("axis", axis).floatAttr("epsilon", 1e-5f).out("y").end();
    } else {
      m.node("LayerNormalization", "x", "gamma").intAttr("axis", axis).out("y").end();
    }
    m.output("y");
    double atol = (2.0 * l + 8) * Tolerance.EPS * 1.5 * Math.sqrt(l) + 2 * Tolerance.EPS * 1.0;
    Conformance.check("LayerNormalization", m, feed("x", Tensor.ofFloats(x, xv)), new Tolerance.Relative(8, atol));
  }

  /**
   * Comparisons (bool, held as int64 0/1 in vfuse) and Where, through the outputs ORT and vfuse
   * can compare: Cast(Compare(a, b), int64), and Where(Compare(a, b), a, b) with a float result.
   * Values are drawn from a few levels so that Equal is true often; exact.
   */
  @ParameterizedTest(name = "{0} on {1} vs {2}")
  @CsvSource({"Equal, 2x3x4, 4", "Less, 2x3x4, 3x1", "Greater, 5x6, 5x6", "LessOrEqual, 1x6, 5x1", "GreaterOrEqual, 3x4, 4"})
  void comparisonsAndWhere(String op, String aShape, String bShape) {
    int[] as = dims(aShape);
    int[] bs = dims(bShape);
    SplittableRandom rng = new SplittableRandom((op + aShape + bShape).hashCode());
    float[] a = new float[Conformance.size(as)];
    float[] b = new float[Conformance.size(bs)];
    for (int i = 0; i < a.length; i++) {
      a[i] = rng.nextInt(5) - 2;
    }
    for (int i = 0; i < b.length; i++) {
      b[i] = rng.nextInt(5) - 2;
    }
    a[0] = -0f;
    b[0] = 0f;
    OnnxModelBuilder m = new OnnxModelBuilder(16).input("a", as).input("b", bs);
    m.node(op, "a", "b").out("mask").end();
    m.node("Cast", "mask").intAttr("to", TensorProto.DataType.INT64_VALUE).out("mask64").end();
    m.node("Where", "mask", "a", "b").out("picked").end();
    m.output("mask64", TensorProto.DataType.INT64).output("picked");
    Map<String, Tensor> feed = new LinkedHashMap<>();
    feed.put("a", Tensor.ofFloats(as, a));
    feed.put("b", Tensor.ofFloats(bs, b));
    Conformance.check(op, m, feed, Tolerance.EXACT);
    Conformance.check("Where", m, feed, Tolerance.EXACT);
  }

  /**
   * GELU as exports spell it, unfused: the erf form x·0.5·(1 + Erf(x/√2)) (torch) and the tanh form
   * 0.5·x·(1 + Tanh(√(2/π)·(x + 0.044715·x³))). Near x = −3, 1 + erf is a cancellation: the error
   * of erf (a few ulps of 1) becomes relative to the tiny result, so the bound is absolute in the
   * size of the terms, as for a sum: |Δ| ≤ 8·EPS·Σ|t|, Σ|t| the same chain on |x| (about |x|).
   */
  @ParameterizedTest(name = "GELU {0} form")
  @CsvSource({"erf", "tanh"})
  void geluPatterns(String form) {
    int[] shape = {4, 100};
    SplittableRandom rng = new SplittableRandom(form.hashCode());
    OnnxModelBuilder m = new OnnxModelBuilder(13).input("x", shape);
    m.initializer("half", new int[0], new float[] {0.5f});
    m.initializer("one", new int[0], new float[] {1f});
    if (form.equals("erf")) {
      m.initializer("sqrt2", new int[0], new float[] {(float) Math.sqrt(2)});
      m.node("Div", "x", "sqrt2").out("s").end();
      m.node("Erf", "s").out("e").end();
      m.node("Add", "e", "one").out("e1").end();
      m.node("Mul", "x", "e1").out("xe").end();
      m.node("Mul", "xe", "half").out("y").end();
    } else {
      m.initializer("three", new int[0], new float[] {3f});
      m.initializer("c", new int[0], new float[] {0.044715f});
      m.initializer("k", new int[0], new float[] {(float) Math.sqrt(2 / Math.PI)});
      m.node("Pow", "x", "three").out("x3").end();
      m.node("Mul", "x3", "c").out("cx3").end();
      m.node("Add", "x", "cx3").out("inner").end();
      m.node("Mul", "inner", "k").out("arg").end();
      m.node("Tanh", "arg").out("t").end();
      m.node("Add", "t", "one").out("t1").end();
      m.node("Mul", "x", "half").out("hx").end();
      m.node("Mul", "hx", "t1").out("y").end();
    }
    m.output("y");
    Conformance.check("GELU " + form, m, feed("x", Tensor.ofFloats(shape, uniform(rng, 400, -6, 6))), new Tolerance.Bounded(8));
  }

  @AfterAll
  static void summary() {
    Conformance.printSummary("Sqrt", "Reciprocal", "Neg", "Abs", "Exp", "Log", "Erf", "Pow", "Max", "Min", "ReduceSum", "ReduceMax",
        "LayerNormalization", "GELU", "Equal", "Less", "Greater", "Where");
  }
}
