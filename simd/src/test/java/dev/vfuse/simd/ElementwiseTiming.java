package dev.vfuse.simd;

import dev.vfuse.kernel.Activation;
import dev.vfuse.kernel.BinaryOp;
import dev.vfuse.kernel.ConvEpilogue;
import java.util.Arrays;
import java.util.SplittableRandom;
import jdk.incubator.vector.VectorSpecies;

/**
 * A rough timing of the elementwise kernels of {@link SimdKernels} on model-sized shapes; not a
 * test and not a JMH benchmark, a main to compare before and after a change. One species per JVM
 * (the engine's case):
 *
 * <pre>
 *   java --add-modules jdk.incubator.vector \
 *     -cp simd/target/classes:simd/target/test-classes:reference/target/classes \
 *     dev.vfuse.simd.ElementwiseTiming [bits]
 * </pre>
 *
 * Prints the median and the best of the timed repetitions of each case, in ms. With a fourth
 * argument {@code mixed}, every kernel first runs a few thousand times on small arrays on all
 * three widths, so the type profiles inside the Vector API see several vector classes, as in a
 * whole model (F32Pool, for one, uses narrower species next to the main one).
 */
public final class ElementwiseTiming {

  private ElementwiseTiming() {}

  public static void main(String[] args) {
    SimdKernels k = new SimdKernels(args.length > 0 ? VectorWidth.forBits(Integer.parseInt(args[0]))
        : VectorWidth.selected());
    double warmupSeconds = args.length > 1 ? Double.parseDouble(args[1]) : 1.5;
    int reps = args.length > 2 ? Integer.parseInt(args[2]) : 30;
    if (args.length > 3 && args[3].equals("mixed")) {
      for (VectorSpecies<Float> sp : VectorWidth.all()) {
        exercise(new SimdKernels(sp));
      }
    }
    System.out.println(k + (args.length > 3 ? " " + args[3] : ""));
    SplittableRandom r = new SplittableRandom(1);

    float[] a = random(r, 96 * 160 * 160);
    float[] b = random(r, 96 * 160 * 160);
    float[] y = new float[a.length];
    int[] big = {1, 96, 160, 160};
    int[] bigStrides = {96 * 160 * 160, 160 * 160, 160, 1};
    time("binary ADD [1,96,160,160] + same", warmupSeconds, reps,
        () -> k.binary(BinaryOp.ADD, big, a, bigStrides, b, bigStrides, y));

    float[] se1 = random(r, 576 * 49);
    float[] g1 = random(r, 576);
    float[] y1 = new float[se1.length];
    time("binary MUL [1,576,7,7] * [1,576,1,1]", warmupSeconds, reps,
        () -> k.binary(BinaryOp.MUL, new int[] {1, 576, 7, 7}, se1, new int[] {576 * 49, 49, 7, 1}, g1,
            new int[] {576, 1, 0, 0}, y1));

    float[] se2 = random(r, 96 * 784);
    float[] g2 = random(r, 96);
    float[] y2 = new float[se2.length];
    time("binary MUL [1,96,28,28] * [1,96,1,1]", warmupSeconds, reps,
        () -> k.binary(BinaryOp.MUL, new int[] {1, 96, 28, 28}, se2, new int[] {96 * 784, 784, 28, 1}, g2,
            new int[] {96, 1, 0, 0}, y2));

    int m = 1 << 20;
    float[] x = random(r, m);
    float[] ya = new float[m];
    time("activation Relu 1M", warmupSeconds, reps, () -> k.activation(new Activation.Relu(), m, x, ya));
    time("activation HardSwish 1M", warmupSeconds, reps, () -> k.activation(new Activation.HardSwish(), m, x, ya));

    float[] xs = random(r, 64 * 56 * 56);
    float[] scale = random(r, 64);
    float[] shift = random(r, 64);
    float[] ys = new float[xs.length];
    time("scaleShift [1,64,56,56]", warmupSeconds, reps, () -> k.scaleShift(1, 64, 56 * 56, xs, scale, shift, ys));

    float[] offsets = random(r, 64 * 56 * 56);
    float[] residual = random(r, 64 * 56 * 56);
    float[] ye = random(r, 64 * 56 * 56);
    ConvEpilogue e = new ConvEpilogue(offsets, residual, new Activation.Relu());
    time("applyEpilogue offsets+residual+Relu [1,64,56,56]", warmupSeconds, reps,
        () -> k.applyEpilogue(1, 64 * 56 * 56, e, ye));
  }

  /** Every timed kernel on small arrays, a few thousand times. */
  private static void exercise(SimdKernels k) {
    SplittableRandom r = new SplittableRandom(2);
    int n = 100;
    float[] a = random(r, n);
    float[] b = random(r, n);
    float[] y = new float[n];
    float[] c = random(r, 4);
    ConvEpilogue e = new ConvEpilogue(b, a, new Activation.Relu());
    for (int i = 0; i < 3000; i++) {
      k.binary(BinaryOp.ADD, new int[] {n}, a, new int[] {1}, b, new int[] {1}, y);
      k.binary(BinaryOp.MUL, new int[] {1, 4, 25}, a, new int[] {100, 25, 1}, c, new int[] {4, 1, 0}, y);
      k.activation(new Activation.Relu(), n, a, y);
      k.activation(new Activation.HardSwish(), n, a, y);
      k.scaleShift(1, 4, 25, a, c, c, y);
      y = a.clone();
      k.applyEpilogue(1, n, e, y);
    }
  }

  private static void time(String label, double warmupSeconds, int reps, Runnable body) {
    long end = System.nanoTime() + (long) (warmupSeconds * 1e9);
    int warm = 0;
    while (System.nanoTime() < end || warm < 3) {
      body.run();
      warm++;
    }
    double[] ms = new double[reps];
    for (int i = 0; i < reps; i++) {
      long t0 = System.nanoTime();
      body.run();
      ms[i] = (System.nanoTime() - t0) / 1e6;
    }
    Arrays.sort(ms);
    System.out.printf("%-50s median %9.3f ms  best %9.3f ms  (%d warm-up calls)%n", label, ms[reps / 2], ms[0], warm);
  }

  private static float[] random(SplittableRandom r, int n) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) r.nextDouble(-4, 4);
    }
    return a;
  }
}
