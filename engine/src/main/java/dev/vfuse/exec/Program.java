package dev.vfuse.exec;

import dev.vfuse.ModelFormatException;
import dev.vfuse.UnsupportedOperatorException;
import dev.vfuse.ValueInfo;
import dev.vfuse.ir.Graph;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.Node;
import dev.vfuse.ir.ShapeException;
import dev.vfuse.ops.Bound;
import dev.vfuse.ops.Op;
import dev.vfuse.ops.OpRegistry;
import dev.vfuse.ops.Value;
import dev.vfuse.kernel.Kernels;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A graph ready to plan: every node has its operator, every value a dense id, and every node whose
 * inputs are all constant has been evaluated once at load (constant folding of weight and shape
 * arithmetic). Immutable after construction.
 */
public final class Program {
  final Graph graph;
  final List<Node> nodes;
  final List<Op> ops;
  final int[][] nodeInputs;
  final int[][] nodeOutputs;
  final Map<String, Integer> ids;
  final NdArray[] constants;
  final int[] graphInputIds;
  final int[] graphOutputIds;
  final int valueCount;
  private final Graph folded;

  private Program(Graph graph, List<Node> nodes, List<Op> ops, Map<String, Integer> ids, NdArray[] constants) {
    this.graph = graph;
    this.nodes = nodes;
    this.ops = ops;
    this.ids = ids;
    this.constants = constants;
    this.valueCount = ids.size();
    this.nodeInputs = new int[nodes.size()][];
    this.nodeOutputs = new int[nodes.size()][];
    for (int i = 0; i < nodes.size(); i++) {
      nodeInputs[i] = nodes.get(i).inputs().stream().mapToInt(n -> n.isEmpty() ? -1 : ids.get(n)).toArray();
      nodeOutputs[i] = nodes.get(i).outputs().stream().mapToInt(n -> n.isEmpty() ? -1 : ids.get(n)).toArray();
    }
    this.graphInputIds = graph.inputs().stream().mapToInt(v -> ids.get(v.name())).toArray();
    this.graphOutputIds = graph.outputs().stream().mapToInt(v -> ids.get(v.name())).toArray();
    Map<String, NdArray> c = new LinkedHashMap<>();
    ids.forEach((name, id) -> {
      if (constants[id] != null) {
        c.put(name, constants[id]);
      }
    });
    this.folded = new Graph(nodes, c, graph.inputs(), graph.outputs(), graph.opset());
  }

  /**
   * Checks that every op is supported, reads every node's attributes, rejects non-finite weights
   * and folds constant subgraphs.
   */
  public static Program compile(Graph graph, Kernels kernels) throws UnsupportedOperatorException, ModelFormatException {
    for (Node n : graph.nodes()) {
      if (!OpRegistry.isSupported(n)) {
        String op = n.domain().isEmpty() ? n.opType() : n.domain() + "." + n.opType();
        throw new UnsupportedOperatorException(op, n.name(), "unsupported operator '" + op + "' at node '" + n.name()
            + "'; vfuse supports " + String.join(", ", OpRegistry.SUPPORTED));
      }
    }
    checkFiniteWeights(graph);

    Map<String, Integer> ids = new HashMap<>();
    graph.constants().keySet().forEach(name -> ids.putIfAbsent(name, ids.size()));
    graph.inputs().forEach(v -> ids.putIfAbsent(v.name(), ids.size()));
    for (Node n : graph.nodes()) {
      n.inputs().forEach(name -> {
        if (!name.isEmpty()) {
          ids.putIfAbsent(name, ids.size());
        }
      });
      n.outputs().forEach(name -> {
        if (!name.isEmpty()) {
          ids.putIfAbsent(name, ids.size());
        }
      });
    }
    NdArray[] constants = new NdArray[ids.size()];
    graph.constants().forEach((name, value) -> constants[ids.get(name)] = value);

    List<Node> kept = new ArrayList<>();
    List<Op> ops = new ArrayList<>();
    for (Node n : graph.nodes()) {
      Op op;
      try {
        op = OpRegistry.create(n, graph.opset());
      } catch (ShapeException e) {
        throw new ModelFormatException(n.name(), n.opType() + ": " + e.getMessage());
      }
      boolean allConstant = true;
      Value[] in = new Value[n.inputs().size()];
      for (int i = 0; i < in.length; i++) {
        String name = n.inputs().get(i);
        if (name.isEmpty()) {
          continue;
        }
        NdArray c = constants[ids.get(name)];
        if (c == null) {
          allConstant = false;
          break;
        }
        in[i] = Value.known(c);
      }
      if (allConstant) {
        NdArray[] out = evaluate(n, op, in, kernels, ModelFormatException::new);
        for (int i = 0; i < out.length; i++) {
          if (!n.outputs().get(i).isEmpty()) {
            constants[ids.get(n.outputs().get(i))] = out[i];
          }
        }
      } else {
        kept.add(n);
        ops.add(op);
      }
    }
    return new Program(graph, List.copyOf(kept), List.copyOf(ops), Map.copyOf(ids), constants);
  }

