package dev.vfuse.ops;

import dev.vfuse.ElementType;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.ShapeException;
import dev.vfuse.ir.Shapes;

/**
 * What an operator knows about one of its inputs when it is bound: element type and shape, and the
 * contents when they are known before the run (weights, folded shape arithmetic).
 */
public record Value(ElementType type, int[] shape, NdArray constant) {

  public static Value known(NdArray a) {
    return new Value(a.type, a.shape, a);
  }

  public static Value of(ElementType type, int[] shape) {
    return new Value(type, shape, null);
  }

  public boolean isKnown() {
    return constant != null;
  }

  public int rank() {
    return shape.length;
  }

  public int dim(int axis) {
    return shape[axis];
  }

  public int size() {
    return Shapes.size(shape);
  }

  /** The contents, which this operator needs before the run. */
  public NdArray requireKnown(String what) {
    if (constant == null) {
      throw new ShapeException(what + " must be a constant (or computable from input shapes); it depends on input data");
    }
    return constant;
  }

  public void requireFloat(String what) {
    if (type != ElementType.FLOAT32) {
      throw new ShapeException(what + " must be float32, found " + type);
    }
  }

  public void requireRank(String what, int expected) {
    if (shape.length != expected) {
      throw new ShapeException(what + " must have rank " + expected + ", found shape " + Shapes.str(shape));
    }
  }
}
