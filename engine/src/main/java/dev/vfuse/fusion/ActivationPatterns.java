package dev.vfuse.fusion;

import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.Node;
import dev.vfuse.kernel.Activation;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds the activations applied to a value x, as one node or as the HardSwish spellings of
 * exporters:
 *
 * <ul>
 *   <li>one of Relu, LeakyRelu, Clip, Sigmoid, HardSigmoid, HardSwish, Tanh reading x;
 *   <li>PyTorch before opset 14: {@code Mul(x, HardSigmoid(x))} with alpha = 1/6 (within one ulp of
 *       the float 1/6) and beta = 0.5, either Mul operand order;
 *   <li>PaddlePaddle: {@code Add(x, 3) → Clip(0, 6)}, then {@code Mul(x, ·)} and a division by 6
 *       (Div by 6 or Mul by 1/6) in either order and either operand order.
 * </ul>
 *
 * A match lists its nodes, the value it produces and the values inside it, which the caller must
 * check have no reader outside the match. Parameters that make the match unusable (Clip bounds that
 * are not constants, min > max) are given as a refusal rather than hidden, so the pass can log them.
 */
final class ActivationPatterns {
  private ActivationPatterns() {}

  /** Ops that are one activation of {@link Activation} by themselves. */
  static final List<String> SINGLE = List.of("Relu", "LeakyRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh");

  private static final float SIXTH = 1f / 6f;

  /**
   * An activation found on x.
   *
   * @param activation what the nodes compute, or null when {@code refusal} says why it cannot be carried
   * @param label the nodes for logs, e.g. "HardSwish (HardSigmoid hs1 · Mul m1)"
   * @param nodes the nodes, in graph order
   * @param output the value the last of them produces
   * @param inner values produced and read inside the match only
   */
  record Match(Activation activation, String label, List<Node> nodes, String output, List<String> inner, String refusal) {}

  /** Every activation applied to x; a node belongs to at most one match. */
  static List<Match> on(GraphEditor g, String x) {
    List<Node> readers = g.consumers(x);
    List<Match> out = new ArrayList<>();
    List<Node> used = new ArrayList<>();
    for (Node r : readers) {
      Match m = r.opType().equals("HardSigmoid") ? torchHardSwish(g, x, r, readers)
          : r.opType().equals("Add") ? paddleHardSwish(g, x, r, readers) : null;
      if (m != null) {
        out.add(m);
        used.addAll(m.nodes());
      }
    }
    for (Node r : readers) {
      if (!used.contains(r) && r.domain().isEmpty() && SINGLE.contains(r.opType()) && r.input(0).equals(x)) {
        out.add(single(g, r));
      }
    }
    return out;
  }

  private static Match single(GraphEditor g, Node n) {
    var a = n.attributes();
    String label = n.opType() + " " + n.name();
    String y = n.outputs().get(0);
    Activation f = switch (n.opType()) {
      case "Relu" -> new Activation.Relu();
      case "LeakyRelu" -> new Activation.LeakyRelu(a.getFloat("alpha", 0.01f));
      case "Sigmoid" -> new Activation.Sigmoid();
      case "HardSigmoid" -> new Activation.HardSigmoid(a.getFloat("alpha", 0.2f), a.getFloat("beta", 0.5f));
      case "HardSwish" -> new Activation.HardSwish();
      case "Tanh" -> new Activation.Tanh();
      case "Clip" -> null;
      default -> throw new IllegalArgumentException(n.opType());
    };
    if (f != null) {
      return new Match(f, label, List.of(n), y, List.of(), null);
    }
    float[] bounds = clipBounds(g, n);
    if (bounds == null) {
      return new Match(null, label, List.of(n), y, List.of(), "its bounds are not constant scalars");
    }
    if (bounds[0] > bounds[1]) {
      // ONNX gives max everywhere; Activation.Clip(min, max) assumes min ≤ max.
      return new Match(null, label, List.of(n), y, List.of(), "min " + bounds[0] + " > max " + bounds[1]);
    }
    return new Match(new Activation.Clip(bounds[0], bounds[1]), label, List.of(n), y, List.of(), null);
  }

  /** [min, max] of a Clip: attributes before opset 11, constant scalar inputs from 11; absent bounds are ∓Float.MAX_VALUE. */
  static float[] clipBounds(GraphEditor g, Node clip) {
    if (g.opset() < 11) {
      return new float[] {clip.attributes().getFloat("min", -Float.MAX_VALUE), clip.attributes().getFloat("max", Float.MAX_VALUE)};
    }
    float[] b = {-Float.MAX_VALUE, Float.MAX_VALUE};
    for (int i = 1; i <= 2; i++) {
      if (clip.input(i).isEmpty()) {
        continue;
      }
      NdArray c = g.constant(clip.input(i));
      if (c == null || c.f == null || c.size() != 1) {
        return null;
      }
      b[i - 1] = c.f[0];
    }
    return b;
  }

