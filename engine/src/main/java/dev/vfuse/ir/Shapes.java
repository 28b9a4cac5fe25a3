package dev.vfuse.ir;

import java.util.Arrays;

/** Shape arithmetic shared by operators and the planner. */
public final class Shapes {
  private Shapes() {}

  /** Number of elements; fails on a negative dimension or more than 2^31 − 1 elements. */
  public static int size(int[] shape) {
    long n = 1;
    for (int d : shape) {
      if (d < 0) {
        throw new ShapeException("negative dimension in " + Arrays.toString(shape));
      }
      if (d == 0) {
        return 0; // an empty axis anywhere: [4, 2^30, 0] holds nothing, whatever the axes before it
      }
    }
    for (int d : shape) {
      n *= d;
      if (n > Integer.MAX_VALUE) {
        throw new ShapeException("tensor of shape " + Arrays.toString(shape) + " exceeds 2^31 - 1 elements");
      }
    }
    return (int) n;
  }

  /** Product of dims [from, to). */
  public static int product(int[] shape, int from, int to) {
    long n = 1;
    for (int i = from; i < to; i++) {
      n *= shape[i];
    }
    return (int) n;
  }

  /** Row-major strides. */
  public static int[] strides(int[] shape) {
    int[] s = new int[shape.length];
    int acc = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      s[i] = acc;
      acc *= shape[i];
    }
    return s;
  }

  /** Numpy broadcast of two shapes. */
  public static int[] broadcast(int[] a, int[] b) {
    int rank = Math.max(a.length, b.length);
    int[] out = new int[rank];
    for (int i = 0; i < rank; i++) {
      int da = i - (rank - a.length) >= 0 ? a[i - (rank - a.length)] : 1;
      int db = i - (rank - b.length) >= 0 ? b[i - (rank - b.length)] : 1;
      if (da != db && da != 1 && db != 1) {
        throw new ShapeException("shapes " + Arrays.toString(a) + " and " + Arrays.toString(b) + " do not broadcast");
      }
      out[i] = da == 1 ? db : da;
    }
    return out;
  }

  /** Strides that read an operand of shape {@code in} broadcast to {@code out}: 0 on broadcast axes. */
  public static int[] broadcastStrides(int[] in, int[] out) {
    int[] inStrides = strides(in);
    int[] s = new int[out.length];
    int offset = out.length - in.length;
    for (int i = 0; i < in.length; i++) {
      s[i + offset] = in[i] == 1 && out[i + offset] != 1 ? 0 : inStrides[i];
    }
    return s;
  }

  /** Resolves a possibly negative axis against a rank, failing when out of range. */
  public static int axis(int axis, int rank) {
    int a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank) {
      throw new ShapeException("axis " + axis + " is out of range for rank " + rank);
    }
    return a;
  }

  public static String str(int[] shape) {
    return Arrays.toString(shape);
  }
}
