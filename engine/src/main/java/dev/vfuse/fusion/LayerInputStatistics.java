package dev.vfuse.fusion;

import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.Node;
import java.util.Map;

/**
 * The distribution a BatchNorm folded forward into a conv ({@link BatchNormConvFold}) or Gemm
 * ({@link GemmBatchNormFold}) recorded for the layer's input, kept on the layer: per input channel c, mean μ_c and standard deviation
 * sqrt(var_c), the BN's running statistics. A BN normalizes its input by exactly these, so they
 * describe the tensor it read, and after the fold the conv reads that tensor itself: {@code x},
 * not {@code BN(x)}. Data-free bias correction takes E[x_c] = μ_c from here first, since it is a
 * measurement of the conv's own input rather than a value carried through the layers before.
 *
 * <p>A chain BN → BN → Conv folds the later BN first and then the earlier one: each fold records
 * its own BN, which describes the input the conv reads after that fold.
 */
public final class LayerInputStatistics {
  /** Attribute names: per-input-channel (a Gemm: per-feature) mean and standard deviation of the layer's input. */
  public static final String MEAN = "vfuse_input_mean";
  public static final String STD = "vfuse_input_std";

  private LayerInputStatistics() {}

  /** {@code a} with the statistics of the input a BN with running mean μ and variance var read. */
  static Attributes record(Attributes a, float[] runningMean, float[] runningVar) {
    float[] std = new float[runningVar.length];
    for (int i = 0; i < std.length; i++) {
      std[i] = (float) Math.sqrt(Math.max(0.0, runningVar[i]));
    }
    Map<String, Object> m = a.toMap();
    m.put(MEAN, runningMean.clone());
    m.put(STD, std);
    return new Attributes(m);
  }

  /** The recorded per-channel mean of {@code n}'s input X, or null. */
  public static float[] mean(Node n) {
    return n.attributes().has(MEAN) ? n.attributes().getFloats(MEAN) : null;
  }

  /** The recorded per-channel standard deviation of {@code n}'s input X, or null. */
  public static float[] std(Node n) {
    return n.attributes().has(STD) ? n.attributes().getFloats(STD) : null;
  }
}
