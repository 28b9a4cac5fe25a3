package dev.vfuse.ir;

import dev.vfuse.ElementType;
import java.util.Arrays;

/**
 * The engine's working tensor: a shape and a row-major array, float32 or int64. Unlike the public
 * {@link dev.vfuse.Tensor} it is mutable and its array may be longer than its shape (a reused
 * buffer). Constants in a loaded graph are NdArrays that nothing writes to after load.
 */
public final class NdArray {
  public final ElementType type;
  public final int[] shape;
  public final float[] f;
  public final long[] l;

  private NdArray(ElementType type, int[] shape, float[] f, long[] l) {
    this.type = type;
    this.shape = shape;
    this.f = f;
    this.l = l;
  }

  public static NdArray ofFloats(int[] shape, float[] data) {
    return new NdArray(ElementType.FLOAT32, shape, data, null);
  }

  public static NdArray ofLongs(int[] shape, long[] data) {
    return new NdArray(ElementType.INT64, shape, null, data);
  }

  /** A fresh zero tensor of the given type and shape. */
  public static NdArray allocate(ElementType type, int[] shape) {
    int n = Shapes.size(shape);
    return type == ElementType.FLOAT32 ? ofFloats(shape, new float[n]) : ofLongs(shape, new long[n]);
  }

  public static NdArray scalarLong(long v) {
    return ofLongs(new int[0], new long[] {v});
  }

  public int size() {
    return Shapes.size(shape);
  }

  public int rank() {
    return shape.length;
  }

  /** The values as longs, whatever the element type (floats are truncated toward zero, as ONNX Cast does). */
  public long[] toLongs() {
    int n = size();
    long[] out = new long[n];
    for (int i = 0; i < n; i++) {
      out[i] = type == ElementType.INT64 ? l[i] : (long) f[i];
    }
    return out;
  }

  /** The values as floats, whatever the element type. */
  public float[] toFloats() {
    int n = size();
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] = type == ElementType.FLOAT32 ? f[i] : (float) l[i];
    }
    return out;
  }

  /** Copies this tensor's elements (not the whole backing array) into a new exactly-sized NdArray. */
  public NdArray copy() {
    int n = size();
    return type == ElementType.FLOAT32
        ? ofFloats(shape.clone(), Arrays.copyOf(f, n))
        : ofLongs(shape.clone(), Arrays.copyOf(l, n));
  }

  @Override
  public String toString() {
    return type + Arrays.toString(shape);
  }
}
