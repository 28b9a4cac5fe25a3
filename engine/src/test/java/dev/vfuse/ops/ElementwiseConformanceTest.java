package dev.vfuse.ops;

import static dev.vfuse.ops.Conformance.randomTensor;

import ai.onnx.proto.OnnxMl.TensorProto;
import dev.vfuse.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Add, Sub, Mul and Div with numpy broadcasting against ONNX Runtime. One IEEE operation on the
 * same two floats is correctly rounded in both engines, so the results must be equal.
 */
class ElementwiseConformanceTest {

  /** Broadcast pairs: same shape, per-channel [C,1,1], [1], rank 0, [H,W] vs [N,C,1,1], rank 5, and both sides broadcasting. */
  static final int[][][] PAIRS = {
      {{2, 3, 4, 5}, {2, 3, 4, 5}},
      {{2, 3, 4, 5}, {3, 1, 1}},
      {{2, 3, 4, 5}, {1}},
      {{2, 3, 4, 5}, {}},
      {{4, 5}, {2, 3, 1, 1}},
      {{2, 1, 3, 1, 4}, {1, 5, 1, 2, 1}},
      {{2, 3, 1, 5}, {1, 1, 4, 1}},
      {{7}, {3, 1}},
  };

  static Stream<Arguments> cases() {
    Stream.Builder<Arguments> b = Stream.builder();
    for (String op : new String[] {"Add", "Sub", "Mul", "Div"}) {
      for (int[][] pair : PAIRS) {
        b.add(Arguments.of(op, pair[0], pair[1], false));
        b.add(Arguments.of(op, pair[1], pair[0], false));
      }
      b.add(Arguments.of(op, PAIRS[1][0], PAIRS[1][1], true)); // B an initializer
      b.add(Arguments.of(op, PAIRS[3][1], PAIRS[3][0], true)); // rank-0 A input, B initializer
    }
    return b.build();
  }

  @ParameterizedTest(name = "{0} {1} {2} B-initializer={3}")
  @MethodSource("cases")
  void binary(String op, int[] a, int[] b, boolean bConstant) {
    SplittableRandom rng = new SplittableRandom((op + Arrays.toString(a) + Arrays.toString(b) + bConstant).hashCode());
    Tensor ta = randomTensor(rng, a);
    Tensor tb = randomTensor(rng, b);
    OnnxModelBuilder m = new OnnxModelBuilder(14).input("a", a);
    Map<String, Tensor> feed = new LinkedHashMap<>();
    feed.put("a", ta);
    if (bConstant) {
      m.initializer("b", b, tb.floats());
    } else {
      m.input("b", b);
      feed.put("b", tb);
    }
    m.node(op, "a", "b").out("y").end().output("y");
    Conformance.check("Elementwise " + op, m, feed, Tolerance.EXACT);
  }

  /**
   * The same four operators on int64 graph inputs (the shape arithmetic path, computed in the op,
   * not the backend), with negative operands: Div truncates toward zero, as ONNX Runtime does.
   */
  @ParameterizedTest(name = "int64 {0}")
  @ValueSource(strings = {"Add", "Sub", "Mul", "Div"})
  void int64(String op) {
    SplittableRandom rng = new SplittableRandom(op.hashCode());
    int[] a = {2, 3, 4};
    int[] b = {3, 1};
    long[] av = rng.longs(24, -50, 51).toArray();
    long[] bv = rng.longs(3, 1, 8).map(v -> rng.nextBoolean() ? v : -v).toArray();
    OnnxModelBuilder m = new OnnxModelBuilder(13).input("a", TensorProto.DataType.INT64, 2, 3, 4)
        .input("b", TensorProto.DataType.INT64, 3, 1);
    m.node(op, "a", "b").out("y").end().output("y", TensorProto.DataType.INT64);
    Map<String, Tensor> feed = new LinkedHashMap<>();
    feed.put("a", Tensor.ofLongs(a, av));
    feed.put("b", Tensor.ofLongs(b, bv));
    Conformance.check("Elementwise int64 " + op, m, feed, Tolerance.EXACT);
  }

  @AfterAll
  static void summary() {
    Conformance.printSummary("Elementwise");
  }
}
