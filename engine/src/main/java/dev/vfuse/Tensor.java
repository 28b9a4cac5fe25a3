package dev.vfuse;

import java.util.Arrays;

/**
 * An immutable dense tensor in row-major (C) order, of rank 0 to 8. Images are NCHW.
 *
 * <p>Ownership: the factories copy the array they are given and the accessors return copies, so a
 * Tensor never shares its storage with the caller and can be passed between threads freely.
 * {@link #copyTo(float[])} and {@link #getFloat(int)} read without copying the whole tensor.
 */
public final class Tensor {
  private static final int MAX_RANK = 8;

  private final ElementType type;
  private final int[] shape;
  private final float[] floats;
  private final long[] longs;

  private Tensor(ElementType type, int[] shape, float[] floats, long[] longs) {
    this.type = type;
    this.shape = shape;
    this.floats = floats;
    this.longs = longs;
  }

  /** A float32 tensor holding a copy of {@code data}, whose length must equal the product of {@code shape}. */
  public static Tensor ofFloats(int[] shape, float[] data) {
    int[] s = checkedShape(shape, data.length);
    return new Tensor(ElementType.FLOAT32, s, data.clone(), null);
  }

  /** An int64 tensor holding a copy of {@code data}. */
  public static Tensor ofLongs(int[] shape, long[] data) {
    int[] s = checkedShape(shape, data.length);
    return new Tensor(ElementType.INT64, s, null, data.clone());
  }

  /** Takes ownership of {@code data} without copying: for the engine's own outputs only. */
  static Tensor adoptFloats(int[] shape, float[] data) {
    return new Tensor(ElementType.FLOAT32, shape.clone(), data, null);
  }

  private static int[] checkedShape(int[] shape, int length) {
    if (shape.length > MAX_RANK) {
      throw new IllegalArgumentException("rank " + shape.length + " exceeds " + MAX_RANK);
    }
    long size = 1;
    for (int d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
      }
      size *= d;
    }
    if (size != length) {
      throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + size + " elements, data has " + length);
    }
    return shape.clone();
  }

  public ElementType elementType() {
    return type;
  }

  /** A copy of the shape. */
  public int[] shape() {
    return shape.clone();
  }

  public int rank() {
    return shape.length;
  }

  public int dim(int axis) {
    return shape[axis];
  }

  /** Number of elements. */
  public int size() {
    return type == ElementType.FLOAT32 ? floats.length : longs.length;
  }

  /** A copy of the float32 data. */
  public float[] floats() {
    return requireFloats().clone();
  }

  /** A copy of the int64 data. */
  public long[] longs() {
    if (type != ElementType.INT64) {
      throw new IllegalStateException("tensor holds " + type + ", not INT64");
    }
    return longs.clone();
  }

  /** The float32 element at a flat row-major index. */
  public float getFloat(int flatIndex) {
    return requireFloats()[flatIndex];
  }

  /** Copies the float32 data into {@code dst}, which must hold at least {@link #size()} elements. */
  public void copyTo(float[] dst) {
    float[] f = requireFloats();
    System.arraycopy(f, 0, dst, 0, f.length);
  }

  /** The storage itself, for the engine, which never writes to it. */
  float[] floatStorage() {
    return requireFloats();
  }

  long[] longStorage() {
    return longs;
  }

  private float[] requireFloats() {
    if (type != ElementType.FLOAT32) {
      throw new IllegalStateException("tensor holds " + type + ", not FLOAT32");
    }
    return floats;
  }

  @Override
  public String toString() {
    return "Tensor[" + type + " " + Arrays.toString(shape) + "]";
  }
}
