package dev.vfuse.exec;

import dev.vfuse.ElementType;
import dev.vfuse.ir.Node;
import dev.vfuse.ir.ShapeException;
import dev.vfuse.ops.ConvGeometries;
import dev.vfuse.ops.Value;
import dev.vfuse.kernel.ConvGeometry;
import dev.vfuse.kernel.ConvTransposeGeometry;

/**
 * Byte counts checked against {@link dev.vfuse.ModelOptions#memoryLimit()} before anything of that
 * size is allocated, so that a declared shape or an input too large for the heap fails with a
 * message instead of an {@link OutOfMemoryError}. Counts saturate at {@link Long#MAX_VALUE}
 * instead of wrapping around.
 */
final class MemoryLimit {
  private MemoryLimit() {}

  /** a·b for non-negative factors, or Long.MAX_VALUE when it would overflow. */
  static long times(long a, long b) {
    if (a == 0 || b == 0) {
      return 0;
    }
    return a > Long.MAX_VALUE / b ? Long.MAX_VALUE : a * b;
  }

  static long plus(long a, long b) {
    long sum = a + b;
    return sum < 0 ? Long.MAX_VALUE : sum;
  }

  /** Bytes of a tensor of this type and shape. */
  static long bytes(ElementType type, int[] shape) {
    long n = type == ElementType.INT64 ? 8 : type == ElementType.INT8 ? 1 : 4;
    for (int d : shape) {
      n = times(n, Math.max(d, 0));
    }
    return n;
  }

  /** "N bytes, over the memory limit of L bytes", the ending every refusal shares. */
  static String over(long bytes, long limit) {
    return (bytes == Long.MAX_VALUE ? "more than 2^63" : String.valueOf(bytes)) + " bytes, over the memory limit of "
        + limit + " bytes (ModelOptions.withMemoryLimit)";
  }

  /**
   * What binding a convolution node may allocate before it returns (the padded copy of its input,
   * the per-position offsets of fused shift taps, both bounded by input and output size), from
   * its geometry, computed without allocating; 0 for other nodes and for geometry that binding
   * itself will refuse.
   */
  static long bindBytes(Node n, Value[] in) {
    boolean conv = n.opType().equals("Conv");
    if (!(conv || n.opType().equals("ConvTranspose")) || in.length < 2 || in[0] == null || in[1] == null) {
      return 0;
    }
    try {
      long input;
      long output;
      if (conv) {
        ConvGeometry g = ConvGeometries.conv(n.attributes(), in[0].shape(), in[1].shape());
        input = times(times(g.n(), g.c()), times((long) g.h() + g.padTop() + g.padBottom(), (long) g.w() + g.padLeft() + g.padRight()));
        output = times(times(g.n(), g.k()), times(g.p(), g.q()));
      } else {
        ConvTransposeGeometry g = ConvGeometries.convTranspose(n.attributes(), in[0].shape(), in[1].shape());
        input = times(times(g.n(), g.c()), times(g.h(), g.w()));
        output = times(times(g.n(), g.k()), times(g.p(), g.q()));
      }
      return times(plus(input, output), Float.BYTES);
    } catch (ShapeException | IllegalArgumentException e) {
      return 0; // binding reports it, with the node
    }
  }
}
