package dev.vfuse.ops;

import static dev.vfuse.ops.Conformance.feed;
import static dev.vfuse.ops.Conformance.randomTensor;

import ai.onnx.proto.OnnxMl.TensorProto;
import dev.vfuse.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Data movement and shape arithmetic against ONNX Runtime: Flatten, Reshape, Transpose, Concat,
 * Pad, Identity, Dropout, Shape/Gather/Unsqueeze/Concat/Reshape chains on dynamic inputs, Slice,
 * Squeeze, Unsqueeze, Cast and Gather. No arithmetic on floats: every result must be equal.
 */
class ShapeOpsConformanceTest {
  private static final int[] X = {2, 3, 4, 5};

  private static SplittableRandom rng(Object... key) {
    return new SplittableRandom(Arrays.deepHashCode(key));
  }

  /** A model with the float input x of this shape, to which the test adds its node. */
  private static OnnxModelBuilder withInput(int opset, int[] shape) {
    return new OnnxModelBuilder(opset).input("x", shape);
  }

  @ParameterizedTest(name = "axis {0}")
  @ValueSource(ints = {0, 1, 2, 3, 4, -1, -3})
  void flatten(int axis) {
    OnnxModelBuilder m = withInput(13, X);
    m.node("Flatten", "x").out("y").intAttr("axis", axis).end().output("y");
    Conformance.check("Flatten", m, feed("x", randomTensor(rng("Flatten", axis), X)), Tolerance.EXACT);
  }

  @ParameterizedTest(name = "shape {0}")
  @ValueSource(strings = {"0,-1", "0,0,-1", "-1,20", "2,0,20", "6,-1,5", "0,3,2,2,5", "-1", "1,-1,1"})
  void reshape(String spec) {
    long[] shape = Arrays.stream(spec.split(",")).mapToLong(Long::parseLong).toArray();
    OnnxModelBuilder m = withInput(14, X).longs("shape", shape);
    m.node("Reshape", "x", "shape").out("y").end().output("y");
    Conformance.check("Reshape", m, feed("x", randomTensor(rng("Reshape", spec), X)), Tolerance.EXACT);
  }

  static Stream<Arguments> perms() {
    return Stream.of(
        Arguments.of(X, new int[] {0, 2, 3, 1}),
        Arguments.of(X, new int[] {0, 3, 1, 2}),
        Arguments.of(X, new int[] {3, 2, 1, 0}),
        Arguments.of(X, new int[] {1, 0, 2, 3}),
        Arguments.of(X, null),
        Arguments.of(new int[] {3, 4, 5}, new int[] {2, 0, 1}),
        Arguments.of(new int[] {6, 7}, new int[] {1, 0}),
        Arguments.of(new int[] {2, 3, 1, 4, 2}, new int[] {4, 0, 3, 1, 2}));
  }

  @ParameterizedTest(name = "{0} perm {1}")
  @MethodSource("perms")
  void transpose(int[] shape, int[] perm) {
    OnnxModelBuilder m = withInput(13, shape);
    OnnxModelBuilder.Node n = m.node("Transpose", "x").out("y");
    if (perm != null) {
      n.ints("perm", perm);
    }
    m.output("y");
    Conformance.check("Transpose", m, feed("x", randomTensor(rng("Transpose", shape, perm), shape)), Tolerance.EXACT);
  }

  @ParameterizedTest(name = "axis {0}")
  @ValueSource(ints = {0, 1, 2, -1, -3})
  void concat(int axis) {
    int rank = X.length;
    int ax = axis < 0 ? axis + rank : axis;
    int[] a = X.clone();
    int[] b = X.clone();
    int[] c = X.clone();
    b[ax] = 2;
    c[ax] = 1;
    SplittableRandom r = rng("Concat", axis);
    OnnxModelBuilder m = new OnnxModelBuilder(13).input("a", a).input("b", b).initializer("c", c, randomTensor(r, c).floats());
    m.node("Concat", "a", "c", "b").out("y").intAttr("axis", axis).end().output("y");
    Map<String, Tensor> feed = new LinkedHashMap<>();
    feed.put("a", randomTensor(r, a));
    feed.put("b", randomTensor(r, b));
    Conformance.check("Concat", m, feed, Tolerance.EXACT);
  }

