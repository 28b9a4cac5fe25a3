package dev.vfuse.fusion;

import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.Node;
import dev.vfuse.ops.ActivationAttributes;
import java.util.ArrayList;
import java.util.List;

/**
 * Conv → BatchNormalization and ConvTranspose → BatchNormalization become one convolution.
 *
 * <pre>
 *   s_k = γ_k / sqrt(var_k + ε)      t_k = β_k − μ_k·s_k
 *   W'  = W · s_k on output channel k     b'_k = b_k·s_k + t_k   (b = 0 without bias: μ and β survive)
 * </pre>
 *
 * Output channel k is axis 0 of a Conv weight [K, C/g, R, S]; for a ConvTranspose weight
 * [C, K/g, R, S] it is group(c)·K/g + j for element [c, j, …], so the scale runs along axis 1 within
 * each group (scaling axis 0 is the classic bug: silently wrong whenever C ≠ K or groups > 1).
 *
 * <p>Applies when: the conv's weight (and bias) are constants; the conv's output is read only by
 * the BN and is not a graph output; the conv carries no fused activation or residual (that would
 * fold across a nonlinearity); the BN's parameters are constant vectors of length K; the folded
 * values fit in float. Arithmetic in double, rounded once.
 *
 * <p>The BN's γ and β stay on the fused conv as {@link OutputStatistics} (its output's mean and
 * spread), for data-free bias correction after weight quantization.
 */
public final class ConvBatchNormFold implements FusionPass {

  @Override
  public String name() {
    return "conv-batchnorm";
  }

  @Override
  public void run(GraphEditor g, FusionLog log) {
    for (Node bn : g.nodes()) {
      if (!bn.opType().equals("BatchNormalization") || !bn.domain().isEmpty() || !g.contains(bn)) {
        continue;
      }
      Node conv = g.producer(bn.input(0));
      if (conv == null || !(conv.opType().equals("Conv") || conv.opType().equals("ConvTranspose"))) {
        continue;
      }
      String refusal = fold(g, conv, bn, log);
      if (refusal != null) {
        log.kept(name(), "kept BatchNorm " + bn.name() + " after " + conv.opType() + " " + conv.name() + ": " + refusal,
            bn.name(), conv.name());
      }
    }
  }

  /** Folds and logs, or returns why not. */
  private String fold(GraphEditor g, Node conv, Node bn, FusionLog log) {
    if (g.soleConsumer(conv.outputs().get(0)) != bn) {
      return "the " + conv.opType() + " output has other readers or is a graph output";
    }
    Attributes a = conv.attributes();
    if (a.has(ActivationAttributes.NAME) || !conv.input(3).isEmpty()) {
      return "the " + conv.opType() + " already applies an activation or residual add (folding would cross a nonlinearity)";
    }
    if (!conv.input(4).isEmpty()) {
      return "the " + conv.opType() + " carries a folded input BatchNorm";
    }
    NdArray w = g.constant(conv.input(1));
    NdArray b = g.constant(conv.input(2));
    if (w == null || w.f == null || (!conv.input(2).isEmpty() && (b == null || b.f == null))) {
      return "its weight or bias is not a constant";
    }
    BatchNormParams p;
    switch (BatchNormParams.read(g, bn)) {
      case BatchNormParams.Usable u -> p = u.params();
      case BatchNormParams.Refused r -> {
        return r.reason();
      }
    }
    boolean transposed = conv.opType().equals("ConvTranspose");
    int groups = a.getInt("group", 1);
    int k = transposed ? w.shape[1] * groups : w.shape[0];
    if (p.channels() != k) {
      return "it has " + p.channels() + " channels, the " + conv.opType() + " " + k;
    }
    float[] scaled = transposed ? scaleTransposed(g.fold(), w, groups, p.scale()) : g.fold().scaleBlocks(w.f, w.size() / k, p.scale());
    float[] bias = g.fold().affineBias(b == null ? null : b.f, p.scale(), p.shift());
    if (scaled == null || bias == null) {
      return "the folded weights overflow float";
    }
    List<String> inputs = new ArrayList<>(conv.inputs());
    while (inputs.size() < 3) {
      inputs.add("");
    }
    inputs.set(1, g.addConstant(conv.name() + ".weight_bn", NdArray.ofFloats(w.shape.clone(), scaled)));
    inputs.set(2, g.addConstant(conv.name() + ".bias_bn", NdArray.ofFloats(new int[] {k}, bias)));
    Node fused = GraphEditor.with(conv, conv.opType(), conv.domain(), inputs, bn.outputs(),
        OutputStatistics.record(a, g.constant(bn.input(1)).f, g.constant(bn.input(2)).f));
    g.replace(List.of(conv, bn), fused);
    log.fused(name(), "fold BatchNorm " + bn.name() + " into " + conv.opType() + " " + conv.name(), conv.name(), bn.name());
    return null;
  }

  /** W'[c, j, r, s] = W[c, j, r, s] · s[group(c)·K/g + j] for a ConvTranspose weight [C, K/g, R, S]. */
  static float[] scaleTransposed(FoldMath fold, NdArray w, int groups, double[] scale) {
    int c = w.shape[0];
    int kPerGroup = w.shape[1];
    int taps = w.size() / (c * kPerGroup);
    int cPerGroup = c / groups;
    double[] perElement = new double[w.size() / taps];
    for (int ci = 0; ci < c; ci++) {
      for (int j = 0; j < kPerGroup; j++) {
        perElement[ci * kPerGroup + j] = scale[(ci / cPerGroup) * kPerGroup + j];
      }
    }
    return fold.scaleBlocks(w.f, taps, perElement);
  }
}
