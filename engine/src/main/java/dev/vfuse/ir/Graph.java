package dev.vfuse.ir;

import dev.vfuse.ValueInfo;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model as the engine sees it: nodes in topological order, constant tensors by value name
 * (initializers and Constant node outputs alike), and the declared graph inputs and outputs.
 * Passes produce new Graphs; a Graph is never changed once built.
 */
public record Graph(List<Node> nodes, Map<String, NdArray> constants, List<ValueInfo> inputs, List<ValueInfo> outputs, int opset) {

  public Graph {
    nodes = List.copyOf(nodes);
    constants = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(constants));
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
  }

  /** Node count per op type, sorted by op type. */
  public Map<String, Integer> opHistogram() {
    Map<String, Integer> h = new java.util.TreeMap<>();
    for (Node n : nodes) {
      h.merge(n.opType(), 1, Integer::sum);
    }
    return h;
  }
}
