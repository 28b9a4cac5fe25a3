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
import dev.vfuse.kernel.PositionOffsets;

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
 *       so a border output receives the shift through exactly the taps that reach the input
 *       ({@link ShiftTapOffsets}, which keeps one row per set of in-range kernel rows).
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
      PositionOffsets offsets = taps == null ? null
          : ShiftTapOffsets.convTranspose(shiftTaps(taps, g.k(), new int[] {1, g.k(), g.r(), g.s()}), g);
      return PreparedConvs.convTranspose(in, g, outShape, offsets, activation, 3, kernels);
    }
    ConvGeometry g = conv.geometry(in);
    int[] outShape = Window.outputShape(g.n(), g.k(), g.p(), g.q(), in[1].rank() - 2);
    checkResidual(residual, outShape);
    PositionOffsets offsets = taps == null ? null
        : ShiftTapOffsets.conv(shiftTaps(taps, g.k(), new int[] {g.k(), 1, g.r(), g.s()}), g);
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

  /**
   * The shift taps as floats ([K·R·S], one channel after another), once their shape is checked;
   * int8 taps are dequantized per channel.
   */
  private static float[] shiftTaps(Value taps, int k, int[] shape) {
    NdArray w = taps.requireKnown("shift_taps");
    if (!java.util.Arrays.equals(w.shape, shape)) {
      throw new ShapeException("shift_taps must have shape " + Shapes.str(shape));
    }
    return w.type == ElementType.INT8 ? w.q.dequantize(Int8Weights.rows(k, w.size() / k)) : w.f;
  }
}
