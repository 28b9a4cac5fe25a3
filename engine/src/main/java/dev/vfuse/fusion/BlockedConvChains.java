package dev.vfuse.fusion;

import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.Node;
import dev.vfuse.kernel.ConvChain;
import dev.vfuse.ops.ChannelBlockOps;
import dev.vfuse.ops.OpRegistry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Joins blocked convolutions that feed one another into one {@code ConvBlockedChain} node, which
 * runs them band by band ({@link dev.vfuse.kernel.ConvChain}): the 1×1 → depthwise → 1×1 of an
 * inverted residual block, the stem → depthwise of mobilenet_v2. A schedule, not arithmetic:
 *
 * <pre>
 *   y₁ = ConvBlocked₁(x);  y₂ = ConvBlocked₂(y₁);  …  y = ConvBlocked_S(y_{S−1})
 *   becomes  (y, y₁, …, y_{S−1}) = ConvBlockedChain(x, W₁, B₁, R₁, …, W_S, B_S, R_S)
 * </pre>
 *
 * each stage with its own weights, bias, residual R_s and activation, each output bit for bit what
 * the separate node computed (the intermediates stay outputs, so the plan gives each a buffer).
 *
 * <p>Conditions: y_s is read by the next ConvBlocked alone, as its input X (not as a residual), is
 * no graph output, and is not known ({@link SymbolicShapes}) to be at most {@link
 * ConvChain#MIN_INTERMEDIATE_BYTES}: smaller intermediates stay in L2 from one layer to the next
 * anyway, and a profile then still shows those convs one by one. When shapes are dynamic
 * (PaddleOCR models) the chain is made and binding decides ({@link ConvChain#pays}); a chain that
 * does not pay runs layer by layer inside the node. Run after {@link ChannelBlockedLayout}.
 */
public final class BlockedConvChains implements FusionPass {

  @Override
  public String name() {
    return "blocked-conv-chains";
  }

  @Override
  public void run(GraphEditor graph, FusionLog log) {
    Set<Node> chained = new HashSet<>();
    Map<Node, List<Node>> chainsByLast = new HashMap<>();
    SymbolicShapes shapes = SymbolicShapes.infer(graph);
    for (Node first : graph.nodes()) {
      if (chained.contains(first) || !isBlockedConv(first)) {
        continue;
      }
      List<Node> chain = new ArrayList<>(List.of(first));
      for (Node at = first; ; ) {
        String link = at.outputs().get(0);
        Node next = graph.soleConsumer(link);
        if (next == null || !isBlockedConv(next) || !next.input(0).equals(link)) {
          break;
        }
        long bytes = knownBytes(shapes.of(graph, link));
        if (bytes >= 0 && bytes <= ConvChain.MIN_INTERMEDIATE_BYTES) {
          log.kept(name(), "kept " + at.name() + " → " + next.name() + " apart: their " + bytes / 1024
              + " KB intermediate stays in L2 layer by layer", at.name(), next.name());
          break;
        }
        chain.add(next);
        at = next;
      }
      if (chain.size() > 1) {
        chained.addAll(chain);
        chainsByLast.put(chain.get(chain.size() - 1), chain);
      }
    }
    if (chainsByLast.isEmpty()) {
      return;
    }
    List<Node> rewritten = new ArrayList<>();
    for (Node n : graph.nodes()) {
      List<Node> chain = chainsByLast.get(n);
      if (chain != null) {
        rewritten.add(chainNode(graph, chain));
        log.fused(name(), "ran " + chain.size() + " blocked convs band by band: "
            + String.join(" → ", chain.stream().map(Node::name).toList()), chain.stream().map(Node::name).toArray(String[]::new));
      } else if (!chained.contains(n)) {
        rewritten.add(n);
      }
    }
    graph.setNodes(rewritten);
  }

  /** The bytes of a float value of this shape, or −1 when a dimension is not known. */
  private static long knownBytes(List<SymbolicShapes.Dim> shape) {
    if (shape == null) {
      return -1;
    }
    long elements = 1;
    for (SymbolicShapes.Dim d : shape) {
      if (d == null || !d.isKnown()) {
        return -1;
      }
      elements *= d.a();
    }
    return elements * Float.BYTES;
  }

  private static boolean isBlockedConv(Node n) {
    return n.domain().equals(OpRegistry.VFUSE_DOMAIN) && n.opType().equals(ChannelBlockOps.CONV) && n.outputs().size() == 1;
  }

  /** The chain's node: inputs X, then W, B, R of each stage ("" where absent); outputs y, then y₁ … y_{S−1}. */
  private static Node chainNode(GraphEditor graph, List<Node> chain) {
    List<String> inputs = new ArrayList<>(List.of(chain.get(0).input(0)));
    Map<String, Object> attributes = new HashMap<>();
    attributes.put(ChannelBlockOps.STAGES, (long) chain.size());
    for (int s = 0; s < chain.size(); s++) {
      Node stage = chain.get(s);
      inputs.add(stage.input(1));
      inputs.add(stage.input(2));
      inputs.add(stage.input(3));
      for (Map.Entry<String, Object> a : stage.attributes().toMap().entrySet()) {
        attributes.put(ChannelBlockOps.stageAttribute(s, a.getKey()), a.getValue());
      }
      if (s == 0) {
        attributes.put(ChannelBlockOps.BLOCK, stage.attributes().toMap().get(ChannelBlockOps.BLOCK));
      }
    }
    List<String> outputs = new ArrayList<>(List.of(chain.get(chain.size() - 1).outputs().get(0)));
    for (int s = 0; s < chain.size() - 1; s++) {
      outputs.add(chain.get(s).outputs().get(0));
    }
    String name = graph.freshName(chain.get(0).name() + "…" + chain.get(chain.size() - 1).name());
    return new Node(name, ChannelBlockOps.CONV_CHAIN, OpRegistry.VFUSE_DOMAIN, inputs, outputs, new Attributes(attributes));
  }
}
