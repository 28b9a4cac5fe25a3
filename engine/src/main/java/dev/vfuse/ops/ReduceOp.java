package dev.vfuse.ops;

import dev.vfuse.ElementType;
import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.ShapeException;
import dev.vfuse.ir.Shapes;

/**
 * Softmax (before opset 13 over the input flattened to 2-D at axis, from 13 over one axis), and
 * ReduceMean, ReduceMax (axes attribute, keepdims; no axes reduces everything) and ReduceSum
 * (from opset 13 its axes are an optional constant input, and {@code noop_with_empty_axes} makes
 * no axes the identity).
 */
final class ReduceOp implements Op {
  private final String opType;
  private final boolean softmax;
  private final Attributes attributes;
  private final int opset;

  ReduceOp(String opType, Attributes attributes, int opset) {
    this.opType = opType;
    this.softmax = opType.equals("Softmax");
    this.attributes = attributes;
    this.opset = opset;
  }

  @Override
  public Bound bind(Value[] in) {
    boolean axesInput = opType.equals("ReduceSum") && opset >= 13;
    Inputs.count(in, 1, axesInput ? 2 : 1);
    Value x = in[0];
    x.requireFloat("input");
    int rank = x.rank();
    int[] shape = x.shape();
    if (softmax) {
      int ax = Shapes.axis(attributes.getInt("axis", opset >= 13 ? -1 : 1), rank);
      int outer = Shapes.product(shape, 0, ax);
      int axisLen = opset >= 13 ? shape[ax] : Shapes.product(shape, ax, rank);
      int inner = opset >= 13 ? Shapes.product(shape, ax + 1, rank) : 1;
      return Bound.like(x, (i, o, k, ws) -> k.softmax(outer, axisLen, inner, i[0].f, o[0].f));
    }
    long[] axes = attributes.getLongs("axes");
    Value axesValue = Inputs.optional(in, 1);
    if (axesInput && axesValue != null) {
      axes = axesValue.requireKnown("axes").toLongs();
    }
    boolean keep = attributes.getInt("keepdims", 1) != 0;
    boolean[] reduced = new boolean[rank];
    boolean noAxes = axes == null || axes.length == 0;
    if (noAxes && axesInput && attributes.getInt("noop_with_empty_axes", 0) != 0) {
      int n = x.size();
      return Bound.like(x, (i, o, k, ws) -> System.arraycopy(i[0].f, 0, o[0].f, 0, n));
    }
    if (noAxes) {
      java.util.Arrays.fill(reduced, true);
    } else {
      for (long a : axes) {
        int ax = Shapes.axis((int) a, rank);
        if (reduced[ax]) {
          throw new ShapeException("axis " + a + " repeats");
        }
        reduced[ax] = true;
      }
    }
    int[] kept = shape.clone();
    int dropped = 0;
    for (int d = 0; d < rank; d++) {
      if (reduced[d]) {
        kept[d] = 1;
        dropped++;
      }
    }
    int[] out = keep ? kept : new int[rank - dropped];
    if (!keep) {
      for (int d = 0, j = 0; d < rank; d++) {
        if (!reduced[d]) {
          out[j++] = shape[d];
        }
      }
    }
    return switch (opType) {
      case "ReduceSum" -> Bound.single(ElementType.FLOAT32, out, (i, o, k, ws) -> k.reduceSum(shape, reduced, i[0].f, o[0].f));
      case "ReduceMax" -> Bound.single(ElementType.FLOAT32, out, (i, o, k, ws) -> k.reduceMax(shape, reduced, i[0].f, o[0].f));
      default -> Bound.single(ElementType.FLOAT32, out, (i, o, k, ws) -> k.reduceMean(shape, reduced, i[0].f, o[0].f));
    };
  }
}
