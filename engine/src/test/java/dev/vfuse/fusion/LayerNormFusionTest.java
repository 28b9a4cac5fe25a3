package dev.vfuse.fusion;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.ir.NdArray;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LayerNormFusionTest {
  private static final List<FusionPass> PASS = List.of(new LayerNormFusion());

  /**
   * The spelled-out form rounds at each of its nine float steps, the fused one once from double:
   * the mean and the variance are sums of L ≤ 64 terms (relative error ≤ L·2⁻²⁴ each), the
   * normalized value (|ŷ| ≤ √L) carries half the variance's error, and γ, β add two roundings.
   * With |x| ≤ 2 and a shift, 2⁻¹⁸·(1 + |y|) covers L = 64 with a margin of several.
   */
  private static final double TOLERANCE = Math.scalb(1.0, -18);

  /** How the pattern is written: which operand order, whether Mul(d, d) squares, axis -1 or r − 1, γ/β present. */
  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
  void randomGeometryFusesIntoOneLayerNormalization(long seed) throws Exception {
    FusionHarness h = new FusionHarness(seed);
    var r = h.random();
    int rank = 2 + r.nextInt(3);
    int[] shape = new int[rank];
    for (int d = 0; d < rank; d++) {
      shape[d] = 1 + r.nextInt(d == rank - 1 ? 64 : 4);
    }
    boolean positiveAxis = r.nextBoolean();
    boolean mulSquare = r.nextInt(3) == 0;
    boolean scale = r.nextInt(4) != 0;
    boolean shift = scale && r.nextInt(4) != 0;
    boolean swapped = r.nextBoolean();
    long axis = positiveAxis ? rank - 1 : -1;
    int c = shape[rank - 1];
    h.input("x", shape).output("y");
    h.node("relu", "Relu", List.of("x"), List.of("x1"), Map.of());
    h.node("mean", "ReduceMean", List.of("x1"), List.of("mu"), Map.of("axes", new long[] {axis}));
    h.node("sub", "Sub", List.of("x1", "mu"), List.of("d"), Map.of());
    if (mulSquare) {
      h.node("sq", "Mul", List.of("d", "d"), List.of("d2"), Map.of());
    } else {
      h.constant("two", NdArray.ofFloats(new int[0], new float[] {2f}));
      h.node("sq", "Pow", List.of("d", "two"), List.of("d2"), Map.of());
    }
    h.node("var", "ReduceMean", List.of("d2"), List.of("v"), Map.of("axes", new long[] {axis}));
    h.constant("eps", NdArray.ofFloats(new int[] {1}, new float[] {(float) r.nextDouble(1e-6, 1e-3)}));
    h.node("addeps", "Add", swapped ? List.of("eps", "v") : List.of("v", "eps"), List.of("ve"), Map.of());
    h.node("sqrt", "Sqrt", List.of("ve"), List.of("s"), Map.of());
    String out = scale ? "n" : "y";
    h.node("div", "Div", List.of("d", "s"), List.of(out), Map.of());
    if (scale) {
      h.constant("gamma", -1.5, 1.5, r.nextBoolean() ? new int[] {c} : new int[] {1});
      h.node("mul", "Mul", swapped ? List.of("gamma", "n") : List.of("n", "gamma"), List.of(shift ? "g" : "y"), Map.of());
    }
    if (shift) {
      h.constant("beta", -1, 1, c);
      h.node("add", "Add", List.of("g", "beta"), List.of("y"), Map.of());
    }
    var outcome = h.check(PASS, TOLERANCE, 2, shape);
    assertThat(outcome.count("LayerNormalization")).isEqualTo(1);
    assertThat(outcome.fused().nodes()).hasSize(2); // Relu and the LayerNormalization
    assertThat(outcome.entries()).singleElement().satisfies(e -> {
      assertThat(e.fused()).isTrue();
      assertThat(e.message()).startsWith("fuse LayerNorm mean → sub → sq → var → addeps → sqrt → div");
    });
  }

  /** Each broken condition keeps the graph as it is and says why. */
  @Test
  void refusalsAreLoggedWithTheReason() throws Exception {
    record Case(String what, String reason) {}
    List<Case> cases = List.of(
        new Case("axis 0", "reduces axis 0 of x1, which has rank 3: not the last axis"),
        new Case("exponent 3", "is not read by exactly a Pow(d, 2) or Mul(d, d) and a Div"),
        new Case("deviation read twice", "is not read by exactly"),
        new Case("variance is an output", "is not read by an Add of a one-element float constant alone"));
    List<String> seen = new ArrayList<>();
    for (Case k : cases) {
      FusionHarness h = new FusionHarness(7);
      h.input("x", 2, 3, 8).output("y");
      if (k.what.equals("variance is an output")) {
        h.output("v");
      }
      h.node("relu", "Relu", List.of("x"), List.of("x1"), Map.of());
      long axis = k.what.equals("axis 0") ? 0 : -1;
      h.node("mean", "ReduceMean", List.of("x1"), List.of("mu"), Map.of("axes", new long[] {axis}));
      h.node("sub", "Sub", List.of("x1", "mu"), List.of("d"), Map.of());
      h.constant("e", NdArray.ofFloats(new int[0], new float[] {k.what.equals("exponent 3") ? 3f : 2f}));
      h.node("sq", "Pow", List.of("d", "e"), List.of("d2"), Map.of());
      h.node("var", "ReduceMean", List.of("d2"), List.of("v"), Map.of("axes", new long[] {axis}));
      h.constant("eps", NdArray.ofFloats(new int[0], new float[] {1e-5f}));
      h.node("addeps", "Add", List.of("v", "eps"), List.of("ve"), Map.of());
      h.node("sqrt", "Sqrt", List.of("ve"), List.of("s"), Map.of());
      h.node("div", "Div", List.of("d", "s"), List.of("n"), Map.of());
      String extra = k.what.equals("deviation read twice") ? "d" : "n";
      h.node("out", "Add", List.of("n", extra), List.of("y"), Map.of());
      var outcome = h.check(PASS, 0, 1, 2, 3, 8);
      assertThat(outcome.count("LayerNormalization")).as(k.what).isZero();
      assertThat(outcome.entries()).as(k.what).singleElement().satisfies(e -> {
        assertThat(e.fused()).isFalse();
        assertThat(e.message()).startsWith("kept LayerNorm candidate mean: ").contains(k.reason);
      });
      seen.add(k.what);
    }
    assertThat(seen).hasSize(cases.size());
  }
}
