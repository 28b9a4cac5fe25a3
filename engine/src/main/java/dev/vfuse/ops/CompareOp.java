package dev.vfuse.ops;

import dev.vfuse.ElementType;
import dev.vfuse.ir.ShapeException;
import dev.vfuse.ir.Shapes;

/**
 * Equal, Less, Greater, LessOrEqual and GreaterOrEqual with numpy broadcasting, on float32 or
 * int64 operands of the same type. The result is ONNX bool, which the engine holds as int64 0 or
 * 1 (as it holds every bool, see {@link ShapeOp}); float comparisons are IEEE (NaN compares
 * false, −0 equals +0). Masks and index arithmetic, not a hot loop: computed here, not on the
 * backend.
 */
final class CompareOp implements Op {
  private enum Kind { EQUAL, LESS, GREATER, LESS_OR_EQUAL, GREATER_OR_EQUAL }

  private final Kind kind;

  CompareOp(String opType) {
    this.kind = switch (opType) {
      case "Equal" -> Kind.EQUAL;
      case "Less" -> Kind.LESS;
      case "Greater" -> Kind.GREATER;
      case "LessOrEqual" -> Kind.LESS_OR_EQUAL;
      case "GreaterOrEqual" -> Kind.GREATER_OR_EQUAL;
      default -> throw new IllegalArgumentException(opType);
    };
  }

  @Override
  public Bound bind(Value[] in) {
    Inputs.count(in, 2, 2);
    Value a = in[0];
    Value b = in[1];
    if (a.type() != b.type()) {
      throw new ShapeException("operands have different element types " + a.type() + " and " + b.type());
    }
    int[] out = Shapes.broadcast(a.shape(), b.shape());
    int[] as = Shapes.broadcastStrides(a.shape(), out);
    int[] bs = Shapes.broadcastStrides(b.shape(), out);
    boolean floats = a.type() == ElementType.FLOAT32;
    Kind k = kind;
    int n = Shapes.size(out);
    return Bound.single(ElementType.INT64, out, (i, o, kr, ws) -> {
      int[] idx = new int[out.length];
      for (int flat = 0; flat < n; flat++) {
        int ai = 0;
        int bi = 0;
        for (int d = 0; d < out.length; d++) {
          ai += idx[d] * as[d];
          bi += idx[d] * bs[d];
        }
        boolean r = floats ? compare(k, i[0].f[ai], i[1].f[bi]) : compare(k, i[0].l[ai], i[1].l[bi]);
        o[0].l[flat] = r ? 1 : 0;
        for (int d = out.length - 1; d >= 0 && ++idx[d] == out[d]; d--) {
          idx[d] = 0;
        }
      }
    });
  }

  private static boolean compare(Kind k, float x, float y) {
    return switch (k) {
      case EQUAL -> x == y;
      case LESS -> x < y;
      case GREATER -> x > y;
      case LESS_OR_EQUAL -> x <= y;
      case GREATER_OR_EQUAL -> x >= y;
    };
  }

  private static boolean compare(Kind k, long x, long y) {
    return switch (k) {
      case EQUAL -> x == y;
      case LESS -> x < y;
      case GREATER -> x > y;
      case LESS_OR_EQUAL -> x <= y;
      case GREATER_OR_EQUAL -> x >= y;
    };
  }
}
