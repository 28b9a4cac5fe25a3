package dev.vfuse.ops;

import dev.vfuse.ir.ShapeException;
import dev.vfuse.ir.Shapes;

/**
 * {@code vfuse.ScaleShift}: y = x·scale[c] + shift[c] on [N, C, ...]. What a BatchNormalization
 * becomes when no neighbouring linear operator can absorb it exactly.
 */
final class ScaleShiftOp implements Op {

  @Override
  public Bound bind(Value[] in) {
    Inputs.count(in, 3, 3);
    Value x = in[0];
    x.requireFloat("input X");
    if (x.rank() < 2) {
      throw new ShapeException("input must have rank at least 2, found " + Shapes.str(x.shape()));
    }
    int c = x.dim(1);
    for (int i = 1; i < 3; i++) {
      in[i].requireFloat(i == 1 ? "scale" : "shift");
      if (in[i].rank() != 1 || in[i].dim(0) != c) {
        throw new ShapeException((i == 1 ? "scale" : "shift") + " must have shape [" + c + "], found " + Shapes.str(in[i].shape()));
      }
    }
    int n = x.dim(0);
    int spatial = Shapes.product(x.shape(), 2, x.rank());
    return Bound.like(x, (i, o, k, ws) -> k.scaleShift(n, c, spatial, i[0].f, i[1].f, i[2].f, o[0].f));
  }
}
