package dev.vfuse.ops;

import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.ShapeException;
import dev.vfuse.kernel.Activation;
import java.util.Map;

/**
 * How a fused node carries its activation: attribute {@code activation} names the ONNX op and
 * {@code activation_params} holds its parameters (LeakyRelu: alpha; Clip: min, max; HardSigmoid:
 * alpha, beta).
 */
public final class ActivationAttributes {
  public static final String NAME = "activation";
  public static final String PARAMS = "activation_params";

  private ActivationAttributes() {}

  /** Adds the attributes for {@code f} to {@code values}. */
  public static void put(Activation f, Map<String, Object> values) {
    switch (f) {
      case Activation.Relu r -> values.put(NAME, "Relu");
      case Activation.LeakyRelu l -> {
        values.put(NAME, "LeakyRelu");
        values.put(PARAMS, new float[] {l.alpha()});
      }
      case Activation.Clip c -> {
        values.put(NAME, "Clip");
        values.put(PARAMS, new float[] {c.min(), c.max()});
      }
      case Activation.Sigmoid s -> values.put(NAME, "Sigmoid");
      case Activation.HardSigmoid h -> {
        values.put(NAME, "HardSigmoid");
        values.put(PARAMS, new float[] {h.alpha(), h.beta()});
      }
      case Activation.HardSwish h -> values.put(NAME, "HardSwish");
      case Activation.Tanh t -> values.put(NAME, "Tanh");
    }
  }

  /** The activation the attributes describe, or null when there is none. */
  public static Activation read(Attributes a) {
    String name = a.getString(NAME, null);
    if (name == null) {
      return null;
    }
    float[] p = a.has(PARAMS) ? a.getFloats(PARAMS) : new float[0];
    return switch (name) {
      case "Relu" -> new Activation.Relu();
      case "LeakyRelu" -> new Activation.LeakyRelu(param(p, 0, name));
      case "Clip" -> new Activation.Clip(param(p, 0, name), param(p, 1, name));
      case "Sigmoid" -> new Activation.Sigmoid();
      case "HardSigmoid" -> new Activation.HardSigmoid(param(p, 0, name), param(p, 1, name));
      case "HardSwish" -> new Activation.HardSwish();
      case "Tanh" -> new Activation.Tanh();
      default -> throw new ShapeException("unknown fused activation '" + name + "'");
    };
  }

  private static float param(float[] p, int i, String name) {
    if (i >= p.length) {
      throw new ShapeException("fused " + name + " lacks parameter " + i);
    }
    return p[i];
  }
}
