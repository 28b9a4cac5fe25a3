package dev.vfuse.ops;

import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.ShapeException;
import dev.vfuse.kernel.Activation;

/**
 * Relu, LeakyRelu, Sigmoid, HardSigmoid, HardSwish, Tanh and Clip. Clip takes its bounds from
 * attributes before opset 11 and from optional constant inputs from opset 11 on.
 */
final class ActivationOp implements Op {
  private final Activation fixed;
  private final boolean clipFromInputs;

  ActivationOp(String opType, Attributes a, int opset) {
    this.clipFromInputs = opType.equals("Clip") && opset >= 11;
    this.fixed = switch (opType) {
      case "Relu" -> new Activation.Relu();
      case "LeakyRelu" -> new Activation.LeakyRelu(a.getFloat("alpha", 0.01f));
      case "Sigmoid" -> new Activation.Sigmoid();
      case "HardSigmoid" -> new Activation.HardSigmoid(a.getFloat("alpha", 0.2f), a.getFloat("beta", 0.5f));
      case "HardSwish" -> new Activation.HardSwish();
      case "Tanh" -> new Activation.Tanh();
      case "Clip" -> clipFromInputs ? null : clip(a.getFloat("min", -Float.MAX_VALUE), a.getFloat("max", Float.MAX_VALUE));
      default -> throw new IllegalArgumentException(opType);
    };
  }

  @Override
  public Bound bind(Value[] in) {
    Inputs.count(in, 1, clipFromInputs ? 3 : 1);
    Value x = in[0];
    x.requireFloat("input");
    Activation f = fixed != null ? fixed : clip(bound(Inputs.optional(in, 1), -Float.MAX_VALUE, "min"),
        bound(Inputs.optional(in, 2), Float.MAX_VALUE, "max"));
    int n = x.size();
    return Bound.like(x, (i, o, k, ws) -> k.activation(f, n, i[0].f, o[0].f));
  }

  /** ONNX Clip is Min(max, Max(x, min)): when min > max every output is max. */
  private static Activation.Clip clip(float min, float max) {
    return new Activation.Clip(Math.min(min, max), max);
  }

  private static float bound(Value v, float absent, String what) {
    if (v == null) {
      return absent;
    }
    var c = v.requireKnown("Clip " + what);
    if (c.size() != 1) {
      throw new ShapeException("Clip " + what + " must be a scalar");
    }
    return c.toFloats()[0];
  }
}
