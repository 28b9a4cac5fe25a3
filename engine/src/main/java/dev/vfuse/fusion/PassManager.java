package dev.vfuse.fusion;

import dev.vfuse.ir.Graph;
import dev.vfuse.ir.Node;
import dev.vfuse.kernel.FoldArithmetic;
import dev.vfuse.reference.ReferenceKernels;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Runs the fusion passes in their fixed order on a constant-folded graph and reports what they did.
 *
 * <p>Order matters. Backward folds first (BN and per-channel Mul/Add into the conv or Gemm that
 * feeds them, PaddlePaddle's Reshape → Add bias included), so that branches are plain convs with
 * biases; then sequential and parallel conv merges, before the epilogue pass could mistake a
 * branch Add for a residual; then BNs folded forward into the conv they feed (shift taps), then
 * what is left of BN as a scale-shift; activations and residual adds last, into convs that no
 * longer change, since every fold refuses a conv that already applies a nonlinearity. The
 * LayerNorm pass touches no conv or BN and runs last.
 */
public final class PassManager {
  private final List<FusionPass> passes;
  private final FoldArithmetic arithmetic;

  /** The passes, folding with the scalar reference arithmetic. */
  public PassManager(List<FusionPass> passes) {
    this(passes, new ReferenceKernels());
  }

  /** The passes, folding with {@code arithmetic} (a backend's {@link dev.vfuse.kernel.Kernels}). */
  public PassManager(List<FusionPass> passes, FoldArithmetic arithmetic) {
    this.passes = List.copyOf(passes);
    this.arithmetic = Objects.requireNonNull(arithmetic, "arithmetic");
  }

  /** The standard pipeline on the scalar reference arithmetic. */
  public static PassManager standard() {
    return standard(new ReferenceKernels());
  }

  /** The standard pipeline, folding with {@code arithmetic}. */
  public static PassManager standard(FoldArithmetic arithmetic) {
    return new PassManager(List.of(
        new ConvBatchNormFold(),
        new ConvAffineFold(),
        new GemmBatchNormFold(),
        new SequentialConvMerge(),
        new BranchMerge(),
        new BatchNormConvFold(),
        new LeftoverBatchNorm(),
        new ConvEpilogueFusion(),
        new LayerNormFusion()), arithmetic);
  }

  public List<FusionPass> passes() {
    return passes;
  }

  public record Result(Graph graph, FusionReport report) {}

  public Result run(Graph graph) {
    FusionLog log = new FusionLog();
    GraphEditor editor = new GraphEditor(graph, new FoldMath(arithmetic));
    for (FusionPass pass : passes) {
      pass.run(editor, log);
    }
    Graph fused = editor.build();
    return new Result(fused, new FusionReport(histogram(graph), histogram(fused), log.entries(), List.of()));
  }

  /** Node count per op type; vfuse's fused nodes count under the op they extend. */
  public static Map<String, Integer> histogram(Graph g) {
    Map<String, Integer> h = new TreeMap<>();
    for (Node n : g.nodes()) {
      h.merge(n.opType(), 1, Integer::sum);
    }
    return h;
  }
}
