/**
 * The kernel contract of vfuse: what every backend computes, fixed once.
 *
 * <p>Dimension letters are used the same way everywhere: N batch, C input channels, H×W input
 * size, K output channels, R×S kernel size, P×Q output size. Images are float32 NCHW, contiguous,
 * starting at index 0 of the array passed in; an array may be longer than the tensor it holds
 * (buffers are reused across layers), and a kernel touches only the elements its geometry names.
 *
 * <p>The scalar implementation in {@code dev.vfuse.reference} is the specification: it accumulates
 * every reduction in double and rounds to float once. Optimized backends may accumulate in float and
 * in any order; tests bound their difference to the reference by a tolerance that grows with the
 * reduction length.
 */
package dev.vfuse.kernel;
