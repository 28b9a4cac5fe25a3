package dev.vfuse.ops;

import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.ShapeException;
import dev.vfuse.ir.Shapes;

/**
 * ONNX Slice: starts, ends, axes and steps from attributes (before opset 10) or constant inputs,
 * clamped as the specification says (ends may be ±INT64_MAX).
 */
final class SliceOp implements Op {
  private final Attributes attributes;
  private final int opset;

  SliceOp(Attributes attributes, int opset) {
    this.attributes = attributes;
    this.opset = opset;
  }

  @Override
  public Bound bind(Value[] in) {
    Value x = in[0];
    long[] starts;
    long[] ends;
    long[] axes;
    long[] steps;
    if (opset < 10) {
      Inputs.count(in, 1, 1);
      starts = attributes.getLongs("starts");
      ends = attributes.getLongs("ends");
      axes = attributes.getLongs("axes");
      steps = null;
      if (starts == null || ends == null) {
        throw new ShapeException("Slice needs starts and ends");
      }
    } else {
      Inputs.count(in, 3, 5);
      starts = in[1].requireKnown("Slice starts").toLongs();
      ends = in[2].requireKnown("Slice ends").toLongs();
      Value a = Inputs.optional(in, 3);
      Value s = Inputs.optional(in, 4);
      axes = a == null ? null : a.requireKnown("Slice axes").toLongs();
      steps = s == null ? null : s.requireKnown("Slice steps").toLongs();
    }
    int rank = x.rank();
    int n = starts.length;
    if (ends.length != n || (axes != null && axes.length != n) || (steps != null && steps.length != n)) {
      throw new ShapeException("starts, ends, axes and steps must have the same length");
    }
    int[] shape = x.shape();
    int[] st = new int[rank];
    int[] sp = new int[rank];
    int[] out = shape.clone();
    java.util.Arrays.fill(sp, 1);
    boolean[] seen = new boolean[rank];
    for (int j = 0; j < n; j++) {
      int ax = Shapes.axis(axes == null ? j : (int) axes[j], rank);
      if (seen[ax]) {
        throw new ShapeException("axis " + ax + " is sliced twice");
      }
      seen[ax] = true;
      long step = steps == null ? 1 : steps[j];
      if (step == 0) {
        throw new ShapeException("invalid step 0");
      }
      long dim = shape[ax];
      // A step at least the axis length takes at most one element, so clamping it changes nothing
      // and keeps the arithmetic below in range (steps may be ±INT64_MAX).
      step = Math.clamp(step, -Math.max(dim, 1), Math.max(dim, 1));
      long s = starts[j] < 0 ? starts[j] + dim : starts[j];
      long e = ends[j] < 0 ? ends[j] + dim : ends[j];
      long count;
      if (step > 0) {
        s = Math.max(0, Math.min(dim, s));
        e = Math.max(0, Math.min(dim, e));
        count = e > s ? (e - s + step - 1) / step : 0;
      } else {
        s = Math.max(-1, Math.min(dim - 1, s));
        e = Math.max(-1, Math.min(dim - 1, e));
        count = s > e ? (s - e + (-step) - 1) / (-step) : 0;
      }
      st[ax] = count == 0 ? 0 : (int) s;
      sp[ax] = (int) step;
      out[ax] = (int) count;
    }
    return Bound.single(x.type(), out, LongMoves.forType(x.type(), (i, o, k, ws) -> k.slice(shape, st, sp, out, i[0].f, o[0].f), 0));
  }
}
