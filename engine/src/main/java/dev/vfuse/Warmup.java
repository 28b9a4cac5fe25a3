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
 * <p>Settled means both: the JIT has finished no compilation for {@link #JIT_QUIET} (from
 * {@link CompilationMXBean#getTotalCompilationTime}, where the JVM reports it), and the median of
 * the last {@link #WINDOW} runs is within {@link #TOLERANCE} of the median of the {@link #WINDOW}
 * runs before. The JIT's counter moves only when a compilation ends, and C2 takes up to a second
 * on the largest kernels: with "quiet for 5 runs" instead, mobilenet_v2 settled at 8–11 ms on a
 * plateau while a compilation was under way, and reached its steady 5.8 ms 40 runs later. A JVM
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
  /** How long the JIT must have finished no compilation. */
  public static final Duration JIT_QUIET = Duration.ofSeconds(1);

  /** One run of the model, as the warm-up repeats it. */
  @FunctionalInterface
  interface Run {
    void run() throws VfuseException;
  }

  /**
   * Repeats {@code run} until the latency settles or {@code budget} is spent, after at least one
   * run (or makes exactly {@code fixedRuns} runs, when not negative),
   * then makes {@code timed.length} more runs and stores their times in {@code timed}, in the same
   * loop: the timed runs execute the code the warm-up got compiled. (Timed in a loop of their own,
   * mobilenet_v2 came out 15–30% slower than the warm-up's last runs in some processes: the new
   * loop was a new caller for C2 to compile, and it compiled it differently.)
   */
  static Warmup measure(Run run, Duration budget, int fixedRuns, long[] timed) throws VfuseException {
    if (budget == null || budget.isNegative()) {
      throw new IllegalArgumentException("the warm-up budget must be a non-negative duration, got " + budget);
    }
    CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
    boolean jitTimed = jit != null && jit.isCompilationTimeMonitoringSupported();
    long budgetNanos = budget.toNanos();
    long[] nanos = new long[64];
    long[] window = new long[WINDOW];
    int runs = 0;
    long start = System.nanoTime();
    long compiledMs = jitTimed ? jit.getTotalCompilationTime() : 0;
    long lastCompile = start;
    boolean settled = false;
    Warmup warmup = fixedRuns == 0 ? new Warmup(0, Duration.ZERO, Duration.ZERO, false) : null;
    int timedRuns = 0;
    while (warmup == null || timedRuns < timed.length) {
      long t = System.nanoTime();
      run.run();
      long end = System.nanoTime();
      if (warmup != null) {
        timed[timedRuns++] = end - t;
        continue;
      }
      if (runs == nanos.length) {
        nanos = Arrays.copyOf(nanos, runs * 2);
      }
      nanos[runs] = end - t;
      runs++;
      boolean done;
      if (fixedRuns > 0) {
        done = runs == fixedRuns;
      } else {
        long compiled = jitTimed ? jit.getTotalCompilationTime() : 0;
        if (compiled != compiledMs) {
          compiledMs = compiled;
          lastCompile = end;
        }
        if (runs >= 2 * WINDOW) {
          boolean jitQuiet = end - lastCompile >= JIT_QUIET.toNanos();
          long last = median(nanos, runs - WINDOW, window);
          long before = median(nanos, runs - 2 * WINDOW, window);
          settled = jitQuiet && Math.abs(last - before) <= TOLERANCE * before;
        }
        done = settled || end - start >= budgetNanos;
      }
      if (done) {
        warmup = new Warmup(runs, Duration.ofNanos(System.nanoTime() - start),
            Duration.ofNanos(runs >= WINDOW ? median(nanos, runs - WINDOW, window) : median(nanos, 0, new long[runs])),
            settled);
      }
    }
    return warmup;
  }

  /** The median of a[from … from + window.length), sorted in {@code window} (no allocation per run). */
  private static long median(long[] a, int from, long[] window) {
    System.arraycopy(a, from, window, 0, window.length);
    Arrays.sort(window);
    return window[window.length / 2];
  }

  @Override
  public String toString() {
    return String.format("%d runs in %.0f ms, last median %.2f ms, %s", runs, elapsed.toNanos() / 1e6,
        lastMedian.toNanos() / 1e6, settled ? "settled" : "budget spent before the latency settled");
  }
}
