package dev.vfuse.fusion;

import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.Node;
import dev.vfuse.ops.OpRegistry;
import java.util.ArrayList;
import java.util.List;

/**
 * BatchNormalization → Conv and BatchNormalization → ConvTranspose become one convolution, exact
 * at the borders of a padded convolution (pitfall 8 of the peers: the padded zeros are not
 * BN-shifted, so folding the shift into the bias is wrong wherever a window overlaps the padding).
 *
 * <pre>
 *   s_c = γ_c / sqrt(var_c + ε)      t_c = β_c − μ_c·s_c      BN(x)_c = s_c·x_c + t_c
 *   conv(BN(x), W)[k, p] = Σ_{c, tap in x} W[k, c, tap]·(s_c·x_c + t_c)
 *                        = conv(x, W')[k, p] + Σ_{tap in x} T[k, tap]
 *   W'[k, c, tap] = W[k, c, tap]·s_c      T[k, tap] = Σ_{c ∈ group(k)} W[k, c, tap]·t_c   (the original W)
 * </pre>
 *
 * c is the input channel: for a Conv weight [K, C/g, R, S] element [k, c, …] reads input channel
 * group(k)·C/g + c; for a ConvTranspose weight [C, K/g, R, S] element [c, j, …] reads input
 * channel c and writes output channel group(c)·K/g + j, so there T[0, k, tap] sums over the c of
 * k's group. The sum over "taps in x" is what depends on the position:
 *
 * <ul>
 *   <li>a Conv without padding (pads all 0, auto_pad VALID, or SAME with a 1×1 kernel, which
 *       resolves to no padding) has every tap of every output inside x, so the sum is the constant
 *       Σ_tap T[k, tap] and goes into the bias: b'_k = b_k + Σ_tap T[k, tap] (b = 0 without bias);
 *       the node stays what it was;
 *   <li>otherwise (a padded Conv, and every ConvTranspose, whose outputs receive a number of taps
 *       that varies with stride, padding and borders) the node becomes the vfuse-domain
 *       {@code Conv}/{@code ConvTranspose} with T as input 4 {@code shift_taps} (shape [K, 1, R, S],
 *       resp. [1, K, R, S]; a 1-D conv has R = 1), the bias kept as it was. FusedConvOp turns T into
 *       per-position offsets at bind time by convolving an all-ones image, which counts exactly the
 *       taps inside x with the node's own resolved pads, strides and dilations.
 * </ul>
 *
 * No division by s happens, so any scale is exact, zero and negative included.
 *
 * <p>Applies when: the BN's parameters are constant vectors; its output is not a graph output and
 * every reader is a Conv or ConvTranspose (ONNX or vfuse domain) reading it once, as input X; each
 * such conv has constant weight (and bias), 1-D or 2-D, with as many input channels as the BN, and
 * no {@code shift_taps} yet; nothing of the fold overflows float (W', b', and Σ_tap |T| for the
 * offsets). With several conv readers each gets its own weights and the BN goes; if one of them
 * cannot take the fold none does. A fused activation or residual on the conv is kept: the BN comes
 * before the convolution, so no nonlinearity is crossed. Arithmetic in double, rounded once.
 *
 * <p>The BN's running mean and variance stay on each fused conv as {@link LayerInputStatistics}:
 * they describe the tensor the conv now reads, for data-free bias correction after quantization.
 */
public final class BatchNormConvFold implements FusionPass {

  @Override
  public String name() {
    return "batchnorm-conv";
  }

