package dev.vfuse.kernel;

/**
 * A convolution with everything but its input fixed: geometry, weights, bias, the per-position
 * offsets and the activation of its {@link ConvEpilogue}. A backend prepares it once, at load,
 * and may repack the weights into whatever layout its kernel reads fastest; every run then pays
 * only for the arithmetic.
 *
 * <p>A prepared convolution is immutable and may run on many threads at once: the state of one
 * run lives in the {@code scratch} the caller passes.
 */
public interface PreparedConv {

  /** Floats of scratch one worker needs in {@link #run}; the caller provides this many per thread. */
  int scratchPerWorker();

  /**
   * y = activation(conv(x) + bias + offsets + residual) for the prepared geometry, exactly as
   * {@link Kernels#conv2d(ConvGeometry, float[], float[], float[], ConvEpilogue, float[])} (or the
   * transposed form) defines it.
   *
   * @param residual the residual of the epilogue, shaped as the output, or null
   * @param scratch at least {@link #scratchPerWorker()}·{@code parallel.threads()} floats, contents ignored
   */
  void run(float[] x, float[] residual, float[] y, float[] scratch, Parallel parallel);

  /**
   * The unprepared form: each run calls the backend's conv2d with the epilogue, on the calling
   * thread, with no scratch. Backends use it for the shapes they do not prepare.
   */
  static PreparedConv direct(Kernels kernels, ConvGeometry g, float[] weight, float[] bias,
      PositionOffsets offsets, Activation activation) {
    return new Direct((x, e, y) -> kernels.conv2d(g, x, weight, bias, e, y), offsets, activation);
  }

  /** {@link #direct} for a transposed convolution. */
  static PreparedConv direct(Kernels kernels, ConvTransposeGeometry g, float[] weight, float[] bias,
      PositionOffsets offsets, Activation activation) {
    return new Direct((x, e, y) -> kernels.convTranspose2d(g, x, weight, bias, e, y), offsets, activation);
  }

  /** An unprepared convolution call with its epilogue, which {@link #direct} wraps. */
  @FunctionalInterface
  interface EpilogueCall {
    void run(float[] x, ConvEpilogue epilogue, float[] y);
  }

  /** The form {@link #direct} returns. */
  record Direct(EpilogueCall call, PositionOffsets offsets, Activation activation) implements PreparedConv {
    @Override
    public int scratchPerWorker() {
      return 0;
    }

    @Override
    public void run(float[] x, float[] residual, float[] y, float[] scratch, Parallel parallel) {
      call.run(x, new ConvEpilogue(offsets, residual, activation), y);
    }
  }
}
