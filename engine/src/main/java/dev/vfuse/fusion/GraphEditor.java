package dev.vfuse.fusion;

import dev.vfuse.ValueInfo;
import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.Graph;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.Node;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A mutable working copy of a {@link Graph} for fusion passes: look up producers, consumers and
 * constants, add constants under fresh names, and replace a connected group of nodes by one.
 *
 * <p>Order rule: a replacement takes the position of the last node it replaces. Its inputs were
 * inputs of the replaced nodes (or new constants), all defined before the first of them, and the
 * readers of its output came after the last, so topological order holds.
 */
public final class GraphEditor {
  private final List<Node> nodes;
  private final Map<String, NdArray> constants;
  private final List<ValueInfo> inputs;
  private final List<ValueInfo> outputs;
  private final int opset;
  private final Set<String> names = new HashSet<>();
  private final FoldMath fold;

  /** An editor whose fold arithmetic is the scalar reference. */
  public GraphEditor(Graph g) {
    this(g, FoldMath.reference());
  }

  /** An editor whose passes fold with {@code fold}. */
  public GraphEditor(Graph g, FoldMath fold) {
    this.fold = Objects.requireNonNull(fold, "fold");
    nodes = new ArrayList<>(g.nodes());
    constants = new LinkedHashMap<>(g.constants());
    inputs = g.inputs();
    outputs = g.outputs();
    opset = g.opset();
    names.addAll(constants.keySet());
    inputs.forEach(v -> names.add(v.name()));
    for (Node n : nodes) {
      names.add(n.name());
      names.addAll(n.inputs());
      names.addAll(n.outputs());
    }
  }

  public Graph build() {
    return dev.vfuse.exec.Program.withReferencedConstants(new Graph(nodes, constants, inputs, outputs, opset));
  }

  /** The fold arithmetic the passes of this run use. */
  public FoldMath fold() {
    return fold;
  }

  public int opset() {
    return opset;
  }

  /** The declared graph inputs. */
  public List<ValueInfo> inputs() {
    return inputs;
  }

  /** The nodes in topological order, as a snapshot that later edits do not change. */
  public List<Node> nodes() {
    return List.copyOf(nodes);
  }

  /** Whether {@code n} is still in the graph (an earlier edit may have replaced it). */
  public boolean contains(Node n) {
    return nodes.contains(n);
  }

  /** The node that produces {@code value}, or null for graph inputs and constants. */
  public Node producer(String value) {
    for (Node n : nodes) {
      if (n.outputs().contains(value)) {
        return n;
      }
    }
    return null;
  }

  /** The nodes that read {@code value}, each once, in graph order. */
  public List<Node> consumers(String value) {
    List<Node> out = new ArrayList<>();
    for (Node n : nodes) {
      if (n.inputs().contains(value)) {
        out.add(n);
      }
    }
    return out;
  }

  /** How many node inputs read {@code value}, counting a node that reads it twice twice, plus one if it is a graph output. */
  public int readers(String value) {
    int count = isGraphOutput(value) ? 1 : 0;
    for (Node n : nodes) {
      for (String in : n.inputs()) {
        if (in.equals(value)) {
          count++;
        }
      }
    }
    return count;
  }

  /** The node that alone reads {@code value}, or null when it has several readers or is a graph output. */
  public Node soleConsumer(String value) {
    if (readers(value) != 1) {
      return null;
    }
    List<Node> c = consumers(value);
    return c.isEmpty() ? null : c.get(0);
  }

  public boolean isGraphOutput(String value) {
    return outputs.stream().anyMatch(v -> v.name().equals(value));
  }

  /** The constant named {@code value}, or null when it is not a constant. */
  public NdArray constant(String value) {
    return value == null || value.isEmpty() ? null : constants.get(value);
  }

  /** Stores a new constant under a fresh name derived from {@code hint} and returns the name. */
  public String addConstant(String hint, NdArray value) {
    String name = freshName(hint);
    constants.put(name, value);
    return name;
  }

  /** A name used by no node, value or constant yet. */
  public String freshName(String hint) {
    String name = hint;
    for (int i = 1; names.contains(name); i++) {
      name = hint + "_" + i;
    }
    names.add(name);
    return name;
  }

  /** Replaces {@code removed} (all present) by {@code replacement} at the position of the last one. */
  public void replace(List<Node> removed, Node replacement) {
    int last = -1;
    for (Node r : removed) {
      int i = nodes.indexOf(r);
      if (i < 0) {
        throw new IllegalStateException("node " + r.name() + " is not in the graph");
      }
      last = Math.max(last, i);
    }
    Node displaced = nodes.set(last, replacement);
    for (Node r : removed) {
      if (r != displaced) {
        nodes.remove(r);
      }
    }
    names.add(replacement.name());
  }

  /**
   * Replaces every node by {@code rewritten}, still in topological order: for a pass that rewrites
   * the graph as a whole (the layout pass), whose new nodes use names from {@link #freshName}.
   */
  public void setNodes(List<Node> rewritten) {
    nodes.clear();
    nodes.addAll(rewritten);
    rewritten.forEach(n -> names.add(n.name()));
  }

  /** A copy of {@code n} with other inputs, outputs, attributes or domain. */
  public static Node with(Node n, String opType, String domain, List<String> inputs, List<String> outputs, Attributes attributes) {
    return new Node(n.name(), opType, domain, inputs, outputs, attributes);
  }
}
