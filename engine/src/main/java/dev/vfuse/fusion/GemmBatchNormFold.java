package dev.vfuse.fusion;

import dev.vfuse.ValueInfo;
import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.Node;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * BatchNormalization on either side of a matrix product with constant weights becomes one Gemm.
 *
 * <p>Gemm computes Y = α·op(A)·op(B) + β·C, op(B) of shape [K, N] (B itself is [N, K] when
 * transB = 1), C broadcast to [M, N]. A BN reads or writes the product as [M, channels] (axis 1
 * of a rank-2 tensor), and with s = γ / sqrt(var + ε), t = β_BN − μ·s (in double, see
 * {@link BatchNormParams}):
 *
 * <pre>
 *   Gemm → BN (channel n of the output):
 *     BN(Y)[m, n] = α·Σ_k op(A)[m, k]·(op(B)[k, n]·s_n) + (β·C[m, n]·s_n + t_n)
 *     op(B)'[k, n] = op(B)[k, n]·s_n      (columns of B when transB = 0, rows when transB = 1)
 *     C'[m, n]     = β·C[m, n]·s_n + t_n  (C = 0 when absent or β = 0), β' = 1, α kept
 *
 *   BN → Gemm input A (channel k of A, transA = 0):
 *     Y[m, n] = α·Σ_k A[m, k]·(s_k·op(B)[k, n]) + (β·C[m, n] + α·Σ_k t_k·op(B)[k, n])
 *     op(B)'[k, n] = s_k·op(B)[k, n]      (rows of B when transB = 0, columns when transB = 1)
 *     C'[m, n]     = β·C[m, n] + α·Σ_k t_k·op(B)[k, n]   (the sum over the original B, in double)
 * </pre>
 *
 * MatMul(A, B) with a constant matrix B and a rank-2 A is the Gemm α = 1, C absent; a MatMul → Add
 * of a constant c → BN is the Gemm with C = c. C' is stored as [N] when C has one row (scalar,
 * [1], [N], [1, N] or absent) and as [M, N] otherwise. Arithmetic in double, rounded once.
 *
 * <p>Applies when: B is a constant float matrix (and C, when read, a constant); every intermediate
 * output has exactly one reader and is not a graph output; the BN has constant parameters of
 * length N (after the product) or K (before it); for a MatMul, A has rank 2 (a rank-3 product's
 * axis 1 is not its columns); for an Add, its constant has at most two axes and one row (more rows
 * could broadcast the product's rows); for BN → Gemm, transA = 0 (with transA = 1 the BN channels
 * are the rows of op(A), a scaling of the output rows that no weight absorbs); the folded values
 * fit in float. BN before a Gemm needs no border care: its input is a matrix, nothing is padded.
 *
 * <p>Statistics for data-free bias correction flow as for a conv: Gemm → BN keeps γ and β as
 * {@link OutputStatistics}, BN → Gemm keeps the BN's running mean and variance (feature k of A
 * reading channel k mod C) as {@link LayerInputStatistics}.
 */
public final class GemmBatchNormFold implements FusionPass {
  /** Ops whose output has the rank of their first input. */
  private static final Set<String> SAME_RANK = Set.of("Relu", "LeakyRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish",
      "Tanh", "BatchNormalization", "ScaleShift", "Identity", "Dropout", "Softmax", "Cast", "Pad", "Resize", "Upsample",
      "MaxPool", "AveragePool", "GlobalAveragePool", "Transpose", "Concat", "Slice");

  @Override
  public String name() {
    return "gemm-batchnorm";
  }

