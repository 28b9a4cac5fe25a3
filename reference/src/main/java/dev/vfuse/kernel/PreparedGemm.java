package dev.vfuse.kernel;

/**
 * A GEMM whose right operand is fixed: C = alpha·op(A)·B' + beta·C with B' (k × n) given once,
 * at load, so a backend can pack it once into the layout its micro-kernel reads. The fully
 * connected layers of CNNs are this shape, with A the activations and B' the weights.
 *
 * <p>Immutable and safe to run from many threads at once; one run's state lives in its scratch.
 */
public interface PreparedGemm {

  /** Floats of scratch one worker needs when A has {@code m} rows. */
  int scratchPerWorker(int m);

  /**
   * C = alpha·op(A)·B' + beta·C with the addressing of {@link Kernels#gemm} (A read from offset 0
   * with leading dimension {@code lda}, C written from offset 0 with leading dimension n). When beta
   * is 0, C is written without being read.
   *
   * @param scratch at least {@link #scratchPerWorker}(m)·{@code parallel.threads()} floats, contents ignored
   */
  void run(int m, boolean transA, float alpha, float[] a, int lda, float beta, float[] c, float[] scratch,
      Parallel parallel);

  /** The unprepared form: each run calls the backend's {@link Kernels#gemm} on the calling thread. */
  static PreparedGemm direct(Kernels kernels, boolean transB, int n, int k, float[] b, int ldb) {
    return new PreparedGemm() {
      @Override
      public int scratchPerWorker(int m) {
        return 0;
      }

      @Override
      public void run(int m, boolean transA, float alpha, float[] a, int lda, float beta, float[] c, float[] scratch,
          Parallel parallel) {
        kernels.gemm(transA, transB, m, n, k, alpha, a, 0, lda, b, 0, ldb, beta, c, 0, n);
      }
    };
  }
}
