package dev.vfuse.ops;

import static dev.vfuse.ops.Conformance.randomTensor;
import static dev.vfuse.ops.Conformance.uniform;

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

/** Gemm (transposes, alpha, beta, every C broadcast, no C) and MatMul (2-D, batched, broadcast batch, rank 1). */
class GemmMatMulConformanceTest {

  /** C shapes for an [M, N] result: none, [N], [1, N], [M, N], [M, 1], [1], rank 0. */
  static int[][] cShapes(int m, int n) {
    return new int[][] {null, {n}, {1, n}, {m, n}, {m, 1}, {1}, {}};
  }

  static Stream<Arguments> gemmCases() {
    Stream.Builder<Arguments> b = Stream.builder();
    int[][] mkn = {{5, 7, 3}, {1, 64, 10}, {8, 33, 17}, {3, 1, 4}};
    float[][] alphaBeta = {{1f, 1f}, {0.5f, 2f}, {-1.5f, 0.25f}, {1f, 0f}};
    int i = 0;
    for (int[] d : mkn) {
      for (int ta = 0; ta < 2; ta++) {
        for (int tb = 0; tb < 2; tb++) {
          int[][] cs = cShapes(d[0], d[2]);
          for (int[] c : cs) {
            float[] ab = alphaBeta[i++ % alphaBeta.length];
            b.add(Arguments.of(d[0], d[1], d[2], ta == 1, tb == 1, ab[0], ab[1], c));
          }
        }
      }
    }
    return b.build();
  }

  @ParameterizedTest(name = "M{0} K{1} N{2} transA={3} transB={4} alpha={5} beta={6} C={7}")
  @MethodSource("gemmCases")
  void gemm(int m, int k, int n, boolean transA, boolean transB, float alpha, float beta, int[] c) {
    SplittableRandom rng = new SplittableRandom(Arrays.hashCode(new int[] {m, k, n, transA ? 1 : 0, transB ? 1 : 0,
        Float.floatToIntBits(alpha), Arrays.hashCode(c)}));
    int[] a = transA ? new int[] {k, m} : new int[] {m, k};
    int[] bShape = transB ? new int[] {n, k} : new int[] {k, n};
    OnnxModelBuilder model = new OnnxModelBuilder(13).input("a", a).initializer("b", bShape, uniform(rng, k * n, -1, 1));
    if (c != null) {
      model.initializer("c", c, uniform(rng, Conformance.size(c), -1, 1));
    }
    OnnxModelBuilder.Node node = c == null ? model.node("Gemm", "a", "b") : model.node("Gemm", "a", "b", "c");
    node.out("y");
    if (transA) {
      node.intAttr("transA", 1);
    }
    if (transB) {
      node.intAttr("transB", 1);
    }
    if (alpha != 1f) {
      node.floatAttr("alpha", alpha);
    }
    if (beta != 1f) {
      node.floatAttr("beta", beta);
    }
    model.output("y");
    Conformance.check("Gemm", model, Conformance.feed("a", randomTensor(rng, a)), Tolerance.reduction(k + 1));
  }

  static Stream<Arguments> matMulCases() {
    return Stream.of(
        Arguments.of(new int[] {4, 6}, new int[] {6, 5}),
        Arguments.of(new int[] {1, 100}, new int[] {100, 3}),
        Arguments.of(new int[] {17, 9}, new int[] {9, 1}),
        Arguments.of(new int[] {3, 4, 6}, new int[] {3, 6, 2}),
        Arguments.of(new int[] {3, 4, 6}, new int[] {6, 2}),
        Arguments.of(new int[] {4, 6}, new int[] {3, 6, 2}),
        Arguments.of(new int[] {2, 1, 4, 5}, new int[] {3, 5, 2}),
        Arguments.of(new int[] {2, 1, 3, 4, 5}, new int[] {1, 4, 1, 5, 6}),
        Arguments.of(new int[] {6}, new int[] {6, 4}),
        Arguments.of(new int[] {6}, new int[] {2, 6, 4}),
        Arguments.of(new int[] {3, 5, 6}, new int[] {6}),
        Arguments.of(new int[] {4, 6}, new int[] {6}),
        Arguments.of(new int[] {7}, new int[] {7}),
        // Attention: Q·Kᵀ and P·V per head, [B, H, T, D] × [B, H, D, T] and back; a mask-like
        // broadcast of one batch's keys over two images; heads of 15 (PP-OCR rec) and 64.
        Arguments.of(new int[] {2, 8, 40, 15}, new int[] {2, 8, 15, 40}),
        Arguments.of(new int[] {2, 8, 40, 40}, new int[] {2, 8, 40, 15}),
        Arguments.of(new int[] {2, 4, 17, 64}, new int[] {1, 4, 64, 17}),
        Arguments.of(new int[] {1, 2, 33, 64}, new int[] {2, 1, 64, 9}));
  }

  @ParameterizedTest(name = "{0} x {1}")
  @MethodSource("matMulCases")
  void matMul(int[] a, int[] b) {
    SplittableRandom rng = new SplittableRandom(Arrays.hashCode(a) * 31 + Arrays.hashCode(b));
    int k = a[a.length - 1];
    // Both operands as graph inputs, and B as an initializer (the usual weight).
    for (boolean bConstant : new boolean[] {false, true}) {
      Tensor ta = randomTensor(rng, a);
      Tensor tb = randomTensor(rng, b);
      OnnxModelBuilder m = new OnnxModelBuilder(13).input("a", a);
      Map<String, Tensor> feed = new LinkedHashMap<>();
      feed.put("a", ta);
      if (bConstant) {
        m.initializer("b", b, tb.floats());
      } else {
        m.input("b", b);
        feed.put("b", tb);
      }
      m.node("MatMul", "a", "b").out("y").end().output("y");
      Conformance.check("MatMul", m, feed, Tolerance.reduction(k));
    }
  }

  @AfterAll
  static void summary() {
    Conformance.printSummary("Gemm", "MatMul");
  }
}
