package dev.vfuse.ops;

import dev.vfuse.ElementType;
import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.ShapeException;
import dev.vfuse.ir.Shapes;
import dev.vfuse.kernel.ConvGeometry;
import dev.vfuse.kernel.ConvTransposeGeometry;

/** The geometry a Conv or ConvTranspose node's attributes give for an input and weight shape, for passes outside this package. */
public final class ConvGeometries {
  private ConvGeometries() {}

  /**
   * The geometry of a Conv (ONNX or vfuse domain) with {@code attributes} on input {@code x} and
   * weight {@code w} shapes, checked as binding checks it.
   */
  public static ConvGeometry conv(Attributes attributes, int[] x, int[] w) {
    return new ConvOp(attributes).geometry(new Value[] {Value.of(ElementType.FLOAT32, x), Value.of(ElementType.FLOAT32, w)});
  }

  /**
   * Checks a constant weight against the node's attributes, whatever the input: rank 3 or 4, the
   * kernel_shape it implies, strides, dilations and pads of that rank, its channels against group (a Conv's K divisible by it, a
   * ConvTranspose's K = W[1]·group within int), and a constant bias ({@code bias} its shape, or
   * null) against K. Fusion passes read the weight's axes by these rules.
   */
  public static void checkWeight(Attributes attributes, boolean transposed, int[] w, int[] bias) {
    if (w.length < 3 || w.length > 4) {
      throw new ShapeException("only 1-D and 2-D convolutions are supported, weight has shape " + Shapes.str(w));
    }
    if (java.util.Arrays.stream(w).anyMatch(d -> d < 1)) {
      throw new ShapeException("weight has an empty axis: " + Shapes.str(w));
    }
    int groups = attributes.getInt("group", 1);
    int[] kernel = java.util.Arrays.copyOfRange(w, 2, w.length);
    int[] declared = attributes.getInts("kernel_shape", kernel);
    if (!java.util.Arrays.equals(declared, kernel)) {
      throw new ShapeException("kernel_shape " + Shapes.str(declared) + " disagrees with weight shape " + Shapes.str(w));
    }
    Window.read(attributes, kernel); // strides, dilations and pads of the weight's rank, before any pass reads them
    if (transposed ? (long) w[1] * groups > Integer.MAX_VALUE || w[0] % groups != 0 : w[0] % groups != 0) {
      throw new ShapeException("weight " + Shapes.str(w) + " does not fit group=" + groups);
    }
    long k = transposed ? (long) w[1] * groups : w[0];
    if (bias != null && (bias.length != 1 || bias[0] != k)) {
      throw new ShapeException("bias must have shape [" + k + "], found " + Shapes.str(bias));
    }
  }

  /** The geometry of a ConvTranspose (ONNX or vfuse domain), as {@link #conv} for a Conv. */
  public static ConvTransposeGeometry convTranspose(Attributes attributes, int[] x, int[] w) {
    return new ConvTransposeOp(attributes).geometry(
        new Value[] {Value.of(ElementType.FLOAT32, x), Value.of(ElementType.FLOAT32, w)});
  }
}
