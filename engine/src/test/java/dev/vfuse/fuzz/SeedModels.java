package dev.vfuse.fuzz;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.vfuse.ops.OnnxModelBuilder;
import java.util.List;

/**
 * Small models the structure-aware fuzzer mutates, one per family of operators and fusion
 * patterns (a few hundred weights each, so that every mutant loads and runs in milliseconds).
 * Weights follow a fixed pattern: the fuzzer, not the seed, supplies the variety.
 */
final class SeedModels {
  private SeedModels() {}

  static final List<ModelProto> ALL = List.of(
      convBatchNormRelu(), batchNormBeforePaddedConv(), residualBlock(), depthwiseAndPools(),
      convTransposeResize(), gemmHead(), shapeArithmetic(), padConcatSlice());

  private static float[] pattern(int n, float scale) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = scale * ((i * 7 % 13) - 6) / 6f;
    }
    return v;
  }

  private static float[] positive(int n) {
    float[] v = pattern(n, 0.5f);
    for (int i = 0; i < n; i++) {
      v[i] = Math.abs(v[i]) + 0.5f;
    }
    return v;
  }

  /** Conv 3×3 → BatchNormalization → Relu: ConvBatchNormFold and the epilogue. */
  static ModelProto convBatchNormRelu() {
    return new OnnxModelBuilder(13).input("x", 1, 2, 6, 6)
        .initializer("w", new int[] {4, 2, 3, 3}, pattern(72, 0.3f))
        .initializer("b", new int[] {4}, pattern(4, 0.1f))
        .initializer("gamma", new int[] {4}, positive(4)).initializer("beta", new int[] {4}, pattern(4, 0.2f))
        .initializer("mean", new int[] {4}, pattern(4, 0.1f)).initializer("var", new int[] {4}, positive(4))
        .node("Conv", "x", "w", "b").out("c").ints("pads", 1, 1, 1, 1).ints("strides", 1, 1).end()
        .node("BatchNormalization", "c", "gamma", "beta", "mean", "var").out("n").end()
        .node("Relu", "n").out("y").end()
        .output("y").model();
  }

  /** BatchNormalization → padded dilated Conv: BatchNormConvFold and its shift taps. */
  static ModelProto batchNormBeforePaddedConv() {
    return new OnnxModelBuilder(13).input("x", 1, 3, 7, 7)
        .initializer("gamma", new int[] {3}, positive(3)).initializer("beta", new int[] {3}, pattern(3, 0.2f))
        .initializer("mean", new int[] {3}, pattern(3, 0.1f)).initializer("var", new int[] {3}, positive(3))
        .initializer("w", new int[] {2, 3, 3, 3}, pattern(54, 0.2f))
        .node("BatchNormalization", "x", "gamma", "beta", "mean", "var").out("n").end()
        .node("Conv", "n", "w").out("y").ints("pads", 2, 2, 2, 2).ints("dilations", 2, 2).end()
        .output("y").model();
  }

  /** Conv → Relu → Conv, + x, Relu: the residual epilogue and SequentialConvMerge's 1×1. */
  static ModelProto residualBlock() {
    return new OnnxModelBuilder(13).input("x", 1, 4, 5, 5)
        .initializer("w1", new int[] {4, 4, 1, 1}, pattern(16, 0.4f))
        .initializer("w2", new int[] {4, 4, 3, 3}, pattern(144, 0.1f))
        .node("Conv", "x", "w1").out("a").end()
        .node("Relu", "a").out("r").end()
        .node("Conv", "r", "w2").out("c").ints("pads", 1, 1, 1, 1).end()
        .node("Add", "c", "x").out("s").end()
        .node("Relu", "s").out("y").end()
        .output("y").model();
  }

  /** Depthwise strided conv, HardSwish, MaxPool with ceil mode, AveragePool counting pads. */
  static ModelProto depthwiseAndPools() {
    return new OnnxModelBuilder(13).input("x", 1, 4, 9, 9)
        .initializer("w", new int[] {4, 1, 3, 3}, pattern(36, 0.3f))
        .node("Conv", "x", "w").out("d").intAttr("group", 4).ints("strides", 2, 2).ints("pads", 1, 1, 1, 1).end()
        .node("HardSwish", "d").out("h").end()
        .node("MaxPool", "h").out("m").ints("kernel_shape", 2, 2).ints("strides", 2, 2).intAttr("ceil_mode", 1).end()
        .node("AveragePool", "m").out("y").ints("kernel_shape", 3, 3).ints("pads", 1, 1, 1, 1)
        .intAttr("count_include_pad", 1).end()
        .output("y").model();
  }

  /** ConvTranspose with output_padding, then a nearest Resize by scales. */
  static ModelProto convTransposeResize() {
    return new OnnxModelBuilder(13).input("x", 1, 2, 4, 4)
        .initializer("w", new int[] {2, 3, 3, 3}, pattern(54, 0.2f))
        .floats("scales", 1f, 1f, 2f, 2f)
        .node("ConvTranspose", "x", "w").out("t").ints("strides", 2, 2).ints("pads", 1, 1, 1, 1)
        .ints("output_padding", 1, 1).end()
        .node("Resize", "t", "", "scales").out("y").stringAttr("mode", "nearest").end()
        .output("y").model();
  }

  /** GlobalAveragePool → Flatten → Gemm → Softmax: the classifier head. */
  static ModelProto gemmHead() {
    return new OnnxModelBuilder(13).input("x", 2, 3, 4, 4)
        .initializer("w", new int[] {5, 3}, pattern(15, 0.5f))
        .initializer("b", new int[] {5}, pattern(5, 0.1f))
        .node("GlobalAveragePool", "x").out("g").end()
        .node("Flatten", "g").out("f").end()
        .node("Gemm", "f", "w", "b").out("l").intAttr("transB", 1).end()
        .node("Softmax", "l").out("y").end()
        .output("y").model();
  }

  /** Shape → Gather → Concat → Reshape on a dynamic batch, then MatMul and Transpose. */
  static ModelProto shapeArithmetic() {
    return new OnnxModelBuilder(13).input("x", TensorProto.DataType.FLOAT, "N", 3, 4)
        .longs("zero", 0).longs("minus1", -1).longs("perm_axis", 1)
        .initializer("m", new int[] {12, 2}, pattern(24, 0.3f))
        .node("Shape", "x").out("s").end()
        .node("Gather", "s", "zero").out("n").end()
        .node("Concat", "n", "minus1").out("target").intAttr("axis", 0).end()
        .node("Reshape", "x", "target").out("r").end()
        .node("MatMul", "r", "m").out("p").end()
        .node("Transpose", "p").out("y").ints("perm", 1, 0).end()
        .output("y").model();
  }

  /** Constant Pad, Concat on channels, Slice with steps, ReduceMean. */
  static ModelProto padConcatSlice() {
    return new OnnxModelBuilder(13).input("x", 1, 2, 5, 5)
        .longs("pads", 0, 0, 1, 1, 0, 0, 1, 1)
        .longs("starts", 0, 1).longs("ends", 7, 7).longs("axes", 2, 3).longs("steps", 2, 1)
        .longs("mean_axes", 1)
        .node("Pad", "x", "pads").out("p").end()
        .node("Sigmoid", "p").out("s").end()
        .node("Concat", "p", "s").out("c").intAttr("axis", 1).end()
        .node("Slice", "c", "starts", "ends", "axes", "steps").out("sl").end()
        .node("ReduceMean", "sl").out("y").ints("axes", 1).intAttr("keepdims", 1).end()
        .output("y").model();
  }
}
