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

/** Tiny ONNX models built with the generated protobuf classes, for CLI and server tests. */
public final class TinyModels {
  static final int[] SHAPE = {1, 2, 2, 2};

  private TinyModels() {}

  /** y = Relu(x), x and y FLOAT32 [1, 2, 2, 2], opset 13. */
  public static Path relu(Path dir) throws IOException {
    GraphProto g = GraphProto.newBuilder()
        .setName("relu")
        .addNode(NodeProto.newBuilder().setOpType("Relu").setName("relu0").addInput("x").addOutput("y"))
        .addInput(value("x", SHAPE))
        .addOutput(value("y", SHAPE))
        .build();
    return write(dir.resolve("relu.onnx"), g);
  }

  /** sum = Add(a, b), relu = Relu(a): two inputs, two outputs, all FLOAT32 [1, 2, 2, 2]. */
  public static Path addRelu(Path dir) throws IOException {
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

  /**
   * y = Conv3x3(Relu(BN(Conv3x3(x)))) with padding 1, x [1, 2, 2, 2] and y [1, 2, 2, 2]: a model
   * with a BatchNorm to fold and weights to quantize. Weights are fixed, varied values.
   */
  static Path convBnConv(Path dir) throws IOException {
    GraphProto g = GraphProto.newBuilder()
        .setName("conv_bn_conv")
        .addNode(conv("conv0", "x", "w0", "h"))
        .addNode(NodeProto.newBuilder().setOpType("BatchNormalization").setName("bn0")
            .addInput("h").addInput("gamma").addInput("beta").addInput("mean").addInput("var").addOutput("hb"))
        .addNode(NodeProto.newBuilder().setOpType("Relu").setName("relu0").addInput("hb").addOutput("hr"))
        .addNode(conv("conv1", "hr", "w1", "y"))
        .addInitializer(floats("w0", new int[] {2, 2, 3, 3}, 0.37f))
        .addInitializer(floats("w1", new int[] {2, 2, 3, 3}, -0.23f))
        .addInitializer(floats("gamma", new int[] {2}, 1.1f))
        .addInitializer(floats("beta", new int[] {2}, 0.4f))
        .addInitializer(floats("mean", new int[] {2}, 0.1f))
        .addInitializer(floats("var", new int[] {2}, 0.9f))
        .addInput(value("x", SHAPE))
        .addOutput(value("y", SHAPE))
        .build();
    return write(dir.resolve("conv_bn_conv.onnx"), g);
  }

  /** Input x of a {@link #classifier} model: FLOAT32 [N, 3, 8, 8], N dynamic. */
  public static final int[] CLASSIFIER_SAMPLE = {3, 8, 8};
  /** Classes of a {@link #classifier} model: y is FLOAT32 [N, 5]. */
  public static final int CLASSIFIER_CLASSES = 5;

  /**
   * A small image classifier with a dynamic batch axis, for the server's tests:
   * y = Gemm(Flatten(GlobalAveragePool(Relu(Conv3x3(x, pads 1)))), W, b), x [N, 3, 8, 8], y [N, 5].
   */
  public static Path classifier(Path dir) throws IOException {
    GraphProto g = GraphProto.newBuilder()
        .setName("classifier")
        .addNode(conv("conv0", "x", "w0", "h"))
        .addNode(NodeProto.newBuilder().setOpType("Relu").setName("relu0").addInput("h").addOutput("hr"))
        .addNode(NodeProto.newBuilder().setOpType("GlobalAveragePool").setName("gap0").addInput("hr").addOutput("p"))
        .addNode(NodeProto.newBuilder().setOpType("Flatten").setName("flat0").addInput("p").addOutput("f"))
        .addNode(NodeProto.newBuilder().setOpType("Gemm").setName("fc0").addInput("f").addInput("wfc").addInput("bfc")
            .addOutput("y")
            .addAttribute(ai.onnx.proto.OnnxMl.AttributeProto.newBuilder().setName("transB")
                .setType(ai.onnx.proto.OnnxMl.AttributeProto.AttributeType.INT).setI(1)))
        .addInitializer(floats("w0", new int[] {16, 3, 3, 3}, 0.31f))
        .addInitializer(floats("wfc", new int[] {CLASSIFIER_CLASSES, 16}, -0.41f))
        .addInitializer(floats("bfc", new int[] {CLASSIFIER_CLASSES}, 0.17f))
        .addInput(value("x", "N", 3, 8, 8))
        .addOutput(value("y", "N", CLASSIFIER_CLASSES))
        .build();
    return write(dir.resolve("classifier.onnx"), g);
  }

  private static NodeProto conv(String name, String in, String w, String out) {
    return NodeProto.newBuilder().setOpType("Conv").setName(name).addInput(in).addInput(w).addOutput(out)
        .addAttribute(ai.onnx.proto.OnnxMl.AttributeProto.newBuilder().setName("pads").setType(ai.onnx.proto.OnnxMl.AttributeProto.AttributeType.INTS)
            .addInts(1).addInts(1).addInts(1).addInts(1))
        .build();
  }

  /** A float initializer with values v0·(1 + i·0.37) mod 1.7, alternating in sign. */
  private static ai.onnx.proto.OnnxMl.TensorProto floats(String name, int[] shape, float v0) {
    ai.onnx.proto.OnnxMl.TensorProto.Builder t = ai.onnx.proto.OnnxMl.TensorProto.newBuilder().setName(name)
        .setDataType(ai.onnx.proto.OnnxMl.TensorProto.DataType.FLOAT_VALUE);
    int n = 1;
    for (int d : shape) {
      t.addDims(d);
      n *= d;
    }
    for (int i = 0; i < n; i++) {
      float v = (v0 * (1 + i * 0.37f)) % 1.7f;
      t.addFloatData(name.startsWith("w") && i % 2 == 1 ? -v : Math.abs(v) + (name.equals("var") ? 0.5f : 0f));
    }
    return t.build();
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
    return value(name, java.util.Arrays.stream(shape).boxed().toArray());
  }

  /** Each dim an Integer (fixed) or a String (dynamic, named). */
  private static ValueInfoProto value(String name, Object... dims) {
    TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
    for (Object d : dims) {
      s.addDim(d instanceof String symbol ? TensorShapeProto.Dimension.newBuilder().setDimParam(symbol)
          : TensorShapeProto.Dimension.newBuilder().setDimValue((Integer) d));
    }
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(TypeProto.newBuilder().setTensorType(
            TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(s)))
        .build();
  }
}
