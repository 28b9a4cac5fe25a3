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
 * the last axis alone with keepdims 1 ({@code axes = [-1]}, or [r − 1] where the rank r of X is
 * proven at load, see {@link #rank}); the Sub reads X (the mean's own input) minus the
 * mean; d is read by the Pow (exponent a constant scalar 2) or the Mul(d, d) and by the Div's
 * numerator, and by nothing else; ε is a finite, non-negative constant of one element; every
 * intermediate value has exactly one reader and is not a graph output (the fused node no longer
 * computes it). γ and β join the fused node when they are float constants of rank ≤ 1 (one value
 * per element of the last axis, or one for all), or a Reshape of a rank-1 constant to a one-element
 * shape (see {@link #perElement}): a constant of higher rank could broadcast the
 * output to more axes, so such a Mul or Add stays a node of its own after the fused one. Without
 * a Mul, γ is a constant 1.
 */
public final class LayerNormFusion implements FusionPass {
  private static final int MAX_RANK_DEPTH = 64;

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
    String refusal = reducesLastAxis(g, mean, x);
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
        refusal = reducesLastAxis(g, variance, x);
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
    if (isOp(mul, "Mul") && (gamma = perElement(g, mul, out, chain)) != null) {
      chain.add(mul);
      out = mul.outputs().get(0);
      Node add = g.soleConsumer(out);
      String shift;
      if (isOp(add, "Add") && (shift = perElement(g, add, out, chain)) != null) {
        beta = shift;
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

  /**
   * Null when {@code n} is a ReduceMean with keepdims 1 over the last axis alone of a tensor of the
   * rank of {@code x}: axes [-1], or [r − 1] when the rank r of x is known ({@link #rank}), else why not.
   */
  private static String reducesLastAxis(GraphEditor g, Node n, String x) {
    long[] axes = n.attributes().getLongs("axes");
    if (axes == null || axes.length != 1) {
      return n.name() + " reduces axes " + (axes == null ? "(all)" : Arrays.toString(axes)) + ", not the last axis alone";
    }
    if (axes[0] != -1) {
      int r = rank(g, x, 0);
      if (r < 0) {
        return n.name() + " reduces axis " + axes[0] + " of " + x + ", whose rank is not known at load";
      }
      if (axes[0] != r - 1) {
        return n.name() + " reduces axis " + axes[0] + " of " + x + ", which has rank " + r + ": not the last axis";
      }
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

  /**
   * The rank of {@code value} where the graph proves it, else −1: a graph input's declared rank, a
   * constant's, a Transpose's perm length, a Reshape to a constant shape, the larger rank of the
   * operands of a broadcasting op or a MatMul of ranks ≥ 2, and the input's rank through ops that
   * keep it.
   */
  static int rank(GraphEditor g, String value, int depth) {
    NdArray c = g.constant(value);
    if (c != null) {
      return c.rank();
    }
    for (var in : g.inputs()) {
      if (in.name().equals(value)) {
        return in.rank();
      }
    }
    Node p = g.producer(value);
    if (p == null || depth > MAX_RANK_DEPTH) {
      return -1;
    }
    if (!p.domain().isEmpty()) {
      return p.opType().equals("LayerNormalization") || p.opType().equals("ScaleShift") ? rank(g, p.input(0), depth + 1) : -1;
    }
    return switch (p.opType()) {
      case "Transpose" -> {
        long[] perm = p.attributes().getLongs("perm");
        yield perm != null ? perm.length : rank(g, p.input(0), depth + 1);
      }
      case "Reshape" -> {
        NdArray shape = g.constant(p.input(1));
        yield shape == null ? -1 : shape.size();
      }
      case "Add", "Sub", "Mul", "Div", "Pow", "MatMul" -> {
        int a = rank(g, p.input(0), depth + 1);
        int b = a < 0 ? -1 : rank(g, p.input(1), depth + 1);
        yield a < 0 || b < 0 || (p.opType().equals("MatMul") && (a < 2 || b < 2)) ? -1 : Math.max(a, b);
      }
      case "Relu", "LeakyRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Identity", "Dropout", "Cast", "Softmax",
          "Sqrt", "Reciprocal", "Exp", "Log", "Neg", "Abs", "Erf", "BatchNormalization" -> rank(g, p.input(0), depth + 1);
      case "ReduceMean" -> p.attributes().getInt("keepdims", 1) == 1 ? rank(g, p.input(0), depth + 1) : -1;
      default -> -1;
    };
  }

  /** The constant operand of a binary node whose other operand is {@code value}, or null. */
  private static NdArray otherConstant(GraphEditor g, Node n, String value) {
    String other = otherInput(n, value);
    return other == null ? null : g.constant(other);
  }

  /**
   * The name of the float constant of rank ≤ 1 that {@code n} combines with {@code value}, or null.
   * PaddlePaddle's v3 exports write γ and β as Reshape(constant [C], Slice(Shape(X), [k], [k + 1])),
   * a reshape to one axis, which gives the constant itself or fails: that counts as the constant,
   * and the Reshape, read by {@code n} alone, joins {@code chain}.
   */
  private static String perElement(GraphEditor g, Node n, String value, List<Node> chain) {
    String other = otherInput(n, value);
    if (other == null) {
      return null;
    }
    NdArray c = g.constant(other);
    if (c != null) {
      return c.type == ElementType.FLOAT32 && c.rank() <= 1 ? other : null;
    }
    Node reshape = g.producer(other);
    if (!isOp(reshape, "Reshape") || g.soleConsumer(other) != n || !isOneElement(g, reshape.input(1))) {
      return null;
    }
    NdArray data = g.constant(reshape.input(0));
    if (data == null || data.type != ElementType.FLOAT32 || data.rank() != 1) {
      return null;
    }
    chain.add(reshape);
    return reshape.input(0);
  }

  /** Whether {@code shape} is a one-element int64 vector: a constant, or a Slice of constant bounds [k, k + 1). */
  private static boolean isOneElement(GraphEditor g, String shape) {
    NdArray c = g.constant(shape);
    if (c != null) {
      return c.rank() == 1 && c.size() == 1;
    }
    Node slice = g.producer(shape);
    if (!isOp(slice, "Slice") || slice.inputs().size() < 3) {
      return false;
    }
    NdArray starts = g.constant(slice.input(1));
    NdArray ends = g.constant(slice.input(2));
    NdArray steps = slice.inputs().size() > 4 ? g.constant(slice.input(4)) : null;
    if (starts == null || ends == null || starts.size() != 1 || ends.size() != 1 || (slice.inputs().size() > 4 && steps == null)) {
      return false;
    }
    long start = starts.toLongs()[0];
    long end = ends.toLongs()[0];
    return start >= 0 && end == start + 1 && (steps == null || steps.toLongs()[0] == 1);
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
