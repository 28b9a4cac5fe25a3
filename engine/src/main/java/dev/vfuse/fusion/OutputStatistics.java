package dev.vfuse.fusion;

import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.Node;
import java.util.Map;

/**
 * The distribution a folded BatchNorm promised for its output, kept on the conv it was folded
 * into: per channel, mean β and standard deviation |γ| (a BatchNorm normalizes its input and then
 * scales by γ and shifts by β). Data-free bias correction reads these to know E[x] of the layers
 * that follow; once the BN is folded they exist nowhere else.
 *
 * <p>They describe the conv's output before any residual add or activation fused later. A pass
 * that changes what the conv computes in another way (a further affine fold) drops them.
 */
public final class OutputStatistics {
  /** Attribute names: per-channel mean and standard deviation of the conv's linear output. */
  public static final String MEAN = "vfuse_output_mean";
  public static final String STD = "vfuse_output_std";
  /** Attribute name: an upper bound of the standard deviation where STD rests on an assumption (a merged sum). */
  public static final String STD_BOUND = "vfuse_output_std_bound";
  /** Attribute name: why a conv made by a merge carries no statistics. */
  public static final String MISSING = "vfuse_output_statistics_missing";

  private OutputStatistics() {}

  /** {@code a} with the statistics of a folded BatchNorm's output: mean β, standard deviation |γ|. */
  static Attributes record(Attributes a, float[] gamma, float[] beta) {
    float[] std = new float[gamma.length];
    for (int i = 0; i < std.length; i++) {
      std[i] = Math.abs(gamma[i]);
    }
    Map<String, Object> m = a.toMap();
    m.put(MEAN, beta.clone());
    m.put(STD, std);
    return new Attributes(m);
  }

  /** {@code a} with the statistics of a merged sum of branches ({@link BranchSumStatistics}). */
  static Attributes recordSum(Attributes a, BranchSumStatistics.Sum sum) {
    Map<String, Object> m = a.toMap();
    m.put(MEAN, sum.mean());
    m.put(STD, sum.std());
    m.put(STD_BOUND, sum.stdBound());
    return new Attributes(m);
  }

  /** {@code a} with the reason a merged conv has no statistics, for the quantization report. */
  static Attributes recordMissing(Attributes a, String reason) {
    Map<String, Object> m = a.toMap();
    m.put(MISSING, reason);
    return new Attributes(m);
  }

  /** Why {@code n} carries no statistics when a merge dropped them, or null. */
  public static String whyMissing(Node n) {
    return n.attributes().has(MISSING) ? n.attributes().getString(MISSING, null) : null;
  }

  /** The recorded upper bound of the standard deviation of {@code n}'s linear output, or null. */
  public static float[] stdBound(Node n) {
    return n.attributes().has(STD_BOUND) ? n.attributes().getFloats(STD_BOUND) : null;
  }

  /** {@code a} without statistics. */
  static Attributes drop(Attributes a) {
    if (!a.has(MEAN)) {
      return a;
    }
    Map<String, Object> m = a.toMap();
    m.remove(MEAN);
    m.remove(STD);
    m.remove(STD_BOUND);
    return new Attributes(m);
  }

  /** The recorded per-channel mean of {@code n}'s linear output, or null. */
  public static float[] mean(Node n) {
    return n.attributes().has(MEAN) ? n.attributes().getFloats(MEAN) : null;
  }

  /** The recorded per-channel standard deviation of {@code n}'s linear output, or null. */
  public static float[] std(Node n) {
    return n.attributes().has(STD) ? n.attributes().getFloats(STD) : null;
  }
}
