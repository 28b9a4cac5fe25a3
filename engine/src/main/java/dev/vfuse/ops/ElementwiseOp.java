package dev.vfuse.ops;

import dev.vfuse.ElementType;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.ShapeException;
import dev.vfuse.ir.Shapes;
import dev.vfuse.kernel.BinaryOp;

/**
 * Add, Sub, Mul, Div with numpy broadcasting. Float32 runs on the backend; int64 (shape
 * arithmetic) runs here, with Div truncating toward zero as ONNX Runtime does.
 */
final class ElementwiseOp implements Op {
  private final BinaryOp op;

  ElementwiseOp(String opType) {
    this.op = BinaryOp.valueOf(opType.toUpperCase(java.util.Locale.ROOT));
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
    if (a.type() == ElementType.FLOAT32) {
      return Bound.single(ElementType.FLOAT32, out, (i, o, k, ws) -> k.binary(op, out, i[0].f, as, i[1].f, bs, o[0].f));
    }
    return Bound.single(ElementType.INT64, out, (i, o, k, ws) -> longs(out, i[0], as, i[1], bs, o[0]));
  }

  private void longs(int[] shape, NdArray a, int[] as, NdArray b, int[] bs, NdArray y) {
    int n = Shapes.size(shape);
    int[] idx = new int[shape.length];
    for (int flat = 0; flat < n; flat++) {
      int ai = 0;
      int bi = 0;
      for (int d = 0; d < shape.length; d++) {
        ai += idx[d] * as[d];
        bi += idx[d] * bs[d];
      }
      long x = a.l[ai];
      long z = b.l[bi];
      y.l[flat] = switch (op) {
        case ADD -> x + z;
        case SUB -> x - z;
        case MUL -> x * z;
        case DIV -> {
          if (z == 0) {
            throw new ShapeException("integer division by zero");
          }
          yield x / z;
        }
      };
      for (int d = shape.length - 1; d >= 0 && ++idx[d] == shape[d]; d--) {
        idx[d] = 0;
      }
    }
  }
}