  /** Pad-11/13: pads and constant_value as initializer inputs, or no constant_value (zero). */
  @ParameterizedTest(name = "opset {0} pads {1} value {2}")
  @CsvSource({"13, '0,1,2,3,0,2,1,0', 1.5", "13, '0,0,1,1,0,0,1,1', NaN", "11, '1,0,0,2,0,1,3,0', -2", "13, '0,0,0,0,0,0,0,0', 7"})
  void padInputs(int opset, String pads, float value) {
    long[] p = Arrays.stream(pads.split(",")).mapToLong(Long::parseLong).toArray();
    OnnxModelBuilder m = withInput(opset, X).longs("pads", p);
    if (Float.isNaN(value)) {
      m.node("Pad", "x", "pads").out("y").stringAttr("mode", "constant");
    } else {
      m.initializer("value", new int[0], new float[] {value}).node("Pad", "x", "pads", "value").out("y");
    }
    m.output("y");
    Conformance.check("Pad", m, feed("x", randomTensor(rng("Pad", opset, pads), X)), Tolerance.EXACT);
  }

  /** Pad-2, the attribute form (opsets 2 to 10). */
  @ParameterizedTest(name = "opset {0} pads {1} value {2}")
  @CsvSource({"10, '0,1,2,3,0,2,1,0', 0.5", "7, '1,1,0,0,0,0,2,2', NaN"})
  void padAttributes(int opset, String pads, float value) {
    long[] p = Arrays.stream(pads.split(",")).mapToLong(Long::parseLong).toArray();
    OnnxModelBuilder m = withInput(opset, X);
    OnnxModelBuilder.Node n = m.node("Pad", "x").out("y").ints("pads", p).stringAttr("mode", "constant");
    if (!Float.isNaN(value)) {
      n.floatAttr("value", value);
    }
    m.output("y");
    Conformance.check("Pad-2", m, feed("x", randomTensor(rng("Pad2", opset, pads), X)), Tolerance.EXACT);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"Identity", "Dropout"})
  void identity(String op) {
    OnnxModelBuilder m = withInput(13, X);
    m.node(op, "x").out("y").end().output("y");
    Conformance.check("Identity/Dropout", m, feed("x", randomTensor(rng(op), X)), Tolerance.EXACT);
  }

  /**
   * Reshape to [N, C, H·W] computed from Shape(x) of an input with dynamic N, H, W: Shape →
   * Gather → (Mul) → Unsqueeze → Concat → Reshape, with the int64 target shape as a second output.
   * One loaded model, two input shapes. Unsqueeze takes its axes as an input from opset 13, as an
   * attribute before.
   */
  @ParameterizedTest(name = "opset {0}")
  @ValueSource(ints = {11, 13})
  void dynamicShapeChain(int opset) {
    OnnxModelBuilder m = new OnnxModelBuilder(opset).input("x", TensorProto.DataType.FLOAT, "N", 3, "H", "W")
        .initializer("i0", new int[0], new long[] {0})
        .initializer("i1", new int[0], new long[] {1})
        .initializer("hw", new int[] {2}, new long[] {-2, -1});
    m.node("Shape", "x").out("s");
    m.node("Gather", "s", "i0").out("n").intAttr("axis", 0);
    m.node("Gather", "s", "i1").out("c");
    m.node("Gather", "s", "hw").out("hwPair");
    m.node("Slice", "hwPair", "zero", "one").out("h");
    m.node("Slice", "hwPair", "one", "two").out("w");
    m.node("Mul", "h", "w").out("hw1");
    m.initializer("zero", new int[] {1}, new long[] {0}).initializer("one", new int[] {1}, new long[] {1})
        .initializer("two", new int[] {1}, new long[] {2});
    unsqueeze(m, opset, "n", "n1");
    unsqueeze(m, opset, "c", "c1");
    m.node("Concat", "n1", "c1", "hw1").out("target").intAttr("axis", 0);
    m.node("Reshape", "x", "target").out("y");
    m.output("y").output("target", TensorProto.DataType.INT64);
    SplittableRandom r = rng("chain", opset);
    Conformance.checkFeeds("Shape chain", m, List.of(feed("x", randomTensor(r, 1, 3, 4, 5)), feed("x", randomTensor(r, 2, 3, 6, 7))),
        Tolerance.EXACT);
  }

  private static void unsqueeze(OnnxModelBuilder m, int opset, String in, String out) {
    if (opset >= 13) {
      m.initializer("axes0", new int[] {1}, new long[] {0});
      m.node("Unsqueeze", in, "axes0").out(out);
    } else {
      m.node("Unsqueeze", in).out(out).ints("axes", 0L);
    }
  }

  /** Shape-15 with start and end, on a dynamic input, and Shape of a fixed one. */
  @ParameterizedTest(name = "start {0} end {1}")
  @CsvSource({"0, NaN", "1, NaN", "-2, NaN", "1, 3", "0, -1", "-10, 10", "3, 1"})
  void shapeWithStartEnd(int start, double end) {
    OnnxModelBuilder m = new OnnxModelBuilder(15).input("x", TensorProto.DataType.FLOAT, "N", 3, "H", 5);
    OnnxModelBuilder.Node n = m.node("Shape", "x").out("s").intAttr("start", start);
    if (!Double.isNaN(end)) {
      n.intAttr("end", (long) end);
    }
    m.output("s", TensorProto.DataType.INT64);
    Conformance.check("Shape", m, feed("x", randomTensor(rng("Shape", start, end), 2, 3, 4, 5)), Tolerance.EXACT);
  }

  static final long MAX = Long.MAX_VALUE;
  static final long MIN = Long.MIN_VALUE;

  /** Slice-10/13 with inputs: starts, ends, axes (or none), steps (or none). */
  static Stream<Arguments> sliceCases() {
    return Stream.of(
        Arguments.of(new long[] {1, 0}, new long[] {3, MAX}, new long[] {0, 2}, null),
        Arguments.of(new long[] {-1}, new long[] {MIN}, new long[] {1}, new long[] {-1}),
        Arguments.of(new long[] {-1, -1, -1}, new long[] {MIN, MIN, MIN}, null, new long[] {-1, -1, -1}),
        Arguments.of(new long[] {-3, 0}, new long[] {-1, MAX}, new long[] {-1, -3}, new long[] {1, 2}),
        Arguments.of(new long[] {4, 10}, new long[] {0, -100}, new long[] {2, 1}, new long[] {-2, -3}),
        Arguments.of(new long[] {0, 1, 2}, new long[] {MAX, MAX, MAX}, null, new long[] {3, 2, 2}),
        Arguments.of(new long[] {2}, new long[] {2}, new long[] {0}, null),
        Arguments.of(new long[] {-100}, new long[] {100}, new long[] {2}, new long[] {4}),
        Arguments.of(new long[] {5}, new long[] {-7}, new long[] {2}, new long[] {-2}),
        Arguments.of(new long[] {1}, new long[] {MAX}, new long[] {-2}, new long[] {MAX}),
        Arguments.of(new long[] {-1, 3}, new long[] {MIN, 0}, new long[] {0, 2}, new long[] {MIN, -7}));
  }

  @ParameterizedTest(name = "starts {0} ends {1} axes {2} steps {3}")
  @MethodSource("sliceCases")
  void slice(long[] starts, long[] ends, long[] axes, long[] steps) {
    int[] shape = {4, 5, 6};
    for (int opset : new int[] {10, 13}) {
      OnnxModelBuilder m = withInput(opset, shape).longs("starts", starts).longs("ends", ends);
      String axesName = "";
      if (axes != null) {
        m.longs("axes", axes);
        axesName = "axes";
      }
      if (steps != null) {
        m.longs("steps", steps);
        m.node("Slice", "x", "starts", "ends", axesName, "steps").out("y");
      } else if (axes != null) {
        m.node("Slice", "x", "starts", "ends", "axes").out("y");
      } else {
        m.node("Slice", "x", "starts", "ends").out("y");
      }
      m.output("y");
      Conformance.check("Slice", m, feed("x", randomTensor(rng("Slice", starts, ends, axes, steps), shape)), Tolerance.EXACT);
    }
  }

  /** Slice-1, the attribute form (opsets 1 to 9). */
  @ParameterizedTest(name = "starts {0} ends {1} axes {2}")
  @CsvSource({"'1,0', '3,1000', '0,2'", "'-3', '-1', '1'", "'0,1,2', '4,-1,5', ''", "'-100,2', '100,-2', '2,-2'"})
  void sliceOpset9(String starts, String ends, String axes) {
    int[] shape = {4, 5, 6};
    OnnxModelBuilder m = withInput(9, shape);
    OnnxModelBuilder.Node n = m.node("Slice", "x").out("y").ints("starts", longs(starts)).ints("ends", longs(ends));
    if (!axes.isEmpty()) {
      n.ints("axes", longs(axes));
    }
    m.output("y");
    Conformance.check("Slice-1", m, feed("x", randomTensor(rng("Slice9", starts, ends, axes), shape)), Tolerance.EXACT);
  }

  private static long[] longs(String csv) {
    return Arrays.stream(csv.split(",")).mapToLong(Long::parseLong).toArray();
  }

  /** Squeeze and Unsqueeze: opset 11 attribute form, opset 13 input form, negative axes, Squeeze without axes. */
  @ParameterizedTest(name = "opset {0} {1} axes {2} on {3}")
  @CsvSource({
      "11, Squeeze, '1,3', '2,1,4,1'", "11, Squeeze, '-1', '2,3,1'", "11, Squeeze, '', '1,3,1,5,1'",
      "13, Squeeze, '1,3', '2,1,4,1'", "13, Squeeze, '-3', '2,1,4,5'", "13, Squeeze, '', '1,3,1,5,1'",
      "11, Unsqueeze, '0', '3,4'", "11, Unsqueeze, '1,-1', '3,4'", "11, Unsqueeze, '0,3', '2,3,4'",
      "13, Unsqueeze, '0', '3,4'", "13, Unsqueeze, '-1,1', '3,4'", "13, Unsqueeze, '4,0', '2,3,4'"})
  void squeezeUnsqueeze(int opset, String op, String axes, String dims) {
    int[] shape = Arrays.stream(dims.split(",")).mapToInt(Integer::parseInt).toArray();
    OnnxModelBuilder m = withInput(opset, shape);
    if (axes.isEmpty()) {
      m.node(op, "x").out("y");
    } else if (opset >= 13) {
      m.longs("axes", longs(axes)).node(op, "x", "axes").out("y");
    } else {
      m.node(op, "x").out("y").ints("axes", longs(axes));
    }
    m.output("y");
    Conformance.check(op, m, feed("x", randomTensor(rng(op, opset, axes, dims), shape)), Tolerance.EXACT);
  }

  /** Cast float → int64 (truncation toward zero) → float, and the int64 tensor itself. */
  @Test
  void castRoundTrip() {
    int[] shape = {3, 41};
    SplittableRandom r = rng("Cast");
    float[] x = Conformance.uniform(r, Conformance.size(shape), -1000, 1000);
    float[] special = {0.5f, -0.5f, 1.5f, -1.5f, 2.5f, -2.5f, 0.999f, -0.999f, 1e6f, -1e6f, 16777217f, 3.0f, -0f};
    System.arraycopy(special, 0, x, 0, special.length);
    for (int i = special.length; i < 40; i++) {
      x[i] = x[i] / 500; // small fractional values in (−2, 2)
    }
    OnnxModelBuilder m = withInput(13, shape);
    m.node("Cast", "x").out("i").intAttr("to", TensorProto.DataType.INT64_VALUE);
    m.node("Cast", "i").out("y").intAttr("to", TensorProto.DataType.FLOAT_VALUE);
    m.output("y").output("i", TensorProto.DataType.INT64);
    Conformance.check("Cast", m, feed("x", Tensor.ofFloats(shape, x)), Tolerance.EXACT);
  }

  static Stream<Arguments> gatherCases() {
    return Stream.of(
        Arguments.of(0, new int[] {3}, new long[] {2, 0, -1}),
        Arguments.of(1, new int[] {2, 2}, new long[] {0, -1, 2, 1}),
        Arguments.of(1, new int[0], new long[] {-2}),
        Arguments.of(-1, new int[] {4}, new long[] {2, 2, 0, -3}),
        Arguments.of(2, new int[] {1, 3}, new long[] {-1, 0, 2}),
        Arguments.of(0, new int[0], new long[] {4}));
  }

  /** Gather on float data [5, 4, 3]: indices of rank 0 to 2, negative ones, as an initializer and as an int64 input. */
  @ParameterizedTest(name = "axis {0} indices {1} = {2}")
  @MethodSource("gatherCases")
  void gather(int axis, int[] indexShape, long[] indices) {
    int[] shape = {5, 4, 3};
    SplittableRandom r = rng("Gather", axis, indices);
    Tensor x = randomTensor(r, shape);
    OnnxModelBuilder constant = withInput(13, shape).initializer("idx", indexShape, indices);
    constant.node("Gather", "x", "idx").out("y").intAttr("axis", axis).end().output("y");
    Conformance.check("Gather", constant, feed("x", x), Tolerance.EXACT);

    Object[] dims = Arrays.stream(indexShape).boxed().toArray();
    OnnxModelBuilder input = withInput(13, shape).input("idx", TensorProto.DataType.INT64, dims);
    input.node("Gather", "x", "idx").out("y").intAttr("axis", axis).end().output("y");
    Map<String, Tensor> feed = new LinkedHashMap<>();
    feed.put("x", x);
    feed.put("idx", Tensor.ofLongs(indexShape, indices));
    Conformance.check("Gather", input, feed, Tolerance.EXACT);
  }

  /**
   * The data-movement ops on int64 data (shape vectors and index tensors in real graphs), which
   * vfuse runs through the float kernels on positions: Transpose, Slice with a negative step,
   * Concat, Gather, Reshape, Unsqueeze.
   */
  @Test
  void int64DataMovement() {
    SplittableRandom r = rng("int64");
    long[] data = r.longs(24, Long.MIN_VALUE / 2, Long.MAX_VALUE / 2).toArray();
    data[0] = Long.MAX_VALUE;
    data[1] = Long.MIN_VALUE;
    data[2] = (1L << 53) + 1; // not representable as a double: must not pass through floating point
    OnnxModelBuilder m = new OnnxModelBuilder(13).input("x", TensorProto.DataType.INT64, 2, 3, 4)
        .longs("starts", -1).longs("ends", MIN).longs("axes", 2).longs("steps", -2)
        .initializer("idx", new int[] {2}, new long[] {-1, 0})
        .longs("flat", -1).longs("ax0", 0)
        .initializer("extra", new int[] {2, 3, 1}, new long[] {7, -7, 1L << 60, -(1L << 60), 0, 42});
    m.node("Transpose", "x").out("t").ints("perm", 2, 0, 1);
    m.node("Slice", "x", "starts", "ends", "axes", "steps").out("s");
    m.node("Concat", "x", "extra").out("c").intAttr("axis", -1);
    m.node("Gather", "x", "idx").out("g").intAttr("axis", 1);
    m.node("Reshape", "x", "flat").out("f");
    m.node("Unsqueeze", "x", "ax0").out("u");
    for (String out : new String[] {"t", "s", "c", "g", "f", "u"}) {
      m.output(out, TensorProto.DataType.INT64);
    }
    Conformance.check("int64 data movement", m, feed("x", Tensor.ofLongs(new int[] {2, 3, 4}, data)), Tolerance.EXACT);
  }

  @AfterAll
  static void summary() {
    Conformance.printSummary("Flatten", "Reshape", "Transpose", "Concat", "Pad", "Pad-2", "Identity/Dropout", "Shape", "Slice",
        "Slice-1", "Squeeze", "Unsqueeze", "Cast", "Gather", "int64");
  }
}
