package dev.vfuse.cli;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Tiny ONNX models built with the generated protobuf classes, for CLI tests. */
final class TinyModels {
  static final int[] SHAPE = {1, 2, 2, 2};

  private TinyModels() {}

  /** y = Relu(x), x and y FLOAT32 [1, 2, 2, 2], opset 13. */
  static Path relu(Path dir) throws IOException {
    GraphProto g = GraphProto.newBuilder()
        .setName("relu")
        .addNode(NodeProto.newBuilder().setOpType("Relu").setName("relu0").addInput("x").addOutput("y"))
        .addInput(value("x", SHAPE))
        .addOutput(value("y", SHAPE))
        .build();
    return write(dir.resolve("relu.onnx"), g);
  }

  /** sum = Add(a, b), relu = Relu(a): two inputs, two outputs, all FLOAT32 [1, 2, 2, 2]. */
  static Path addRelu(Path dir) throws IOException {
    GraphProto g = GraphProto.newBuilder()
        .setName("add_relu")
        .addNode(NodeProto.newBuilder().setOpType("Add").setName("add0").addInput("a").addInput("b").addOutput("sum"))
        .addNode(NodeProto.newBuilder().setOpType("Relu").setName("relu0").addInput("a").addOutput("relu"))
        .addInput(value("a", SHAPE))
        .addInput(value("b", SHAPE))
        .addOutput(value("sum", SHAPE))
        .addOutput(value("relu", SHAPE))
        .build();
    return write(dir.resolve("add_relu.onnx"), g);
  }

  private static Path write(Path file, GraphProto g) throws IOException {
    ModelProto m = ModelProto.newBuilder()
        .setIrVersion(7)
        .setProducerName("vfuse-test")
        .setProducerVersion("1.0")
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
        .setGraph(g)
        .build();
    Files.write(file, m.toByteArray());
    return file;
  }

  private static ValueInfoProto value(String name, int[] shape) {
    TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
    for (int d : shape) {
      s.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
    }
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(TypeProto.newBuilder().setTensorType(
            TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(s)))
        .build();
  }
}
