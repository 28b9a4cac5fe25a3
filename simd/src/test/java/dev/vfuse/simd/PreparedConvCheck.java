package dev.vfuse.simd;

import static dev.vfuse.simd.FloatData.bits;

import dev.vfuse.kernel.Activation;
import dev.vfuse.kernel.ConvEpilogue;
import dev.vfuse.kernel.ConvGeometry;
import dev.vfuse.kernel.Int8Weights;
import dev.vfuse.kernel.Parallel;
import dev.vfuse.kernel.PositionOffsets;
import dev.vfuse.kernel.PreparedConv;
import dev.vfuse.reference.ReferenceKernels;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import jdk.incubator.vector.VectorSpecies;

/**
 * The checks shared by the prepared-convolution tests that compare with the reference within
 * {@link ReductionTolerance}: {@link #assertPrepared} on one thread and two, and the whole int8
 * convolution check ({@link #conv}) against the reference's int8 kernel
 * ({@code Kernels.prepareConv2dInt8}, which dequantizes).
 */
final class PreparedConvCheck {

  /** What the epilogue carries besides the bias. */
  record Epilogue(boolean bias, boolean offsets, boolean residual, Activation activation) {
    @Override
    public String toString() {
      return (bias ? "bias" : "no bias") + (offsets ? " +offsets" : "") + (residual ? " +residual" : "")
          + (activation == null ? "" : " " + activation);
    }

    /** Roundings the epilogue adds to the reduction before the activation: one an addend. */
    int roundings() {
      return (offsets ? 1 : 0) + (residual ? 1 : 0);
    }
  }

  /** Taken in turn by the cases: every epilogue part, each activation kind, none at all. */
  static final Epilogue[] EPILOGUES = {
    new Epilogue(true, false, false, null),
    new Epilogue(true, true, true, new Activation.Relu()),
    new Epilogue(false, false, false, null),
    new Epilogue(true, false, true, new Activation.Sigmoid()),
    new Epilogue(false, true, false, new Activation.Clip(0f, 6f)),
    new Epilogue(true, true, false, new Activation.HardSwish()),
  };

  private static final ReferenceKernels REFERENCE = new ReferenceKernels();

  private PreparedConvCheck() {}

  /**
   * {@link SimdKernels#prepareConv2dInt8} on {@code g} against the reference's int8 convolution,
   * through {@link #assertPrepared}, for L = C/g·R·S plus {@code scaleRoundings} plus one a part of
   * the epilogue; Σ|terms| from the reference on |x|, |fl(q·scale)|, |bias|, |offsets|, |residual|.
   */
  static void conv(String label, VectorSpecies<Float> sp, ConvGeometry g, Epilogue e, boolean zeroChannel,
      int scaleRoundings) {
    SplittableRandom rnd = FloatData.random(sp.vectorBitSize(), g.hashCode(), e.hashCode(), label.hashCode());
    int size = (int) g.outputSize();
    int plane = g.p() * g.q();
    float[] x = FloatData.floats(rnd, (int) g.inputSize(), 0);
    Int8Weights.Layout layout = Int8Weights.conv(g);
    Int8Weights q = weights(rnd, layout, zeroChannel);
    float[] bias = e.bias() ? FloatData.floats(rnd, g.k(), 0) : null;
    PositionOffsets offsets = e.offsets() ? FloatData.offsets(rnd, g.k(), g.p(), g.q()) : null;
    float[] residual = e.residual() ? FloatData.floats(rnd, size, 0) : null;

    float[] expected = FloatData.sentinels(size);
    REFERENCE.prepareConv2dInt8(g, q, bias, offsets, null).run(x, residual, expected, new float[0], Parallel.SERIAL);
    float[] absSum = FloatData.sentinels(size);
    REFERENCE.conv2d(g, abs(x), abs(q.dequantize(layout)), abs(bias),
        new ConvEpilogue(abs(offsets), abs(residual), null), absSum);

    SimdKernels simd = new SimdKernels(sp);
    PreparedConv linear = simd.prepareConv2dInt8(g, q, bias, offsets, null);
    PreparedConv activated = e.activation() == null ? null : simd.prepareConv2dInt8(g, q, bias, offsets, e.activation());
    assertPrepared(label + " " + bits(sp) + " " + g + " P=" + g.p() + " Q=" + g.q() + ", " + e, linear, activated,
        e.activation(), x, residual, size, expected, absSum, g.reductionLength() + scaleRoundings + e.roundings());
  }

  /**
   * Random weights in [−8, 8) quantized per output channel with {@code layout}; with
   * {@code zeroChannel} the elements of channel 0 are all zero, so its scale is 0.
   */
  static Int8Weights weights(SplittableRandom rnd, Int8Weights.Layout layout, boolean zeroChannel) {
    float[] w = FloatData.floats(rnd, layout.size(), 0);
    if (zeroChannel) {
      for (int i = 0; i < layout.size(); i++) {
        if (layout.channelOf(i) == 0) {
          w[i] = 0f;
        }
      }
    }
    return Int8Weights.quantize(w, layout);
  }

  /**
   * Runs {@code linear} (the epilogue without activation) and, when there is one, {@code activated}
   * on {@link Parallel#SERIAL} and on {@link TwoThreads}, with NaN scratch, and checks: the linear
   * run within {@link ReductionTolerance} of {@code expected} for {@code reduction} (the slack
   * after the output untouched); the activated run bit for bit (Sigmoid, Tanh: 1 ulp) the activation
   * of the linear one; two threads bit for bit one; x unchanged.
   */
  static void assertPrepared(String context, PreparedConv linear, PreparedConv activated, Activation activation,
      float[] x, float[] residual, int size, float[] expected, float[] absSum, int reduction) {
    float[] xIn = x.clone();
    float[] serial = null;
    for (Parallel parallel : List.of(Parallel.SERIAL, TwoThreads.INSTANCE)) {
      String where = context + ", " + parallel;
      float[] actual = FloatData.sentinels(size);
      linear.run(xIn, residual, actual, scratch(linear, parallel), parallel);
      ReductionTolerance.assertClose(where, reduction, expected, absSum, actual, FloatData.sentinels(size),
          i -> i < size);
      if (activated != null) {
        float[] fused = FloatData.sentinels(size);
        activated.run(xIn, residual, fused, scratch(activated, parallel), parallel);
        float[] applied = actual.clone();
        for (int i = 0; i < size; i++) {
          applied[i] = activation.apply(actual[i]);
        }
        if (FloatData.ulpActivation(activation)) {
          FloatData.assertWithinUlps(where + ": fused activation vs activation of the linear run", applied, fused, 1);
        } else {
          FloatData.assertSame(where + ": fused activation vs activation of the linear run", applied, fused);
        }
      }
      if (serial == null) {
        serial = actual;
      } else {
        FloatData.assertSame(where + ": two threads vs serial", serial, actual);
      }
      FloatData.assertSame(where + ": x changed", x, xIn);
    }
  }

  /** Scratch for every worker, full of NaN: the kernel must not read what it did not write. */
  static float[] scratch(PreparedConv conv, Parallel parallel) {
    float[] s = new float[conv.scratchPerWorker() * parallel.threads()];
    Arrays.fill(s, Float.NaN);
    return s;
  }

  /** |a| elementwise, or null. */
  static float[] abs(float[] a) {
    return a == null ? null : ReductionTolerance.abs(a);
  }

  /** |offsets| elementwise, or null. */
  static PositionOffsets abs(PositionOffsets offsets) {
    return offsets == null ? null : ReductionTolerance.abs(offsets);
  }
}
