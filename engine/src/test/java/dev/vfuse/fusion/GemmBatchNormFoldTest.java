package dev.vfuse.fusion;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.ir.NdArray;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class GemmBatchNormFoldTest {
  private static final List<FusionPass> PASS = List.of(new GemmBatchNormFold());
  /** Shapes a Gemm's C may take (null: no C). */
  private static final String[] C_SHAPES = {null, "scalar", "[1]", "[N]", "[1,N]", "[M,1]", "[M,N]"};

  /**
   * Fused and unfused differ by the rounding of B·s (or of the shift carried through B) in each of
   * the K products and by the order of the float sums: with |a| ≤ 2, |b| ≤ 1, |s| ≤ 2.8 and
   * |α| ≤ 2 each term is below 12 and moves by at most a few ulp, K·2⁻²⁰ relative to 1 + |y|.
   */
  private static double tolerance(int k) {
    return k * Math.scalb(1.0, -20);
  }

  /** Adds C of the given shape for an [m, n] product and returns its name (null for none). */
  private static String c(FusionHarness h, String shape, int m, int n) {
    return shape == null ? null : switch (shape) {
      case "scalar" -> h.constant("c", -1, 1);
      case "[1]" -> h.constant("c", -1, 1, 1);
      case "[N]" -> h.constant("c", -1, 1, n);
      case "[1,N]" -> h.constant("c", -1, 1, 1, n);
      case "[M,1]" -> h.constant("c", -1, 1, m, 1);
      default -> h.constant("c", -1, 1, m, n);
    };
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21})
  void randomGemmThenBatchNormMatchesUnfused(long seed) throws Exception {
    FusionHarness h = new FusionHarness(seed);
    var r = h.random();
    int m = 1 + r.nextInt(5);
    int k = 1 + r.nextInt(40);
    int n = 1 + r.nextInt(12);
    boolean transA = r.nextBoolean();
    boolean transB = r.nextBoolean();
    String cShape = C_SHAPES[(int) (seed % C_SHAPES.length)];
    float alpha = List.of(1f, 0.5f, -2f).get(r.nextInt(3));
    float beta = List.of(1f, 0.75f, 0f).get(r.nextInt(3));
    int[] aShape = transA ? new int[] {k, m} : new int[] {m, k};
    h.input("a", aShape).output("y");
    h.constant("b", -1, 1, transB ? new int[] {n, k} : new int[] {k, n});
    List<String> in = new ArrayList<>(List.of("a", "b"));
    String c = c(h, cShape, m, n);
    if (c != null) {
      in.add(c);
    }
    h.node("gemm", "Gemm", in, List.of("t"), Map.of("alpha", alpha, "beta", beta, "transA", transA ? 1 : 0,
        "transB", transB ? 1 : 0));
    h.batchNorm("bn", "t", "y", n, 1e-5f);
    var outcome = h.check(PASS, tolerance(k), 2, aShape);
    assertThat(outcome.count("BatchNormalization")).as("C " + cShape).isZero();
    assertThat(outcome.count("Gemm")).isEqualTo(1);
    assertThat(outcome.fusedCount()).isEqualTo(1);
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
  void randomMatMulThenAddThenBatchNormBecomesOneGemm(long seed) throws Exception {
    FusionHarness h = new FusionHarness(100 + seed);
    var r = h.random();
    int m = 1 + r.nextInt(5);
    int k = 1 + r.nextInt(40);
    int n = 1 + r.nextInt(12);
    h.input("a", m, k).output("y");
    h.constant("b", -1, 1, k, n);
    String add = List.of("none", "scalar", "[1]", "[N]", "[1,N]", "[1,1]").get((int) (seed % 6));
    h.node("mm", "MatMul", List.of("a", "b"), List.of(add.equals("none") ? "t" : "p"), Map.of());
    if (!add.equals("none")) {
      String c = switch (add) {
        case "scalar" -> h.constant("c", -1, 1);
        case "[1]" -> h.constant("c", -1, 1, 1);
        case "[N]" -> h.constant("c", -1, 1, n);
        case "[1,N]" -> h.constant("c", -1, 1, 1, n);
        default -> h.constant("c", -1, 1, 1, 1);
      };
      h.node("add", "Add", r.nextBoolean() ? List.of("p", c) : List.of(c, "p"), List.of("t"), Map.of());
    }
    h.batchNorm("bn", "t", "y", n, 1e-3f);
    var outcome = h.check(PASS, tolerance(k), 2, m, k);
    assertThat(outcome.count("Gemm")).as(add).isEqualTo(1);
    assertThat(outcome.fused().nodes()).hasSize(1);
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14})
  void randomBatchNormThenGemmMatchesUnfused(long seed) throws Exception {
    FusionHarness h = new FusionHarness(200 + seed);
    var r = h.random();
    int m = 1 + r.nextInt(5);
    int k = 1 + r.nextInt(40);
    int n = 1 + r.nextInt(12);
    boolean transB = r.nextBoolean();
    String cShape = C_SHAPES[(int) (seed % C_SHAPES.length)];
    float alpha = List.of(1f, 0.5f, -2f).get(r.nextInt(3));
    float beta = List.of(1f, 0.75f, 0f).get(r.nextInt(3));
    h.input("a", m, k).output("y");
    h.batchNorm("bn", "a", "t", k, 1e-5f);
    h.constant("b", -1, 1, transB ? new int[] {n, k} : new int[] {k, n});
    List<String> in = new ArrayList<>(List.of("t", "b"));
    String c = c(h, cShape, m, n);
    if (c != null) {
      in.add(c);
    }
    h.node("gemm", "Gemm", in, List.of("y"), Map.of("alpha", alpha, "beta", beta, "transB", transB ? 1 : 0));
    var outcome = h.check(PASS, tolerance(k), 2, m, k);
    assertThat(outcome.count("BatchNormalization")).as("C " + cShape).isZero();
    assertThat(outcome.fusedCount()).isEqualTo(1);
  }

  /** Pitfalls 2 and 3: a large C is scaled and shifted (C' = β·C·s + t), and without C the shift t survives. */
  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void biasIsScaledAndShiftedNotAdded(boolean withC) throws Exception {
    FusionHarness h = new FusionHarness(31);
    h.input("a", 3, 6).output("y");
    h.constant("b", -1, 1, 6, 4);
    List<String> in = new ArrayList<>(List.of("a", "b"));
    if (withC) {
      in.add(h.constant("c", 5, 9, 3, 4));
    }
    h.node("gemm", "Gemm", in, List.of("t"), Map.of("beta", 0.5f));
    h.batchNorm("bn", "t", "y", 4, 1e-5f);
    assertThat(h.check(PASS, tolerance(6), 2, 3, 6).fusedCount()).isEqualTo(1);
  }

  /** Pitfall 4: a BN exported without affine parameters carries γ = 1 and β = 0; μ and var still apply. */
  @Test
  void batchNormWithoutAffineParametersStillNormalizes() throws Exception {
    FusionHarness h = new FusionHarness(32);
    h.input("a", 2, 5).output("y");
    h.constant("b", -1, 1, 5, 3);
    h.node("mm", "MatMul", List.of("a", "b"), List.of("t"), Map.of());
    h.constant("bn.gamma", NdArray.ofFloats(new int[] {3}, new float[] {1, 1, 1}));
    h.constant("bn.beta", NdArray.ofFloats(new int[] {3}, new float[] {0, 0, 0}));
    h.constant("bn.mean", NdArray.ofFloats(new int[] {3}, new float[] {3f, -2f, 0.5f}));
    h.constant("bn.var", NdArray.ofFloats(new int[] {3}, new float[] {4f, 0.01f, 9f}));
    h.node("bn", "BatchNormalization", List.of("t", "bn.gamma", "bn.beta", "bn.mean", "bn.var"), List.of("y"), Map.of());
    var outcome = h.check(PASS, tolerance(5), 2, 2, 5);
    assertThat(outcome.count("Gemm")).isEqualTo(1);
  }

  /**
   * Two Gemm → BN pairs share B, C and all four BN tensors (one constant each): both fold, each into
   * its own new constants, and the shared originals are left untouched for the other reader.
   */
  @Test
  void sharedConstantsAreCopiedNotModified() throws Exception {
    FusionHarness h = new FusionHarness(33);
    h.input("a", 2, 4).output("y");
    h.constant("b", -1, 1, 4, 4);
    h.constant("c", -1, 1, 4);
    h.node("gemm1", "Gemm", List.of("a", "b", "c"), List.of("t1"), Map.of());
    h.batchNorm("bn", "t1", "u", 4, 1e-5f);
    h.node("gemm2", "Gemm", List.of("u", "b", "c"), List.of("t2"), Map.of("transB", 1));
    h.node("bn2", "BatchNormalization", List.of("t2", "bn.gamma", "bn.beta", "bn.mean", "bn.var"), List.of("y"), Map.of());
    float[] b = h.graph().constants().get("b").f.clone();
    var outcome = h.check(PASS, tolerance(4), 2, 2, 4);
    assertThat(outcome.fusedCount()).isEqualTo(2);
    assertThat(outcome.count("BatchNormalization")).isZero();
    assertThat(h.graph().constants().get("b").f).containsExactly(b);
  }

  /** Pitfall 9: tiny and huge variance, negative γ and a mean near −741 fold to finite, exact weights. */
  @Test
  void extremeStatisticsStayFiniteAndExact() throws Exception {
    FusionHarness h = new FusionHarness(34);
    h.input("a", 3, 8).output("y");
    h.constant("b", -1, 1, 4, 8);
    h.node("gemm", "Gemm", List.of("a", "b"), List.of("t"), Map.of("transB", 1));
    h.constant("bn.gamma", NdArray.ofFloats(new int[] {4}, new float[] {-0.7f, 1e-6f, 2f, 1f}));
    h.constant("bn.beta", NdArray.ofFloats(new int[] {4}, new float[] {0.1f, -0.2f, 3f, 0f}));
    h.constant("bn.mean", NdArray.ofFloats(new int[] {4}, new float[] {-741f, 0.5f, 1f, 70000f}));
    h.constant("bn.var", NdArray.ofFloats(new int[] {4}, new float[] {5.6e-45f, 4.8e7f, 1e-30f, 1e5f}));
    h.node("bn", "BatchNormalization", List.of("t", "bn.gamma", "bn.beta", "bn.mean", "bn.var"), List.of("y"),
        Map.of("epsilon", 1e-3f));
    assertThat(h.check(PASS, tolerance(8), 3, 3, 8).fusedCount()).isEqualTo(1);
  }

  /**
   * A MatMul on a rank-3 A gives [B, M, N]; a BN then normalizes axis 1 (M), even when M happens to
   * equal N, so it is not a per-column map and the MatMul is not a Gemm: refused, rank named.
   */
  @Test
  void refusesMatMulOnRank3Input() throws Exception {
    FusionHarness h = new FusionHarness(35);
    h.input("a", 2, 3, 5).output("y");
    h.constant("b", -1, 1, 5, 3);
    h.node("mm", "MatMul", List.of("a", "b"), List.of("t"), Map.of());
    h.batchNorm("bn", "t", "y", 3, 1e-5f);
    var outcome = h.check(PASS, 0, 1, 2, 3, 5);
    assertThat(outcome.fusedCount()).isZero();
    assertThat(outcome.entries()).singleElement().satisfies(e -> assertThat(e.message())
        .startsWith("kept BatchNorm bn after MatMul mm").contains("A has rank 3"));
  }

  /** The rank of A is read from the graph: a Flatten output is a matrix, so MatMul(Flatten(x)) → BN is a Gemm. */
  @Test
  void matMulOnAFlattenedInputIsAGemm() throws Exception {
    FusionHarness h = new FusionHarness(40);
    h.input("x", 2, 3, 2, 2).output("y");
    h.node("flat", "Flatten", List.of("x"), List.of("a"), Map.of());
    h.constant("b", -1, 1, 12, 5);
    h.node("mm", "MatMul", List.of("a", "b"), List.of("t"), Map.of());
    h.batchNorm("bn", "t", "y", 5, 1e-5f);
    var outcome = h.check(PASS, tolerance(12), 2, 2, 3, 2, 2);
    assertThat(outcome.count("Gemm")).isEqualTo(1);
    assertThat(outcome.count("BatchNormalization")).isZero();
  }

  @Test
  void refusesNonConstantWeightsAndSharedOutputs() throws Exception {
    FusionHarness h = new FusionHarness(36);
    h.input("a", 2, 4).output("y");
    h.constant("b0", -1, 1, 4, 3);
    h.node("relu", "Relu", List.of("b0"), List.of("b"), Map.of());
    h.node("gemm", "Gemm", List.of("a", "b"), List.of("t"), Map.of());
    h.batchNorm("bn", "t", "y", 3, 1e-5f);
    var outcome = h.check(PASS, 0, 1, 2, 4);
    assertThat(outcome.entries()).singleElement().satisfies(e -> assertThat(e.message()).contains("B is not a float constant"));

    FusionHarness shared = new FusionHarness(37);
    shared.input("a", 2, 4).output("y").output("t");
    shared.constant("b", -1, 1, 4, 3);
    shared.node("gemm", "Gemm", List.of("a", "b"), List.of("t"), Map.of());
    shared.batchNorm("bn", "t", "y", 3, 1e-5f);
    var r = new PassManager(PASS).run(shared.graph());
    assertThat(r.report().fusedCount()).isZero();
    assertThat(r.report().entries()).singleElement().satisfies(e -> assertThat(e.message()).contains("graph output"));
  }

  /** With transA = 1 the BN channels of A are the rows of the product: a scaling of output rows, refused. */
  @Test
  void refusesBatchNormBeforeTransposedA() throws Exception {
    FusionHarness h = new FusionHarness(38);
    h.input("a", 4, 3).output("y");
    h.batchNorm("bn", "a", "t", 3, 1e-5f);
    h.constant("b", -1, 1, 4, 2);
    h.node("gemm", "Gemm", List.of("t", "b"), List.of("y"), Map.of("transA", 1));
    var outcome = h.check(PASS, 0, 1, 4, 3);
    assertThat(outcome.entries()).singleElement().satisfies(e -> assertThat(e.message())
        .startsWith("kept BatchNorm bn before Gemm gemm").contains("transA = 1"));
  }

  /** Pitfall 7: a BN behind a Relu is not the Gemm's to take. */
  @Test
  void neverFoldsAcrossANonlinearity() throws Exception {
    FusionHarness h = new FusionHarness(39);
    h.input("a", 2, 4).output("y");
    h.constant("b", -1, 1, 4, 3);
    h.node("gemm", "Gemm", List.of("a", "b"), List.of("t"), Map.of());
    h.node("relu", "Relu", List.of("t"), List.of("r"), Map.of());
    h.batchNorm("bn", "r", "y", 3, 1e-5f);
    var outcome = h.check(PASS, 0, 1, 2, 4);
    assertThat(outcome.count("BatchNormalization")).isEqualTo(1);
    assertThat(outcome.entries()).isEmpty();
  }
}