  @Override
  public void run(GraphEditor g, FusionLog log) {
    for (Node bn : g.nodes()) {
      if (!bn.opType().equals("BatchNormalization") || !bn.domain().isEmpty() || !g.contains(bn)) {
        continue;
      }
      Product before = productBefore(g, bn);
      Node after = g.consumers(bn.outputs().get(0)).stream()
          .filter(n -> isOp(n, "Gemm") && n.input(0).equals(bn.outputs().get(0))).findFirst().orElse(null);
      if (before == null && after == null) {
        continue;
      }
      List<String> nodes = new ArrayList<>(List.of(bn.name()));
      List<String> where = new ArrayList<>();
      if (before != null) {
        nodes.add(before.linear().name());
        where.add("after " + before.describe());
      }
      if (after != null) {
        nodes.add(after.name());
        where.add("before Gemm " + after.name());
      }
      BatchNormParams p;
      switch (BatchNormParams.read(g, bn)) {
        case BatchNormParams.Usable u -> p = u.params();
        case BatchNormParams.Refused r -> {
          log.kept(name(), "kept BatchNorm " + bn.name() + " " + String.join(" and ", where) + ": " + r.reason(),
              nodes.toArray(String[]::new));
          continue;
        }
      }
      List<String> reasons = new ArrayList<>();
      if (before != null) {
        String refusal = foldBefore(g, p, before, log);
        if (refusal == null) {
          continue;
        }
        reasons.add(after == null ? refusal : "after: " + refusal);
      }
      if (after != null) {
        String refusal = foldAfter(g, p, after, log);
        if (refusal == null) {
          continue;
        }
        reasons.add(before == null ? refusal : "before: " + refusal);
      }
      log.kept(name(), "kept BatchNorm " + bn.name() + " " + String.join(" and ", where) + ": " + String.join("; ", reasons),
          nodes.toArray(String[]::new));
    }
  }

  /** The product a BN reads: a Gemm, a MatMul, or a MatMul followed by an Add of a constant (add null otherwise). */
  private record Product(Node linear, Node add, Node bn) {
    String describe() {
      return linear.opType() + " " + linear.name() + (add == null ? "" : " and Add " + add.name());
    }
  }

  private static Product productBefore(GraphEditor g, Node bn) {
    Node p = g.producer(bn.input(0));
    if (p == null) {
      return null;
    }
    if (isOp(p, "Gemm") || isOp(p, "MatMul")) {
      return new Product(p, null, bn);
    }
    if (isOp(p, "Add") && addConstant(g, p) >= 0) {
      Node q = g.producer(p.input(1 - addConstant(g, p)));
      return q != null && isOp(q, "MatMul") ? new Product(q, p, bn) : null;
    }
    return null;
  }

  /** Which input of a two-input Add is a constant (the first when both are), or −1. */
  private static int addConstant(GraphEditor g, Node add) {
    return add.inputs().size() != 2 ? -1 : g.constant(add.input(0)) != null ? 0 : g.constant(add.input(1)) != null ? 1 : -1;
  }

  private static boolean isOp(Node n, String opType) {
    return n.opType().equals(opType) && n.domain().isEmpty();
  }