  /** How a failure while evaluating a node is reported: at load it is a model fault, at plan time an input fault. */
  @FunctionalInterface
  interface NodeError<E extends Exception> {
    E create(String node, String message, Throwable cause);
  }

  /** Binds and runs one node on inputs whose contents are all known, returning fresh outputs. */
  static <E extends Exception> NdArray[] evaluate(Node n, Op op, Value[] in, Kernels kernels, NodeError<E> error) throws E {
    Bound b = bind(n, op, in, error);
    NdArray[] inputs = new NdArray[in.length];
    for (int i = 0; i < in.length; i++) {
      inputs[i] = in[i] == null ? null : in[i].constant();
    }
    NdArray[] out = new NdArray[b.outputTypes().length];
    for (int i = 0; i < out.length; i++) {
      out[i] = NdArray.allocate(b.outputTypes()[i], b.outputShapes()[i]);
    }
    try {
      b.compute().run(inputs, out, kernels);
    } catch (ShapeException e) {
      throw error.create(n.name(), n.opType() + ": " + e.getMessage(), null);
    }
    return out;
  }

  static <E extends Exception> Bound bind(Node n, Op op, Value[] in, NodeError<E> error) throws E {
    Bound b;
    try {
      b = op.bind(in);
    } catch (ShapeException | IllegalArgumentException e) {
      throw error.create(n.name(), n.opType() + ": " + e.getMessage(), null);
    }
    int declared = n.outputs().size();
    if (b.outputTypes().length < declared) {
      throw error.create(n.name(), n.opType() + " produces " + b.outputTypes().length + " output(s), the node declares " + declared, null);
    }
    return b;
  }

  /** Fails on the first NaN or infinite float weight, naming the first node that reads it. */
  private static void checkFiniteWeights(Graph graph) throws ModelFormatException {
    for (Node n : graph.nodes()) {
      for (int i = 0; i < n.inputs().size(); i++) {
        boolean bound = n.opType().equals("Clip") && i > 0; // ±inf is a legitimate Clip bound
        NdArray c = graph.constants().get(n.inputs().get(i));
        if (bound || c == null || c.f == null) {
          continue;
        }
        for (int e = 0; e < c.f.length; e++) {
          if (!Float.isFinite(c.f[e])) {
            throw new ModelFormatException(n.name(), "weight '" + n.inputs().get(i) + "' of " + n.describe() + " holds "
                + c.f[e] + " at flat index " + e + "; weights must be finite");
          }
        }
      }
    }
  }

  /** The graph after load-time folding: remaining nodes plus all constants, folded ones included. */
  public Graph foldedGraph() {
    return folded;
  }

  public List<ValueInfo> inputs() {
    return graph.inputs();
  }

  public List<ValueInfo> outputs() {
    return graph.outputs();
  }
}
