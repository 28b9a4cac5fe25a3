package dev.vfuse.simd;

import static dev.vfuse.simd.FloatData.assertSame;

import dev.vfuse.kernel.Activation;
import dev.vfuse.kernel.BinaryOp;
import dev.vfuse.kernel.ConvGeometry;
import dev.vfuse.kernel.Parallel;
import dev.vfuse.kernel.PositionOffsets;
import dev.vfuse.kernel.PreparedConv;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Masked tails at the very end of exactly sized arrays, where the Vector API checks a vector that
 * reaches past the end lane by lane (and where a kernel that peels or moves such a tail must keep
 * the bits): the results must be the bits the same data gives in arrays with slack after it (an
 * ordinary masked vector inside the array, the path the other tests hold to the reference), and
 * nothing outside the run may change. Runs start at 0 and mid-array, are shorter and longer than a
 * vector, on every width; kernels that take threads run on one and two.
 */
class MaskedTailAtArrayEndTest {

  private static final int SLACK = 64;

  private static final List<Activation> ACTIVATIONS = Arrays.asList(null, new Activation.Relu(),
      new Activation.LeakyRelu(0.1f), new Activation.Clip(0f, 6f), new Activation.HardSigmoid(0.2f, 0.5f),
      new Activation.HardSwish(), new Activation.Sigmoid(), new Activation.Tanh());

  static Stream<Arguments> runs() {
    return VectorWidth.all().stream().flatMap(sp -> {
      int l = sp.length();
      return Stream.of(new int[] {0, 1}, new int[] {0, l - 1}, new int[] {0, l + 1}, new int[] {0, 2 * l + 3},
          new int[] {3, 1}, new int[] {3, l - 2}, new int[] {l + 2, 5}, new int[] {l + 2, l + 3}, new int[] {1, 1000})
          .map(r -> Arguments.of(sp, r[0], r[1]));
    });
  }

  /** {@link F32Epilogue#apply}, in place and from a separate source, every array ending where the run ends. */
  @ParameterizedTest(name = "{0} off={1} len={2}")
  @MethodSource("runs")
  void epilogueApply(VectorSpecies<Float> sp, int off, int len) {
    for (Activation act : ACTIVATIONS) {
      for (int variant = 0; variant < 4; variant++) {
        boolean inPlace = (variant & 1) == 0;
        boolean extras = (variant & 2) != 0;
        SplittableRandom r = FloatData.random(sp.vectorBitSize(), off, len, variant);
        float[] y = FloatData.floats(r, off + len, 0.1);
        y = Arrays.copyOf(y, off + len);
        float[] src = inPlace ? y : Arrays.copyOf(FloatData.floats(r, off + len, 0.1), off + len);
        float[] residual = extras ? Arrays.copyOf(FloatData.floats(r, off + len, 0.1), off + len) : null;
        int position = 2;
        PositionOffsets offsets = extras ? FloatData.offsets(r, 2, Math.ceilDiv(position + len, 5), 5) : null;
        float bias = (float) r.nextDouble(-2, 2);
        // Slack after every array: the ordinary masked tail, the path the reference tests check.
        float[] yP = pad(y);
        float[] srcP = inPlace ? yP : pad(src);
        float[] residualP = residual == null ? null : pad(residual);
        F32Epilogue.apply(sp, srcP, off, yP, off, len, true, bias, offsets, 1, position, residualP, off, act);
        F32Epilogue.apply(sp, src, off, y, off, len, true, bias, offsets, 1, position, residual, off, act);
        assertSame(String.format("epilogue %s off=%d len=%d inPlace=%s extras=%s %s", sp, off, len, inPlace, extras,
            act), Arrays.copyOf(yP, y.length), y);
      }
    }
  }

  /** {@link F32Epilogue#applyRows}: the last row's tail at the end of the source, output and residual. */
  @ParameterizedTest(name = "{0} off={1} len={2}")
  @MethodSource("runs")
  void epilogueRows(VectorSpecies<Float> sp, int off, int len) {
    int rows = 3;
    int stride = len + 2;
    int size = off + (rows - 1) * stride + len;
    for (Activation act : ACTIVATIONS) {
      for (boolean inPlace : new boolean[] {true, false}) {
        SplittableRandom r = FloatData.random(sp.vectorBitSize(), off, len, inPlace ? 1 : 0);
        float[] y = Arrays.copyOf(FloatData.floats(r, size, 0.1), size);
        float[] src = inPlace ? y : Arrays.copyOf(FloatData.floats(r, size, 0.1), size);
        float[] residual = Arrays.copyOf(FloatData.floats(r, size, 0.1), size);
        float[] bias = Arrays.copyOf(FloatData.floats(r, rows, 0.1), rows);
        float[] yP = pad(y);
        float[] srcP = inPlace ? yP : pad(src);
        F32Epilogue.applyRows(sp, srcP, off, stride, yP, off, stride, rows, len, bias, 0, null, 0, pad(residual),
            act);
        F32Epilogue.applyRows(sp, src, off, stride, y, off, stride, rows, len, bias, 0, null, 0, residual, act);
        assertSame(String.format("epilogue rows %s off=%d len=%d inPlace=%s %s", sp, off, len, inPlace, act),
            Arrays.copyOf(yP, y.length), y);
      }
    }
  }

