package dev.vfuse.fusion;

import dev.vfuse.ir.Graph;
import dev.vfuse.ir.Node;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Runs the fusion passes in their fixed order on a constant-folded graph and reports what they did.
 *
 * <p>Order matters: BatchNorms are folded into linear neighbours first (backwards into the conv
 * that feeds them, then forwards into the conv they feed), so that parallel branches are plain
 * convs when they are merged, and activations and residual adds are fused last, into convs that no
 * longer change.
 */
public final class PassManager {
  private final List<FusionPass> passes;

  public PassManager(List<FusionPass> passes) {
    this.passes = List.copyOf(passes);
  }

  /** The standard pipeline. */
  public static PassManager standard() {
    return new PassManager(List.of(new ConvBatchNormFold(), new BatchNormConvFold()));
  }

  public List<FusionPass> passes() {
    return passes;
  }

  public record Result(Graph graph, FusionReport report) {}

  public Result run(Graph graph) {
    FusionLog log = new FusionLog();
    GraphEditor editor = new GraphEditor(graph);
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
