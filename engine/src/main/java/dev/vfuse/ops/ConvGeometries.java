package dev.vfuse.ops;

import dev.vfuse.ElementType;
import dev.vfuse.ir.Attributes;
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

  /** The geometry of a ConvTranspose (ONNX or vfuse domain), as {@link #conv} for a Conv. */
  public static ConvTransposeGeometry convTranspose(Attributes attributes, int[] x, int[] w) {
    return new ConvTransposeOp(attributes).geometry(
        new Value[] {Value.of(ElementType.FLOAT32, x), Value.of(ElementType.FLOAT32, w)});
  }
}