  /** Mul(x, HardSigmoid(x)) with alpha ≈ 1/6 and beta = 0.5. */
  private static Match torchHardSwish(GraphEditor g, String x, Node hs, List<Node> readers) {
    float alpha = hs.attributes().getFloat("alpha", 0.2f);
    float beta = hs.attributes().getFloat("beta", 0.5f);
    if (!hs.domain().isEmpty() || !hs.input(0).equals(x) || Math.abs(alpha - SIXTH) > Math.ulp(SIXTH) || beta != 0.5f) {
      return null;
    }
    String h = hs.outputs().get(0);
    for (Node m : readers) {
      if (isBinary(m, "Mul") && operandOtherThan(m, x).equals(h)) {
        return new Match(new Activation.HardSwish(), "HardSwish (HardSigmoid " + hs.name() + " · Mul " + m.name() + ")",
            List.of(hs, m), m.outputs().get(0), List.of(h), null);
      }
    }
    return null;
  }

  /** Add(x, 3) → Clip(0, 6), then Mul(x, ·) and ÷6 in either order. */
  private static Match paddleHardSwish(GraphEditor g, String x, Node add, List<Node> readers) {
    if (!isBinary(add, "Add") || !isScalar(g, operandOtherThan(add, x), 3f)) {
      return null;
    }
    String shifted = add.outputs().get(0);
    for (Node clip : g.consumers(shifted)) {
      if (!clip.domain().isEmpty() || !clip.opType().equals("Clip") || !clip.input(0).equals(shifted)) {
        continue;
      }
      float[] b = clipBounds(g, clip);
      if (b == null || b[0] != 0f || b[1] != 6f) {
        continue;
      }
      String clipped = clip.outputs().get(0);
      // Mul(x, clip) then ÷6.
      for (Node m : readers) {
        if (isBinary(m, "Mul") && operandOtherThan(m, x).equals(clipped)) {
          String product = m.outputs().get(0);
          for (Node d : g.consumers(product)) {
            if (isSixth(g, d, product)) {
              return paddle(add, clip, m, d, List.of(shifted, clipped, product));
            }
          }
        }
      }
      // ÷6 then Mul(x, ·).
      for (Node d : g.consumers(clipped)) {
        if (isSixth(g, d, clipped)) {
          String scaled = d.outputs().get(0);
          for (Node m : readers) {
            if (isBinary(m, "Mul") && operandOtherThan(m, x).equals(scaled)) {
              return paddle(add, clip, d, m, List.of(shifted, clipped, scaled));
            }
          }
        }
      }
    }
    return null;
  }

  private static Match paddle(Node add, Node clip, Node third, Node last, List<String> inner) {
    String label = "HardSwish (Add " + add.name() + " · Clip " + clip.name() + " · " + third.opType() + " " + third.name()
        + " · " + last.opType() + " " + last.name() + ")";
    return new Match(new Activation.HardSwish(), label, List.of(add, clip, third, last), last.outputs().get(0), inner, null);
  }

  /** Div(v, 6), or Mul(v, 1/6) in either order with the constant within one ulp of the float 1/6. */
  private static boolean isSixth(GraphEditor g, Node d, String v) {
    if (isBinary(d, "Div")) {
      return d.input(0).equals(v) && isScalar(g, d.input(1), 6f);
    }
    if (!isBinary(d, "Mul")) {
      return false;
    }
    NdArray c = g.constant(operandOtherThan(d, v));
    return c != null && c.f != null && c.size() == 1 && c.rank() <= 1 && Math.abs(c.f[0] - SIXTH) <= Math.ulp(SIXTH);
  }

  private static boolean isBinary(Node n, String op) {
    return n.domain().isEmpty() && n.opType().equals(op) && n.inputs().size() == 2;
  }

  /** The operand of a binary node that is not v, or "" when neither or both are v. */
  static String operandOtherThan(Node n, String v) {
    boolean first = n.input(0).equals(v);
    boolean second = n.input(1).equals(v);
    return first == second ? "" : (first ? n.input(1) : n.input(0));
  }

  /** A float constant with one element and rank ≤ 1 (so broadcasting it changes no shape) equal to {@code v}. */
  private static boolean isScalar(GraphEditor g, String name, float v) {
    NdArray c = g.constant(name);
    return c != null && c.f != null && c.size() == 1 && c.rank() <= 1 && c.f[0] == v;
  }
}
