package dev.vfuse.reference;

/**
 * Index arithmetic on row-major shapes of any rank (rank 0 is one element). An index is an
 * {@code int[]} with one entry per axis; {@link #increment} walks the indices of a shape in
 * row-major order, last axis fastest, like an odometer.
 */
final class Shapes {
  private Shapes() {}

  /** Number of elements: the product of the dimensions, 1 for rank 0. */
  static int size(int[] shape) {
    int size = 1;
    for (int dim : shape) {
      size *= dim;
    }
    return size;
  }

  /** Strides of a contiguous row-major tensor of this shape: the last axis has stride 1. */
  static int[] contiguousStrides(int[] shape) {
    int[] strides = new int[shape.length];
    int stride = 1;
    for (int d = shape.length - 1; d >= 0; d--) {
      strides[d] = stride;
      stride *= shape[d];
    }
    return strides;
  }

  /** Σ index[d]·strides[d]. */
  static int offset(int[] index, int[] strides) {
    int offset = 0;
    for (int d = 0; d < index.length; d++) {
      offset += index[d] * strides[d];
    }
    return offset;
  }

  /** Advances {@code index} to the next index of {@code shape}; after the last one it wraps to all zeros. */
  static void increment(int[] index, int[] shape) {
    for (int d = index.length - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) {
        return;
      }
      index[d] = 0;
    }
  }
}
