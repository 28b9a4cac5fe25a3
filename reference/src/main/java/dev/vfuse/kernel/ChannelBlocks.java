package dev.vfuse.kernel;

/**
 * The channel-blocked activation layout, NCHW[B]c: an image [N, C, H, W] stored as
 * [N][⌈C/B⌉][H·W][B], so that the B channels of one position lie next to each other.
 *
 * <pre>
 *   x[n, c, j]  (j = h·W + w)  is at  ((n·⌈C/B⌉ + c / B)·H·W + j)·B + c mod B
 * </pre>
 *
 * <p>Why: a depthwise convolution then runs along channels, one vector of B channels per
 * position, with no lane wasted on a 7×7 or 14×14 plane and no row boundary inside a vector; a
 * pointwise convolution becomes a GEMM whose vectors run along output channels and whose input is
 * broadcast one value at a time, so it reads this layout and plain NCHW alike and writes this
 * one. ONNX Runtime's NCHWc transformer and oneDNN's blocked formats use it for the same reason.
 * With B equal to the vector length, each (position, block) is one vector.
 *
 * <p>Lanes c ≥ C of the last block are padding: their contents are unspecified, no kernel lets
 * them reach a lane that is specified, and readers ignore them. The array of a blocked tensor
 * holds {@link #size} floats.
 */
public final class ChannelBlocks {
  private ChannelBlocks() {}

  /** ⌈channels / block⌉: the blocks channels take. */
  public static int blocks(int channels, int block) {
    return (channels + block - 1) / block;
  }

  /** Floats of a blocked tensor of n images, channels channels and plane positions each. */
  public static int size(int n, int channels, int plane, int block) {
    return Math.multiplyExact(Math.multiplyExact(n * blocks(channels, block), plane), block);
  }

  /** The index of x[image, channel, position] in the blocked array. */
  public static int index(int channels, int plane, int block, int image, int channel, int position) {
    return ((image * blocks(channels, block) + channel / block) * plane + position) * block + channel % block;
  }

  /** The shape of a blocked [N, C, H, W] tensor as the engine carries it: [N, ⌈C/B⌉, H, W, B]. */
  public static int[] shape(int n, int channels, int h, int w, int block) {
    return new int[] {n, blocks(channels, block), h, w, block};
  }
}
