package dev.vfuse.kernel;

/**
 * A pointwise activation, with the exact float semantics ONNX gives it. Each variant is a value,
 * so a fused conv epilogue can carry one.
 */
public sealed interface Activation {

  /** f(x) for one element; the scalar definition that vector kernels are held to. */
  float apply(float x);

  /** max(x, 0). */
  record Relu() implements Activation {
    public float apply(float x) {
      return x > 0f ? x : 0f;
    }
  }

  /** x if x ≥ 0, else alpha·x. */
  record LeakyRelu(float alpha) implements Activation {
    public float apply(float x) {
      return x >= 0f ? x : alpha * x;
    }
  }

  /** min(max(x, min), max); NaN passes through. Relu6 is Clip(0, 6). */
  record Clip(float min, float max) implements Activation {
    public float apply(float x) {
      return x < min ? min : (x > max ? max : x);
    }
  }

  /** 1 / (1 + e^−x). */
  record Sigmoid() implements Activation {
    public float apply(float x) {
      return (float) (1.0 / (1.0 + Math.exp(-(double) x)));
    }
  }

  /** max(0, min(1, alpha·x + beta)); ONNX defaults are alpha 0.2, beta 0.5. */
  record HardSigmoid(float alpha, float beta) implements Activation {
    public float apply(float x) {
      float v = alpha * x + beta;
      return v < 0f ? 0f : (v > 1f ? 1f : v);
    }
  }

  /** x · max(0, min(1, x/6 + 1/2)). */
  record HardSwish() implements Activation {
    public float apply(float x) {
      float v = x * (1f / 6f) + 0.5f;
      return x * (v < 0f ? 0f : (v > 1f ? 1f : v));
    }
  }

  /** tanh(x). */
  record Tanh() implements Activation {
    public float apply(float x) {
      return (float) Math.tanh(x);
    }
  }
}
