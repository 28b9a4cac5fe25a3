package dev.vfuse.ops;

import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.ShapeException;

/** ONNX Transpose; perm defaults to reversing the axes. */
final class TransposeOp implements Op {
  private final int[] perm;

  TransposeOp(Attributes a) {
    perm = a.getInts("perm", null);
  }

  @Override
  public Bound bind(Value[] in) {
    Inputs.count(in, 1, 1);
    Value x = in[0];
    int rank = x.rank();
    int[] p = perm;
    if (p == null) {
      p = new int[rank];
      for (int i = 0; i < rank; i++) {
        p[i] = rank - 1 - i;
      }
    }
    if (p.length != rank) {
      throw new ShapeException("perm has " + p.length + " axes for a rank-" + rank + " input");
    }
    boolean[] seen = new boolean[rank];
    int[] out = new int[rank];
    for (int i = 0; i < rank; i++) {
      if (p[i] < 0 || p[i] >= rank || seen[p[i]]) {
        throw new ShapeException("perm " + java.util.Arrays.toString(p) + " is not a permutation of " + rank + " axes");
      }
      seen[p[i]] = true;
      out[i] = x.dim(p[i]);
    }
    int[] shape = x.shape();
    int[] fp = p;
    return Bound.single(x.type(), out, LongMoves.forType(x.type(), (i, o, k, ws) -> k.transpose(shape, fp, i[0].f, o[0].f), 0));
  }
}
