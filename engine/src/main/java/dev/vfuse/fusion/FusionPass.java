package dev.vfuse.fusion;

/**
 * One load-time rewrite. A pass finds its pattern in the graph, checks the exact conditions under
 * which the rewrite preserves the computation, rewrites what qualifies and logs, for every
 * candidate, what it fused or why it left it alone.
 */
public interface FusionPass {

  /** Short name used in logs and reports, e.g. "conv-batchnorm". */
  String name();

  void run(GraphEditor graph, FusionLog log);
}
