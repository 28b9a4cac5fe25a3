package dev.vfuse.ops;

import dev.vfuse.ElementType;
import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.ShapeException;

/**
 * Shape (int64 dims of its input, with opset-15 start/end) and Cast (float and integer types;
 * every integer or bool target becomes int64 inside the engine, truncating floats toward zero).
 * Both are known as soon as the input shape is, or its data for Cast, so they fold at plan time.
 */
final class ShapeOp implements Op {
  private final boolean cast;
  private final ElementType castTo;
  private final boolean castToBool;
  private final int start;
  private final Integer end;

  ShapeOp(String opType, Attributes a) {
    cast = opType.equals("Cast");
    int to = cast ? a.getInt("to", -1) : 0;
    castToBool = to == 9;
    castTo = switch (to) {
      case 0 -> null;
      case 1, 10, 11, 16 -> ElementType.FLOAT32; // float, float16, double, bfloat16: computed in float32
      case 2, 3, 4, 5, 6, 7, 9, 12, 13 -> ElementType.INT64;
      default -> throw new ShapeException("Cast to data type " + to + " is not supported");
    };
    start = a.getInt("start", 0);
    end = a.has("end") ? a.getInt("end", 0) : null;
  }

  @Override
  public Bound bind(Value[] in) {
    Inputs.count(in, 1, 1);
    Value x = in[0];
    if (!cast) {
      int rank = x.rank();
      int s = clamp(start < 0 ? start + rank : start, rank);
      int e = end == null ? rank : clamp(end < 0 ? end + rank : end, rank);
      int n = Math.max(0, e - s);
      long[] dims = new long[n];
      for (int i = 0; i < n; i++) {
        dims[i] = x.dim(s + i);
      }
      return Bound.known(NdArray.ofLongs(new int[] {n}, dims));
    }
    boolean bool = castToBool;
    return Bound.single(castTo, x.shape(), (i, o, k, ws) -> convert(i[0], o[0], bool));
  }

  private static int clamp(int v, int rank) {
    return Math.max(0, Math.min(rank, v));
  }

  private static void convert(NdArray src, NdArray dst, boolean toBool) {
    int n = src.size();
    for (int e = 0; e < n; e++) {
      if (dst.type == ElementType.FLOAT32) {
        dst.f[e] = src.type == ElementType.FLOAT32 ? src.f[e] : (float) src.l[e];
      } else {
        long v = src.type == ElementType.INT64 ? src.l[e] : (long) src.f[e];
        boolean nonZero = src.type == ElementType.INT64 ? src.l[e] != 0 : src.f[e] != 0f;
        dst.l[e] = toBool ? (nonZero ? 1 : 0) : v;
      }
    }
  }
}
