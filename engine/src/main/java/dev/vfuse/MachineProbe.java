package dev.vfuse;

import dev.vfuse.simd.F32PeakProbe;
import dev.vfuse.simd.VectorWidth;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.Properties;

/**
 * The two roofs of a roofline, measured on this machine: the peak float rate of one core with the
 * Vector API at the width the kernels use, and the memory bandwidth one core sustains. What
 * {@code vfuse profile} compares every layer against (its "% of peak" column and its roofline).
 *
 * <p>Measured, not looked up: {@link #measure()} runs {@link F32PeakProbe}'s loops for about a
 * second. The peak is 12 independent FMA chains on registers ({@code acc = acc·a + b}, so the FMA
 * units' latency is hidden), best of several timed repetitions after the JIT has compiled the loop;
 * the bandwidth is STREAM's triad {@code a[i] = b[i] + s·c[i]} over three arrays of 64 MB (twice a
 * large L3), counting 12 bytes per element, best of several passes. Both are single-thread figures.
 * {@link #cached(Path)} keeps the result in a file keyed by CPU model, JDK and vector width, so a
 * second profile does not pay for the probe again.
 *
 * <p>The Vector API loops live in {@code dev.vfuse.simd} (generated per width, like the kernels);
 * this class, in the engine, chooses the width as the kernels do ({@code -Dvfuse.simd.bits}) and
 * owns the cache, so that an application can put its own {@link Profile} against the same roofs.
 *
 * @param cpu the CPU model as the OS names it (Linux: {@code model name} of /proc/cpuinfo)
 * @param vectorBits the Vector API width the peak was measured at (the width the simd kernels use)
 * @param jdk {@code java.runtime.version}
 * @param peakGflops the peak float rate of one core, GFLOP/s (2 per FMA lane)
 * @param bandwidthGBs the memory bandwidth of one core, GB/s (10⁹ bytes)
 * @param fromCache whether this came from a cache file rather than a measurement just now
 */
