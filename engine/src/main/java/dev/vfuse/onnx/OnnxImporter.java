package dev.vfuse.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.vfuse.ElementType;
import dev.vfuse.ModelFormatException;
import dev.vfuse.UnsupportedOperatorException;
import dev.vfuse.ValueInfo;
import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.Graph;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.Node;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads an ONNX model (protobuf, through the generated {@code ai.onnx.proto.OnnxMl} classes) into
 * a {@link Graph}: initializers and Constant nodes become constants, nodes are put in topological
 * order, and every structural fault is reported with the node it concerns.
 */
public final class OnnxImporter {
  /** Opsets of the default domain whose operator semantics vfuse implements. */
  public static final int MIN_OPSET = 7;
  public static final int MAX_OPSET = 17;
  /** The highest rank a {@link dev.vfuse.Tensor} has, so the highest a graph input may declare. */
  private static final int MAX_INPUT_RANK = 8;

  private OnnxImporter() {}

  /** The result of an import: the graph plus model metadata the graph itself does not carry. */
  public record Imported(Graph graph, String producer) {}

  public static Imported read(byte[] bytes) throws ModelFormatException, UnsupportedOperatorException {
    ModelProto model;
    try {
      model = ModelProto.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new ModelFormatException("not a readable ONNX model (" + bytes.length + " bytes; the file is truncated, "
          + "corrupt or not ONNX): " + e.getMessage());
    }
    if (model.getIrVersion() <= 0 || !model.hasGraph() || model.getGraph().getNodeCount() == 0) {
      throw new ModelFormatException("not an ONNX model: " + bytes.length + " bytes with "
          + (model.getIrVersion() <= 0 ? "no IR version" : "no graph nodes") + " (the file is truncated, corrupt or not ONNX)");
    }
    int opset = defaultOpset(model);
    GraphProto g = model.getGraph();
    String producer = (model.getProducerName() + " " + model.getProducerVersion()).trim();

    Map<String, NdArray> constants = new LinkedHashMap<>();
    for (TensorProto t : g.getInitializerList()) {
      constants.put(t.getName(), OnnxTensors.toNdArray(t, null));
    }

    List<Node> nodes = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (int i = 0; i < g.getNodeCount(); i++) {
      NodeProto np = g.getNode(i);
      String name = np.getName().isEmpty() ? np.getOpType() + "_" + i : np.getName();
      if (!names.add(name)) {
        name = name + "_" + i;
        names.add(name);
      }
      String domain = np.getDomain().equals("ai.onnx") ? "" : np.getDomain();
      Attributes attributes = attributes(np, name);
      if (domain.isEmpty() && np.getOpType().equals("Constant")) {
        if (np.getOutputCount() != 1) {
          throw new ModelFormatException(name, "Constant must have exactly one output");
        }
        constants.put(np.getOutput(0), constantValue(attributes, name));
        continue;
      }
      if (np.getOutputCount() == 0 || np.getOutput(0).isEmpty()) {
        // Every operator's first output is required (ONNX Runtime refuses the node too); a step
        // without it would have nowhere to write.
        throw new ModelFormatException(name, np.getOpType() + ": its first output is missing");
      }
      nodes.add(new Node(name, np.getOpType(), domain, np.getInputList(), np.getOutputList(), attributes));
    }

    List<ValueInfo> inputs = new ArrayList<>();
    for (ValueInfoProto vi : g.getInputList()) {
      if (!constants.containsKey(vi.getName())) {
        inputs.add(valueInfo(vi, true));
      }
    }
    List<ValueInfo> outputs = new ArrayList<>();
    for (ValueInfoProto vi : g.getOutputList()) {
      outputs.add(valueInfo(vi, false));
    }
    List<Node> sorted = topologicalOrder(nodes, constants.keySet(), inputs, outputs);
    return new Imported(new Graph(sorted, constants, inputs, outputs, opset), producer);
  }

  private static int defaultOpset(ModelProto model) throws UnsupportedOperatorException, ModelFormatException {
    for (OperatorSetIdProto o : model.getOpsetImportList()) {
      if (o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx")) {
        long v = o.getVersion();
        if (v < MIN_OPSET || v > MAX_OPSET) {
          throw new UnsupportedOperatorException("opset " + v, null, "the model uses ONNX opset " + v
              + "; vfuse supports opsets " + MIN_OPSET + " to " + MAX_OPSET);
        }
        return (int) v;
      }
    }
    throw new ModelFormatException("the model imports no version of the default ONNX operator set");
  }

