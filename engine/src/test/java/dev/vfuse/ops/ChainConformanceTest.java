package dev.vfuse.ops;

import static dev.vfuse.ops.Conformance.feed;
import static dev.vfuse.ops.Conformance.randomTensor;
import static dev.vfuse.ops.Conformance.uniform;

import ai.onnx.proto.OnnxMl.TensorProto;
import dev.vfuse.ModelOptions;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Short chains of the shape real CNNs have, with fusion on and off: dynamic input shapes through
 * Conv/MaxPool/Resize, Conv → BatchNormalization → Relu, a PaddleOCR-style bias (Reshape of
 * Constants, then Add) followed by Clip and HardSwish, depthwise Conv → BN → Clip(0, 6), MatMul →
 * Add, and a classifier head. They exercise the load-time folding and fusion passes against ORT.
 *
 * <p>Tolerance: the chains are a sum of products followed by operations that move an error by at
 * most their Lipschitz constant (Relu, Clip, max pooling, nearest Resize: 1; HardSwish: 1.5) plus
 * a few roundings of their own. The bound is that of the reduction, k·EPS·Σ|t| with Σ|t| from
 * the linear part run on absolute values ({@link #magnitude}), with k = 1.5·(L + 12): L + 2 for
 * the reduction, 8 for a BatchNormalization folded or not, 2 for the activation's own roundings,
 * times HardSwish's slope.
 */
class ChainConformanceTest {

  private static Tolerance chain(int reduction) {
    return new Tolerance.Bounded(1.5 * (reduction + 12));
  }

  private static ModelOptions options(boolean fuse) {
    return Conformance.VFUSE.withFuse(fuse);
  }

  /** x[N, 3, H, W] → Conv(SAME_UPPER, stride 2, weights in a Constant) → Relu → MaxPool(ceil) → Resize ×2: two input shapes. */
  @ParameterizedTest(name = "fuse {0}")
  @ValueSource(booleans = {true, false})
  void dynamicShapes(boolean fuse) {
    SplittableRandom rng = new SplittableRandom(11);
    OnnxModelBuilder m = new OnnxModelBuilder(13).input("x", TensorProto.DataType.FLOAT, "N", 3, "H", "W")
        .constant("w", OnnxModelBuilder.floatTensor("w", new int[] {6, 3, 3, 3}, uniform(rng, 162, -1, 1)))
        .floats("b", uniform(rng, 6, -1, 1))
        .floats("scales", 1f, 1f, 2f, 2f);
    m.node("Conv", "x", "w", "b").out("c").ints("strides", 2, 2).stringAttr("auto_pad", "SAME_UPPER");
    m.node("Relu", "c").out("r");
    m.node("MaxPool", "r").out("p").ints("kernel_shape", 3, 3).ints("strides", 2, 2).ints("pads", 1, 1, 1, 1)
        .intAttr("ceil_mode", 1);
    m.node("Resize", "p", "", "scales").out("y").stringAttr("mode", "nearest")
        .stringAttr("coordinate_transformation_mode", "asymmetric").stringAttr("nearest_mode", "floor");
    m.output("y");
    Conformance.checkAgainst("Chain dynamic shapes", options(fuse), m, m, m.absolute(),
        List.of(feed("x", randomTensor(rng, 1, 3, 13, 11)), feed("x", randomTensor(rng, 2, 3, 8, 16))), chain(27));
  }

  /** Conv → BatchNormalization → Relu, the pattern the BN folding pass rewrites. */
  @ParameterizedTest(name = "fuse {0}")
  @ValueSource(booleans = {true, false})
  void convBatchNormRelu(boolean fuse) {
    SplittableRandom rng = new SplittableRandom(12);
    int k = 8;
    float[] mean = uniform(rng, k, -1, 1);
    OnnxModelBuilder m = new OnnxModelBuilder(13).input("x", 1, 4, 9, 9)
        .initializer("w", new int[] {k, 4, 3, 3}, uniform(rng, k * 36, -1, 1))
        .floats("b", uniform(rng, k, -1, 1))
        .floats("gamma", uniform(rng, k, -2, 2)).floats("beta", uniform(rng, k, -1, 1))
        .floats("mean", mean).floats("var", uniform(rng, k, 0.05, 2));
    m.node("Conv", "x", "w", "b").out("c").ints("pads", 1, 1, 1, 1);
    m.node("BatchNormalization", "c", "gamma", "beta", "mean", "var").out("bn").floatAttr("epsilon", 1e-3f);
    m.node("Relu", "bn").out("y");
    m.output("y");
    // Σ|t|: the absolute chain with −|μ| (BN subtracts the mean).
    OnnxModelBuilder magnitude = m.absolute().floats("mean", negAbs(mean));
    Conformance.checkAgainst("Chain Conv+BN+Relu", options(fuse), m, m, magnitude, List.of(feed("x", randomTensor(rng, 1, 4, 9, 9))),
        chain(37));
  }

  /** PaddleOCR's bias: Conv without bias → Add(Reshape(Constant bias, Constant [1, K, 1, 1])) → Clip(0, 6) → HardSwish. */
  @ParameterizedTest(name = "fuse {0}")
  @ValueSource(booleans = {true, false})
  void paddleBiasClipHardSwish(boolean fuse) {
    SplittableRandom rng = new SplittableRandom(13);
    int k = 6;
    OnnxModelBuilder m = new OnnxModelBuilder(14).input("x", TensorProto.DataType.FLOAT, "N", 4, 10, 12)
        .initializer("w", new int[] {k, 4, 3, 3}, uniform(rng, k * 36, -1, 1))
        .constant("bias", OnnxModelBuilder.floatTensor("bias", new int[] {k}, uniform(rng, k, -1, 1)))
        .constant("shape", OnnxModelBuilder.longTensor("shape", new int[] {4}, new long[] {1, k, 1, 1}))
        .initializer("lo", new int[0], new float[] {0f}).initializer("hi", new int[0], new float[] {6f});
    m.node("Conv", "x", "w").out("c").ints("pads", 1, 1, 1, 1).ints("strides", 2, 2);
    m.node("Reshape", "bias", "shape").out("b4");
    m.node("Add", "c", "b4").out("cb");
    m.node("Clip", "cb", "lo", "hi").out("clipped");
    m.node("HardSwish", "clipped").out("y");
    m.output("y");
    OnnxModelBuilder magnitude = new OnnxModelBuilder(14).input("x", TensorProto.DataType.FLOAT, "N", 4, 10, 12)
        .initializer("w", new int[] {k, 4, 3, 3}, new float[k * 36]).floats("bias", new float[k]);
    copyAbsolute(m, magnitude, "w", "bias");
    magnitude.node("Conv", "x", "w", "bias").out("y").ints("pads", 1, 1, 1, 1).ints("strides", 2, 2).end().output("y");
    Conformance.checkAgainst("Chain Paddle bias+Clip+HardSwish", options(fuse), m, m, magnitude,
        List.of(feed("x", randomTensor(rng, 2, 4, 10, 12))), chain(37));
  }

  /** MobileNet's depthwise block: depthwise Conv → BatchNormalization → Clip(0, 6) (opset 11 form). */
  @ParameterizedTest(name = "fuse {0}")
  @ValueSource(booleans = {true, false})
  void depthwiseBatchNormRelu6(boolean fuse) {
    SplittableRandom rng = new SplittableRandom(14);
    int c = 8;
    float[] mean = uniform(rng, c, -1, 1);
    OnnxModelBuilder m = new OnnxModelBuilder(11).input("x", 1, c, 11, 10)
        .initializer("w", new int[] {c, 1, 3, 3}, uniform(rng, c * 9, -1, 1))
        .floats("gamma", uniform(rng, c, -2, 2)).floats("beta", uniform(rng, c, -1, 1))
        .floats("mean", mean).floats("var", uniform(rng, c, 0.05, 2))
        .initializer("lo", new int[0], new float[] {0f}).initializer("hi", new int[0], new float[] {6f});
    m.node("Conv", "x", "w").out("c").ints("pads", 1, 1, 1, 1).ints("strides", 2, 2).intAttr("group", c);
    m.node("BatchNormalization", "c", "gamma", "beta", "mean", "var").out("bn");
    m.node("Clip", "bn", "lo", "hi").out("y");
    m.output("y");
    OnnxModelBuilder magnitude = new OnnxModelBuilder(11).input("x", 1, c, 11, 10)
        .initializer("w", new int[] {c, 1, 3, 3}, new float[c * 9])
        .floats("gamma", new float[c]).floats("beta", new float[c]).floats("mean", negAbs(mean)).floats("var", new float[c]);
    copyAbsolute(m, magnitude, "w", "gamma", "beta", "var");
    magnitude.node("Conv", "x", "w").out("c").ints("pads", 1, 1, 1, 1).ints("strides", 2, 2).intAttr("group", c);
    magnitude.node("BatchNormalization", "c", "gamma", "beta", "mean", "var").out("y").end().output("y");
    Conformance.checkAgainst("Chain depthwise+BN+Relu6", options(fuse), m, m, magnitude,
        List.of(feed("x", randomTensor(rng, 1, c, 11, 10))), chain(9));
  }

  /** MatMul → Add(bias) → Relu on a batched 3-D input, and a classifier head GlobalAveragePool → Flatten → Gemm → Softmax-free. */
  @ParameterizedTest(name = "fuse {0}")
  @ValueSource(booleans = {true, false})
  void matMulAddAndHead(boolean fuse) {
    SplittableRandom rng = new SplittableRandom(15);
    OnnxModelBuilder m = new OnnxModelBuilder(13).input("x", TensorProto.DataType.FLOAT, "N", 5, 16)
        .initializer("w", new int[] {16, 8}, uniform(rng, 128, -1, 1)).floats("b", uniform(rng, 8, -1, 1));
    m.node("MatMul", "x", "w").out("mm");
    m.node("Add", "mm", "b").out("a");
    m.node("Relu", "a").out("y");
    m.output("y");
    Conformance.checkAgainst("Chain MatMul+Add+Relu", options(fuse), m, m, m.absolute(),
        List.of(feed("x", randomTensor(rng, 3, 5, 16)), feed("x", randomTensor(rng, 1, 5, 16))), chain(17));

    OnnxModelBuilder head = new OnnxModelBuilder(13).input("x", TensorProto.DataType.FLOAT, "N", 32, 7, 7)
        .initializer("fc", new int[] {10, 32}, uniform(rng, 320, -1, 1)).floats("fcb", uniform(rng, 10, -1, 1));
    head.node("GlobalAveragePool", "x").out("g");
    head.node("Flatten", "g").out("f");
    head.node("Gemm", "f", "fc", "fcb").out("y").intAttr("transB", 1);
    head.output("y");
    Conformance.checkAgainst("Chain classifier head", options(fuse), head, head, head.absolute(),
        List.of(feed("x", randomTensor(rng, 2, 32, 7, 7))), chain(49 + 33));
  }

  /**
   * Conv followed by an activation written the ways exporters write it, which the epilogue fusion
   * recognizes: torch's HardSigmoid(1/6, 0.5) → Mul, PaddlePaddle's Add 3 → Clip(0, 6) → Mul → Div 6,
   * and a Clip with min > max (ONNX: max everywhere), which must not be fused as Clip(min, max).
   */
  @ParameterizedTest(name = "{0} fuse {1}")
  @CsvSource({"torch HardSwish, true", "torch HardSwish, false", "Paddle HardSwish, true", "Paddle HardSwish, false",
      "Clip min>max, true", "Clip min>max, false"})
  void convActivationPatterns(String pattern, boolean fuse) {
    SplittableRandom rng = new SplittableRandom(pattern.hashCode());
    int k = 5;
    float[] w = uniform(rng, k * 3 * 9, -1.5, 1.5);
    float[] b = uniform(rng, k, -1, 1);
    OnnxModelBuilder m = new OnnxModelBuilder(13).input("x", 1, 3, 8, 7).initializer("w", new int[] {k, 3, 3, 3}, w).floats("b", b);
    m.node("Conv", "x", "w", "b").out("c").ints("pads", 1, 1, 1, 1);
    switch (pattern) {
      case "torch HardSwish" -> {
        m.node("HardSigmoid", "c").out("hs").floatAttr("alpha", 1f / 6f).floatAttr("beta", 0.5f);
        m.node("Mul", "c", "hs").out("y");
      }
      case "Paddle HardSwish" -> {
        m.initializer("three", new int[0], new float[] {3f}).initializer("six", new int[0], new float[] {6f})
            .initializer("zero", new int[0], new float[] {0f});
        m.node("Add", "c", "three").out("c3");
        m.node("Clip", "c3", "zero", "six").out("r6");
        m.node("Mul", "c", "r6").out("m");
        m.node("Div", "m", "six").out("y");
      }
      default -> m.initializer("lo", new int[0], new float[] {0.25f}).initializer("hi", new int[0], new float[] {-0.5f})
          .node("Clip", "c", "lo", "hi").out("y");
    }
    m.output("y");
    OnnxModelBuilder magnitude = new OnnxModelBuilder(13).input("x", 1, 3, 8, 7)
        .initializer("w", new int[] {k, 3, 3, 3}, abs(w)).floats("b", abs(b));
    magnitude.node("Conv", "x", "w", "b").out("y").ints("pads", 1, 1, 1, 1).end().output("y");
    Conformance.checkAgainst("Chain Conv+" + pattern, options(fuse), m, m, magnitude,
        List.of(feed("x", randomTensor(rng, 1, 3, 8, 7))), chain(28));
  }

  private static float[] abs(float[] v) {
    float[] r = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      r[i] = Math.abs(v[i]);
    }
    return r;
  }

  private static float[] negAbs(float[] v) {
    float[] r = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      r[i] = -Math.abs(v[i]);
    }
    return r;
  }

  /** Copies the absolute values of named float initializers or Constants of {@code from} into {@code to}. */
  private static void copyAbsolute(OnnxModelBuilder from, OnnxModelBuilder to, String... names) {
    OnnxModelBuilder abs = from.absolute();
    var model = abs.model();
    for (String name : names) {
      TensorProto t = model.getGraph().getInitializerList().stream().filter(i -> i.getName().equals(name)).findFirst()
          .orElseGet(() -> model.getGraph().getNodeList().stream().filter(n -> n.getOutputList().contains(name))
              .findFirst().orElseThrow().getAttribute(0).getT());
      float[] f = new float[t.getRawData().size() / 4];
      t.getRawData().asReadOnlyByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
      to.initializer(name, t.getDimsList().stream().mapToInt(Long::intValue).toArray(), f);
    }
  }

  @AfterAll
  static void summary() {
    Conformance.printSummary("Chain");
  }
}
