package dev.vfuse.ops;

import dev.vfuse.ElementType;
import dev.vfuse.ir.ShapeException;
import dev.vfuse.kernel.UnaryOp;

/**
 * Sqrt, Reciprocal, Exp, Log, Neg, Abs and Erf on float32, on the backend ({@link UnaryOp});
 * Neg and Abs also on int64 (shape arithmetic), computed here.
 */
final class UnaryElementwiseOp implements Op {
  private final UnaryOp op;

  UnaryElementwiseOp(String opType) {
    this.op = UnaryOp.valueOf(opType.toUpperCase(java.util.Locale.ROOT));
  }

  @Override
  public Bound bind(Value[] in) {
    Inputs.count(in, 1, 1);
    Value x = in[0];
    int n = x.size();
    if (x.type() == ElementType.INT64) {
      if (op != UnaryOp.NEG && op != UnaryOp.ABS) {
        throw new ShapeException("input must be float32, found int64");
      }
      boolean neg = op == UnaryOp.NEG;
      return Bound.like(x, (i, o, k, ws) -> {
        for (int j = 0; j < n; j++) {
          long v = i[0].l[j];
          o[0].l[j] = neg ? -v : Math.abs(v);
        }
      });
    }
    x.requireFloat("input");
    return Bound.like(x, (i, o, k, ws) -> k.unary(op, n, i[0].f, o[0].f));
  }
}
