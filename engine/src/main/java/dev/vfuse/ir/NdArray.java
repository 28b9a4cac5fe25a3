package dev.vfuse.ir;

import dev.vfuse.ElementType;
import dev.vfuse.kernel.Int8Weights;
import java.util.Arrays;

/**
 * The engine's working tensor: a shape and a row-major array, float32 or int64, or int8 weights
 * with their per-channel scales ({@link #q}). Unlike the public
 * {@link dev.vfuse.Tensor} it is mutable and its array may be longer than its shape (a reused
 * buffer). Constants in a loaded graph are NdArrays that nothing writes to after load.
 */
public final class NdArray {
  public final ElementType type;
  public final int[] shape;
  public final float[] f;
  public final long[] l;
  /** Quantized weights, for INT8: values in this array's shape, scales per output channel. */
  public final Int8Weights q;

  private NdArray(ElementType type, int[] shape, float[] f, long[] l, Int8Weights q) {
    this.type = type;
    this.shape = shape;
    this.f = f;
    this.l = l;
    this.q = q;
  }

  /** Int8 weights of the given shape (values.length elements) with their scales. */
  public static NdArray ofInt8(int[] shape, Int8Weights q) {
    if (q.values().length != Shapes.size(shape)) {
      throw new IllegalArgumentException(q + " does not fill shape " + Shapes.str(shape));
    }
    return new NdArray(ElementType.INT8, shape, null, null, q);
  }

  /** Bytes of the data this array holds for its shape: 4 a float, 8 a long, int8 values plus scales. */
  public long bytes() {
    return switch (type) {
      case FLOAT32 -> 4L * size();
      case INT64 -> 8L * size();
      case INT8 -> q.bytes();
    };
  }

  public static NdArray ofFloats(int[] shape, float[] data) {
    return new NdArray(ElementType.FLOAT32, shape, data, null, null);
  }

  public static NdArray ofLongs(int[] shape, long[] data) {
    return new NdArray(ElementType.INT64, shape, null, data, null);
  }

  /** A fresh zero tensor of the given type and shape. */
  public static NdArray allocate(ElementType type, int[] shape) {
    int n = Shapes.size(shape);
    return switch (type) {
      case FLOAT32 -> ofFloats(shape, new float[n]);
      case INT64 -> ofLongs(shape, new long[n]);
      case INT8 -> throw new IllegalArgumentException("int8 arrays hold constant weights only");
    };
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
      out[i] = type == ElementType.INT64 ? l[i] : (long) floatAt(i);
    }
    return out;
  }

  /** The values as floats, whatever the element type. */
  public float[] toFloats() {
    int n = size();
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] = type == ElementType.INT64 ? (float) l[i] : floatAt(i);
    }
    return out;
  }

  private float floatAt(int i) {
    if (type == ElementType.INT8) {
      throw new IllegalStateException("int8 weights are read through their operator's layout");
    }
    return f[i];
  }

  /** Copies this tensor's elements (not the whole backing array) into a new exactly-sized NdArray. */
  public NdArray copy() {
    int n = size();
    return switch (type) {
      case FLOAT32 -> ofFloats(shape.clone(), Arrays.copyOf(f, n));
      case INT64 -> ofLongs(shape.clone(), Arrays.copyOf(l, n));
      case INT8 -> this; // immutable
    };
  }

  @Override
  public String toString() {
    return type + Arrays.toString(shape);
  }
}
