package dev.vfuse.fuzz;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.List;

/**
 * Structure-aware fuzzing: takes one of the {@link SeedModels}, applies one to six mutations the
 * fuzzer's bytes choose (attribute values and kinds, tensor dims, data types and data lengths,
 * graph input dims, the wiring of node inputs, op types, removed or duplicated nodes, the opset),
 * and loads and runs the result with {@link LoadAndRun}. Raw-byte fuzzing rarely gets past the
 * protobuf parser into folding, fusion and planning; these mutants start there.
 */
class ModelProtoMutationFuzzTest {
  private static final String[] ATTRIBUTES = {"kernel_shape", "pads", "strides", "dilations", "group", "axis", "perm",
      "output_padding", "output_shape", "transA", "transB", "alpha", "beta", "epsilon", "ceil_mode", "count_include_pad",
      "auto_pad", "mode", "axes", "keepdims", "to", "min", "max"};
  private static final String[] OP_TYPES = {"Conv", "ConvTranspose", "BatchNormalization", "Relu", "Clip", "HardSwish",
      "Add", "Mul", "Div", "MaxPool", "AveragePool", "GlobalAveragePool", "Gemm", "MatMul", "Flatten", "Reshape",
      "Transpose", "Concat", "Pad", "Shape", "Gather", "Slice", "Unsqueeze", "Squeeze", "Cast", "Resize", "Softmax",
      "ReduceMean"};

  @FuzzTest(maxDuration = "30m")
  void mutateLoadAndRun(FuzzedDataProvider data) {
    ModelProto seed = SeedModels.ALL.get(data.consumeInt(0, SeedModels.ALL.size() - 1));
    ModelProto.Builder model = seed.toBuilder();
    int mutations = data.consumeInt(1, 6);
    for (int m = 0; m < mutations && data.remainingBytes() > 0; m++) {
      mutate(model, data);
    }
    LoadAndRun.check(model.build().toByteArray());
  }

