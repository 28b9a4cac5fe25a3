package dev.vfuse.ops;

import dev.vfuse.ElementType;
import dev.vfuse.ir.Shapes;
import dev.vfuse.kernel.Activation;
import dev.vfuse.kernel.ConvEpilogue;
import dev.vfuse.kernel.ConvGeometry;
import dev.vfuse.kernel.ConvTransposeGeometry;
import dev.vfuse.kernel.Kernels;
import dev.vfuse.kernel.Parallel;
import dev.vfuse.kernel.PositionOffsets;
import dev.vfuse.kernel.PreparedConv;

/**
 * Binds a convolution step. When the weights and bias are constants (the case for every real
 * model) the backend prepares the convolution once, here at plan time, and each run only calls
 * the prepared kernel with its input, the residual and the run's scratch and threads. Weights
 * computed at run time take the unprepared kernel call each run.
 */
final class PreparedConvs {
  /**
   * Steps with less work than this (in FLOPs, about 5 µs on one core here) run on the calling
   * thread alone. The hand-off itself is cheap while the worker polls (a {@code WorkerPool}
   * round trip of two tiny tasks: 0.3–0.8 µs), tens of microseconds once it has parked; what a
   * small layer loses on two threads is its uneven split and its data moving between the cores'
   * caches. mobilenet_v3_small, whose layers average 2 MFLOP, ran in 0.70 ms on 2 threads with a
   * threshold of 4 MFLOP, 0.59 ms with 1 MFLOP, and no faster with 256 KFLOP (JMH, 2026-12-05;
   * 0.88 ms on one thread).
   */
  static final long SERIAL_BELOW_FLOPS = 1L << 20;

  private PreparedConvs() {}

  /**
   * FLOPs one byte a step streams (weights, or activations that do not stay in cache) is worth: a
   * fully connected layer at batch 1 does 2 FLOPs per 4-byte weight, a depthwise convolution
   * about 9 per 8 bytes in and out. About the machine's ridge point, peak FLOP/s over memory
   * bandwidth (264 GFLOP/s over 35 GB/s here, `vfuse profile`'s probe): such a step is bound by
   * memory, and a second core moves half of the bytes.
   */
  static final long FLOPS_PER_BYTE = 8;

  /** The threads a step of {@code flops} work should use. */
  static Parallel threadsFor(long flops, Workspace ws) {
    return flops < SERIAL_BELOW_FLOPS ? Parallel.SERIAL : ws.parallel();
  }

  /**
   * The threads a step of {@code flops} work that streams {@code bytes} should use: its work
   * counted as the larger of its FLOPs and its bytes' worth in FLOPs. mobilenet_v2's classifier
   * (1280 × 1000 weights, 2.6 MFLOP, 5 MB) ran on one thread by its FLOPs alone, and so did
   * mobilenet_v3_small's depthwise layers (about 1 MFLOP over 1 MB of activations, 15–25 µs).
   */
  static Parallel threadsFor(long flops, long bytes, Workspace ws) {
    return threadsFor(Math.max(flops, FLOPS_PER_BYTE * bytes), ws);
  }

  /**
   * Bytes a convolution reads and writes once: its input, weights and output, each element counted
   * as a float (int8 weights are over-counted by 3 bytes each, which only makes a second thread
   * likelier for a layer that is bound by its weights anyway).
   */
  static long convBytes(Value input, Value weight, int[] outShape) {
    return (long) Float.BYTES * (input.size() + weight.size() + Shapes.size(outShape));
  }

  /**
   * Bytes a step that only moves data (elementwise arithmetic, copies, resizing, pooling to a
   * point) must read and write before a second thread pays: 1 MB takes about 50 µs at the 20 GB/s
   * such loops reach on one core here, against a hand-off of up to tens of microseconds when the
   * worker has parked.
   */
  static final long SERIAL_BELOW_BYTES = 1L << 20;

  /** The threads a step that reads and writes {@code bytes} should use. */
  static Parallel threadsForBytes(long bytes, Workspace ws) {
    return bytes < SERIAL_BELOW_BYTES ? Parallel.SERIAL : ws.parallel();
  }

