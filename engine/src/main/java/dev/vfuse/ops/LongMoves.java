package dev.vfuse.ops;

import dev.vfuse.ElementType;
import dev.vfuse.ir.NdArray;

/**
 * Runs a float data-movement computation (transpose, slice, gather, concat) on int64 tensors
 * without a second implementation: the moved inputs are replaced by float "iota" tensors holding
 * each element's position, the float computation moves those positions, and the int64 values are
 * then fetched from where they point. Exact while the inputs have fewer than 2^24 elements, which
 * int64 tensors in CNN graphs (shapes, indices) always do.
 */
final class LongMoves {
  private LongMoves() {}

  private static final int EXACT_LIMIT = 1 << 24;

  /** Wraps {@code floatCompute} so it moves int64 data when the inputs in {@code moved} are int64. */
  static Bound.Compute forType(ElementType type, Bound.Compute floatCompute, int... moved) {
    if (type == ElementType.FLOAT32) {
      return floatCompute;
    }
    return (in, out, k, ws) -> {
      NdArray[] iotaIn = in.clone();
      int total = 0;
      for (int m : moved) {
        total += in[m].size();
      }
      if (total >= EXACT_LIMIT) {
        throw new dev.vfuse.ir.ShapeException("int64 tensor too large to move (" + total + " elements)");
      }
      long[] source = new long[total];
      int base = 0;
      for (int m : moved) {
        int n = in[m].size();
        float[] iota = new float[n];
        for (int e = 0; e < n; e++) {
          iota[e] = base + e;
        }
        System.arraycopy(in[m].l, 0, source, base, n);
        iotaIn[m] = NdArray.ofFloats(in[m].shape, iota);
        base += n;
      }
      NdArray positions = NdArray.allocate(ElementType.FLOAT32, out[0].shape);
      floatCompute.run(iotaIn, new NdArray[] {positions}, k, ws);
      for (int e = 0, n = positions.size(); e < n; e++) {
        out[0].l[e] = source[(int) positions.f[e]];
      }
    };
  }

  /** Copies all elements of {@code src} into {@code dst} (same element count), either type. */
  static void copy(NdArray src, NdArray dst) {
    int n = src.size();
    if (src.type == ElementType.FLOAT32) {
      System.arraycopy(src.f, 0, dst.f, 0, n);
    } else {
      System.arraycopy(src.l, 0, dst.l, 0, n);
    }
  }
}