  /** Gemm/MatMul (→ Add) → BN: folds and logs, or returns why not. */
  private String foldBefore(GraphEditor g, BatchNormParams p, Product pr, FusionLog log) {
    Node linear = pr.linear();
    boolean gemm = linear.opType().equals("Gemm");
    Node next = pr.add() != null ? pr.add() : pr.bn();
    if (g.soleConsumer(linear.outputs().get(0)) != next) {
      return "the " + linear.opType() + " output has other readers or is a graph output";
    }
    if (pr.add() != null && g.soleConsumer(pr.add().outputs().get(0)) != pr.bn()) {
      return "the Add output has other readers or is a graph output";
    }
    NdArray b = g.constant(linear.input(1));
    if (b == null || b.f == null) {
      return "its B is not a float constant";
    }
    if (b.rank() != 2) {
      return "its B has shape " + java.util.Arrays.toString(b.shape) + ", not a matrix";
    }
    Attributes a = linear.attributes();
    boolean transB = gemm && a.getInt("transB", 0) != 0;
    int n = transB ? b.shape[0] : b.shape[1];
    if (p.channels() != n) {
      return "the BatchNorm has " + p.channels() + " channels, the product " + n + " columns";
    }
    if (!gemm) {
      int rank = rank(g, linear.input(0), new HashMap<>());
      if (rank != 2) {
        return (rank < 0 ? "the rank of the MatMul's A is unknown" : "the MatMul's A has rank " + rank)
            + "; only a rank-2 product is a Gemm whose axis 1 is the N columns";
      }
    }
    double beta = 1;
    NdArray c = null;
    if (gemm && !linear.input(2).isEmpty() && a.getFloat("beta", 1f) != 0f) {
      beta = a.getFloat("beta", 1f);
      c = g.constant(linear.input(2));
      if (c == null || c.f == null) {
        return "its C is not a float constant";
      }
    } else if (pr.add() != null) {
      c = g.constant(pr.add().input(addConstant(g, pr.add())));
      if (c.f == null) {
        return "the added constant is not float";
      }
    }
    String badC = c == null ? null : checkBias(c, n, pr.add() != null);
    if (badC != null) {
      return badC;
    }
    float[] scaled = transB ? g.fold().scaleBlocks(b.f, b.shape[1], p.scale()) : scaleColumns(b.f, n, p.scale());
    int rows = rows(c);
    float[] bias = new float[rows * n];
    for (int r = 0; r < rows; r++) {
      for (int col = 0; col < n; col++) {
        double v = (c == null ? 0.0 : beta * at(c, n, r, col)) * p.scale()[col] + p.shift()[col];
        if (Math.abs(v) > Float.MAX_VALUE) {
          return "the folded bias overflows float";
        }
        bias[r * n + col] = (float) v;
      }
    }
    if (scaled == null) {
      return "the folded weights overflow float";
    }
    String bName = g.addConstant(linear.name() + ".weight_bn", NdArray.ofFloats(b.shape.clone(), scaled));
    String cName = g.addConstant(linear.name() + ".bias_bn", NdArray.ofFloats(rows == 1 ? new int[] {n} : new int[] {rows, n}, bias));
    Node fused = new Node(linear.name(), "Gemm", "", List.of(linear.input(0), bName, cName), pr.bn().outputs(),
        OutputStatistics.record(gemmAttributes(gemm ? a.getFloat("alpha", 1f) : 1f, gemm && a.getInt("transA", 0) != 0, transB),
            g.constant(pr.bn().input(1)).f, g.constant(pr.bn().input(2)).f));
    List<Node> removed = new ArrayList<>(List.of(linear, pr.bn()));
    if (pr.add() != null) {
      removed.add(1, pr.add());
    }
    g.replace(removed, fused);
    log.fused(name(), "fold BatchNorm " + pr.bn().name() + " into " + pr.describe() + (gemm ? "" : " (now a Gemm)"),
        removed.stream().map(Node::name).toArray(String[]::new));
    return null;
  }

  /** BN → Gemm: folds and logs, or returns why not. */
  private String foldAfter(GraphEditor g, BatchNormParams p, Node gemm, FusionLog log) {
    Node bn = p.node();
    if (g.soleConsumer(bn.outputs().get(0)) != gemm) {
      return "the BatchNorm output has other readers or is a graph output";
    }
    Folded f = foldInput(g, gemm, bn.input(0), p.scale(), p.shift());
    if (f.refusal() != null) {
      return f.refusal();
    }
    Node folded = f.gemm();
    NdArray b = g.constant(folded.input(1));
    int features = folded.attributes().getInt("transB", 0) != 0 ? b.shape[1] : b.shape[0];
    folded = GraphEditor.with(folded, "Gemm", "", folded.inputs(), folded.outputs(), LayerInputStatistics.record(
        folded.attributes(), repeat(g.constant(bn.input(3)).f, features), repeat(g.constant(bn.input(4)).f, features)));
    g.replace(List.of(bn, gemm), folded);
    log.fused(name(), "fold BatchNorm " + bn.name() + " into the input of Gemm " + gemm.name(), bn.name(), gemm.name());
    return null;
  }

