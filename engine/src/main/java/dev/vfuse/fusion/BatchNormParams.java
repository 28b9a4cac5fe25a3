package dev.vfuse.fusion;

import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.Node;

/**
 * A BatchNormalization node's inference transform as a per-channel affine map, computed in double:
 *
 * <pre>
 *   scale_c = γ_c / sqrt(var_c + ε)        shift_c = β_c − μ_c · scale_c
 *   BN(x)_c = scale_c · x_c + shift_c
 * </pre>
 *
 * ε is the node's own attribute (default 1e-5), widened from float and added inside the square
 * root; the run's {@link dev.vfuse.kernel.FoldArithmetic#batchNormAffine} computes it, and a channel
 * whose var + ε is not positive or whose scale or shift does not fit in float refuses. Nothing is
 * rounded to float here: a pass rounds once, after combining these with the
 * weights it folds them into.
 */
public record BatchNormParams(Node node, double[] scale, double[] shift) {

  /** The outcome of reading a BN: its parameters, or why it cannot be folded. */
  public sealed interface Reading {}

  public record Usable(BatchNormParams params) implements Reading {}

  public record Refused(String reason) implements Reading {}

  public int channels() {
    return scale.length;
  }

  /** Reads the BN's constant inputs; refuses a BN with non-constant parameters or a non-finite transform. */
  public static Reading read(GraphEditor g, Node bn) {
    if (!bn.opType().equals("BatchNormalization") || !bn.domain().isEmpty()) {
      return new Refused(bn.name() + " is not a BatchNormalization");
    }
    if (bn.outputs().size() != 1 || bn.inputs().size() != 5) {
      return new Refused("training-mode outputs");
    }
    NdArray gamma = g.constant(bn.input(1));
    NdArray beta = g.constant(bn.input(2));
    NdArray mean = g.constant(bn.input(3));
    NdArray var = g.constant(bn.input(4));
    if (gamma == null || beta == null || mean == null || var == null) {
      return new Refused("its scale, bias, mean or variance is not a constant");
    }
    int c = gamma.size();
    if (gamma.f == null || beta.f == null || mean.f == null || var.f == null || beta.size() != c || mean.size() != c
        || var.size() != c) {
      return new Refused("its parameters are not float vectors of one length");
    }
    float eps = bn.attributes().getFloat("epsilon", 1e-5f);
    double[] scale = new double[c];
    double[] shift = new double[c];
    int i = g.fold().arithmetic().batchNormAffine(c, gamma.f, beta.f, mean.f, var.f, eps, scale, shift);
    if (i >= 0) {
      double denominator = (double) var.f[i] + eps;
      if (!(denominator > 0)) {
        return new Refused("var + ε = " + denominator + " is not positive in channel " + i);
      }
      return new Refused("the fold overflows float in channel " + i + " (scale " + scale[i] + ", shift " + shift[i] + ")");
    }
    return new Usable(new BatchNormParams(bn, scale, shift));
  }
}
