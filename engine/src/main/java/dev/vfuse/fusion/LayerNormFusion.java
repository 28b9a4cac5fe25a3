package dev.vfuse.fusion;

import dev.vfuse.ElementType;
import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.Node;
import dev.vfuse.ops.OpRegistry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Layer normalization spelled out in primitives, as PaddlePaddle (and older torch) exports write
 * it, becomes one {@code vfuse.LayerNormalization} node:
 *
 * <pre>
 *   μ  = ReduceMean(X, axes = [-1])        d = Sub(X, μ)
 *   σ² = ReduceMean(Pow(d, 2), axes = [-1])          (or Mul(d, d))
 *   n  = Div(d, Sqrt(Add(σ², ε)))
 *   Y  = Add(Mul(n, γ), β)                           (Mul and Add optional, either operand order)
 *   ⇒ Y = LayerNormalization(X, γ, β; axis = −1, ε):  y = (x − μ)/sqrt(σ² + ε)·γ + β over the last axis
 * </pre>
 *
 * The fused kernel computes μ, σ² (two passes) and y in double and rounds once, where the spelled
 * form rounds at each of its nine steps; the two differ by float rounding of order (L + 9)·2⁻²⁴
 * relative, for rows of length L.
 *
 * <p>Exact conditions, each refusal logged with the node at fault: both ReduceMeans reduce
 * {@code axes = [-1]} alone with keepdims 1 (another axis list could be the last axis too, but the
 * rank is not known at load for a dynamic input); the Sub reads X (the mean's own input) minus the
 * mean; d is read by the Pow (exponent a constant scalar 2) or the Mul(d, d) and by the Div's
 * numerator, and by nothing else; ε is a finite, non-negative constant of one element; every
 * intermediate value has exactly one reader and is not a graph output (the fused node no longer
 * computes it). γ and β join the fused node when they are float constants of rank ≤ 1 (one value
 * per element of the last axis, or one for all): a constant of higher rank could broadcast the
 * output to more axes, so such a Mul or Add stays a node of its own after the fused one. Without
 * a Mul, γ is a constant 1.
 */
public final class LayerNormFusion implements FusionPass {
  private static final long[] LAST_AXIS = {-1};

  @Override
  public String name() {
    return "layernorm";
  }

  @Override
  public void run(GraphEditor g, FusionLog log) {
    for (Node mean : g.nodes()) {
      if (isOp(mean, "ReduceMean") && g.contains(mean)) {
        Node sub = g.soleConsumer(mean.outputs().get(0));
        if (sub != null && isOp(sub, "Sub") && sub.input(0).equals(mean.input(0)) && sub.input(1).equals(mean.outputs().get(0))) {
          fuse(g, mean, sub, log);
        }
      }
    }
  }

  /** Matches the rest of the chain from ReduceMean → Sub; fuses it or logs the first condition that fails. */
  private void fuse(GraphEditor g, Node mean, Node sub, FusionLog log) {
    String x = mean.input(0);
    String d = sub.outputs().get(0);
    List<Node> chain = new ArrayList<>(List.of(mean, sub));
    String refusal = reducesLastAxis(mean);
    Node square = null;
    Node div = null;
    if (refusal == null) {
      List<Node> readers = g.consumers(d);
      square = readers.stream().filter(n -> isSquare(g, n, d)).findFirst().orElse(null);
      div = readers.stream().filter(n -> isOp(n, "Div") && n.input(0).equals(d) && !n.input(1).equals(d)).findFirst().orElse(null);
      if (square == null || div == null || g.readers(d) != (isOp(square, "Mul") ? 3 : 2)) {
        refusal = "the deviation " + d + " is not read by exactly a Pow(d, 2) or Mul(d, d) and a Div(d, ·)";
      }
    }
    Node variance = null;
    if (refusal == null) {
      chain.add(square);
      variance = g.soleConsumer(square.outputs().get(0));
      if (!isOp(variance, "ReduceMean")) {
        refusal = "the square " + square.name() + " is not read by a ReduceMean alone";
      } else {
        refusal = reducesLastAxis(variance);
      }
    }
    Node addEps = null;
    float epsilon = 0f;
    if (refusal == null) {
      chain.add(variance);
      addEps = g.soleConsumer(variance.outputs().get(0));
      NdArray eps = isOp(addEps, "Add") ? otherConstant(g, addEps, variance.outputs().get(0)) : null;
      if (eps == null || eps.type != ElementType.FLOAT32 || eps.size() != 1) {
        refusal = "the variance " + variance.name() + " is not read by an Add of a one-element float constant alone";
      } else {
        epsilon = eps.f[0];
        if (!(epsilon >= 0f) || Float.isInfinite(epsilon)) {
          refusal = "ε = " + epsilon + " in " + addEps.name() + " is not finite and non-negative";
        }
      }
    }
    Node sqrt = null;
    if (refusal == null) {
      chain.add(addEps);
      sqrt = g.soleConsumer(addEps.outputs().get(0));
      if (!isOp(sqrt, "Sqrt")) {
        refusal = "σ² + ε from " + addEps.name() + " is not read by a Sqrt alone";
      } else if (g.soleConsumer(sqrt.outputs().get(0)) != div || !div.input(1).equals(sqrt.outputs().get(0))) {
        refusal = "the deviation of " + sqrt.name() + " is not read by the Div " + div.name() + " alone, as its divisor";
      }
    }
    if (refusal != null) {
      log.kept(name(), "kept LayerNorm candidate " + mean.name() + ": " + refusal, mean.name());
      return;
    }
    chain.add(sqrt);
    chain.add(div);
    String out = div.outputs().get(0);
    String gamma = null;
    String beta = "";
    String note = "";
    Node mul = g.soleConsumer(out);
    if (isOp(mul, "Mul") && perElement(g, mul, out) != null) {
      gamma = otherInput(mul, out);
      chain.add(mul);
      out = mul.outputs().get(0);
      Node add = g.soleConsumer(out);
      if (isOp(add, "Add") && perElement(g, add, out) != null) {
        beta = otherInput(add, out);
        chain.add(add);
        out = add.outputs().get(0);
      } else if (isOp(add, "Add") && otherConstant(g, add, out) != null) {
        note = "; the shift " + add.name() + " stays a node: its constant has rank > 1";
      }
    } else if (isOp(mul, "Mul") && otherConstant(g, mul, out) != null) {
      note = "; the scale " + mul.name() + " stays a node: its constant has rank > 1";
    }
    if (gamma == null) {
      gamma = g.addConstant(mean.name() + ".gamma", NdArray.ofFloats(new int[] {1}, new float[] {1f}));
    }
    Map<String, Object> attributes = new LinkedHashMap<>();
    attributes.put("axis", -1L);
    attributes.put("epsilon", epsilon);
    Node fused = new Node(mean.name(), "LayerNormalization", OpRegistry.VFUSE_DOMAIN, List.of(x, gamma, beta), List.of(out),
        new Attributes(attributes));
    g.replace(chain, fused);
    String[] names = chain.stream().map(Node::name).toArray(String[]::new);
    log.fused(name(), "fuse LayerNorm " + String.join(" → ", names) + " (ε = " + epsilon + ") into LayerNormalization "
        + fused.name() + note, names);
  }

  /** Null when {@code n} is a ReduceMean over axes [-1] with keepdims 1, else why not. */
  private static String reducesLastAxis(Node n) {
    long[] axes = n.attributes().getLongs("axes");
    if (!Arrays.equals(axes, LAST_AXIS)) {
      return n.name() + " reduces axes " + (axes == null ? "(all)" : Arrays.toString(axes)) + ", not [-1]";
    }
    if (n.attributes().getInt("keepdims", 1) != 1) {
      return n.name() + " has keepdims 0";
    }
    return null;
  }

  /** Pow(d, scalar 2) or Mul(d, d). */
  private static boolean isSquare(GraphEditor g, Node n, String d) {
    if (isOp(n, "Mul")) {
      return n.input(0).equals(d) && n.input(1).equals(d);
    }
    if (!isOp(n, "Pow") || !n.input(0).equals(d)) {
      return false;
    }
    NdArray e = g.constant(n.input(1));
    return e != null && e.size() == 1 && e.toFloats()[0] == 2f;
  }

  /** The constant operand of a binary node whose other operand is {@code value}, or null. */
  private static NdArray otherConstant(GraphEditor g, Node n, String value) {
    String other = otherInput(n, value);
    return other == null ? null : g.constant(other);
  }

  /** The float constant of rank ≤ 1 that {@code n} combines with {@code value}, or null. */
  private static NdArray perElement(GraphEditor g, Node n, String value) {
    NdArray c = otherConstant(g, n, value);
    return c != null && c.type == ElementType.FLOAT32 && c.rank() <= 1 ? c : null;
  }

  private static String otherInput(Node n, String value) {
    if (n.inputs().size() != 2) {
      return null;
    }
    if (n.input(0).equals(value) && !n.input(1).equals(value)) {
      return n.input(1);
    }
    if (n.input(1).equals(value) && !n.input(0).equals(value)) {
      return n.input(0);
    }
    return null;
  }

  private static boolean isOp(Node n, String opType) {
    return n != null && n.domain().isEmpty() && n.opType().equals(opType);
  }
}