  /** v repeated to {@code length} (a multiple of its own): feature k of a flattened [N, C, …] is channel k mod C. */
  private static float[] repeat(float[] v, int length) {
    float[] out = new float[length];
    for (int i = 0; i < length; i++) {
      out[i] = v[i % v.length];
    }
    return out;
  }

  /** A Gemm with a per-column affine map folded into its input A, or why it cannot be. */
  record Folded(Node gemm, String refusal) {}

  /**
   * The Gemm that computes {@code gemm} on op(A)[m, k] = a[m, k]·s_{k mod C} + t_{k mod C} from
   * {@code a} (C = s.length), per the BN → Gemm formula above. K a multiple of C covers a
   * [N, C, 1, …] tensor flattened or reshaped to [M, K]: element (m, k) is at flat index m·K + k,
   * whose channel is k mod C. The folded constants are added to {@code g} only on success.
   */
  static Folded foldInput(GraphEditor g, Node gemm, String a, double[] s, double[] t) {
    Attributes at = gemm.attributes();
    if (at.getInt("transA", 0) != 0) {
      return new Folded(null, "the Gemm has transA = 1, so the channels are rows of the product (an output scaling no weight absorbs)");
    }
    NdArray b = g.constant(gemm.input(1));
    if (b == null || b.f == null || b.rank() != 2) {
      return new Folded(null, "its B is not a constant float matrix");
    }
    boolean transB = at.getInt("transB", 0) != 0;
    int k = transB ? b.shape[1] : b.shape[0];
    int n = transB ? b.shape[0] : b.shape[1];
    int channels = s.length;
    if (k % channels != 0) {
      return new Folded(null, "the Gemm's inner dimension " + k + " is not a multiple of the " + channels + " channels");
    }
    double beta = at.getFloat("beta", 1f);
    NdArray c = null;
    if (!gemm.input(2).isEmpty() && beta != 0) {
      c = g.constant(gemm.input(2));
      if (c == null || c.f == null) {
        return new Folded(null, "its C is not a float constant");
      }
      String badC = checkBias(c, n, false);
      if (badC != null) {
        return new Folded(null, badC);
      }
    }
    double[] sk = new double[k];
    for (int i = 0; i < k; i++) {
      sk[i] = s[i % channels];
    }
    float[] scaled = transB ? scaleColumns(b.f, k, sk) : g.fold().scaleBlocks(b.f, n, sk);
    double alpha = at.getFloat("alpha", 1f);
    double[] carried = new double[n];
    for (int col = 0; col < n; col++) {
      double sum = 0;
      for (int i = 0; i < k; i++) {
        sum += t[i % channels] * b.f[transB ? col * k + i : i * n + col];
      }
      carried[col] = alpha * sum;
    }
    int rows = rows(c);
    float[] bias = new float[rows * n];
    for (int r = 0; r < rows; r++) {
      for (int col = 0; col < n; col++) {
        double v = (c == null ? 0.0 : beta * at(c, n, r, col)) + carried[col];
        if (Math.abs(v) > Float.MAX_VALUE) {
          return new Folded(null, "the folded bias overflows float");
        }
        bias[r * n + col] = (float) v;
      }
    }
    if (scaled == null) {
      return new Folded(null, "the folded weights overflow float");
    }
    String bName = g.addConstant(gemm.name() + ".weight_bn", NdArray.ofFloats(b.shape.clone(), scaled));
    String cName = g.addConstant(gemm.name() + ".bias_bn", NdArray.ofFloats(rows == 1 ? new int[] {n} : new int[] {rows, n}, bias));
    return new Folded(new Node(gemm.name(), "Gemm", "", List.of(a, bName, cName), gemm.outputs(),
        gemmAttributes(at.getFloat("alpha", 1f), false, transB)), null);
  }

