package dev.vfuse.fusion;

import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.Node;
import dev.vfuse.ops.OpRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The last BatchNorm pass: every BatchNormalization the earlier folds left behind is folded forward
 * through a global average pool into the classifier Gemm where that is exact, and otherwise becomes
 * a {@code vfuse.ScaleShift} (y = x·scale[c] + shift[c]), with the reason no exact fold applied.
 *
 * <pre>
 *   BN → GlobalAveragePool → Flatten | Reshape → Gemm:
 *     GAP(s_c·x_c + t_c) = s_c·GAP(x)_c + t_c   (a mean of an affine map is the affine map of the mean)
 *     GAP's output [N, C, 1, …] holds channel c of sample i at flat index i·C + c, so after any
 *     flatten or reshape to [M, K] with K a multiple of C, element (m, k) is channel k mod C; the
 *     BN is then the per-column map folded into the Gemm's input (see {@link GemmBatchNormFold}):
 *     op(B)'[k, n] = s_{k mod C}·op(B)[k, n]      C'[m, n] = β·C[m, n] + α·Σ_k t_{k mod C}·op(B)[k, n]
 *   otherwise:  ScaleShift(x, scale = (float) s, shift = (float) t)   (rounded once from double)
 * </pre>
 *
 * <p>The fold applies when each of GAP, Flatten/Reshape and the BN has exactly one reader and none
 * is a graph output, and the Gemm qualifies for an input fold (transA = 0, constant B, K a multiple
 * of C, see {@link GemmBatchNormFold#foldInput}). The pool and the flatten read the BN's input
 * after the fold, so their outputs get new names: the old names carried normalized values.
 *
 * <p>No fold across MaxPool: max(s·x + t) = s·max(x) + t only for s ≥ 0, and moving the BN past
 * the pool would not remove it anyway. A BN whose parameters are not usable (not constant,
 * var + ε ≤ 0, a transform that overflows float) stays a BatchNormalization, with the reason.
 */
public final class LeftoverBatchNorm implements FusionPass {
  private static final Set<String> WEIGHTED = Set.of("Conv", "ConvTranspose", "Gemm", "MatMul");
  private static final Set<String> NONLINEAR = Set.of("Relu", "LeakyRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish",
      "Tanh", "Softmax", "MaxPool");

  @Override
  public String name() {
    return "leftover-batchnorm";
  }

  @Override
  public void run(GraphEditor g, FusionLog log) {
    for (Node bn : g.nodes()) {
      if (!bn.opType().equals("BatchNormalization") || !bn.domain().isEmpty() || !g.contains(bn)) {
        continue;
      }
      BatchNormParams p;
      switch (BatchNormParams.read(g, bn)) {
        case BatchNormParams.Usable u -> p = u.params();
        case BatchNormParams.Refused r -> {
          log.kept(name(), "kept BatchNorm " + bn.name() + ": " + r.reason(), bn.name());
          continue;
        }
      }
      String poolRefusal = foldThroughPool(g, p, log);
      if (poolRefusal != null) {
        toScaleShift(g, p, poolRefusal, log);
      }
    }
  }

  /** Folds BN → GlobalAveragePool → Flatten/Reshape → Gemm and logs; else why not ("" when the BN does not feed a pool). */
  private String foldThroughPool(GraphEditor g, BatchNormParams p, FusionLog log) {
    Node bn = p.node();
    Node pool = g.soleConsumer(bn.outputs().get(0));
    if (pool == null || !isOp(pool, "GlobalAveragePool")) {
      return "";
    }
    String via = "it feeds " + pool.describe();
    Node flat = g.soleConsumer(pool.outputs().get(0));
    if (flat == null || !(isOp(flat, "Flatten") || isOp(flat, "Reshape")) || !flat.input(0).equals(pool.outputs().get(0))) {
      return via + ", whose output is not read by a Flatten or Reshape alone";
    }
    via += " and " + flat.describe();
    Node gemm = g.soleConsumer(flat.outputs().get(0));
    if (gemm == null || !isOp(gemm, "Gemm") || !gemm.input(0).equals(flat.outputs().get(0))) {
      return via + ", whose output is not read by a Gemm's input A alone";
    }
    String pooled = g.freshName(pool.outputs().get(0) + ".pre_bn");
    String flattened = g.freshName(flat.outputs().get(0) + ".pre_bn");
    GemmBatchNormFold.Folded f = GemmBatchNormFold.foldInput(g, gemm, flattened, p.scale(), p.shift());
    if (f.refusal() != null) {
      return via + " into " + gemm.describe() + ", which cannot absorb it: " + f.refusal();
    }
    List<String> flatInputs = new ArrayList<>(flat.inputs());
    flatInputs.set(0, pooled);
    g.replace(List.of(bn, pool), GraphEditor.with(pool, pool.opType(), pool.domain(), List.of(bn.input(0)), List.of(pooled),
        pool.attributes()));
    g.replace(List.of(flat), GraphEditor.with(flat, flat.opType(), flat.domain(), flatInputs, List.of(flattened),
        flat.attributes()));
    g.replace(List.of(gemm), f.gemm());
    log.fused(name(), "fold BatchNorm " + bn.name() + " through GlobalAveragePool " + pool.name() + " and " + flat.opType() + " "
        + flat.name() + " into Gemm " + gemm.name(), bn.name(), pool.name(), flat.name(), gemm.name());
    return null;
  }

  private void toScaleShift(GraphEditor g, BatchNormParams p, String poolRefusal, FusionLog log) {
    Node bn = p.node();
    int c = p.channels();
    float[] scale = new float[c];
    float[] shift = new float[c];
    for (int i = 0; i < c; i++) {
      scale[i] = (float) p.scale()[i];
      shift[i] = (float) p.shift()[i];
    }
    String why = inputSide(g, bn) + "; " + (poolRefusal.isEmpty() ? outputSide(g, p) : poolRefusal);
    String s = g.addConstant(bn.name() + ".scale", NdArray.ofFloats(new int[] {c}, scale));
    String t = g.addConstant(bn.name() + ".shift", NdArray.ofFloats(new int[] {c}, shift));
    g.replace(List.of(bn), new Node(bn.name(), "ScaleShift", OpRegistry.VFUSE_DOMAIN, List.of(bn.input(0), s, t), bn.outputs(),
        Attributes.empty()));
    log.kept(name(), "kept BatchNorm " + bn.name() + " as ScaleShift: " + why, bn.name());
  }

  /** Why the op before the BN did not take it. */
  private static String inputSide(GraphEditor g, Node bn) {
    String x = bn.input(0);
    Node prev = g.producer(x);
    if (prev == null) {
      return "its input is a graph input";
    }
    if (WEIGHTED.contains(prev.opType())) {
      return g.readers(x) > 1 ? "the preceding " + prev.describe() + " has other readers"
          : "the preceding " + prev.describe() + " did not absorb it (see the earlier passes)";
    }
    return "it follows " + prev.describe() + (NONLINEAR.contains(prev.opType()) ? ", a nonlinearity" : ", which has no weights");
  }

  /** Why the op after the BN did not take it. */
  private static String outputSide(GraphEditor g, BatchNormParams p) {
    String y = p.node().outputs().get(0);
    if (g.isGraphOutput(y)) {
      return "its output is a graph output";
    }
    int readers = g.readers(y);
    if (readers != 1) {
      return "its output has " + readers + " readers";
    }
    Node next = g.consumers(y).get(0);
    if (WEIGHTED.contains(next.opType())) {
      return "the following " + next.describe() + " did not absorb it (see the earlier passes)";
    }
    if (next.opType().equals("MaxPool")) {
      boolean negative = java.util.Arrays.stream(p.scale()).anyMatch(v -> v < 0);
      return "it feeds " + next.describe() + (negative ? ", which does not commute with its negative scales" : ", a nonlinearity");
    }
    return "it feeds " + next.describe() + (NONLINEAR.contains(next.opType()) ? ", a nonlinearity" : ", which has no weights");
  }

  private static boolean isOp(Node n, String opType) {
    return n.opType().equals(opType) && n.domain().isEmpty();
  }
}
