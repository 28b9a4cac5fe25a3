package dev.vfuse.ops;

import dev.vfuse.ElementType;
import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.ShapeException;
import dev.vfuse.ir.Shapes;
import dev.vfuse.kernel.Activation;
import dev.vfuse.kernel.ConvGeometry;
import dev.vfuse.kernel.ConvTransposeGeometry;
import dev.vfuse.kernel.Int8Weights;
import dev.vfuse.kernel.Kernels;

/**
 * A convolution (or transposed convolution) that fusion passes have rewritten: operator
 * {@code Conv} or {@code ConvTranspose} in domain {@code vfuse}, with the ONNX attributes plus an
 * optional activation ({@link ActivationAttributes}) and two optional extra inputs:
 *
 * <ul>
 *   <li>input 3, {@code residual}: a tensor of the output's shape added before the activation;
 *   <li>input 4, {@code shift_taps}: the exact remainder of a BatchNorm folded in from before the
 *       conv. For a Conv it is T[k, 0, r, s] = Σ_{c ∈ group(k)} W[k, c, r, s]·shift_c; for a
 *       ConvTranspose T[0, k, r, s] = Σ_{c ∈ group(k)} W[c, k, r, s]·shift_c. At bind time the
 *       per-position offsets are the same convolution applied to an all-ones image with weights T,
 *       so a border output receives the shift through exactly the taps that reach the input.
 *       Weight quantization's bias correction uses the same input for its border term, and may
 *       store it as int8 per channel (dequantized here).
 * </ul>
 *
 * y = activation(conv(x, W) + B + offsets + residual), see {@link ConvEpilogue}.
 */
final class FusedConvOp implements Op {
  private final boolean transposed;
  private final ConvOp conv;
  private final ConvTransposeOp convTranspose;
  private final Activation activation;

  FusedConvOp(String opType, Attributes attributes) {
    transposed = opType.equals("ConvTranspose");
    conv = transposed ? null : new ConvOp(attributes);
    convTranspose = transposed ? new ConvTransposeOp(attributes) : null;
    activation = ActivationAttributes.read(attributes);
  }

  @Override
  public Bound bind(Value[] in) {
    return bind(in, null);
  }

  @Override
  public Bound bind(Value[] in, Kernels kernels) {
    Inputs.count(in, 2, 5);
    Value residual = Inputs.optional(in, 3);
    Value taps = Inputs.optional(in, 4);
    if (transposed) {
      ConvTransposeGeometry g = convTranspose.geometry(in);
      int[] outShape = Window.outputShape(g.n(), g.k(), g.p(), g.q(), in[1].rank() - 2);
      checkResidual(residual, outShape);
      float[] offsets = taps == null ? null : offsets(taps, g.k(), g, null);
      return PreparedConvs.convTranspose(in, g, outShape, offsets, activation, 3, kernels);
    }
    ConvGeometry g = conv.geometry(in);
    int[] outShape = Window.outputShape(g.n(), g.k(), g.p(), g.q(), in[1].rank() - 2);
    checkResidual(residual, outShape);
    float[] offsets = taps == null ? null : offsets(taps, g.k(), null, g);
    return PreparedConvs.conv(in, g, outShape, offsets, activation, 3, kernels);
  }

  private static void checkResidual(Value residual, int[] outShape) {
    if (residual != null) {
      residual.requireFloat("residual");
      if (!java.util.Arrays.equals(residual.shape(), outShape)) {
        throw new ShapeException("residual has shape " + Shapes.str(residual.shape()) + ", the output " + Shapes.str(outShape));
      }
    }
  }

  /** The per-position offsets [K, P, Q]: the convolution of an all-ones image with the shift taps. */
  private static float[] offsets(Value taps, int k, ConvTransposeGeometry t, ConvGeometry c) {
    NdArray w = taps.requireKnown("shift_taps");
    float[] tapValues = w.type == ElementType.INT8 ? w.q.dequantize(Int8Weights.rows(k, w.size() / k)) : w.f;
    Kernels reference = new dev.vfuse.reference.ReferenceKernels();
    if (c != null) {
      if (!java.util.Arrays.equals(w.shape, new int[] {k, 1, c.r(), c.s()})) {
        throw new ShapeException("shift_taps must have shape [" + k + ", 1, " + c.r() + ", " + c.s() + "]");
      }
      ConvGeometry one = new ConvGeometry(1, 1, c.h(), c.w(), k, c.r(), c.s(), c.strideH(), c.strideW(),
          c.dilationH(), c.dilationW(), c.padTop(), c.padLeft(), c.padBottom(), c.padRight(), 1);
      float[] ones = new float[c.h() * c.w()];
      java.util.Arrays.fill(ones, 1f);
      float[] out = new float[k * one.p() * one.q()];
      reference.conv2d(one, ones, tapValues, null, out);
      return out;
    }
    if (!java.util.Arrays.equals(w.shape, new int[] {1, k, t.r(), t.s()})) {
      throw new ShapeException("shift_taps must have shape [1, " + k + ", " + t.r() + ", " + t.s() + "]");
    }
    ConvTransposeGeometry one = new ConvTransposeGeometry(1, 1, t.h(), t.w(), k, t.r(), t.s(), t.strideH(), t.strideW(),
        t.dilationH(), t.dilationW(), t.padTop(), t.padLeft(), t.padBottom(), t.padRight(), t.outputPadH(), t.outputPadW(), 1);
    float[] ones = new float[t.h() * t.w()];
    java.util.Arrays.fill(ones, 1f);
    float[] out = new float[k * one.p() * one.q()];
    reference.convTranspose2d(one, ones, tapValues, null, out);
    return out;
  }
}