  /** {@link F64ExpActivation}, moved back or, when y holds less than a vector, copied. */
  @ParameterizedTest(name = "{0} off={1} len={2}")
  @MethodSource("runs")
  void expActivation(VectorSpecies<Float> sp, int off, int len) {
    for (boolean tanh : new boolean[] {false, true}) {
      SplittableRandom r = FloatData.random(sp.vectorBitSize(), off, len, tanh ? 1 : 0);
      float[] y = Arrays.copyOf(FloatData.floats(r, off + len, 0.2), off + len);
      float[] yP = pad(y);
      F64ExpActivation.apply(sp, tanh, yP, off, len);
      F64ExpActivation.apply(sp, tanh, y, off, len);
      assertSame(String.format("%s %s off=%d len=%d", tanh ? "tanh" : "sigmoid", sp, off, len),
          Arrays.copyOf(yP, y.length), y);
    }
  }

  /** {@link SimdKernels#activation} on x and y of exactly n floats, in place and not. */
  @ParameterizedTest(name = "{0} off={1} len={2}")
  @MethodSource("runs")
  void activation(VectorSpecies<Float> sp, int off, int len) {
    int n = off + len;
    SimdKernels simd = new SimdKernels(sp);
    for (Activation act : ACTIVATIONS) {
      if (act == null) {
        continue;
      }
      SplittableRandom r = FloatData.random(sp.vectorBitSize(), n, act.hashCode());
      float[] x = Arrays.copyOf(FloatData.floats(r, n, 0.2), n);
      float[] expected = new float[n + SLACK];
      simd.activation(act, n, pad(x), expected);
      float[] y = new float[n];
      simd.activation(act, n, x.clone(), y);
      assertSame("activation " + act + " " + sp + " n=" + n, Arrays.copyOf(expected, n), y);
      float[] inPlace = x.clone();
      simd.activation(act, n, inPlace, inPlace);
      assertSame("activation in place " + act + " " + sp + " n=" + n, Arrays.copyOf(expected, n), inPlace);
    }
  }

  /** {@link SimdKernels#scaleShift}: scale and shift of exactly c floats, x and y of exactly n·c·spatial. */
  @ParameterizedTest(name = "{0} off={1} len={2}")
  @MethodSource("runs")
  void scaleShift(VectorSpecies<Float> sp, int off, int len) {
    SimdKernels simd = new SimdKernels(sp);
    int[][] shapes = {{2, off + len, 1}, {1, off + len, 1}, {2, 3, off + len}, {1, 1, off + len}};
    for (int[] s : shapes) {
      int size = s[0] * s[1] * s[2];
      SplittableRandom r = FloatData.random(sp.vectorBitSize(), s[0], s[1], s[2]);
      float[] x = Arrays.copyOf(FloatData.floats(r, size, 0.1), size);
      float[] scale = Arrays.copyOf(FloatData.floats(r, s[1], 0.1), s[1]);
      float[] shift = Arrays.copyOf(FloatData.floats(r, s[1], 0.1), s[1]);
      float[] expected = new float[size + SLACK];
      simd.scaleShift(s[0], s[1], s[2], pad(x), pad(scale), pad(shift), expected);
      float[] y = new float[size];
      simd.scaleShift(s[0], s[1], s[2], x, scale, shift, y);
      assertSame("scaleShift " + Arrays.toString(s) + " " + sp, Arrays.copyOf(expected, size), y);
    }
  }

