package dev.vfuse.simd;

import dev.vfuse.kernel.Parallel;

/**
 * Splits [0, units) into one contiguous range per thread, for the kernels whose work is a list of
 * independent units (output floats, planes, position chunks) that cost about the same.
 */
final class ParallelRanges {
  private ParallelRanges() {}

  /** Work on units [from, to). */
  @FunctionalInterface
  interface Range {
    void run(int from, int to);
  }

  /**
   * Runs {@code range} over [0, units) in at most {@code parallel.threads()} ranges whose starts are
   * multiples of {@code align} (whole cache lines of output, whole groups of planes); on the
   * calling thread alone when there is one thread or not more than {@code align} units.
   */
  static void forEach(Parallel parallel, int units, int align, Range range) {
    int tasks = Math.min(parallel.threads(), Math.ceilDiv(units, align));
    if (tasks <= 1) {
      range.run(0, units);
      return;
    }
    int perTask = Math.ceilDiv(Math.ceilDiv(units, tasks), align) * align;
    parallel.forEach(tasks, (t, worker) -> range.run(Math.min(units, t * perTask), Math.min(units, (t + 1) * perTask)));
  }
}