  /**
   * BNs are visited last to first, so that in BN → BN → Conv the second folds first and the first
   * then sees the conv (and folds too when the conv has no padding).
   */
  @Override
  public void run(GraphEditor g, FusionLog log) {
    for (Node bn : g.nodes().reversed()) {
      if (!bn.opType().equals("BatchNormalization") || !bn.domain().isEmpty() || !g.contains(bn)) {
        continue;
      }
      List<Node> readers = g.consumers(bn.outputs().get(0));
      List<Node> convs = readers.stream().filter(BatchNormConvFold::isConv).toList();
      if (convs.isEmpty()) {
        continue;
      }
      String refusal = fold(g, bn, readers, log);
      if (refusal != null) {
        List<String> names = new ArrayList<>(List.of(bn.name()));
        convs.forEach(c -> names.add(c.name()));
        log.kept(name(), "kept BatchNorm " + bn.name() + " before " + describe(convs) + ": " + refusal,
            names.toArray(String[]::new));
      }
    }
  }

  private static boolean isConv(Node n) {
    return (n.opType().equals("Conv") || n.opType().equals("ConvTranspose"))
        && (n.domain().isEmpty() || n.domain().equals(OpRegistry.VFUSE_DOMAIN));
  }

  private static String describe(List<Node> convs) {
    StringBuilder sb = new StringBuilder();
    for (Node c : convs) {
      sb.append(sb.isEmpty() ? "" : ", ").append(c.opType()).append(' ').append(c.name());
    }
    return sb.toString();
  }

  /** What one conv reader can do with the fold. */
  private sealed interface Outcome {}

  /** The conv's share of the fold, computed before anything in the graph changes; taps null for the bias form. */
  private record Plan(Node conv, Node fused, float[] weight, float[] bias, float[] taps, int[] tapsShape) implements Outcome {}

  private record Refusal(String reason) implements Outcome {}

  /** Folds into every reader and logs, or returns why not (and changes nothing). */
  private String fold(GraphEditor g, Node bn, List<Node> readers, FusionLog log) {
    String out = bn.outputs().get(0);
    if (g.isGraphOutput(out)) {
      return "its output is a graph output";
    }
    for (Node r : readers) {
      if (!isConv(r)) {
        return "its output is also read by " + r.opType() + " " + r.name();
      }
      if (!r.input(0).equals(out) || r.inputs().indexOf(out) != r.inputs().lastIndexOf(out)) {
        return r.opType() + " " + r.name() + " reads it as a weight, bias or residual, not only as its input X";
      }
    }
    BatchNormParams p;
    switch (BatchNormParams.read(g, bn)) {
      case BatchNormParams.Usable u -> p = u.params();
      case BatchNormParams.Refused r -> {
        return r.reason();
      }
    }
    List<Plan> plans = new ArrayList<>();
    for (Node conv : readers) {
      switch (plan(g, conv, bn.input(0), p)) {
        case Plan plan -> plans.add(plan);
        case Refusal r -> {
          return readers.size() > 1 ? conv.opType() + " " + conv.name() + ": " + r.reason() : r.reason();
        }
      }
    }
    NdArray runningMean = g.constant(bn.input(3));
    NdArray runningVar = g.constant(bn.input(4));
    for (int i = 0; i < plans.size(); i++) {
      Plan plan = plans.get(i);
      Node fused = materialize(g, plan, runningMean, runningVar);
      g.replace(i == 0 ? List.of(bn, plan.conv()) : List.of(plan.conv()), fused);
      log.fused(name(), "fold BatchNorm " + bn.name() + " into " + plan.conv().opType() + " " + plan.conv().name()
          + (plan.taps() != null ? " (border-exact via shift taps)" : " (no padding: shift folded into the bias)"),
          plan.conv().name(), bn.name());
    }
    return null;
  }

