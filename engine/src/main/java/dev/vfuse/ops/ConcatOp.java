package dev.vfuse.ops;

import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.ShapeException;
import dev.vfuse.ir.Shapes;

/** ONNX Concat along one axis; all inputs share type and every other dimension. */
final class ConcatOp implements Op {
  private final Integer axis;

  ConcatOp(Attributes a) {
    axis = a.has("axis") ? a.getInt("axis", 0) : null;
  }

  @Override
  public Bound bind(Value[] in) {
    if (in.length == 0) {
      throw new ShapeException("Concat needs at least one input");
    }
    if (axis == null) {
      throw new ShapeException("Concat needs the axis attribute");
    }
    for (int i = 0; i < in.length; i++) {
      if (in[i] == null) {
        throw new ShapeException("input " + i + " is missing (every input of Concat is required)");
      }
    }
    Value first = in[0];
    int rank = first.rank();
    int ax = Shapes.axis(axis, rank);
    int[] out = first.shape().clone();
    int[] lens = new int[in.length];
    out[ax] = 0;
    for (int j = 0; j < in.length; j++) {
      Value v = in[j];
      if (v == null || v.type() != first.type() || v.rank() != rank) {
        throw new ShapeException("input " + j + " does not match input 0 in type or rank");
      }
      for (int d = 0; d < rank; d++) {
        if (d != ax && v.dim(d) != first.dim(d)) {
          throw new ShapeException("input " + j + " has shape " + Shapes.str(v.shape()) + ", incompatible with "
              + Shapes.str(first.shape()) + " outside axis " + ax);
        }
      }
      lens[j] = v.dim(ax);
      out[ax] += lens[j];
    }
    int outer = Shapes.product(out, 0, ax);
    int inner = Shapes.product(out, ax + 1, rank);
    long bytes = 8L * outer * out[ax] * inner; // each float read once and written once
    int[] moved = new int[in.length];
    for (int j = 0; j < moved.length; j++) {
      moved[j] = j;
    }
    return Bound.single(first.type(), out, LongMoves.forType(first.type(), (i, o, k, ws) -> {
      float[][] xs = new float[i.length][];
      for (int j = 0; j < xs.length; j++) {
        xs[j] = i[j].f;
      }
      k.concat(outer, lens, inner, xs, o[0].f, PreparedConvs.threadsForBytes(bytes, ws));
    }, moved));
  }
}
