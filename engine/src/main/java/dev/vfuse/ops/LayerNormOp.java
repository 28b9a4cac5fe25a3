package dev.vfuse.ops;

import dev.vfuse.ElementType;
import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.ShapeException;
import dev.vfuse.ir.Shapes;

/**
 * ONNX LayerNormalization (opset 17), and the vfuse node of the same name that
 * {@link dev.vfuse.fusion.LayerNormFusion} makes from its spelled-out form: normalizes over the
 * axes from {@code axis} to the last, y = (x − μ)/sqrt(σ² + ε)·γ + β. γ and β (optional) are
 * constants of the normalized shape, or of one element (broadcast); they are repacked once, at
 * bind time, to one value per normalized element. Only the first output Y is computed: a node that
 * asks for Mean or InvStdDev is refused.
 */
final class LayerNormOp implements Op {
  private final int axis;
  private final float epsilon;
  private final int outputs;

  LayerNormOp(Attributes a, int outputs) {
    this.axis = a.getInt("axis", -1);
    this.epsilon = a.getFloat("epsilon", 1e-5f);
    this.outputs = outputs;
  }

  @Override
  public Bound bind(Value[] in) {
    Inputs.count(in, 2, 3);
    if (outputs > 1) {
      throw new ShapeException("only the output Y is supported, not Mean or InvStdDev");
    }
    Value x = in[0];
    x.requireFloat("X");
    int ax = Shapes.axis(axis, x.rank());
    int rows = Shapes.product(x.shape(), 0, ax);
    int cols = Shapes.product(x.shape(), ax, x.rank());
    int lastDim = x.rank() == 0 ? 1 : x.dim(x.rank() - 1);
    float[] gamma = perElement(in[1], "Scale", cols, lastDim);
    Value b = Inputs.optional(in, 2);
    float[] beta = b == null ? null : perElement(b, "B", cols, lastDim);
    return Bound.like(x, (i, o, k, ws) -> k.layerNorm(rows, cols, i[0].f, gamma, beta, epsilon, o[0].f))
        .withPreparedInputs(b == null ? new int[] {1} : new int[] {1, 2});
  }

  /**
   * The constant as {@code cols} floats: its own values when it has that many (laid out like the
   * normalized axes: rank 1, or the same last dimension), else its one value repeated.
   */
  private static float[] perElement(Value v, String what, int cols, int lastDim) {
    v.requireFloat(what);
    float[] c = v.requireKnown(what).toFloats();
    if (c.length == cols && (v.rank() <= 1 || v.shape()[v.rank() - 1] == lastDim)) {
      return c;
    }
    if (c.length == 1) {
      float[] r = new float[cols];
      java.util.Arrays.fill(r, c[0]);
      return r;
    }
    throw new ShapeException(what + " " + Shapes.str(v.shape()) + " does not match the " + cols + " normalized elements");
  }
}