  /** The plan for one conv reading the BN output as X, or why it cannot take the fold. */
  private static Outcome plan(GraphEditor g, Node conv, String x, BatchNormParams p) {
    if (!conv.input(4).isEmpty()) {
      return new Refusal("the " + conv.opType() + " already carries a folded input BatchNorm (shift_taps)");
    }
    NdArray w = g.constant(conv.input(1));
    NdArray b = g.constant(conv.input(2));
    if (w == null || w.f == null || (!conv.input(2).isEmpty() && (b == null || b.f == null))) {
      return new Refusal("its weight or bias is not a constant");
    }
    if (w.rank() != 3 && w.rank() != 4) {
      return new Refusal("only 1-D and 2-D convolutions are folded, the weight has rank " + w.rank());
    }
    boolean transposed = conv.opType().equals("ConvTranspose");
    int groups = conv.attributes().getInt("group", 1);
    int c = transposed ? w.shape[0] : w.shape[1] * groups;
    int k = transposed ? w.shape[1] * groups : w.shape[0];
    if (groups < 1 || c % groups != 0 || k % groups != 0) {
      return new Refusal("its group=" + groups + " does not divide its channels");
    }
    if (p.channels() != c) {
      return new Refusal("it has " + p.channels() + " channels, the " + conv.opType() + " input " + c);
    }
    int taps = w.size() / (w.shape[0] * w.shape[1]);
    int[] kernel = w.rank() == 4 ? new int[] {w.shape[2], w.shape[3]} : new int[] {1, w.shape[2]};
    float[] weight;
    double[] t;
    if (transposed) {
      weight = g.fold().scaleBlocks(w.f, w.shape[1] * taps, p.scale());
      t = transposedShiftTaps(w, groups, p.shift());
    } else {
      weight = g.fold().scaleBlocks(w.f, taps, inputChannelScale(w, groups, p.scale()));
      t = shiftTaps(w, groups, p.shift());
    }
    if (weight == null) {
      return new Refusal("the folded weights overflow float");
    }
    List<String> inputs = new ArrayList<>(conv.inputs());
    inputs.set(0, x);
    if (!transposed && !padded(conv, kernel)) {
      float[] bias = biasWithShift(b == null ? null : b.f, t, taps);
      if (bias == null) {
        return new Refusal("the folded bias overflows float");
      }
      while (inputs.size() < 3) {
        inputs.add("");
      }
      return new Plan(conv, GraphEditor.with(conv, conv.opType(), conv.domain(), inputs, conv.outputs(), conv.attributes()),
          weight, bias, null, null);
    }
    float[] shiftTaps = toFloatTaps(t, k, taps);
    if (shiftTaps == null) {
      return new Refusal("the shift taps overflow float");
    }
    while (inputs.size() < 5) {
      inputs.add("");
    }
    int[] shape = transposed ? new int[] {1, k, kernel[0], kernel[1]} : new int[] {k, 1, kernel[0], kernel[1]};
    return new Plan(conv, GraphEditor.with(conv, conv.opType(), OpRegistry.VFUSE_DOMAIN, inputs, conv.outputs(),
        conv.attributes()), weight, null, shiftTaps, shape);
  }

  /** Adds the plan's constants under fresh names and returns the node that reads them. */
  private static Node materialize(GraphEditor g, Plan plan, NdArray runningMean, NdArray runningVar) {
    Node conv = plan.fused();
    NdArray w = g.constant(conv.input(1));
    List<String> inputs = new ArrayList<>(conv.inputs());
    inputs.set(1, g.addConstant(conv.name() + ".weight_bn_in", NdArray.ofFloats(w.shape.clone(), plan.weight())));
    if (plan.bias() != null) {
      inputs.set(2, g.addConstant(conv.name() + ".bias_bn_in", NdArray.ofFloats(new int[] {plan.bias().length}, plan.bias())));
    }
    if (plan.taps() != null) {
      inputs.set(4, g.addConstant(conv.name() + ".shift_taps", NdArray.ofFloats(plan.tapsShape(), plan.taps())));
    }
    return GraphEditor.with(conv, conv.opType(), conv.domain(), inputs, conv.outputs(),
        LayerInputStatistics.record(conv.attributes(), runningMean.f, runningVar.f));
  }

  /**
   * Whether some output of the Conv has a tap in the padding: explicit non-zero pads, or SAME_* with
   * a kernel larger than 1×1 (SAME with a 1×1 kernel resolves to zero pads for any input size and
   * stride); VALID never pads.
   */
  private static boolean padded(Node conv, int[] kernel) {
    String autoPad = conv.attributes().getString("auto_pad", "NOTSET");
    return switch (autoPad) {
      case "VALID" -> false;
      case "SAME_UPPER", "SAME_LOWER" -> kernel[0] > 1 || kernel[1] > 1;
      default -> {
        int[] pads = conv.attributes().getInts("pads", new int[0]);
        boolean any = false;
        for (int v : pads) {
          any |= v != 0;
        }
        yield any;
      }
    };
  }

