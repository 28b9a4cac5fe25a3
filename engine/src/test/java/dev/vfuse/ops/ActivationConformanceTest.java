package dev.vfuse.ops;

import static dev.vfuse.ops.Conformance.feed;
import static dev.vfuse.ops.Conformance.uniform;

import dev.vfuse.Backend;
import dev.vfuse.Model;
import dev.vfuse.ModelOptions;
import dev.vfuse.Tensor;
import dev.vfuse.VfuseException;
import java.util.function.DoubleUnaryOperator;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** BatchNormalization and the pointwise activations against ONNX Runtime. */
class ActivationConformanceTest {
  private static final int[] SHAPE = {2, 3, 17, 19};

  /**
   * The activation inputs: a dense sweep of [−12, 12] (every sign, the saturation regions of
   * Sigmoid/Tanh/Hard*, the kinks of HardSigmoid at ±2.5 and HardSwish at ±3), exact kink points,
   * signed zeros and a few tiny and large values, then uniform randoms.
   */
  static Tensor activationInput(long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    float[] x = uniform(rng, Conformance.size(SHAPE), -8, 8);
    int i = 0;
    for (float v = -12f; v <= 12f && i < x.length; v += 0.0137f) {
      x[i++] = v;
    }
    float[] special = {0f, -0f, 1f, -1f, 2.5f, -2.5f, 3f, -3f, 6f, -6f, 0.5f, 1e-30f, -1e-30f, 1e-6f, -1e-6f, 20f, -20f, 40f,
        -40f, 1e4f, -1e4f, 9f, -9f, 9.5f, -9.5f, 18f, -18f};
    System.arraycopy(special, 0, x, i, special.length);
    return Tensor.ofFloats(SHAPE, x);
  }

  private static OnnxModelBuilder unary(int opset, String op, java.util.function.Consumer<OnnxModelBuilder.Node> attrs) {
    OnnxModelBuilder m = new OnnxModelBuilder(opset).input("x", SHAPE);
    OnnxModelBuilder.Node n = m.node(op, "x").out("y");
    attrs.accept(n);
    return m.output("y");
  }

  @ParameterizedTest(name = "{0} opset {1}")
  @CsvSource({"Relu, 13", "Relu, 7"})
  void relu(String op, int opset) {
    Conformance.check("Relu", unary(opset, op, n -> {}), feed("x", activationInput(1)), Tolerance.EXACT);
  }

  @ParameterizedTest(name = "alpha {0}")
  @CsvSource({"NaN", "0.1", "0.3", "-0.5", "1.5"})
  void leakyRelu(float alpha) {
    OnnxModelBuilder m = unary(13, "LeakyRelu", n -> {
      if (!Float.isNaN(alpha)) {
        n.floatAttr("alpha", alpha);
      }
    });
    Conformance.check("LeakyRelu", m, feed("x", activationInput(2)), Tolerance.EXACT);
  }

  /** Clip-6, the attribute form, valid in opsets 6 to 10 (vfuse reads opsets from 7). */
  @ParameterizedTest(name = "opset {0} min {1} max {2}")
  @CsvSource({"7, 0, 6", "10, -1, 1", "10, NaN, 0.5", "7, -0.25, NaN", "10, NaN, NaN", "10, 2, 2"})
  void clipOpset6(int opset, float min, float max) {
    OnnxModelBuilder m = unary(opset, "Clip", n -> {
      if (!Float.isNaN(min)) {
        n.floatAttr("min", min);
      }
      if (!Float.isNaN(max)) {
        n.floatAttr("max", max);
      }
    });
    Conformance.check("Clip-6", m, feed("x", activationInput(3)), Tolerance.EXACT);
  }

  /**
   * Clip-11/13: min and max as optional inputs (initializers); "" omits one. min > max gives max
   * everywhere: Clip-13 is defined as Min(max, Max(input, min)).
   */
  @ParameterizedTest(name = "opset {0} min {1} max {2}")
  @CsvSource({"13, 0, 6", "13, -1.5, 2.5", "13, 0.5, NaN", "13, NaN, -0.5", "13, NaN, NaN", "11, -2, 3", "12, 1, NaN",
      "13, 2, 1", "11, 0.5, -0.5"})
  void clipFromInputs(int opset, float min, float max) {
    OnnxModelBuilder m = new OnnxModelBuilder(opset).input("x", SHAPE);
    String minName = "";
    String maxName = "";
    if (!Float.isNaN(min)) {
      m.initializer("min", new int[0], new float[] {min});
      minName = "min";
    }
    if (!Float.isNaN(max)) {
      m.initializer("max", new int[0], new float[] {max});
      maxName = "max";
    }
    if (maxName.isEmpty() && minName.isEmpty()) {
      m.node("Clip", "x").out("y");
    } else if (maxName.isEmpty()) {
      m.node("Clip", "x", minName).out("y");
    } else {
      m.node("Clip", "x", minName, maxName).out("y");
    }
    m.output("y");
    Conformance.check("Clip-13", m, feed("x", activationInput(4)), Tolerance.EXACT);
  }

  @Test
  void sigmoid() {
    Tensor x = activationInput(5);
    Conformance.check("Sigmoid", unary(13, "Sigmoid", n -> {}), feed("x", x), TRANSCENDENTAL);
    assertWithinUlpOfDouble("Sigmoid", unary(13, "Sigmoid", n -> {}), x, v -> 1 / (1 + Math.exp(-v)));
  }