  /**
   * The kind every operator of the default domain that vfuse runs gives these attribute names (the
   * ONNX schemas; "value" differs between Constant and Pad and is left to the operator). Checked at
   * import so that a file with, say, an INT kernel_shape fails here, naming the node, instead of in
   * whichever pass reads the attribute first. A FLOAT attribute may also be written as an INT.
   */
  private static final Map<String, AttributeProto.AttributeType> KINDS = kinds();

  private static Map<String, AttributeProto.AttributeType> kinds() {
    Map<String, AttributeProto.AttributeType> kinds = new HashMap<>();
    for (String name : List.of("kernel_shape", "pads", "strides", "dilations", "output_padding", "output_shape", "perm", "axes")) {
      kinds.put(name, AttributeProto.AttributeType.INTS);
    }
    for (String name : List.of("group", "axis", "transA", "transB", "ceil_mode", "count_include_pad", "keepdims", "to",
        "storage_order", "exclude_outside", "noop_with_empty_axes", "training_mode")) {
      kinds.put(name, AttributeProto.AttributeType.INT);
    }
    for (String name : List.of("alpha", "beta", "epsilon", "momentum", "min", "max", "cubic_coeff_a", "extrapolation_value")) {
      kinds.put(name, AttributeProto.AttributeType.FLOAT);
    }
    for (String name : List.of("auto_pad", "mode", "coordinate_transformation_mode", "nearest_mode")) {
      kinds.put(name, AttributeProto.AttributeType.STRING);
    }
    return Map.copyOf(kinds);
  }

  private static void checkKind(AttributeProto a, NodeProto np, String nodeName) throws ModelFormatException {
    AttributeProto.AttributeType expected = KINDS.get(a.getName());
    boolean defaultDomain = np.getDomain().isEmpty() || np.getDomain().equals("ai.onnx");
    boolean intForFloat = expected == AttributeProto.AttributeType.FLOAT && a.getType() == AttributeProto.AttributeType.INT;
    if (defaultDomain && expected != null && a.getType() != expected && !intForFloat) {
      throw new ModelFormatException(nodeName, "attribute '" + a.getName() + "' of " + np.getOpType() + " must be "
          + expected + ", found " + a.getType());
    }
  }

  private static Attributes attributes(NodeProto np, String nodeName) throws ModelFormatException {
    Map<String, Object> values = new LinkedHashMap<>();
    for (AttributeProto a : np.getAttributeList()) {
      checkKind(a, np, nodeName);
      Object v = switch (a.getType()) {
        case FLOAT -> a.getF();
        case INT -> a.getI();
        case STRING -> a.getS().toStringUtf8();
        case TENSOR -> OnnxTensors.toNdArray(a.getT(), nodeName);
        case FLOATS -> {
          float[] f = new float[a.getFloatsCount()];
          for (int i = 0; i < f.length; i++) {
            f[i] = a.getFloats(i);
          }
          yield f;
        }
        case INTS -> {
          long[] l = new long[a.getIntsCount()];
          for (int i = 0; i < l.length; i++) {
            l[i] = a.getInts(i);
          }
          yield l;
        }
        case STRINGS -> a.getStringsList().stream().map(s -> s.toStringUtf8()).toArray(String[]::new);
        default -> throw new ModelFormatException(nodeName, "attribute '" + a.getName() + "' has kind " + a.getType()
            + ", which vfuse does not support");
      };
      values.put(a.getName(), v);
    }
    return new Attributes(values);
  }

  /** The value of a Constant node, in any of the attribute forms ONNX allows. */
  private static NdArray constantValue(Attributes a, String nodeName) throws ModelFormatException {
    if (a.has("value")) {
      return a.getTensor("value");
    }
    if (a.has("value_float")) {
      return NdArray.ofFloats(new int[0], new float[] {a.getFloat("value_float", 0f)});
    }
    if (a.has("value_floats")) {
      float[] f = a.getFloats("value_floats");
      return NdArray.ofFloats(new int[] {f.length}, f);
    }
    if (a.has("value_int")) {
      return NdArray.scalarLong(a.getLong("value_int", 0));
    }
    if (a.has("value_ints")) {
      long[] l = a.getLongs("value_ints");
      return NdArray.ofLongs(new int[] {l.length}, l);
    }
    throw new ModelFormatException(nodeName, "Constant has none of the supported value attributes (value, value_float(s), value_int(s))");
  }

