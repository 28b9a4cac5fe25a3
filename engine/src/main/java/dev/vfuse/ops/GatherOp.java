package dev.vfuse.ops;

import dev.vfuse.ElementType;
import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.ShapeException;
import dev.vfuse.ir.Shapes;

/** ONNX Gather: out = data.shape[:axis] + indices.shape + data.shape[axis+1:]; negative indices count from the end. */
final class GatherOp implements Op {
  private final int axis;

  GatherOp(Attributes a) {
    axis = a.getInt("axis", 0);
  }

  @Override
  public Bound bind(Value[] in) {
    Inputs.count(in, 2, 2);
    Value data = in[0];
    Value indices = in[1];
    if (indices.type() != ElementType.INT64) {
      throw new ShapeException("indices must be integers");
    }
    int ax = Shapes.axis(axis, data.rank());
    int[] out = new int[data.rank() - 1 + indices.rank()];
    int o = 0;
    for (int d = 0; d < ax; d++) {
      out[o++] = data.dim(d);
    }
    for (int d = 0; d < indices.rank(); d++) {
      out[o++] = indices.dim(d);
    }
    for (int d = ax + 1; d < data.rank(); d++) {
      out[o++] = data.dim(d);
    }
    int outer = Shapes.product(data.shape(), 0, ax);
    int axisLen = data.dim(ax);
    int inner = Shapes.product(data.shape(), ax + 1, data.rank());
    int count = indices.size();
    return Bound.single(data.type(), out, LongMoves.forType(data.type(), (i, oo, k, ws) -> {
      int[] idx = new int[count];
      for (int e = 0; e < count; e++) {
        long v = i[1].l[e];
        long norm = v < 0 ? v + axisLen : v;
        if (norm < 0 || norm >= axisLen) {
          throw new ShapeException("index " + v + " is out of range for axis of size " + axisLen);
        }
        idx[e] = (int) norm;
      }
      k.gather(outer, axisLen, inner, idx, i[0].f, oo[0].f);
    }, 0));
  }
}