public record MachineProbe(String cpu, int vectorBits, String jdk, double peakGflops, double bandwidthGBs,
    boolean fromCache) {

  private static final int TRIAD_FLOATS = 16 << 20;
  private static final long FMA_ITERATIONS = 200_000;

  /** The CPU model, the width the kernels use and the JDK: the key of a cached probe. */
  public static String key() throws BackendUnavailableException {
    BackendUnavailableException.checkSimdAvailable();
    return cpuModel() + " | " + VectorWidth.selectedBits() + "-bit | " + System.getProperty("java.runtime.version");
  }

  /**
   * Measures both roofs now (about a second on a 4 GHz core; the bandwidth arrays take 192 MB of
   * heap for that time).
   */
  public static MachineProbe measure() throws BackendUnavailableException {
    BackendUnavailableException.checkSimdAvailable();
    int bits = VectorWidth.selectedBits();
    return new MachineProbe(cpuModel(), bits, System.getProperty("java.runtime.version"), peak(bits), bandwidth(bits), false);
  }

  /**
   * The probe cached under {@code dir} for this CPU, JDK and vector width, measured (and written
   * there) when missing or unreadable. A cache that cannot be written is not an error: the
   * measurement is returned all the same.
   */
  public static MachineProbe cached(Path dir) throws BackendUnavailableException {
    BackendUnavailableException.checkSimdAvailable();
    String key = key();
    Path file = dir.resolve("probe-" + Integer.toHexString(key.hashCode()) + ".properties");
    if (Files.isRegularFile(file)) {
      try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
        Properties p = new Properties();
        p.load(in);
        double peak = Double.parseDouble(p.getProperty("peak_gflops"));
        double bandwidth = Double.parseDouble(p.getProperty("bandwidth_gbs"));
        if (key.equals(p.getProperty("key")) && plausible(peak) && plausible(bandwidth)) {
          return new MachineProbe(cpuModel(), VectorWidth.selectedBits(), System.getProperty("java.runtime.version"),
              peak, bandwidth, true);
        }
      } catch (IOException | RuntimeException e) {
        // measure again below
      }
    }
    MachineProbe probe = measure();
    try {
      Files.createDirectories(dir);
      Properties p = new Properties();
      p.setProperty("key", key);
      p.setProperty("peak_gflops", Double.toString(probe.peakGflops()));
      p.setProperty("bandwidth_gbs", Double.toString(probe.bandwidthGBs()));
      Path tmp = Files.createTempFile(dir, "probe", ".tmp");
      try (Writer out = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
        p.store(out, "vfuse machine probe (MachineProbe): single-core FMA peak and triad bandwidth");
      }
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      // an unwritable cache costs the next run a probe, nothing more
    }
    return probe;
  }

  /** The usual cache folder: {@code $XDG_CACHE_HOME/vfuse}, else {@code ~/.cache/vfuse}. */
  public static Path defaultCacheDir() {
    String xdg = System.getenv("XDG_CACHE_HOME");
    return (xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache")).resolve("vfuse");
  }

  /** The ridge point: FLOPs per byte at which a layer stops being bound by memory. */
  public double ridgeFlopsPerByte() {
    return peakGflops / bandwidthGBs;
  }

  /** {@code 262.1 GFLOP/s peak (512-bit FMA, 1 core), 31.5 GB/s (triad, 1 core)}. */
  @Override
  public String toString() {
    return String.format(Locale.ROOT, "%.1f GFLOP/s peak (%d-bit FMA, 1 core), %.1f GB/s (triad, 1 core)%s", peakGflops,
        vectorBits, bandwidthGBs, fromCache ? ", cached" : ", measured now");
  }

  private static boolean plausible(double v) {
    return Double.isFinite(v) && v > 0;
  }

  private static double peak(int bits) {
    float a = 0.9999999f;
    float b = 1e-7f;
    long warmUntil = System.nanoTime() + 300_000_000L;
    float sink = 0;
    // Until C2 has compiled the loop (the first calls run it interpreted and boxed), then some more.
    while (System.nanoTime() < warmUntil) {
      sink += F32PeakProbe.fma(bits, FMA_ITERATIONS / 10, a, b);
    }
    double best = 0;
    for (int rep = 0; rep < 15; rep++) {
      long start = System.nanoTime();
      sink += F32PeakProbe.fma(bits, FMA_ITERATIONS, a, b);
      long nanos = System.nanoTime() - start;
      double flops = 2.0 * (bits / 32) * F32PeakProbe.ACCUMULATORS * FMA_ITERATIONS;
      best = Math.max(best, flops / nanos);
    }
    if (!Float.isFinite(sink)) {
      throw new IllegalStateException("FMA probe diverged: " + sink);
    }
    return best;
  }

  private static double bandwidth(int bits) {
    float[] x = new float[TRIAD_FLOATS];
    float[] y = new float[TRIAD_FLOATS];
    float[] z = new float[TRIAD_FLOATS];
    java.util.Arrays.fill(y, 1f);
    java.util.Arrays.fill(z, 2f);
    double best = 0;
    long deadline = System.nanoTime() + 600_000_000L;
    for (int pass = 0; pass < 40 && (pass < 4 || System.nanoTime() < deadline); pass++) {
      long start = System.nanoTime();
      F32PeakProbe.triad(bits, x, y, z, 0.5f);
      long nanos = System.nanoTime() - start;
      best = Math.max(best, 12.0 * TRIAD_FLOATS / nanos);
    }
    if (x[TRIAD_FLOATS - 1] != 2f) {
      throw new IllegalStateException("triad probe computed " + x[TRIAD_FLOATS - 1] + ", expected 2");
    }
    return best;
  }

  /** The CPU model as the OS names it (Linux: {@code model name} in /proc/cpuinfo), else the architecture. */
  public static String cpuModel() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).strip();
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    return System.getProperty("os.arch") + " (" + Runtime.getRuntime().availableProcessors() + " CPUs)";
  }
}