  /**
   * {@link SimdKernels#binary} with a row operand read again for every outer index ([outer, run] op
   * [run]), a scalar one on either side, and same-shape operands, all exactly sized.
   */
  @ParameterizedTest(name = "{0} off={1} len={2}")
  @MethodSource("runs")
  void binary(VectorSpecies<Float> sp, int off, int len) {
    SimdKernels simd = new SimdKernels(sp);
    int run = off + len;
    if (run == 1) {
      return; // a run of one goes to the reference
    }
    int outer = 3;
    int[] shape = {outer, run};
    int[] full = {run, 1};
    int[] row = {0, 1};
    int[] scalar = {0, 0};
    int[][][] strides = {{full, row}, {row, full}, {full, scalar}, {scalar, full}, {full, full}};
    for (BinaryOp op : BinaryOp.values()) {
      for (int[][] st : strides) {
        SplittableRandom r = FloatData.random(sp.vectorBitSize(), run, op.ordinal(), st[0][0], st[1][0]);
        float[] a = operand(r, st[0], outer, run);
        float[] b = operand(r, st[1], outer, run);
        float[] expected = new float[outer * run + SLACK];
        simd.binary(op, shape, pad(a), st[0], pad(b), st[1], expected);
        float[] y = new float[outer * run];
        simd.binary(op, shape, a, st[0], b, st[1], y);
        String context = String.format("binary %s %s run=%d strides %s %s", op, sp, run, Arrays.toString(st[0]),
            Arrays.toString(st[1]));
        assertSame(context, Arrays.copyOf(expected, y.length), y);
        if (st[0] == full) {
          float[] inPlace = a.clone();
          simd.binary(op, shape, inPlace, st[0], b, st[1], inPlace);
          assertSame(context + " in place", Arrays.copyOf(expected, y.length), inPlace);
        }
      }
    }
  }

  static Stream<Arguments> convs() {
    // n, c, h, w, k, kernel, stride, pad, groups: implicit GEMM, Winograd, pointwise (tiles and
    // GEMV), depthwise; planes whose size is not a multiple of any vector length.
    int[][] geometries = {{1, 5, 7, 9, 5, 3, 1, 1, 1}, {2, 6, 11, 13, 6, 3, 1, 1, 1}, {1, 8, 9, 9, 7, 3, 2, 1, 1},
        {2, 9, 5, 7, 9, 1, 1, 0, 1}, {2, 24, 1, 1, 24, 1, 1, 0, 1}, {2, 7, 9, 11, 7, 3, 1, 1, 7},
        {1, 5, 13, 7, 5, 5, 2, 2, 5}};
    return VectorWidth.all().stream().flatMap(sp -> Arrays.stream(geometries).flatMap(g ->
        Stream.of(Parallel.SERIAL, TwoThreads.INSTANCE).map(par -> Arguments.of(sp, g, par))));
  }

  /**
   * Prepared convolutions (their epilogue stores the last channel's last run at the end of y and
   * of the residual) on exactly sized input, output, residual and scratch, on one and two threads.
   */
  @ParameterizedTest(name = "{0} {1} {2}")
  @MethodSource("convs")
  void convolution(VectorSpecies<Float> sp, int[] d, Parallel parallel) {
    ConvGeometry g = ConvGeometry.of(d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], 1, d[8]);
    SimdKernels simd = new SimdKernels(sp);
    for (Activation act : new Activation[] {new Activation.Relu(), new Activation.HardSwish(),
        new Activation.Sigmoid()}) {
      SplittableRandom r = FloatData.random(sp.vectorBitSize(), Arrays.hashCode(d), act.hashCode());
      int weights = g.k() * (g.c() / g.groups()) * g.r() * g.s();
      float[] weight = Arrays.copyOf(FloatData.floats(r, weights, 0), weights);
      float[] bias = Arrays.copyOf(FloatData.floats(r, g.k(), 0), g.k());
      PreparedConv conv = simd.prepareConv2d(g, weight, bias, null, act);
      int in = g.n() * g.c() * g.h() * g.w();
      int out = g.n() * g.k() * g.p() * g.q();
      float[] x = Arrays.copyOf(FloatData.floats(r, in, 0), in);
      float[] residual = Arrays.copyOf(FloatData.floats(r, out, 0), out);
      float[] expected = new float[out + SLACK];
      conv.run(pad(x), pad(residual), expected,
          new float[conv.scratchPerWorker() * parallel.threads() + SLACK], parallel);
      float[] y = new float[out];
      conv.run(x, residual, y, new float[conv.scratchPerWorker() * parallel.threads()], parallel);
      assertSame(String.format("conv %s %s %s %s %s", conv.getClass().getSimpleName(), g, act, sp, parallel),
          Arrays.copyOf(expected, out), y);
    }
  }

  private static float[] operand(SplittableRandom r, int[] strides, int outer, int run) {
    int size = strides[1] == 0 ? 1 : strides[0] == 0 ? run : outer * run;
    return Arrays.copyOf(FloatData.floats(r, size, 0.1), size);
  }

  private static float[] pad(float[] a) {
    float[] p = Arrays.copyOf(a, a.length + SLACK);
    Arrays.fill(p, a.length, p.length, FloatData.SENTINEL);
    return p;
  }
}
