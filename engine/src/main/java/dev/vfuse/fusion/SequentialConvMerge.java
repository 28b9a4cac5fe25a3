package dev.vfuse.fusion;

import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.Node;
import dev.vfuse.ops.ActivationAttributes;
import dev.vfuse.ops.OpRegistry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A 1×1 convolution whose output only feeds another convolution becomes part of it (DBB's 1×1 → k×k
 * branch, any linear 1×1 → conv chain), exactly, borders included, and only when that is no more
 * work.
 *
 * <pre>
 *   y1[m, p] = Σ_c W1[m, c]·x[c, p] + b1[m]                   (1×1, stride 1, no padding: y1 has x's size)
 *   y[k, p]  = Σ_{m, tap inside} W2[k, m, tap]·y1[m, p·st + tap·d − pad] + b2[k]
 *            = Σ_{c, tap inside} W[k, c, tap]·x[c, …] + b2[k] + Σ_{tap inside} T[k, tap]
 *   W[k, c, r, s] = Σ_m W2[k, m, r, s]·W1[m, c]          T[k, 0, r, s] = Σ_m W2[k, m, r, s]·b1[m]
 * </pre>
 *
 * m runs over the input channels of k's group in the second conv, c over x's channels of that
 * group (the first conv, made dense with zeros across its own groups, must not mix the second
 * conv's groups: g1 a multiple of g2; the merged conv has g2 groups). "Tap inside" are the taps
 * that read y1 rather than the second conv's zero padding: there y1 would be b1, not 0, so b1 is
 * not a bias of the merged conv. Hence, with b1 present: a second conv without padding has every tap
 * inside and takes b' = b2 + Σ_tap T[k, tap]; a padded one (or one whose pads depend on the input
 * size) becomes the vfuse Conv with T as input 4 {@code shift_taps}, added to any shift taps it
 * already has, which counts exactly the taps inside x at every position. Without b1 only W changes.
 * Arithmetic in double, rounded once.
 *
 * <p>Applies when: the first conv is a 1×1 Conv (plain or vfuse without activation, residual or
 * shift taps) with constant weight (and bias), stride 1 and no padding; its output is read only by
 * the second conv, as its input X, and is not a graph output; the second is a 2-D Conv with
 * constant weight (and bias and shift taps); its activation and residual stay, they come after the
 * linear part. Kept when the merged conv costs more multiply-adds per output than the pair,
 * (C/g2)·K·R·S against (C/g1)·M·sH·sW + (M/g2)·K·R·S (the 1×1 runs on ≈ sH·sW input positions per
 * output): merging a bottleneck (M &lt; C) or an expansion before a depthwise conv multiplies the
 * work.
 */
public final class SequentialConvMerge implements FusionPass {

  @Override
  public String name() {
    return "sequential-conv";
  }

  /** Visited first to last, so 1×1 → 1×1 → k×k merges the first pair and then the result into the k×k. */
  @Override
  public void run(GraphEditor g, FusionLog log) {
    for (Node conv2 : g.nodes()) {
      if (!isConv(conv2) || !g.contains(conv2)) {
        continue;
      }
      Node conv1 = g.producer(conv2.input(0));
      if (conv1 == null || !isConv(conv1) || !isPointwise(g.constant(conv1.input(1)))) {
        continue;
      }
      String refusal = merge(g, conv1, conv2, log);
      if (refusal != null) {
        log.kept(name(), "kept 1×1 Conv " + conv1.name() + " before Conv " + conv2.name() + ": " + refusal, conv1.name(),
            conv2.name());
      }
    }
  }

  private static boolean isConv(Node n) {
    return n.opType().equals("Conv") && (n.domain().isEmpty() || n.domain().equals(OpRegistry.VFUSE_DOMAIN));
  }

  private static boolean isPointwise(NdArray w) {
    return w != null && w.f != null && w.rank() == 4 && w.shape[2] == 1 && w.shape[3] == 1;
  }

  /** Merges and logs, or returns why not (and changes nothing). */
  private String merge(GraphEditor g, Node conv1, Node conv2, FusionLog log) {
    if (g.soleConsumer(conv1.outputs().get(0)) != conv2) {
      return "its output has other readers or is a graph output";
    }
    if (conv1.attributes().has(ActivationAttributes.NAME) || !conv1.input(3).isEmpty() || !conv1.input(4).isEmpty()) {
      return "it applies an activation, a residual add or shift taps";
    }
    NdArray w1 = g.constant(conv1.input(1));
    NdArray b1 = g.constant(conv1.input(2));
    NdArray w2 = g.constant(conv2.input(1));
    NdArray b2 = g.constant(conv2.input(2));
    NdArray t2 = g.constant(conv2.input(4));
    if ((!conv1.input(2).isEmpty() && (b1 == null || b1.f == null)) || w2 == null || w2.f == null
        || (!conv2.input(2).isEmpty() && (b2 == null || b2.f == null)) || (!conv2.input(4).isEmpty() && (t2 == null || t2.f == null))) {
      return "a weight, bias or shift taps is not a constant";
    }
    ConvWindow win1 = ConvWindow.of(conv1, w1);
    ConvWindow win2 = ConvWindow.of(conv2, w2);
    if (win1 == null || win2 == null) {
      return "not both are 2-D convolutions";
    }
    if (win1.strideH() != 1 || win1.strideW() != 1 || !win1.unpadded()) {
      return "the 1×1 conv has stride " + win1.strideH() + "×" + win1.strideW() + " or padding";
    }
    int g1 = win1.groups();
    int g2 = win2.groups();
    int m = w1.shape[0];
    int c = w1.shape[1] * g1;
    int k = w2.shape[0];
    int taps = win2.r() * win2.s();
    if (w2.shape[1] * g2 != m) {
      return "Conv " + conv2.name() + " expects " + w2.shape[1] * g2 + " input channels, the 1×1 gives " + m;
    }
    if (g1 % g2 != 0) {
      return "the 1×1 conv's group=" + g1 + " mixes the groups of Conv " + conv2.name() + " (group=" + g2 + ")";
    }
    if (t2 != null && !Arrays.equals(t2.shape, new int[] {k, 1, win2.r(), win2.s()})) {
      return "the shift taps of Conv " + conv2.name() + " have shape " + Arrays.toString(t2.shape);
    }
    long merged = (long) (c / g2) * k * taps;
    long pair = (long) (c / g1) * m * win2.strideH() * win2.strideW() + (long) (m / g2) * k * taps;
    if (merged > pair) {
      return "the merged conv would cost " + merged + " multiply-adds per output, the pair " + pair;
    }
    int cg2 = c / g2;
    int mg2 = m / g2;
    int cg1 = c / g1;
    int mg1 = m / g1;
    double[] w = new double[k * cg2 * taps];
    double[] t = b1 == null ? null : new double[k * taps];
    for (int ki = 0; ki < k; ki++) {
      int group2 = ki / (k / g2);
      for (int mi = 0; mi < mg2; mi++) {
        int mAbs = group2 * mg2 + mi;
        int cFirst = (mAbs / mg1) * cg1;
        for (int tap = 0; tap < taps; tap++) {
          double w2v = w2.f[(ki * mg2 + mi) * taps + tap];
          for (int cj = 0; cj < cg1; cj++) {
            int cLocal = cFirst + cj - group2 * cg2;
            w[(ki * cg2 + cLocal) * taps + tap] += w2v * w1.f[mAbs * cg1 + cj];
          }
          if (t != null) {
            t[ki * taps + tap] += w2v * b1.f[mAbs];
          }
        }
      }
    }
    float[] wf = g.fold().round(w);
    if (wf == null) {
      return "the merged weights overflow float";
    }
    List<String> inputs = new ArrayList<>(conv2.inputs());
    while (inputs.size() < 3) {
      inputs.add("");
    }
    inputs.set(0, conv1.input(0));
    inputs.set(1, g.addConstant(conv2.name() + ".weight_seq", NdArray.ofFloats(new int[] {k, cg2, win2.r(), win2.s()}, wf)));
    String domain = conv2.domain();
    String how = "";
    if (t != null && t2 == null && win2.unpadded()) {
      double[] bias = new double[k];
      for (int ki = 0; ki < k; ki++) {
        bias[ki] = b2 == null ? 0 : b2.f[ki];
        for (int tap = 0; tap < taps; tap++) {
          bias[ki] += t[ki * taps + tap];
        }
      }
      float[] bf = g.fold().round(bias);
      if (bf == null) {
        return "the merged bias overflows float";
      }
      inputs.set(2, g.addConstant(conv2.name() + ".bias_seq", NdArray.ofFloats(new int[] {k}, bf)));
      how = " (no padding: its bias into the bias)";
    } else if (t != null) {
      for (int i = 0; t2 != null && i < t.length; i++) {
        t[i] += t2.f[i];
      }
      float[] tf = g.fold().round(t);
      if (tf == null) {
        return "the shift taps overflow float";
      }
      while (inputs.size() < 5) {
        inputs.add("");
      }
      inputs.set(4, g.addConstant(conv2.name() + ".shift_taps_seq", NdArray.ofFloats(new int[] {k, 1, win2.r(), win2.s()}, tf)));
      domain = OpRegistry.VFUSE_DOMAIN;
      how = " (border-exact: its bias through shift taps)";
    }
    Node fused = GraphEditor.with(conv2, "Conv", domain, inputs, conv2.outputs(), conv2.attributes());
    g.replace(List.of(conv1, conv2), fused);
    log.fused(name(), "merge 1×1 Conv " + conv1.name() + " into " + win2.kernel() + " Conv " + conv2.name() + how, conv1.name(),
        conv2.name());
    return null;
  }
}
