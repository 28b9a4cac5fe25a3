package dev.vfuse.ops;

import dev.vfuse.ElementType;
import dev.vfuse.ir.ShapeException;
import dev.vfuse.ir.Shapes;

/**
 * Where(condition, X, Y) with numpy broadcasting of all three: X where the condition is true, else
 * Y. The condition is ONNX bool, held as int64 (non-zero is true); X and Y are float32 or int64,
 * of the same type. A selection (attention masks, index fix-ups), computed here.
 */
final class WhereOp implements Op {

  @Override
  public Bound bind(Value[] in) {
    Inputs.count(in, 3, 3);
    Value c = in[0];
    Value x = in[1];
    Value y = in[2];
    if (c.type() != ElementType.INT64) {
      throw new ShapeException("condition must be bool, found " + c.type());
    }
    if (x.type() != y.type()) {
      throw new ShapeException("X and Y have different element types " + x.type() + " and " + y.type());
    }
    int[] out = Shapes.broadcast(Shapes.broadcast(c.shape(), x.shape()), y.shape());
    int[] cs = Shapes.broadcastStrides(c.shape(), out);
    int[] xs = Shapes.broadcastStrides(x.shape(), out);
    int[] ys = Shapes.broadcastStrides(y.shape(), out);
    boolean floats = x.type() == ElementType.FLOAT32;
    int n = Shapes.size(out);
    return Bound.single(x.type(), out, (i, o, kr, ws) -> {
      int[] idx = new int[out.length];
      for (int flat = 0; flat < n; flat++) {
        int ci = 0;
        int xi = 0;
        int yi = 0;
        for (int d = 0; d < out.length; d++) {
          ci += idx[d] * cs[d];
          xi += idx[d] * xs[d];
          yi += idx[d] * ys[d];
        }
        boolean pick = i[0].l[ci] != 0;
        if (floats) {
          o[0].f[flat] = pick ? i[1].f[xi] : i[2].f[yi];
        } else {
          o[0].l[flat] = pick ? i[1].l[xi] : i[2].l[yi];
        }
        for (int d = out.length - 1; d >= 0 && ++idx[d] == out[d]; d--) {
          idx[d] = 0;
        }
      }
    });
  }
}
