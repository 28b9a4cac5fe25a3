package dev.vfuse.kernel;

/**
 * A prepared convolution that can also compute a band of its output rows on the calling thread,
 * so that a chain of convolutions can run band by band ({@link ConvChain}): the rows a band
 * reads were written by the previous convolution a moment before and are still in cache.
 *
 * <p>A band computes exactly what {@link #run} computes for those rows, bit for bit: every output
 * keeps its reduction order, whatever the band's edges.
 */
public interface BandedConv extends PreparedConv {

  /** The convolution's geometry; input and output rows are counted in its H and P. */
  ConvGeometry geometry();

  /**
   * Output rows [p0, p1) of image {@code image}, every channel, with the epilogue of {@link #run}.
   * Reads only the input rows those outputs' taps reach, writes only those output rows.
   *
   * @param scratch at least {@link #scratchPerWorker()} floats from {@code scratchOffset}, contents ignored
   */
  void runRows(float[] x, float[] residual, float[] y, float[] scratch, int scratchOffset, int image, int p0, int p1);
}
