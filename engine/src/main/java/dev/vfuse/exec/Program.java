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
import dev.vfuse.ops.Workspace;
import dev.vfuse.kernel.Kernels;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A graph ready to plan: every node has its operator and every value a dense id. Immutable after
 * construction. {@link #foldConstants} prepares the graph it is compiled from.
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
  /** The bytes one plan may hold, see {@link dev.vfuse.ModelOptions#memoryLimit()}. */
  final long memoryLimit;

  private Program(Graph graph, List<Op> ops, long memoryLimit) {
    this.graph = graph;
    this.memoryLimit = memoryLimit;
    this.nodes = graph.nodes();
    this.ops = ops;
    Map<String, Integer> ids = new HashMap<>();
    graph.constants().keySet().forEach(name -> ids.putIfAbsent(name, ids.size()));
    graph.inputs().forEach(v -> ids.putIfAbsent(v.name(), ids.size()));
    for (Node n : nodes) {
      for (String name : n.inputs()) {
        if (!name.isEmpty()) {
          ids.putIfAbsent(name, ids.size());
        }
      }
      for (String name : n.outputs()) {
        if (!name.isEmpty()) {
          ids.putIfAbsent(name, ids.size());
        }
      }
    }
    this.ids = Map.copyOf(ids);
    this.valueCount = ids.size();
    this.constants = new NdArray[valueCount];
    graph.constants().forEach((name, value) -> constants[ids.get(name)] = value);
    this.nodeInputs = new int[nodes.size()][];
    this.nodeOutputs = new int[nodes.size()][];
    for (int i = 0; i < nodes.size(); i++) {
      nodeInputs[i] = nodes.get(i).inputs().stream().mapToInt(n -> n.isEmpty() ? -1 : ids.get(n)).toArray();
      nodeOutputs[i] = nodes.get(i).outputs().stream().mapToInt(n -> n.isEmpty() ? -1 : ids.get(n)).toArray();
    }
    this.graphInputIds = graph.inputs().stream().mapToInt(v -> ids.get(v.name())).toArray();
    this.graphOutputIds = graph.outputs().stream().mapToInt(v -> ids.get(v.name())).toArray();
  }

  /**
   * Checks that every op is supported and every weight finite, then evaluates once every node whose
   * inputs are all constant (weight and shape arithmetic, PaddlePaddle's Reshape(Constant) biases).
   * Returns the remaining nodes with the constants they read.
   */
  public static Graph foldConstants(Graph graph, Kernels kernels) throws UnsupportedOperatorException, ModelFormatException {
    return foldConstants(graph, kernels, dev.vfuse.ModelOptions.defaultMemoryLimit());
  }

  /** {@link #foldConstants(Graph, Kernels)}, refusing a folded value larger than {@code memoryLimit} bytes. */
  public static Graph foldConstants(Graph graph, Kernels kernels, long memoryLimit)
      throws UnsupportedOperatorException, ModelFormatException {
    for (Node n : graph.nodes()) {
      if (!OpRegistry.isSupported(n)) {
        String op = n.domain().isEmpty() ? n.opType() : n.domain() + "." + n.opType();
        throw new UnsupportedOperatorException(op, n.name(), "unsupported operator '" + op + "' at node '" + n.name()
            + "'; vfuse supports " + String.join(", ", OpRegistry.SUPPORTED));
      }
      create(n, graph.opset()); // attributes out of range fail here, naming the node, before any pass reads them
    }
    checkFiniteWeights(graph);
    Map<String, NdArray> constants = new HashMap<>(graph.constants());
    List<Node> kept = new ArrayList<>();
    for (Node n : graph.nodes()) {
      Value[] in = new Value[n.inputs().size()];
      boolean allConstant = true;
      for (int i = 0; i < in.length && allConstant; i++) {
        String name = n.inputs().get(i);
        if (!name.isEmpty()) {
          NdArray c = constants.get(name);
          allConstant = c != null;
          in[i] = c == null ? null : Value.known(c);
        }
      }
      if (!allConstant) {
        kept.add(n);
        continue;
      }
      NdArray[] out = evaluate(n, create(n, graph.opset()), in, kernels, memoryLimit, ModelFormatException::new);
      for (int i = 0; i < n.outputs().size(); i++) {
        if (!n.outputs().get(i).isEmpty()) {
          constants.put(n.outputs().get(i), out[i]);
        }
      }
    }
    for (Node n : kept) {
      boolean conv = n.opType().equals("Conv") || n.opType().equals("ConvTranspose");
      NdArray w = conv && n.inputs().size() > 1 ? constants.get(n.inputs().get(1)) : null;
      if (w != null && n.domain().isEmpty()) {
        try {
          NdArray bias = n.inputs().size() > 2 ? constants.get(n.inputs().get(2)) : null;
          dev.vfuse.ops.ConvGeometries.checkWeight(n.attributes(), n.opType().equals("ConvTranspose"), w.shape,
              bias == null ? null : bias.shape);
        } catch (ShapeException e) {
          throw new ModelFormatException(n.name(), n.opType() + ": " + e.getMessage());
        }
      }
    }
    return withReferencedConstants(new Graph(kept, constants, graph.inputs(), graph.outputs(), graph.opset()));
  }

  /** The same graph with only the constants that a node or a graph output reads. */
  public static Graph withReferencedConstants(Graph g) {
    java.util.Set<String> used = new java.util.HashSet<>();
    g.nodes().forEach(n -> used.addAll(n.inputs()));
    g.outputs().forEach(v -> used.add(v.name()));
    Map<String, NdArray> c = new LinkedHashMap<>();
    g.constants().forEach((name, value) -> {
      if (used.contains(name)) {
        c.put(name, value);
      }
    });
    return new Graph(g.nodes(), c, g.inputs(), g.outputs(), g.opset());
  }

  /** Reads every node's attributes into its operator; plans may hold {@link dev.vfuse.ModelOptions#defaultMemoryLimit()}. */
  public static Program compile(Graph graph) throws ModelFormatException {
    return compile(graph, dev.vfuse.ModelOptions.defaultMemoryLimit());
  }

  /** Reads every node's attributes into its operator; each plan may hold at most {@code memoryLimit} bytes. */
  public static Program compile(Graph graph, long memoryLimit) throws ModelFormatException {
    List<Op> ops = new ArrayList<>();
    for (Node n : graph.nodes()) {
      ops.add(create(n, graph.opset()));
    }
    return new Program(graph, List.copyOf(ops), memoryLimit);
  }

  private static Op create(Node n, int opset) throws ModelFormatException {
    try {
      return OpRegistry.create(n, opset);
    } catch (ShapeException e) {
      throw new ModelFormatException(n.name(), n.opType() + ": " + e.getMessage());
    }
  }

  /** Evaluates one node on given inputs (null for omitted ones), outside any plan: for checks and tools. */
  public static NdArray[] evaluateNode(Node n, int opset, NdArray[] inputs, Kernels kernels) throws ModelFormatException {
    Value[] in = new Value[inputs.length];
    for (int i = 0; i < in.length; i++) {
      in[i] = inputs[i] == null ? null : Value.known(inputs[i]);
    }
    return evaluate(n, create(n, opset), in, kernels, dev.vfuse.ModelOptions.defaultMemoryLimit(), ModelFormatException::new);
  }

  /**
   * Binds one node once for inputs of the shapes of {@code example}, its first input's contents
   * left open, so that it runs on many first inputs of that shape: load-time tools that run a conv
   * on many samples then pack its weights once instead of once per sample.
   */
  public static Reusable bindReusable(Node n, int opset, NdArray[] example, Kernels kernels) throws ModelFormatException {
    Value[] in = new Value[example.length];
    in[0] = Value.of(example[0].type, example[0].shape);
    for (int i = 1; i < in.length; i++) {
      in[i] = example[i] == null ? null : Value.known(example[i]);
    }
    return new Reusable(n, bind(n, create(n, opset), in, kernels, dev.vfuse.ModelOptions.defaultMemoryLimit(),
        ModelFormatException::new), example[0].shape.clone());
  }

  /** A node bound by {@link #bindReusable}. */
  public static final class Reusable {
    private final Node node;
    private final Bound bound;
    private final int[] firstShape;
    private final Workspace workspace;

    private Reusable(Node node, Bound bound, int[] firstShape) {
      this.node = node;
      this.bound = bound;
      this.firstShape = firstShape;
      this.workspace = Workspace.serial(bound.scratchPerWorker());
    }

    /** Whether {@link #run} takes a first input of this shape. */
    public boolean accepts(NdArray first) {
      return java.util.Arrays.equals(first.shape, firstShape);
    }

    /** The node's outputs, fresh, for inputs whose later entries are the ones it was bound with. */
    public NdArray[] run(NdArray[] inputs, Kernels kernels) throws ModelFormatException {
      if (!accepts(inputs[0])) {
        throw new IllegalArgumentException("bound for a first input of shape " + java.util.Arrays.toString(firstShape));
      }
      NdArray[] out = new NdArray[bound.outputTypes().length];
      for (int i = 0; i < out.length; i++) {
        out[i] = NdArray.allocate(bound.outputTypes()[i], bound.outputShapes()[i]);
      }
      try {
        bound.compute().run(inputs, out, kernels, workspace);
      } catch (ShapeException e) {
        throw new ModelFormatException(node.name(), node.opType() + ": " + e.getMessage(), null);
      }
      return out;
    }
  }

  /** How a failure while evaluating a node is reported: at load it is a model fault, at plan time an input fault. */
  @FunctionalInterface
  interface NodeError<E extends Exception> {
    E create(String node, String message, Throwable cause);
  }

  /** Binds and runs one node on inputs whose contents are all known, returning fresh outputs. */
  static <E extends Exception> NdArray[] evaluate(Node n, Op op, Value[] in, Kernels kernels, long memoryLimit,
      NodeError<E> error) throws E {
    Bound b = bind(n, op, in, kernels, memoryLimit, error);
    for (int i = 0; i < b.outputTypes().length; i++) {
      long bytes = MemoryLimit.bytes(b.outputTypes()[i], b.outputShapes()[i]);
      if (bytes > memoryLimit) {
        throw error.create(n.name(), n.opType() + ": output " + i + " of shape " + java.util.Arrays.toString(b.outputShapes()[i])
            + " needs " + MemoryLimit.over(bytes, memoryLimit), null);
      }
    }
    NdArray[] inputs = new NdArray[in.length];
    for (int i = 0; i < in.length; i++) {
      inputs[i] = in[i] == null ? null : in[i].constant();
    }
    NdArray[] out = new NdArray[b.outputTypes().length];
    try {
      for (int i = 0; i < out.length; i++) {
        out[i] = NdArray.allocate(b.outputTypes()[i], b.outputShapes()[i]);
      }
      b.compute().run(inputs, out, kernels, Workspace.serial(b.scratchPerWorker()));
    } catch (ShapeException e) {
      throw error.create(n.name(), n.opType() + ": " + e.getMessage(), null);
    }
    return out;
  }

  /**
   * Binds one node, after checking that what a convolution allocates while binding (see
   * {@link MemoryLimit#bindBytes}) fits {@code memoryLimit}.
   */
  static <E extends Exception> Bound bind(Node n, Op op, Value[] in, Kernels kernels, long memoryLimit, NodeError<E> error)
      throws E {
    if (in.length == 0 || in[0] == null) {
      // Every operator vfuse runs requires its first input; the others check the rest.
      throw error.create(n.name(), n.opType() + ": its first input is missing", null);
    }
    long bindBytes = MemoryLimit.bindBytes(n, in);
    if (bindBytes > memoryLimit) {
      throw error.create(n.name(), n.describe() + " on input " + java.util.Arrays.toString(in[0].shape()) + " needs "
          + MemoryLimit.over(bindBytes, memoryLimit) + " for its padded input and output", null);
    }
    Bound b;
    try {
      b = op.bind(in, kernels);
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

  /** The graph this program runs. */
  public Graph graph() {
    return graph;
  }

  public List<ValueInfo> inputs() {
    return graph.inputs();
  }

  public List<ValueInfo> outputs() {
    return graph.outputs();
  }
}
