package dev.vfuse.ops;

import dev.vfuse.ElementType;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.ShapeException;
import dev.vfuse.ir.Shapes;
import dev.vfuse.kernel.BinaryOp;
import dev.vfuse.kernel.UnaryOp;

/**
 * Add, Sub, Mul, Div, Pow, and the variadic Max and Min, with numpy broadcasting. Float32 runs on
 * the backend; int64 (shape arithmetic) runs here, with Div truncating toward zero as ONNX Runtime
 * does.
 *
 * <p>Pow with a constant scalar exponent of 2 or 0.5 (LayerNorm's variance, an RMS norm) runs as
 * the unary {@link UnaryOp#SQUARE} or {@link UnaryOp#POW_HALF}, which the vector backend has
 * loops for; any other exponent runs {@link BinaryOp#POW}. Pow's exponent may be int64 (ONNX allows
 * a different type for it); it is converted to float, exactly for |e| ≤ 2^24.
 */
final class ElementwiseOp implements Op {
  private final BinaryOp op;
  private final boolean variadic;

  ElementwiseOp(String opType) {
    this.op = BinaryOp.valueOf(opType.toUpperCase(java.util.Locale.ROOT));
    this.variadic = op == BinaryOp.MAX || op == BinaryOp.MIN;
  }

  @Override
  public Bound bind(Value[] in) {
    if (variadic) {
      return bindVariadic(in);
    }
    Inputs.count(in, 2, 2);
    Value a = in[0];
    Value b = in[1];
    if (op == BinaryOp.POW) {
      return bindPow(a, b);
    }
    requireSameType(a, b);
    return bindPair(a, b);
  }

  private Bound bindPair(Value a, Value b) {
    int[] out = Shapes.broadcast(a.shape(), b.shape());
    int[] as = Shapes.broadcastStrides(a.shape(), out);
    int[] bs = Shapes.broadcastStrides(b.shape(), out);
    if (a.type() == ElementType.FLOAT32) {
      long bytes = 4L * (a.size() + b.size() + Shapes.size(out));
      return Bound.single(ElementType.FLOAT32, out, (i, o, k, ws) -> k.binary(op, out, i[0].f, as, i[1].f, bs, o[0].f,
          PreparedConvs.threadsForBytes(bytes, ws)));
    }
    return Bound.single(ElementType.INT64, out, (i, o, k, ws) -> longs(op, out, i[0].l, as, i[1].l, bs, o[0].l));
  }

  private Bound bindPow(Value base, Value exponent) {
    base.requireFloat("Pow base");
    if (exponent.type() == ElementType.INT64 || (exponent.isKnown() && exponent.size() == 1)) {
      if (!exponent.isKnown()) {
        throw new ShapeException("an int64 exponent of a float base must be a constant");
      }
      float[] e = exponent.constant().toFloats();
      if (e.length == 1 && Shapes.broadcast(base.shape(), exponent.shape()).length == base.rank()) {
        UnaryOp fast = e[0] == 2f ? UnaryOp.SQUARE : e[0] == 0.5f ? UnaryOp.POW_HALF : null;
        if (fast != null) {
          int n = base.size();
          return Bound.like(base, (i, o, k, ws) -> k.unary(fast, n, i[0].f, o[0].f));
        }
      }
      NdArray asFloat = NdArray.ofFloats(exponent.shape(), e);
      int[] out = Shapes.broadcast(base.shape(), exponent.shape());
      int[] as = Shapes.broadcastStrides(base.shape(), out);
      int[] bs = Shapes.broadcastStrides(exponent.shape(), out);
      return Bound.single(ElementType.FLOAT32, out, (i, o, k, ws) -> k.binary(op, out, i[0].f, as, asFloat.f, bs, o[0].f));
    }
    exponent.requireFloat("Pow exponent");
    return bindPair(base, exponent);
  }

  /** Max or Min of one or more inputs, all broadcast to one shape: y = op(…op(op(x0, x1), x2)…, xn). */
  private Bound bindVariadic(Value[] in) {
    if (in.length < 1) {
      throw new ShapeException("expects at least 1 input, found 0");
    }
    int[] out = new int[0];
    for (int j = 0; j < in.length; j++) {
      if (in[j] == null) {
        throw new ShapeException("input " + j + " is missing");
      }
      requireSameType(in[0], in[j]);
      out = Shapes.broadcast(out, in[j].shape());
    }
    if (in.length == 2) {
      return bindPair(in[0], in[1]);
    }
    int[] shape = out;
    int[][] strides = new int[in.length][];
    for (int j = 0; j < in.length; j++) {
      strides[j] = Shapes.broadcastStrides(in[j].shape(), shape);
    }
    int[] contiguous = Shapes.strides(shape);
    if (in[0].type() == ElementType.FLOAT32) {
      float[] identity = {op == BinaryOp.MAX ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY};
      int[] scalar = new int[shape.length];
      return Bound.single(ElementType.FLOAT32, shape, (i, o, k, ws) -> {
        // op(±∞ identity, x0) = x0 exactly (NaN stays NaN), so the first step broadcasts x0 into y.
        k.binary(op, shape, identity, scalar, i[0].f, strides[0], o[0].f);
        for (int j = 1; j < i.length; j++) {
          k.binary(op, shape, o[0].f, contiguous, i[j].f, strides[j], o[0].f);
        }
      });
    }
    long[] identity = {op == BinaryOp.MAX ? Long.MIN_VALUE : Long.MAX_VALUE};
    int[] scalar = new int[shape.length];
    return Bound.single(ElementType.INT64, shape, (i, o, k, ws) -> {
      longs(op, shape, identity, scalar, i[0].l, strides[0], o[0].l);
      for (int j = 1; j < i.length; j++) {
        longs(op, shape, o[0].l, contiguous, i[j].l, strides[j], o[0].l);
      }
    });
  }

  private static void requireSameType(Value a, Value b) {
    if (a.type() != b.type()) {
      throw new ShapeException("operands have different element types " + a.type() + " and " + b.type());
    }
  }

  /** The int64 form; y may be a when a's strides are contiguous (each element is read before it is written). */
  private static void longs(BinaryOp op, int[] shape, long[] a, int[] as, long[] b, int[] bs, long[] y) {
    int n = Shapes.size(shape);
    int[] idx = new int[shape.length];
    for (int flat = 0; flat < n; flat++) {
      int ai = 0;
      int bi = 0;
      for (int d = 0; d < shape.length; d++) {
        ai += idx[d] * as[d];
        bi += idx[d] * bs[d];
      }
      long x = a[ai];
      long z = b[bi];
      y[flat] = switch (op) {
        case ADD -> x + z;
        case SUB -> x - z;
        case MUL -> x * z;
        case DIV -> {
          if (z == 0) {
            throw new ShapeException("integer division by zero");
          }
          yield x / z;
        }
        case MAX -> Math.max(x, z);
        case MIN -> Math.min(x, z);
        case POW -> throw new ShapeException("Pow on int64 is not supported");
      };
      for (int d = shape.length - 1; d >= 0 && ++idx[d] == shape[d]; d--) {
        idx[d] = 0;
      }
    }
  }
}
