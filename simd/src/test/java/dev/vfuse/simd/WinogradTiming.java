package dev.vfuse.simd;

import dev.vfuse.kernel.ConvGeometry;
import dev.vfuse.kernel.Parallel;
import dev.vfuse.kernel.PreparedConv;
import java.util.Arrays;
import java.util.SplittableRandom;
import jdk.incubator.vector.VectorSpecies;

/**
 * Times {@link F32Conv3x3Winograd} (bias epilogue) against {@link F32ConvIm2col#conv2d} (with its
 * bias add) on one thread, for one layer shape: 3×3, pad 1, batch 1, C input and K output channels
 * on an H×H plane. The two kernels are warmed up for four seconds, then alternate call by call
 * and the median and minimum per-call times are printed (the machine is shared, so the minimum
 * is the better estimate of an unloaded core and the median shows the noise).
 *
 * <pre>
 *   java --add-modules jdk.incubator.vector -cp … dev.vfuse.simd.WinogradTiming C H K [samples]
 * </pre>
 */
final class WinogradTiming {

  private WinogradTiming() {}

  public static void main(String[] args) {
    VectorSpecies<Float> sp = VectorWidth.selected();
    int c = Integer.parseInt(args[0]);
    int hw = Integer.parseInt(args[1]);
    int k = Integer.parseInt(args[2]);
    int samples = args.length > 3 ? Integer.parseInt(args[3]) : 101;
    ConvGeometry g = ConvGeometry.of(1, c, hw, hw, k, 3, 1, 1, 1, 1);
    SplittableRandom rnd = new SplittableRandom(1);
    float[] x = new float[(int) g.inputSize()];
    float[] w = new float[(int) g.weightSize()];
    float[] bias = new float[k];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rnd.nextGaussian();
    }
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (rnd.nextGaussian() * Math.sqrt(2.0 / (9 * c)));
    }
    float[] yWinograd = new float[(int) g.outputSize()];
    float[] yIm2col = new float[(int) g.outputSize()];
    PreparedConv winograd = F32Conv3x3Winograd.prepare(sp, g, w, bias, null, null);
    float[] scratch = new float[winograd.scratchPerWorker()];
    Runnable runWinograd = () -> winograd.run(x, null, yWinograd, scratch, Parallel.SERIAL);
    Runnable runIm2col = () -> F32ConvIm2col.conv2d(sp, g, x, w, bias, yIm2col);
    // Alternately, so that a recompilation one kernel's warm-up triggers in shared code happens here.
    for (long end = System.nanoTime() + 4_000_000_000L; System.nanoTime() < end; ) {
      runWinograd.run();
      runIm2col.run();
    }
    long[] tw = new long[samples];
    long[] ti = new long[samples];
    for (int s = 0; s < samples; s++) {
      tw[s] = time(runWinograd);
      ti[s] = time(runIm2col);
    }
    Arrays.sort(tw);
    Arrays.sort(ti);
    double maxDiff = 0;
    for (int i = 0; i < yWinograd.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(yWinograd[i] - yIm2col[i]));
    }
    double gflop = g.flops() / 1e9;
    System.out.printf("C=%3d K=%3d %3dx%-3d %s | winograd median %7.3f ms (%5.0f GF/s) min %7.3f ms (%5.0f GF/s)"
            + " | im2col median %7.3f ms (%5.0f GF/s) min %7.3f ms (%5.0f GF/s) | speedup median %.2f min %.2f"
            + " | scratch %.1f MB, max |diff| %.1e%n",
        c, k, hw, hw, winograd, tw[samples / 2] / 1e6, gflop / (tw[samples / 2] / 1e9), tw[0] / 1e6,
        gflop / (tw[0] / 1e9), ti[samples / 2] / 1e6, gflop / (ti[samples / 2] / 1e9), ti[0] / 1e6,
        gflop / (ti[0] / 1e9), ti[samples / 2] / (double) tw[samples / 2], ti[0] / (double) tw[0],
        winograd.scratchPerWorker() * 4e-6, maxDiff);
  }

  private static long time(Runnable r) {
    long t0 = System.nanoTime();
    r.run();
    return System.nanoTime() - t0;
  }
}