  private static ValueInfo valueInfo(ValueInfoProto vi, boolean isInput) throws ModelFormatException {
    String what = (isInput ? "input '" : "output '") + vi.getName() + "'";
    if (!vi.hasType() || !vi.getType().hasTensorType()) {
      throw new ModelFormatException("graph " + what + " is not a tensor");
    }
    int elem = vi.getType().getTensorType().getElemType();
    ElementType type;
    if (elem == TensorProto.DataType.FLOAT_VALUE) {
      type = ElementType.FLOAT32;
    } else if (elem == TensorProto.DataType.INT64_VALUE) {
      type = ElementType.INT64;
    } else if (!isInput) {
      type = ElementType.FLOAT32; // outputs are checked by the planner against what the graph computes
    } else {
      TensorProto.DataType dt = TensorProto.DataType.forNumber(elem);
      throw new ModelFormatException("graph " + what + " has element type " + (dt == null ? elem : dt)
          + "; vfuse accepts float32 and int64 inputs");
    }
    List<Integer> dims = new ArrayList<>();
    List<String> dimNames = new ArrayList<>();
    if (vi.getType().getTensorType().hasShape()) {
      for (TensorShapeProto.Dimension d : vi.getType().getTensorType().getShape().getDimList()) {
        if (d.hasDimValue() && d.getDimValue() > 0) {
          dims.add((int) Math.min(d.getDimValue(), Integer.MAX_VALUE));
          dimNames.add(null);
        } else {
          dims.add(-1);
          dimNames.add(d.hasDimParam() && !d.getDimParam().isEmpty() ? d.getDimParam() : "?");
        }
      }
    } else if (isInput) {
      throw new ModelFormatException("graph " + what + " declares no shape");
    }
    if (isInput && dims.size() > MAX_INPUT_RANK) {
      throw new ModelFormatException("graph " + what + " has rank " + dims.size() + "; vfuse tensors have rank at most "
          + MAX_INPUT_RANK);
    }
    return new ValueInfo(vi.getName(), type, dims, dimNames);
  }

  /**
   * Kahn's order over value names; a node input that nothing defines is the classic symptom of a
   * missing initializer, and is reported as one.
   */
  private static List<Node> topologicalOrder(List<Node> nodes, Set<String> constants, List<ValueInfo> inputs,
      List<ValueInfo> outputs) throws ModelFormatException {
    Map<String, Integer> producer = new HashMap<>();
    Set<String> inputNames = new HashSet<>();
    inputs.forEach(v -> inputNames.add(v.name()));
    for (int i = 0; i < nodes.size(); i++) {
      for (String o : nodes.get(i).outputs()) {
        if (o.isEmpty()) {
          continue;
        }
        if (producer.put(o, i) != null || constants.contains(o)) {
          throw new ModelFormatException(nodes.get(i).name(), "value '" + o + "' is produced more than once");
        }
        if (inputNames.contains(o)) {
          throw new ModelFormatException(nodes.get(i).name(), "value '" + o + "' is a graph input and also the output of "
              + nodes.get(i).describe());
        }
      }
    }
    Set<String> available = new HashSet<>(constants);
    inputs.forEach(v -> available.add(v.name()));
    for (Node n : nodes) {
      for (String in : n.inputs()) {
        if (!in.isEmpty() && !available.contains(in) && !producer.containsKey(in)) {
          throw new ModelFormatException(n.name(), "input '" + in + "' of " + n.describe()
              + " is not produced by any node, initializer or graph input (missing initializer?)");
        }
      }
    }
    for (ValueInfo o : outputs) {
      if (!available.contains(o.name()) && !producer.containsKey(o.name())) {
        throw new ModelFormatException("graph output '" + o.name() + "' is not produced by any node");
      }
    }
    List<Node> order = new ArrayList<>(nodes.size());
    boolean[] done = new boolean[nodes.size()];
    boolean progress = true;
    while (order.size() < nodes.size() && progress) {
      progress = false;
      for (int i = 0; i < nodes.size(); i++) {
        if (done[i]) {
          continue;
        }
        Node n = nodes.get(i);
        boolean ready = n.inputs().stream().allMatch(in -> in.isEmpty() || available.contains(in));
        if (ready) {
          done[i] = true;
          order.add(n);
          n.outputs().forEach(available::add);
          progress = true;
        }
      }
    }
    if (order.size() < nodes.size()) {
      for (int i = 0; i < nodes.size(); i++) {
        if (!done[i]) {
          throw new ModelFormatException(nodes.get(i).name(), "the graph has a cycle through " + nodes.get(i).describe());
        }
      }
    }
    return order;
  }
}