  private static void mutate(ModelProto.Builder model, FuzzedDataProvider data) {
    GraphProto.Builder g = model.getGraphBuilder();
    switch (data.consumeInt(0, 9)) {
      case 0 -> setAttribute(g, data);
      case 1 -> {
        if (g.getInitializerCount() > 0) {
          TensorProto.Builder t = g.getInitializerBuilder(data.consumeInt(0, g.getInitializerCount() - 1));
          t.clearDims();
          int rank = data.consumeInt(0, 5);
          for (int i = 0; i < rank; i++) {
            t.addDims(dimension(data));
          }
        }
      }
      case 2 -> {
        if (g.getInitializerCount() > 0) {
          g.getInitializerBuilder(data.consumeInt(0, g.getInitializerCount() - 1)).setDataType(data.consumeInt(0, 17));
        }
      }
      case 3 -> {
        if (g.getInitializerCount() > 0) {
          TensorProto.Builder t = g.getInitializerBuilder(data.consumeInt(0, g.getInitializerCount() - 1));
          byte[] raw = data.consumeBytes(data.consumeInt(0, 64));
          if (data.consumeBoolean()) {
            t.clearFloatData().clearInt64Data().setRawData(ByteString.copyFrom(raw));
          } else {
            t.clearRawData().clearFloatData().clearInt64Data();
            for (int i = 0; i < raw.length / 4; i++) {
              t.addFloatData(raw[i] / 16f).addInt64Data(raw[i]);
            }
          }
        }
      }
      case 4 -> {
        if (g.getInputCount() > 0) {
          ValueInfoProto.Builder v = g.getInputBuilder(data.consumeInt(0, g.getInputCount() - 1));
          TensorShapeProto.Builder shape = v.getTypeBuilder().getTensorTypeBuilder().getShapeBuilder();
          if (shape.getDimCount() > 0 && data.consumeBoolean()) {
            TensorShapeProto.Dimension.Builder d = shape.getDimBuilder(data.consumeInt(0, shape.getDimCount() - 1));
            if (data.consumeBoolean()) {
              d.setDimValue(dimension(data));
            } else {
              d.setDimParam(data.consumeAsciiString(3));
            }
          } else {
            shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(dimension(data)));
          }
          if (data.consumeInt(0, 7) == 0) {
            v.getTypeBuilder().getTensorTypeBuilder().setElemType(data.consumeInt(0, 17));
          }
        }
      }
      case 5 -> {
        NodeProto.Builder n = node(g, data);
        List<String> names = valueNames(g);
        if (n != null && n.getInputCount() > 0) {
          String to = data.consumeBoolean() ? names.get(data.consumeInt(0, names.size() - 1)) : data.consumeAsciiString(2);
          n.setInput(data.consumeInt(0, n.getInputCount() - 1), to);
        } else if (n != null) {
          n.addInput(names.get(data.consumeInt(0, names.size() - 1)));
        }
      }
      case 6 -> {
        NodeProto.Builder n = node(g, data);
        if (n != null) {
          n.setOpType(OP_TYPES[data.consumeInt(0, OP_TYPES.length - 1)]);
        }
      }
      case 7 -> {
        if (g.getNodeCount() > 1 && data.consumeBoolean()) {
          g.removeNode(data.consumeInt(0, g.getNodeCount() - 1));
        } else if (g.getNodeCount() > 0) {
          NodeProto copy = g.getNode(data.consumeInt(0, g.getNodeCount() - 1));
          g.addNode(data.consumeInt(0, g.getNodeCount()), copy.toBuilder().setName(copy.getName() + "_copy")
              .setOutput(0, data.consumeBoolean() ? copy.getOutput(0) : copy.getOutput(0) + "_copy"));
        }
      }
      case 8 -> model.getOpsetImportBuilder(0).setVersion(data.consumeInt(5, 19));
      default -> {
        NodeProto.Builder n = node(g, data);
        if (n != null && n.getAttributeCount() > 0) {
          n.removeAttribute(data.consumeInt(0, n.getAttributeCount() - 1));
        }
      }
    }
  }

  /** Sets or replaces one attribute of one node with a value of a kind the fuzzer picks. */
  private static void setAttribute(GraphProto.Builder g, FuzzedDataProvider data) {
    NodeProto.Builder n = node(g, data);
    if (n == null) {
      return;
    }
    String name = ATTRIBUTES[data.consumeInt(0, ATTRIBUTES.length - 1)];
    AttributeProto.Builder a = AttributeProto.newBuilder().setName(name);
    switch (data.consumeInt(0, 3)) {
      case 0 -> a.setType(AttributeProto.AttributeType.INT).setI(data.consumeBoolean() ? data.consumeLong(-3, 9) : data.consumeLong());
      case 1 -> {
        a.setType(AttributeProto.AttributeType.INTS);
        int count = data.consumeInt(0, 8);
        for (int i = 0; i < count; i++) {
          a.addInts(data.consumeBoolean() ? data.consumeLong(-3, 9) : data.consumeLong());
        }
      }
      case 2 -> a.setType(AttributeProto.AttributeType.FLOAT).setF(data.consumeFloat());
      default -> a.setType(AttributeProto.AttributeType.STRING).setS(ByteString.copyFromUtf8(data.consumeAsciiString(12)));
    }
    for (int i = 0; i < n.getAttributeCount(); i++) {
      if (n.getAttribute(i).getName().equals(name)) {
        n.setAttribute(i, a);
        return;
      }
    }
    n.addAttribute(a);
  }

  /** A dimension, mostly small, sometimes huge or negative. */
  private static long dimension(FuzzedDataProvider data) {
    return switch (data.consumeInt(0, 3)) {
      case 0 -> data.consumeLong();
      case 1 -> data.consumeLong(-1, 1L << 32);
      default -> data.consumeLong(0, 12);
    };
  }

  private static NodeProto.Builder node(GraphProto.Builder g, FuzzedDataProvider data) {
    return g.getNodeCount() == 0 ? null : g.getNodeBuilder(data.consumeInt(0, g.getNodeCount() - 1));
  }

  private static List<String> valueNames(GraphProto.Builder g) {
    List<String> names = new ArrayList<>();
    g.getInputList().forEach(v -> names.add(v.getName()));
    g.getInitializerList().forEach(t -> names.add(t.getName()));
    g.getNodeList().forEach(n -> names.addAll(n.getOutputList()));
    names.add("");
    return names;
  }
}
