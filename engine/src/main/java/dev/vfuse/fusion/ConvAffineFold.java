package dev.vfuse.fusion;

import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.Node;
import dev.vfuse.ops.ActivationAttributes;
import dev.vfuse.ops.OpRegistry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Conv or ConvTranspose followed by a chain of per-channel affine steps (Mul or Add of a constant,
 * and a BatchNormalization reached through them) becomes one convolution.
 *
 * <pre>
 *   the chain composes, in double, to y_k = s_k·conv(x)_k + t_k, starting from s = 1, t = 0:
 *     Mul by m:   s_k ← s_k·m_k,  t_k ← t_k·m_k
 *     Add a:      t_k ← t_k + a_k
 *     BN:         s_k ← s_k·σ_k,  t_k ← t_k·σ_k + τ_k     (σ = γ/sqrt(var + ε), τ = β − μ·σ)
 *   W' = W · s_k on output channel k        b'_k = b_k·s_k + t_k   (b = 0 without bias)
 * </pre>
 *
 * rounded to float once. Output channel k is axis 0 of a Conv weight [K, C/g, R, S] and, within
 * each group, axis 1 of a ConvTranspose weight [C, K/g, R, S] (as in {@link ConvBatchNormFold}).
 * This covers PaddlePaddle's conv bias, exported as Reshape(Constant) → Add, which constant folding
 * turns into an Add of a [1, K, 1, 1] constant, and the bias of a ConvTranspose followed by a BN.
 *
 * <p>A constant is per-channel when, aligned to the conv output [N, K, spatial…] from the right as
 * numpy broadcasting aligns it, it has size K or 1 on the channel axis and size 1 on every other
 * axis, and no more axes than the output: [K, 1, 1], [1, K, 1, 1], a scalar, [1]. A rank-1 [K]
 * with K > 1 lines up with the last spatial axis, not the channels, and is refused, as is anything
 * that would broadcast the output to a larger shape. Either operand order of the Add or Mul.
 *
 * <p>Applies when: the conv's weight (and bias) are float constants; the conv is plain, or
 * vfuse-domain without activation, residual or shift_taps; every output along the chain has
 * exactly one reader and is not a graph output (the folded conv no longer computes it); the chain
 * holds at least one Mul or Add (a Conv → BN alone is {@link ConvBatchNormFold}'s); the folded
 * values fit in float.
 */
public final class ConvAffineFold implements FusionPass {

  @Override
  public String name() {
    return "conv-affine";
  }

  @Override
  public void run(GraphEditor g, FusionLog log) {
    for (Node conv : g.nodes()) {
      boolean isConv = conv.opType().equals("Conv") || conv.opType().equals("ConvTranspose");
      if (isConv && (conv.domain().isEmpty() || conv.domain().equals(OpRegistry.VFUSE_DOMAIN)) && g.contains(conv)) {
        foldChain(g, conv, log);
      }
    }
  }

  private void foldChain(GraphEditor g, Node conv, FusionLog log) {
    String convRefusal = convRefusal(g, conv);
    NdArray w = g.constant(conv.input(1));
    boolean transposed = conv.opType().equals("ConvTranspose");
    int groups = conv.attributes().getInt("group", 1);
    int k = convRefusal != null ? 0 : transposed ? w.shape[1] * groups : w.shape[0];
    double[] s = new double[k];
    double[] t = new double[k];
    Arrays.fill(s, 1.0);
    List<Node> chain = new ArrayList<>();
    String out = conv.outputs().get(0);
    while (true) {
      Node step = nextStep(g, out, !chain.isEmpty());
      if (step == null) {
        break;
      }
      String refusal = convRefusal;
      if (refusal == null && g.soleConsumer(out) != step) {
        Node last = chain.isEmpty() ? conv : chain.get(chain.size() - 1);
        Node other = g.consumers(out).stream().filter(n -> n != step).findFirst().orElse(null);
        refusal = "the " + last.opType() + " output " + (g.isGraphOutput(out) ? "is a graph output"
            : other == null ? "is read twice by it" : "is also read by " + other.describe());
      }
      if (refusal == null) {
        refusal = compose(g, step, out, w.rank(), s, t);
      }
      if (refusal != null) {
        if (!step.opType().equals("BatchNormalization")) {
          log.kept(name(), "kept " + step.opType() + " " + step.name() + " after " + conv.opType() + " " + conv.name() + ": "
              + refusal, step.name(), conv.name());
        }
        break;
      }
      chain.add(step);
      out = step.outputs().get(0);
    }
    if (chain.isEmpty()) {
      return;
    }
    NdArray b = g.constant(conv.input(2));
    float[] scaled = transposed ? ConvBatchNormFold.scaleTransposed(g.fold(), w, groups, s) : g.fold().scaleBlocks(w.f, w.size() / k, s);
    float[] bias = g.fold().affineBias(b == null ? null : b.f, s, t);
    List<String> names = new ArrayList<>(List.of(conv.name()));
    chain.forEach(n -> names.add(n.name()));
    String steps = String.join(", ", chain.stream().map(n -> n.opType() + " " + n.name()).toList());
    if (scaled == null || bias == null) {
      log.kept(name(), "kept " + steps + " after " + conv.opType() + " " + conv.name() + ": the folded weights overflow float",
          names.toArray(String[]::new));
      return;
    }
    List<String> inputs = new ArrayList<>(conv.inputs());
    while (inputs.size() < 3) {
      inputs.add("");
    }
    inputs.set(1, g.addConstant(conv.name() + ".weight_affine", NdArray.ofFloats(w.shape.clone(), scaled)));
    inputs.set(2, g.addConstant(conv.name() + ".bias_affine", NdArray.ofFloats(new int[] {k}, bias)));
    List<Node> removed = new ArrayList<>(List.of(conv));
    removed.addAll(chain);
    Node fused = GraphEditor.with(conv, conv.opType(), conv.domain(), inputs, chain.get(chain.size() - 1).outputs(),
        OutputStatistics.drop(conv.attributes()));
    g.replace(removed, fused);
    log.fused(name(), "fold " + steps + " into " + conv.opType() + " " + conv.name(), names.toArray(String[]::new));
  }

  /** Why the conv itself cannot absorb anything, or null. */
  private static String convRefusal(GraphEditor g, Node conv) {
    Attributes a = conv.attributes();
    if (a.has(ActivationAttributes.NAME) || !conv.input(3).isEmpty()) {
      return "the " + conv.opType() + " already applies an activation or residual add (folding would cross a nonlinearity)";
    }
    if (!conv.input(4).isEmpty()) {
      return "the " + conv.opType() + " carries a folded input BatchNorm";
    }
    NdArray w = g.constant(conv.input(1));
    NdArray b = g.constant(conv.input(2));
    if (w == null || w.f == null || w.rank() < 3 || (!conv.input(2).isEmpty() && (b == null || b.f == null))) {
      return "its weight or bias is not a constant";
    }
    return null;
  }

  /**
   * The reader of {@code value} that could continue the chain: an Add or Mul whose other operand is
   * a constant, or (after at least one such step) a BatchNormalization of it; null when none.
   */
  private static Node nextStep(GraphEditor g, String value, boolean afterStep) {
    for (Node n : g.consumers(value)) {
      if (!n.domain().isEmpty()) {
        continue;
      }
      boolean binary = (n.opType().equals("Add") || n.opType().equals("Mul")) && n.inputs().size() == 2;
      if (binary && (value.equals(n.input(0)) ? g.constant(n.input(1)) : g.constant(n.input(0))) != null) {
        return n;
      }
      if (afterStep && n.opType().equals("BatchNormalization") && n.input(0).equals(value)) {
        return n;
      }
    }
    return null;
  }

  /** Composes {@code step} into (s, t), or returns why it cannot be (leaving them unchanged). */
  private static String compose(GraphEditor g, Node step, String value, int outRank, double[] s, double[] t) {
    int k = s.length;
    if (step.opType().equals("BatchNormalization")) {
      BatchNormParams p;
      switch (BatchNormParams.read(g, step)) {
        case BatchNormParams.Usable u -> p = u.params();
        case BatchNormParams.Refused r -> {
          return r.reason();
        }
      }
      if (p.channels() != k) {
        return "the BatchNorm has " + p.channels() + " channels, the conv " + k;
      }
      for (int i = 0; i < k; i++) {
        s[i] *= p.scale()[i];
        t[i] = t[i] * p.scale()[i] + p.shift()[i];
      }
      return null;
    }
    NdArray c = g.constant(value.equals(step.input(0)) ? step.input(1) : step.input(0));
    String shape = Arrays.toString(c.shape);
    if (c.f == null) {
      return "its constant " + shape + " is not float";
    }
    if (c.rank() > outRank) {
      return "its constant " + shape + " has more axes than the rank-" + outRank + " output and would broadcast it";
    }
    if (c.rank() == 1 && c.shape[0] != 1) {
      return "its rank-1 constant " + shape + " broadcasts along the last axis of the output, not along the channels";
    }
    for (int j = 0; j < c.rank(); j++) {
      int axis = j + outRank - c.rank();
      if (c.shape[j] != 1 && (axis != 1 || c.shape[j] != k)) {
        return "its constant " + shape + " is not per-channel: size " + c.shape[j] + " on output axis " + axis + " (channels: "
            + k + " on axis 1)";
      }
    }
    for (int i = 0; i < k; i++) {
      double v = c.f[c.size() == 1 ? 0 : i];
      if (step.opType().equals("Mul")) {
        s[i] *= v;
        t[i] *= v;
      } else {
        t[i] += v;
      }
    }
    return null;
  }
}
