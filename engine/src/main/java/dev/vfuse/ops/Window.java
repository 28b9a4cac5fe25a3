package dev.vfuse.ops;

import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.ShapeException;

/**
 * The 2-D window attributes shared by Conv, ConvTranspose and the pooling operators: kernel,
 * strides, dilations, and pads resolved from {@code pads} or {@code auto_pad}.
 * Pads follow ONNX order [top, left, bottom, right].
 */
record Window(int[] kernel, int[] strides, int[] dilations, int[] pads, String autoPad) {
  /**
   * Bound on a window's dilated extent and on each pad: with it, input size + pads − extent stays
   * within int arithmetic for every input the memory limit admits.
   */
  private static final long MAX_EXTENT = 1L << 30;

  private static void requirePositive(String name, int[] values) {
    for (int v : values) {
      if (v < 1) {
        throw new ShapeException(name + " must be positive, got " + java.util.Arrays.toString(values));
      }
    }
  }

  /**
   * Checks a convolution's window attributes at load, before any pass reads them: int range,
   * positive kernel, strides, dilations and group, non-negative pads, consistent lengths. Pads as
   * large as the kernel or larger are accepted, as ONNX Runtime accepts them: they add outputs
   * that read padding (and the bias); binding refuses sizes that leave no output.
   */
  static void checkConvAttributes(Attributes a) {
    if (a.getInt("group", 1) < 1) {
      throw new ShapeException("group must be positive, got " + a.getLong("group", 1));
    }
    int rank = a.has("kernel_shape") ? a.getInts("kernel_shape", null).length
        : a.has("strides") ? a.getInts("strides", null).length
        : a.has("dilations") ? a.getInts("dilations", null).length
        : a.has("pads") ? a.getInts("pads", null).length / 2 : 0;
    if (rank == 0 && !a.has("kernel_shape") && !a.has("strides") && !a.has("dilations") && !a.has("pads")) {
      return;
    }
    read(a, a.has("kernel_shape") ? null : ones(Math.max(rank, 1)));
  }

  /**
   * The strides a kernel may run with: a stride longer than the padded input's span past the
   * kernel yields one output position, whatever its value, so it is cut to that span + 1. The
   * output is unchanged and kernels that lay out one phase per stride position never see 2^31.
   */
  static int effectiveStride(int stride, long paddedInput, long extent) {
    long span = paddedInput - extent;
    return span >= 0 && stride > span + 1 ? (int) (span + 1) : stride;
  }

  /** Positions a kernel of {@code k} taps spaced {@code dilation} apart covers: (k − 1)·d + 1. */
  private static long extent(int k, int dilation) {
    return (long) (k - 1) * dilation + 1;
  }

  /**
   * Refuses a pooling pad as large as the kernel or larger (kernel_shape, not the dilated extent),
   * as ONNX Runtime does ("Pad should be smaller than kernel"): such a window could lie wholly in
   * the padding, where a max has no element and an average excluding pads divides by zero.
   */
  Window requirePoolPadsBelowKernel() {
    for (int i = 0; i < 4; i++) {
      if (pads[i] >= kernel[i % 2]) {
        throw new ShapeException("pads " + java.util.Arrays.toString(pads) + " must be smaller than kernel_shape "
            + java.util.Arrays.toString(kernel) + " (as ONNX Runtime requires of pooling)");
      }
    }
    return this;
  }

  static Window read(Attributes a, int[] kernelFromWeights) {
    int[] kernel = a.getInts("kernel_shape", kernelFromWeights);
    if (kernel == null) {
      throw new ShapeException("kernel_shape is required");
    }
    if (kernel.length < 1 || kernel.length > 2) {
      throw new ShapeException("only 1-D and 2-D windows are supported, kernel_shape has " + kernel.length + " axes");
    }
    int rank = kernel.length;
    int[] strides = a.getInts("strides", ones(rank));
    int[] dilations = a.getInts("dilations", ones(rank));
    int[] pads = a.getInts("pads", new int[2 * rank]);
    String autoPad = a.getString("auto_pad", "NOTSET");
    if (strides.length != rank || dilations.length != rank || pads.length != 2 * rank) {
      throw new ShapeException("strides, dilations and pads must match the " + rank + "-D kernel");
    }
    requirePositive("kernel_shape", kernel);
    requirePositive("strides", strides);
    requirePositive("dilations", dilations);
    for (int i = 0; i < rank; i++) {
      if (extent(kernel[i], dilations[i]) > MAX_EXTENT) {
        throw new ShapeException("kernel_shape " + java.util.Arrays.toString(kernel) + " with dilations "
            + java.util.Arrays.toString(dilations) + " spans " + extent(kernel[i], dilations[i]) + " positions, more than 2^30");
      }
    }
    for (int p : pads) {
      if (p < 0) {
        throw new ShapeException("negative pads are not supported, pads = " + java.util.Arrays.toString(pads));
      }
      if (p > MAX_EXTENT) {
        throw new ShapeException("pads " + java.util.Arrays.toString(pads) + " exceed 2^30");
      }
    }
    if (!autoPad.equals("NOTSET") && !autoPad.equals("VALID") && !autoPad.equals("SAME_UPPER") && !autoPad.equals("SAME_LOWER")) {
      throw new ShapeException("unknown auto_pad '" + autoPad + "'");
    }
    return new Window(to2d(kernel), to2d(strides), to2d(dilations), pads2d(pads), autoPad);
  }

  private static int[] ones(int n) {
    int[] r = new int[n];
    java.util.Arrays.fill(r, 1);
    return r;
  }

  /** A 1-D window is the 2-D one with height 1. */
  private static int[] to2d(int[] v) {
    return v.length == 2 ? v : new int[] {1, v[0]};
  }

  private static int[] pads2d(int[] p) {
    return p.length == 4 ? p : new int[] {0, p[0], 0, p[1]};
  }

  /**
   * Pads for an input of size h×w, honouring auto_pad: SAME_* gives an output of ceil(in/stride),
   * SAME_UPPER putting the odd pad at the end, SAME_LOWER at the start.
   */
  int[] resolvePads(int h, int w) {
    return switch (autoPad) {
      case "NOTSET" -> pads;
      case "VALID" -> new int[4];
      default -> {
        int[] out = new int[4];
        int[] in = {h, w};
        for (int i = 0; i < 2; i++) {
          int outSize = Math.ceilDiv(in[i], strides[i]);
          int total = Math.max(0, (outSize - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - in[i]);
          int small = total / 2;
          int begin = autoPad.equals("SAME_UPPER") ? small : total - small;
          out[i] = begin;
          out[i + 2] = total - begin;
        }
        yield out;
      }
    };
  }

  /** Views an input of rank 3 (1-D op) or 4 (2-D op) as [N, C, H, W]. */
  static int[] nchw(Value x, int spatialRank, String what) {
    if (x.rank() != spatialRank + 2) {
      throw new ShapeException(what + " must have rank " + (spatialRank + 2) + ", found " + dev.vfuse.ir.Shapes.str(x.shape()));
    }
    int[] s = x.shape();
    return spatialRank == 2 ? s : new int[] {s[0], s[1], 1, s[2]};
  }

  /** Output shape of rank spatialRank + 2 from N, C and the 2-D output size. */
  static int[] outputShape(int n, int c, int p, int q, int spatialRank) {
    return spatialRank == 2 ? new int[] {n, c, p, q} : new int[] {n, c, q};
  }
}
