package dev.vfuse.ops;

import dev.vfuse.ElementType;
import dev.vfuse.ir.ShapeException;
import dev.vfuse.ir.Shapes;
import dev.vfuse.kernel.Kernels;
import dev.vfuse.kernel.PreparedGemm;

/**
 * ONNX MatMul with numpy semantics: a rank-1 operand is promoted (A to a row, B to a column) and
 * the promoted axis removed from the result; leading batch axes broadcast. A constant 2-D B (a
 * weight) is packed once for the backend's GEMM; two computed operands (attention) run
 * {@link Kernels#batchedMatMul} with the batch offsets resolved at bind time.
 */
final class MatMulOp implements Op {

  @Override
  public Bound bind(Value[] in) {
    return bind(in, null);
  }

  /** With a constant 2-D B (a weight matrix) the backend packs B once, here. */
  @Override
  public Bound bind(Value[] in, Kernels kernels) {
    Inputs.count(in, 2, 2);
    Value a = in[0];
    Value b = in[1];
    a.requireFloat("A");
    b.requireFloat("B");
    if (a.rank() < 1 || b.rank() < 1) {
      throw new ShapeException("MatMul operands must have rank at least 1");
    }
    int[] as = a.rank() == 1 ? new int[] {1, a.dim(0)} : a.shape();
    int[] bs = b.rank() == 1 ? new int[] {b.dim(0), 1} : b.shape();
    int m = as[as.length - 2];
    int k = as[as.length - 1];
    int n = bs[bs.length - 1];
    if (bs[bs.length - 2] != k) {
      throw new ShapeException("inner dimensions differ: " + Shapes.str(a.shape()) + " × " + Shapes.str(b.shape()));
    }
    int[] aBatch = java.util.Arrays.copyOf(as, as.length - 2);
    int[] bBatch = java.util.Arrays.copyOf(bs, bs.length - 2);
    int[] batch = Shapes.broadcast(aBatch, bBatch);
    int[] aStride = Shapes.broadcastStrides(aBatch, batch);
    int[] bStride = Shapes.broadcastStrides(bBatch, batch);
    int batches = Shapes.size(batch);

    int[] out = new int[batch.length + 2];
    System.arraycopy(batch, 0, out, 0, batch.length);
    out[batch.length] = m;
    out[batch.length + 1] = n;
    int[] declared = out;
    if (a.rank() == 1 && b.rank() == 1) {
      declared = new int[0];
    } else if (a.rank() == 1) {
      declared = removeAxis(out, out.length - 2);
    } else if (b.rank() == 1) {
      declared = removeAxis(out, out.length - 1);
    }
    int aMatrix = m * k;
    int bMatrix = k * n;
    if (kernels != null && b.rank() == 2 && b.isKnown()) {
      // One weight matrix for every batch: the batches of A are consecutive rows of one GEMM.
      PreparedGemm prepared = kernels.prepareGemm(false, n, k, b.constant().f, n);
      int rows = batches * m;
      long flops = 2L * rows * n * k;
      return Bound.withScratch(declared, prepared.scratchPerWorker(rows), (i, o, kr, ws) -> prepared.run(rows, false,
          1f, i[0].f, k, 0f, o[0].f, ws.scratch(), PreparedConvs.threadsFor(flops, (long) Float.BYTES * k * n, ws)))
          .withPreparedInputs(1);
    }
    // Both operands computed: each batch's offsets resolved here, once, so a run only multiplies.
    int[] aOffsets = new int[batches];
    int[] bOffsets = new int[batches];
    int[] idx = new int[batch.length];
    for (int t = 0; t < batches; t++) {
      for (int d = 0; d < batch.length; d++) {
        aOffsets[t] += idx[d] * aStride[d] * aMatrix;
        bOffsets[t] += idx[d] * bStride[d] * bMatrix;
      }
      for (int d = batch.length - 1; d >= 0 && ++idx[d] == batch[d]; d--) {
        idx[d] = 0;
      }
    }
    return Bound.single(ElementType.FLOAT32, declared,
        (i, o, kr, ws) -> kr.batchedMatMul(batches, m, n, k, i[0].f, aOffsets, i[1].f, bOffsets, o[0].f));
  }

  private static int[] removeAxis(int[] s, int axis) {
    int[] r = new int[s.length - 1];
    for (int i = 0, j = 0; i < s.length; i++) {
      if (i != axis) {
        r[j++] = s[i];
      }
    }
    return r;
  }
}
