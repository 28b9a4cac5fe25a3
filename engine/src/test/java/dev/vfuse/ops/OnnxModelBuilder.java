package dev.vfuse.ops;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Builds small ONNX models (ir_version 8 by default) with the generated {@code ai.onnx.proto.OnnxMl}
 * classes, for operator tests that run the same bytes in vfuse and in ONNX Runtime.
 *
 * <pre>{@code
 * byte[] onnx = new OnnxModelBuilder(13)
 *     .input("x", 1, 3, 8, 8)
 *     .initializer("w", new int[] {4, 3, 3, 3}, weights)
 *     .node("Conv", "x", "w").out("y").ints("pads", 1, 1, 1, 1).end()
 *     .output("y")
 *     .build();
 * }</pre>
 *
 * <p>{@link #absolute()} gives the same model with every float initializer and every float
 * attribute replaced by its absolute value: run on |inputs|, such a model of a sum of products
 * (Conv, Gemm, pooling, ReduceMean, BatchNormalization, linear Resize) computes Σ|terms|, the
 * magnitude that floating-point error bounds scale with (see {@link Tolerance}).
 */
public final class OnnxModelBuilder {
  private final int opset;
  private int irVersion = 8;
  private final List<ValueInfoProto> inputs = new ArrayList<>();
  private final List<ValueInfoProto> outputs = new ArrayList<>();
  private final Map<String, TensorProto> initializers = new LinkedHashMap<>();
  private final List<Node> nodes = new ArrayList<>();

  public OnnxModelBuilder(int opset) {
    this.opset = opset;
  }

  public int opset() {
    return opset;
  }

  public OnnxModelBuilder irVersion(int v) {
    this.irVersion = v;
    return this;
  }

  /** A float32 graph input with fixed dimensions. */
  public OnnxModelBuilder input(String name, int... shape) {
    Object[] dims = Arrays.stream(shape).boxed().toArray();
    return input(name, TensorProto.DataType.FLOAT, dims);
  }

  /** A graph input; each dim is an Integer (dim_value) or a String (dim_param, a dynamic axis). */
  public OnnxModelBuilder input(String name, TensorProto.DataType type, Object... dims) {
    inputs.add(valueInfo(name, type, dims));
    return this;
  }

  /** A float32 graph output of unspecified shape. */
  public OnnxModelBuilder output(String name) {
    return output(name, TensorProto.DataType.FLOAT);
  }

  /** A graph output of the given type and unspecified shape. */
  public OnnxModelBuilder output(String name, TensorProto.DataType type) {
    outputs.add(valueInfo(name, type, (Object[]) null));
    return this;
  }

  public OnnxModelBuilder initializer(String name, int[] shape, float[] data) {
    initializers.put(name, floatTensor(name, shape, data));
    return this;
  }

  public OnnxModelBuilder initializer(String name, int[] shape, long[] data) {
    initializers.put(name, longTensor(name, shape, data));
    return this;
  }

  /** A rank-1 int64 initializer. */
  public OnnxModelBuilder longs(String name, long... data) {
    return initializer(name, new int[] {data.length}, data);
  }

  /** A rank-1 float initializer. */
  public OnnxModelBuilder floats(String name, float... data) {
    return initializer(name, new int[] {data.length}, data);
  }

  /** A Constant node whose value attribute is {@code value}, the way PaddlePaddle exports weights. */
  public OnnxModelBuilder constant(String output, TensorProto value) {
    return node("Constant").out(output).tensorAttr("value", value).end();
  }

  /** Starts a node; "" stands for an omitted optional input. Finish it with {@link Node#end()}. */
  public Node node(String opType, String... inputNames) {
    Node n = new Node(this, opType, inputNames);
    nodes.add(n);
    return n;
  }

  /** The serialized ModelProto. */
  public byte[] build() {
    return model().toByteArray();
  }

  public ModelProto model() {
    GraphProto.Builder g = GraphProto.newBuilder().setName("test");
    inputs.forEach(g::addInput);
    outputs.forEach(g::addOutput);
    initializers.values().forEach(g::addInitializer);
    for (int i = 0; i < nodes.size(); i++) {
      g.addNode(nodes.get(i).proto(i));
    }
    return ModelProto.newBuilder()
        .setIrVersion(irVersion)
        .setProducerName("vfuse-ops-test")
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
        .setGraph(g)
        .build();
  }

  /** A copy with |x| for every float initializer element, float attribute and float Constant. */
  public OnnxModelBuilder absolute() {
    OnnxModelBuilder b = new OnnxModelBuilder(opset).irVersion(irVersion);
    b.inputs.addAll(inputs);
    b.outputs.addAll(outputs);
    initializers.forEach((name, t) -> b.initializers.put(name, t.getDataType() == TensorProto.DataType.FLOAT_VALUE
        ? floatTensor(name, dims(t), abs(floatData(t))) : t));
    for (Node n : nodes) {
      Node c = new Node(b, n.opType, n.inputs.toArray(String[]::new));
      c.outputs.addAll(n.outputs);
      for (AttributeProto a : n.attributes) {
        AttributeProto.Builder ab = a.toBuilder();
        if (a.getType() == AttributeProto.AttributeType.FLOAT) {
          ab.setF(Math.abs(a.getF()));
        } else if (a.getType() == AttributeProto.AttributeType.FLOATS) {
          ab.clearFloats();
          a.getFloatsList().forEach(f -> ab.addFloats(Math.abs(f)));
        } else if (a.getType() == AttributeProto.AttributeType.TENSOR && a.getT().getDataType() == TensorProto.DataType.FLOAT_VALUE) {
          ab.setT(floatTensor(a.getT().getName(), dims(a.getT()), abs(floatData(a.getT()))));
        }
        c.attributes.add(ab.build());
      }
      b.nodes.add(c);
    }
    return b;
  }

  /** One line per node: op type, inputs with their shapes where known, attributes. */
  public String describe() {
    Map<String, String> shapes = new LinkedHashMap<>();
    for (ValueInfoProto v : inputs) {
      shapes.put(v.getName(), shapeString(v));
    }
    initializers.forEach((name, t) -> shapes.put(name, Arrays.toString(dims(t)) + smallValues(t)));
    StringBuilder sb = new StringBuilder("opset ").append(opset);
    for (Node n : nodes) {
      sb.append("\n  ").append(n.opType).append('(')
          .append(n.inputs.stream().map(i -> i.isEmpty() ? "\"\"" : i + shapes.getOrDefault(i, "")).collect(Collectors.joining(", ")))
          .append(')');
      if (!n.attributes.isEmpty()) {
        sb.append(" {").append(n.attributes.stream().map(OnnxModelBuilder::attributeString).collect(Collectors.joining(", "))).append('}');
      }
      sb.append(" -> ").append(n.outputs);
    }
    return sb.toString();
  }

  /** A node under construction. */
  public static final class Node {
    private final OnnxModelBuilder owner;
    private final String opType;
    private final List<String> inputs;
    private final List<String> outputs = new ArrayList<>();
    private final List<AttributeProto> attributes = new ArrayList<>();

    private Node(OnnxModelBuilder owner, String opType, String[] inputs) {
      this.owner = owner;
      this.opType = opType;
      this.inputs = List.of(inputs);
    }

    public Node out(String... names) {
      outputs.addAll(List.of(names));
      return this;
    }

    public Node intAttr(String name, long v) {
      return attr(AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v));
    }

    public Node floatAttr(String name, float v) {
      return attr(AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(v));
    }

    public Node stringAttr(String name, String v) {
      return attr(AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRING)
          .setS(ByteString.copyFromUtf8(v)));
    }

    public Node ints(String name, long... v) {
      AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
      for (long x : v) {
        a.addInts(x);
      }
      return attr(a);
    }

    /** An INTS attribute from an int array (kernel shapes, pads). */
    public Node ints(String name, int[] v) {
      return ints(name, Arrays.stream(v).asLongStream().toArray());
    }

    public Node floats(String name, float... v) {
      AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOATS);
      for (float x : v) {
        a.addFloats(x);
      }
      return attr(a);
    }

    public Node tensorAttr(String name, TensorProto t) {
      return attr(AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.TENSOR).setT(t));
    }

    private Node attr(AttributeProto.Builder a) {
      attributes.add(a.build());
      return this;
    }

    /** Back to the model builder. */
    public OnnxModelBuilder end() {
      if (outputs.isEmpty()) {
        throw new IllegalStateException(opType + " node has no outputs");
      }
      return owner;
    }

    private NodeProto proto(int index) {
      NodeProto.Builder b = NodeProto.newBuilder().setOpType(opType).setName(opType.toLowerCase() + index);
      inputs.forEach(b::addInput);
      outputs.forEach(b::addOutput);
      attributes.forEach(b::addAttribute);
      return b.build();
    }
  }

  // ---------------------------------------------------------------- tensors

  public static TensorProto floatTensor(String name, int[] shape, float[] data) {
    ByteBuffer bb = ByteBuffer.allocate(4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
    bb.asFloatBuffer().put(data);
    return tensor(name, TensorProto.DataType.FLOAT, shape, bb);
  }

  public static TensorProto longTensor(String name, int[] shape, long[] data) {
    ByteBuffer bb = ByteBuffer.allocate(8 * data.length).order(ByteOrder.LITTLE_ENDIAN);
    bb.asLongBuffer().put(data);
    return tensor(name, TensorProto.DataType.INT64, shape, bb);
  }

  private static TensorProto tensor(String name, TensorProto.DataType type, int[] shape, ByteBuffer raw) {
    long size = 1;
    for (int d : shape) {
      size *= d;
    }
    int width = type == TensorProto.DataType.FLOAT ? 4 : 8;
    if (size * width != raw.capacity()) {
      throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape) + " does not hold " + raw.capacity() / width + " elements");
    }
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(type.getNumber())
        .setRawData(ByteString.copyFrom(raw.array()));
    for (int d : shape) {
      t.addDims(d);
    }
    return t.build();
  }

  private static int[] dims(TensorProto t) {
    return t.getDimsList().stream().mapToInt(Long::intValue).toArray();
  }

  private static float[] floatData(TensorProto t) {
    ByteBuffer bb = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    float[] f = new float[bb.remaining() / 4];
    bb.asFloatBuffer().get(f);
    return f;
  }

  private static long[] longData(TensorProto t) {
    ByteBuffer bb = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    long[] l = new long[bb.remaining() / 8];
    bb.asLongBuffer().get(l);
    return l;
  }

  /** "=[values]" for an initializer of at most 8 elements (bounds, shapes, axes), else "". */
  private static String smallValues(TensorProto t) {
    boolean isFloat = t.getDataType() == TensorProto.DataType.FLOAT_VALUE;
    int n = t.getRawData().size() / (isFloat ? 4 : 8);
    if (n > 8) {
      return "";
    }
    return "=" + (isFloat ? Arrays.toString(floatData(t)) : Arrays.toString(longData(t)));
  }

  private static float[] abs(float[] x) {
    float[] r = new float[x.length];
    for (int i = 0; i < r.length; i++) {
      r[i] = Math.abs(x[i]);
    }
    return r;
  }

  private static ValueInfoProto valueInfo(String name, TensorProto.DataType type, Object[] dims) {
    TypeProto.Tensor.Builder tt = TypeProto.Tensor.newBuilder().setElemType(type.getNumber());
    if (dims != null) {
      TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
      for (Object d : dims) {
        TensorShapeProto.Dimension.Builder db = TensorShapeProto.Dimension.newBuilder();
        if (d instanceof Integer v) {
          db.setDimValue(v);
        } else {
          db.setDimParam((String) d);
        }
        s.addDim(db);
      }
      tt.setShape(s);
    }
    return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(tt)).build();
  }

  private static String shapeString(ValueInfoProto v) {
    return v.getType().getTensorType().getShape().getDimList().stream()
        .map(d -> d.hasDimValue() ? String.valueOf(d.getDimValue()) : d.getDimParam())
        .collect(Collectors.joining(",", "[", "]"));
  }

  private static String attributeString(AttributeProto a) {
    String v = switch (a.getType()) {
      case INT -> String.valueOf(a.getI());
      case FLOAT -> String.valueOf(a.getF());
      case STRING -> a.getS().toStringUtf8();
      case INTS -> a.getIntsList().toString();
      case FLOATS -> a.getFloatsList().toString();
      case TENSOR -> "tensor" + a.getT().getDimsList();
      default -> a.getType().toString();
    };
    return a.getName() + "=" + v;
  }
}