  @Test
  void tanh() {
    Tensor x = activationInput(6);
    Conformance.check("Tanh", unary(13, "Tanh", n -> {}), feed("x", x), TRANSCENDENTAL);
    assertWithinUlpOfDouble("Tanh", unary(13, "Tanh", n -> {}), x, Math::tanh);
  }

  /** vfuse against the specification's formula evaluated in double: within 1 ulp of the float result. */
  private static void assertWithinUlpOfDouble(String op, OnnxModelBuilder m, Tensor x, DoubleUnaryOperator f) {
    float[] y;
    try (Model model = Model.load(m.build(), ModelOptions.defaults().withBackend(Backend.REFERENCE))) {
      y = model.run(x).floats();
    } catch (VfuseException e) {
      throw new AssertionError(op + ": " + e, e);
    }
    float[] in = x.floats();
    for (int i = 0; i < in.length; i++) {
      double exact = f.applyAsDouble(in[i]);
      if (Math.abs(y[i] - exact) > Math.ulp((float) exact)) {
        throw new AssertionError(op + "(" + in[i] + "): vfuse " + y[i] + ", exact " + exact + " (flat index " + i + ")");
      }
    }
  }

  @ParameterizedTest(name = "alpha {0} beta {1}")
  @CsvSource({"NaN, NaN", "0.3, 0.6", "0.1666667, 0.5", "-0.2, 0.4", "1, 0"})
  void hardSigmoid(float alpha, float beta) {
    OnnxModelBuilder m = unary(13, "HardSigmoid", n -> {
      if (!Float.isNaN(alpha)) {
        n.floatAttr("alpha", alpha);
      }
      if (!Float.isNaN(beta)) {
        n.floatAttr("beta", beta);
      }
    });
    Conformance.check("HardSigmoid", m, feed("x", activationInput(7)), new Tolerance.Ulps(1));
  }

  @Test
  void hardSwish() {
    Conformance.check("HardSwish", unary(14, "HardSwish", n -> {}), feed("x", activationInput(8)), new Tolerance.Ulps(1));
  }

  /**
   * ORT's Sigmoid and Tanh are MLAS's rational approximations with Eigen's coefficients:
   * 0.5 + x·p(x²)/q(x²) for the logistic (input clamped to ±18) and x·p(x²)/q(x²) for tanh (input
   * clamped to ±9), evaluated by Horner in float. With |x·p/q| ≤ 1 and about 15 roundings (two
   * Horner chains of 7 and 4 terms, the quotient, the product, the final add) the error is
   * absolute, ≤ 15u ≈ 8·EPS, with no relative guarantee: for x = −20 ORT returns exactly 0 where
   * σ(x) = 2.1e-9. (Measured over 200 001 points of [−25, 25]: 1.64e-7 = 1.4·EPS for Sigmoid,
   * 2.57e-7 = 2.2·EPS for Tanh.) vfuse's own values are checked against the double-precision
   * formula to 1 ulp separately.
   */
  private static final Tolerance TRANSCENDENTAL = new Tolerance.Relative(0, 8 * Tolerance.EPS);

  @ParameterizedTest(name = "shape {0} epsilon {1}")
  @CsvSource({"2x5x4x3, 1e-3", "1x8x7, NaN", "3x4, 1e-5", "1x16x9x9, 0.01", "2x3x2x2x3, 1e-3"})
  void batchNormalization(String dims, float epsilon) {
    int[] shape = java.util.Arrays.stream(dims.split("x")).mapToInt(Integer::parseInt).toArray();
    int c = shape[1];
    SplittableRandom rng = new SplittableRandom(dims.hashCode());
    float[] mean = uniform(rng, c, -1, 1);
    OnnxModelBuilder m = new OnnxModelBuilder(15).input("x", shape)
        .floats("gamma", uniform(rng, c, -2, 2))
        .floats("beta", uniform(rng, c, -1, 1))
        .floats("mean", mean)
        .floats("var", uniform(rng, c, 0.01, 3));
    OnnxModelBuilder.Node n = m.node("BatchNormalization", "x", "gamma", "beta", "mean", "var").out("y");
    if (!Float.isNaN(epsilon)) {
      n.floatAttr("epsilon", epsilon);
    }
    m.output("y");
    // Σ|t| = |γ|·(|x| + |μ|)/sqrt(var + ε) + |β|: the absolute model with −|μ| as the mean.
    float[] negAbsMean = new float[c];
    for (int i = 0; i < c; i++) {
      negAbsMean[i] = -Math.abs(mean[i]);
    }
    OnnxModelBuilder magnitude = m.absolute().floats("mean", negAbsMean);
    Conformance.checkAgainst("BatchNormalization", m, m, magnitude, List.of(feed("x", Conformance.randomTensor(rng, shape))),
        BATCH_NORM);
  }

  /**
   * ORT computes BatchNormalization as y = x·s + (β − μ·s) with s = γ / sqrt(var + ε), all in
   * float: seven roundings (add, sqrt, reciprocal, two products, a subtraction, the final
   * multiply-add) each at most u·Σ|t|, plus vfuse's own rounding: 8u·Σ|t|; EPS = 2u doubles that.
   */
  private static final Tolerance BATCH_NORM = new Tolerance.Bounded(8);

  @AfterAll
  static void summary() {
    Conformance.printSummary("Relu", "LeakyRelu", "Clip-6", "Clip-13", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish",
        "BatchNormalization");
  }
}
