package dev.vfuse.ops;

import dev.vfuse.ElementType;
import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.ShapeException;
import dev.vfuse.ir.Shapes;
import dev.vfuse.kernel.Kernels;
import dev.vfuse.kernel.PreparedGemm;

/** ONNX Gemm: Y = alpha·op(A)·op(B) + beta·C, with C optional and unidirectionally broadcast to [M, N]. */
final class GemmOp implements Op {
  private final float alpha;
  private final float beta;
  private final boolean transA;
  private final boolean transB;

  GemmOp(Attributes a) {
    alpha = a.getFloat("alpha", 1f);
    beta = a.getFloat("beta", 1f);
    transA = a.getInt("transA", 0) != 0;
    transB = a.getInt("transB", 0) != 0;
  }

  @Override
  public Bound bind(Value[] in) {
    return bind(in, null);
  }

  /** With constant B (a fully connected layer's weights) the backend packs B once, here. */
  @Override
  public Bound bind(Value[] in, Kernels kernels) {
    Inputs.count(in, 2, 3);
    Value a = in[0];
    Value b = in[1];
    Value c = Inputs.optional(in, 2);
    a.requireFloat("A");
    if (b.type() == ElementType.INT8 && (kernels == null || !b.isKnown())) {
      throw new IllegalStateException("int8 weights need a backend to prepare them");
    } else if (b.type() != ElementType.INT8) {
      b.requireFloat("B");
    }
    a.requireRank("A", 2);
    b.requireRank("B", 2);
    int m = transA ? a.dim(1) : a.dim(0);
    int k = transA ? a.dim(0) : a.dim(1);
    int kb = transB ? b.dim(1) : b.dim(0);
    int n = transB ? b.dim(0) : b.dim(1);
    if (k != kb) {
      throw new ShapeException("inner dimensions differ: A " + Shapes.str(a.shape()) + (transA ? "ᵀ" : "") + " and B "
          + Shapes.str(b.shape()) + (transB ? "ᵀ" : ""));
    }
    int[] out = {m, n};
    int lda = a.dim(1);
    int ldb = b.dim(1);
    float al = alpha;
    boolean ta = transA;
    boolean tb = transB;
    PreparedGemm prepared = kernels == null || !b.isKnown() ? null
        : b.type() == ElementType.INT8 ? kernels.prepareGemmInt8(tb, n, k, b.constant().q)
        : kernels.prepareGemm(tb, n, k, b.constant().f, ldb);
    int scratch = prepared == null ? 0 : prepared.scratchPerWorker(m);
    long flops = 2L * m * n * k;
    long weightBytes = (long) n * k * (b.type() == ElementType.INT8 ? 1 : Float.BYTES);
    if (c == null || beta == 0f) {
      if (prepared != null) {
        return Bound.withScratch(out, scratch, (i, o, kr, ws) -> prepared.run(m, ta, al, i[0].f, lda, 0f, o[0].f,
            ws.scratch(), PreparedConvs.threadsFor(flops, weightBytes, ws))).withPreparedInputs(1).withKernel(prepared);
      }
      return Bound.single(ElementType.FLOAT32, out, (i, o, kr, ws) -> kr.gemm(ta, tb, m, n, k, al, i[0].f, 0, lda, i[1].f, 0, ldb, 0f, o[0].f, 0, n));
    }
    c.requireFloat("C");
    int[] broadcast = Shapes.broadcast(c.shape(), out);
    if (broadcast.length != 2 || broadcast[0] != m || broadcast[1] != n) {
      throw new ShapeException("C of shape " + Shapes.str(c.shape()) + " does not broadcast to " + Shapes.str(out));
    }
    int[] cs = Shapes.broadcastStrides(c.shape(), out);
    float be = beta;
    Bound bound = Bound.withScratch(out, scratch, (i, o, kr, ws) -> {
      float[] y = o[0].f;
      float[] cv = i[2].f;
      for (int r = 0; r < m; r++) {
        for (int col = 0; col < n; col++) {
          y[r * n + col] = cv[r * cs[0] + col * cs[1]];
        }
      }
      if (prepared != null) {
        prepared.run(m, ta, al, i[0].f, lda, be, y, ws.scratch(), PreparedConvs.threadsFor(flops, weightBytes, ws));
      } else {
        kr.gemm(ta, tb, m, n, k, al, i[0].f, 0, lda, i[1].f, 0, ldb, be, y, 0, n);
      }
    });
    return prepared == null ? bound : bound.withPreparedInputs(1).withKernel(prepared);
  }
}