  /**
   * @param residualInput index of the residual input in {@code in}, or −1 for none
   */
  static Bound conv(Value[] in, ConvGeometry g, int[] outShape, PositionOffsets offsets, Activation activation,
      int residualInput, Kernels kernels) {
    Value b = Inputs.optional(in, 2);
    boolean hasResidual = residualInput >= 0 && Inputs.optional(in, residualInput) != null;
    if (kernels != null && in[1].isKnown() && (b == null || b.isKnown())) {
      float[] bias = b == null ? null : b.constant().f;
      PreparedConv prepared = in[1].type() == ElementType.INT8
          ? kernels.prepareConv2dInt8(g, in[1].constant().q, bias, offsets, activation)
          : kernels.prepareConv2d(g, in[1].constant().f, bias, offsets, activation);
      long flops = g.flops();
      long bytes = convBytes(in[0], in[1], outShape);
      return Bound.withScratch(outShape, prepared.scratchPerWorker(), (i, o, k, ws) -> prepared.run(i[0].f,
          hasResidual ? i[residualInput].f : null, o[0].f, ws.scratch(), threadsFor(flops, bytes, ws)))
          .withPreparedInputs(consumed(in, residualInput)).withKernel(prepared);
    }
    requireFloatWeights(in[1]);
    boolean hasBias = b != null;
    return Bound.single(ElementType.FLOAT32, outShape, (i, o, k, ws) -> k.conv2d(g, i[0].f, i[1].f,
        hasBias ? i[2].f : null, new ConvEpilogue(offsets, hasResidual ? i[residualInput].f : null, activation), o[0].f));
  }

  /** {@link #conv} for a transposed convolution. */
  static Bound convTranspose(Value[] in, ConvTransposeGeometry g, int[] outShape, PositionOffsets offsets,
      Activation activation, int residualInput, Kernels kernels) {
    Value b = Inputs.optional(in, 2);
    boolean hasResidual = residualInput >= 0 && Inputs.optional(in, residualInput) != null;
    if (kernels != null && in[1].isKnown() && (b == null || b.isKnown())) {
      float[] bias = b == null ? null : b.constant().f;
      PreparedConv prepared = in[1].type() == ElementType.INT8
          ? kernels.prepareConvTranspose2dInt8(g, in[1].constant().q, bias, offsets, activation)
          : kernels.prepareConvTranspose2d(g, in[1].constant().f, bias, offsets, activation);
      long flops = 2L * g.n() * g.c() * g.h() * g.w() * (g.k() / g.groups()) * g.r() * g.s();
      long bytes = convBytes(in[0], in[1], outShape);
      return Bound.withScratch(outShape, prepared.scratchPerWorker(), (i, o, k, ws) -> prepared.run(i[0].f,
          hasResidual ? i[residualInput].f : null, o[0].f, ws.scratch(), threadsFor(flops, bytes, ws)))
          .withPreparedInputs(consumed(in, residualInput)).withKernel(prepared);
    }
    requireFloatWeights(in[1]);
    boolean hasBias = b != null;
    return Bound.single(ElementType.FLOAT32, outShape, (i, o, k, ws) -> k.convTranspose2d(g, i[0].f, i[1].f,
        hasBias ? i[2].f : null, new ConvEpilogue(offsets, hasResidual ? i[residualInput].f : null, activation), o[0].f));
  }

  /**
   * The inputs a prepared convolution consumed at bind time: every input but X and the residual
   * (the weight, the bias, and the fused conv's shift taps, which became the offsets).
   */
  private static int[] consumed(Value[] in, int residualInput) {
    return java.util.stream.IntStream.range(1, in.length).filter(i -> i != residualInput && in[i] != null).toArray();
  }

  /** Int8 weights are constants a backend prepares; they never reach the unprepared path. */
  private static void requireFloatWeights(Value w) {
    if (w.type() == ElementType.INT8) {
      throw new IllegalStateException("int8 weights need a backend to prepare them");
    }
  }
}
