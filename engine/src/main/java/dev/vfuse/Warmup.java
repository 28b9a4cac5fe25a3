package dev.vfuse;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Arrays;

/**
 * What a warm-up did ({@link Model#warmUp}, {@link ModelOptions#withWarmup}): how many runs it
 * took, how long, the median latency of its last {@link #WINDOW} runs, and whether it settled
 * before its budget ran out.
 *
 * <p>Why it exists: the kernels run on the Vector API, which only C2 compiles to machine vectors.
 * Until C2 has compiled a kernel, the JVM runs the API's Java fallback, 10–100× slower, so the
 * first runs of a fresh JVM are slow (resnet18: about 1.5 s, then 50–100 ms, then 20 ms after
 * 10–30 runs, differently in each process). A warm-up pays that once, at a time the caller
 * chooses, so that the runs that matter are steady.
 *
 * <p>Settled means both: the JIT compiled nothing during the last {@link #WINDOW} runs (from
 * {@link CompilationMXBean#getTotalCompilationTime}, where the JVM reports it), and the median of
 * those runs is within {@link #TOLERANCE} of the median of the {@link #WINDOW} runs before. A JVM
 * that keeps compiling other code (a busy service) may not settle; the budget bounds the cost.
 *
 * @param runs the runs made, at least one
 * @param elapsed the time they took in all
 * @param lastMedian the median latency of the last {@link #WINDOW} runs (of all runs, when fewer)
 * @param settled whether the latency settled before the budget ran out
 */
public record Warmup(int runs, Duration elapsed, Duration lastMedian, boolean settled) {
  /** Runs per window compared. */
  public static final int WINDOW = 5;
  /** Largest relative difference between two windows' medians that counts as settled. */
  public static final double TOLERANCE = 0.05;

  /** One run of the model, as the warm-up repeats it. */
  @FunctionalInterface
  interface Run {
    void run() throws VfuseException;
  }

  /** Repeats {@code run} until the latency settles or {@code budget} is spent (after at least one run). */
  static Warmup until(Run run, Duration budget) throws VfuseException {
    if (budget == null || budget.isNegative()) {
      throw new IllegalArgumentException("the warm-up budget must be a non-negative duration, got " + budget);
    }
    CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
    boolean jitTimed = jit != null && jit.isCompilationTimeMonitoringSupported();
    long budgetNanos = budget.toNanos();
    long[] nanos = new long[64];
    long[] compiledMs = new long[64];
    int runs = 0;
    long start = System.nanoTime();
    boolean settled = false;
    while (true) {
      long t = System.nanoTime();
      run.run();
      long end = System.nanoTime();
      if (runs == nanos.length) {
        nanos = Arrays.copyOf(nanos, runs * 2);
        compiledMs = Arrays.copyOf(compiledMs, runs * 2);
      }
      nanos[runs] = end - t;
      compiledMs[runs] = jitTimed ? jit.getTotalCompilationTime() : 0;
      runs++;
      if (runs >= 2 * WINDOW) {
        boolean jitQuiet = compiledMs[runs - 1] == compiledMs[runs - 1 - WINDOW];
        long last = median(nanos, runs - WINDOW, runs);
        long before = median(nanos, runs - 2 * WINDOW, runs - WINDOW);
        if (jitQuiet && Math.abs(last - before) <= TOLERANCE * before) {
          settled = true;
          break;
        }
      }
      if (end - start >= budgetNanos) {
        break;
      }
    }
    return new Warmup(runs, Duration.ofNanos(System.nanoTime() - start),
        Duration.ofNanos(median(nanos, Math.max(0, runs - WINDOW), runs)), settled);
  }

  private static long median(long[] a, int from, int to) {
    long[] window = Arrays.copyOfRange(a, from, to);
    Arrays.sort(window);
    return window[window.length / 2];
  }

  @Override
  public String toString() {
    return String.format("%d runs in %.0f ms, last median %.2f ms, %s", runs, elapsed.toNanos() / 1e6,
        lastMedian.toNanos() / 1e6, settled ? "settled" : "budget spent before the latency settled");
  }
}
