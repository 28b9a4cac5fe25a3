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

  /** {@code a} without statistics. */
  static Attributes drop(Attributes a) {
    if (!a.has(MEAN)) {
      return a;
    }
    Map<String, Object> m = a.toMap();
    m.remove(MEAN);
    m.remove(STD);
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