  /** scale per (k, c) block of a Conv weight [K, C/g, …]: s of input channel group(k)·C/g + c. */
  private static double[] inputChannelScale(NdArray w, int groups, double[] scale) {
    int k = w.shape[0];
    int cPerGroup = w.shape[1];
    int kPerGroup = k / groups;
    double[] perBlock = new double[k * cPerGroup];
    for (int ki = 0; ki < k; ki++) {
      for (int c = 0; c < cPerGroup; c++) {
        perBlock[ki * cPerGroup + c] = scale[(ki / kPerGroup) * cPerGroup + c];
      }
    }
    return perBlock;
  }

  /** T[k, tap] = Σ_c W[k, c, tap]·t[group(k)·C/g + c] for a Conv weight [K, C/g, …], in double. */
  private static double[] shiftTaps(NdArray w, int groups, double[] shift) {
    int k = w.shape[0];
    int cPerGroup = w.shape[1];
    int kPerGroup = k / groups;
    int taps = w.size() / (k * cPerGroup);
    double[] t = new double[k * taps];
    for (int ki = 0; ki < k; ki++) {
      int channel0 = (ki / kPerGroup) * cPerGroup;
      for (int c = 0; c < cPerGroup; c++) {
        double shiftC = shift[channel0 + c];
        int base = (ki * cPerGroup + c) * taps;
        for (int tap = 0; tap < taps; tap++) {
          t[ki * taps + tap] += w.f[base + tap] * shiftC;
        }
      }
    }
    return t;
  }

  /** T[group(c)·K/g + j, tap] = Σ_{c ∈ group} W[c, j, tap]·t[c] for a ConvTranspose weight [C, K/g, …], in double. */
  private static double[] transposedShiftTaps(NdArray w, int groups, double[] shift) {
    int c = w.shape[0];
    int kPerGroup = w.shape[1];
    int cPerGroup = c / groups;
    int taps = w.size() / (c * kPerGroup);
    double[] t = new double[kPerGroup * groups * taps];
    for (int ci = 0; ci < c; ci++) {
      int k0 = (ci / cPerGroup) * kPerGroup;
      for (int j = 0; j < kPerGroup; j++) {
        int base = (ci * kPerGroup + j) * taps;
        for (int tap = 0; tap < taps; tap++) {
          t[(k0 + j) * taps + tap] += w.f[base + tap] * shift[ci];
        }
      }
    }
    return t;
  }

  /** b'[k] = b[k] + Σ_tap T[k, tap], b = 0 without bias; null when it does not fit in float. */
  private static float[] biasWithShift(float[] b, double[] t, int taps) {
    float[] out = new float[t.length / taps];
    for (int k = 0; k < out.length; k++) {
      double v = b == null ? 0.0 : b[k];
      for (int tap = 0; tap < taps; tap++) {
        v += t[k * taps + tap];
      }
      if (!(Math.abs(v) <= Float.MAX_VALUE)) {
        return null;
      }
      out[k] = (float) v;
    }
    return out;
  }

  /** T rounded to float; null when an offset Σ_tap |T[k, tap]| could overflow float. */
  private static float[] toFloatTaps(double[] t, int k, int taps) {
    float[] out = new float[t.length];
    for (int ki = 0; ki < k; ki++) {
      double sumAbs = 0;
      for (int tap = 0; tap < taps; tap++) {
        sumAbs += Math.abs(t[ki * taps + tap]);
        out[ki * taps + tap] = (float) t[ki * taps + tap];
      }
      if (!(sumAbs <= Float.MAX_VALUE)) {
        return null;
      }
    }
    return out;
  }
}