  /**
   * Null when {@code c} broadcasts to [M, N] as a Gemm C (at most two axes, last axis 1 or N), else
   * why not; {@code oneRow} additionally asks for a single row, as an Add's constant must have to
   * leave the shape of the product unchanged.
   */
  private static String checkBias(NdArray c, int n, boolean oneRow) {
    int cols = c.rank() == 0 ? 1 : c.shape[c.rank() - 1];
    if (c.rank() > 2 || (cols != 1 && cols != n)) {
      return "its bias of shape " + java.util.Arrays.toString(c.shape) + " does not broadcast to [M, " + n + "]";
    }
    if (oneRow && rows(c) != 1) {
      return "the added constant has " + rows(c) + " rows and could broadcast the product's rows";
    }
    return null;
  }

  private static int rows(NdArray c) {
    return c == null || c.rank() < 2 ? 1 : c.shape[0];
  }

  /** c[r, col] under broadcasting to [rows(c), n]. */
  private static double at(NdArray c, int n, int r, int col) {
    int cols = c.rank() == 0 ? 1 : c.shape[c.rank() - 1];
    return c.f[(rows(c) == 1 ? 0 : r) * cols + (cols == 1 ? 0 : col)];
  }

  private static Attributes gemmAttributes(float alpha, boolean transA, boolean transB) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("alpha", alpha);
    m.put("beta", 1f);
    m.put("transA", transA ? 1L : 0L);
    m.put("transB", transB ? 1L : 0L);
    return new Attributes(m);
  }

  /** W'[i, j] = W[i, j]·scale[j] for a row-major matrix with {@code cols} columns; null on float overflow. */
  static float[] scaleColumns(float[] w, int cols, double[] scale) {
    float[] out = new float[w.length];
    for (int i = 0; i < w.length; i++) {
      double v = w[i] * scale[i % cols];
      if (Math.abs(v) > Float.MAX_VALUE) {
        return null;
      }
      out[i] = (float) v;
    }
    return out;
  }

  /**
   * The rank of {@code value} from the graph's structure (declared input ranks, constant shapes and
   * each op's rank rule), or −1 when it cannot be told without running the graph.
   */
  static int rank(GraphEditor g, String value, Map<String, Integer> memo) {
    Integer known = memo.get(value);
    if (known != null) {
      return known;
    }
    int r = -1;
    NdArray c = g.constant(value);
    Node p = c == null ? g.producer(value) : null;
    if (c != null) {
      r = c.rank();
    } else if (p == null) {
      ValueInfo in = g.inputs().stream().filter(v -> v.name().equals(value)).findFirst().orElse(null);
      r = in == null || in.rank() == 0 ? -1 : in.rank();
    } else if (p.opType().equals("Conv") || p.opType().equals("ConvTranspose")) {
      r = rank(g, p.input(1), memo);
    } else if (!p.domain().isEmpty()) {
      r = p.opType().equals("ScaleShift") ? rank(g, p.input(0), memo) : -1;
    } else if (p.opType().equals("Flatten") || p.opType().equals("Gemm")) {
      r = 2;
    } else if (p.opType().equals("Shape")) {
      r = 1;
    } else if (p.opType().equals("Reshape")) {
      NdArray shape = g.constant(p.input(1));
      r = shape == null ? -1 : shape.size();
    } else if (p.opType().equals("MatMul")) {
      int ra = rank(g, p.input(0), memo);
      int rb = rank(g, p.input(1), memo);
      r = ra < 1 || rb < 1 ? -1 : ra == 1 && rb == 1 ? 0 : ra == 1 ? rb - 1 : rb == 1 ? ra - 1 : Math.max(ra, rb);
    } else if (Set.of("Add", "Sub", "Mul", "Div").contains(p.opType())) {
      r = 0;
      for (String in : p.inputs()) {
        int ri = rank(g, in, memo);
        r = r < 0 || ri < 0 ? -1 : Math.max(r, ri);
      }
    } else if (SAME_RANK.contains(p.opType())) {
      r = rank(g, p.input(0), memo);
    }
    memo.put(value, r);
    return r;
  }
}
