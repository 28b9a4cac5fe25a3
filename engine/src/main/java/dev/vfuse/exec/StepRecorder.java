package dev.vfuse.exec;

import dev.vfuse.kernel.Parallel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The clock readings of profiled runs: each step's start and duration on the calling thread, and,
 * for a step whose kernel splits its work over the model's threads, one span per thread that ran
 * tasks of it (first task start to last task end, the time inside tasks, the task count).
 *
 * <p>Only a profiled run has one: {@link Plan#run} reads the clock when it is given a recorder, and
 * its steps then see the model's threads through {@link #wrap}, which times every task. An
 * unprofiled run has no recorder, no wrapper and reads no clock.
 */
public final class StepRecorder {
  /** Work one thread did on one step: from its first task's start to its last task's end. */
  public record Span(int run, int step, Thread thread, long startNanos, long endNanos, long busyNanos, int tasks) {}

  private final int steps;
  private final long[][] stepStart;
  private final long[][] stepNanos;
  private final long[] runStart;
  private final long[] runNanos;
  private final List<Span> spans = new ArrayList<>();
  /** Spans of the step in flight, by thread (a step may hand out several task batches). */
  private final Map<Thread, long[]> open = new LinkedHashMap<>();
  private int run = -1;
  private int step = -1;
  private long lastEnd;

  public StepRecorder(int runs, int steps) {
    this.steps = steps;
    this.stepStart = new long[runs][steps];
    this.stepNanos = new long[runs][steps];
    this.runStart = new long[runs];
    this.runNanos = new long[runs];
  }

  void startRun(int r) {
    run = r;
    runStart[r] = System.nanoTime();
  }

  void endRun() {
    runNanos[run] = System.nanoTime() - runStart[run];
  }

  /**
   * Step s starts where the previous step's timing ended (the first step: now), so that the steps
   * of a run tile it: the executor's work between two steps (gathering the next step's inputs, this
   * recorder's own bookkeeping) counts in the step it prepares, and a pause there (another process,
   * a safepoint) is not lost between the rows.
   */
  void startStep(int s) {
    step = s;
    open.clear();
    stepStart[run][s] = s == 0 ? System.nanoTime() : lastEnd;
  }

  /** The step in flight, or -1 between steps. */
  int currentStep() {
    return step;
  }

  void endStep() {
    lastEnd = System.nanoTime();
    stepNanos[run][step] = lastEnd - stepStart[run][step];
    synchronized (this) {
      for (Map.Entry<Thread, long[]> e : open.entrySet()) {
        long[] v = e.getValue();
        spans.add(new Span(run, step, e.getKey(), v[0], v[1], v[2], (int) v[3]));
      }
      open.clear();
    }
    step = -1;
  }

  /** {@code parallel} with every task timed into the step in flight. */
  Parallel wrap(Parallel parallel) {
    return new Parallel() {
      @Override
      public int threads() {
        return parallel.threads();
      }

      @Override
      public void forEach(int tasks, Task task) {
        int n = parallel.threads();
        // One slot per worker index: an index is held by one thread for the whole call, so each
        // slot is written by one thread, and forEach's completion publishes the writes to us.
        Thread[] who = new Thread[n];
        long[] first = new long[n];
        long[] last = new long[n];
        long[] busy = new long[n];
        int[] count = new int[n];
        parallel.forEach(tasks, (t, w) -> {
          long start = System.nanoTime();
          task.run(t, w);
          long end = System.nanoTime();
          if (count[w]++ == 0) {
            who[w] = Thread.currentThread();
            first[w] = start;
          }
          last[w] = end;
          busy[w] += end - start;
        });
        synchronized (StepRecorder.this) {
          for (int w = 0; w < n; w++) {
            if (count[w] > 0) {
              long[] v = open.computeIfAbsent(who[w], k -> new long[] {Long.MAX_VALUE, Long.MIN_VALUE, 0, 0});
              v[0] = Math.min(v[0], first[w]);
              v[1] = Math.max(v[1], last[w]);
              v[2] += busy[w];
              v[3] += count[w];
            }
          }
        }
      }

      @Override
      public String toString() {
        return parallel + ", timed";
      }
    };
  }

  public int runs() {
    return runNanos.length;
  }

  public int steps() {
    return steps;
  }

  /** When step s of run r started, {@link System#nanoTime()}. */
  public long stepStart(int r, int s) {
    return stepStart[r][s];
  }

  public long stepNanos(int r, int s) {
    return stepNanos[r][s];
  }

  public long runStart(int r) {
    return runStart[r];
  }

  public long runNanos(int r) {
    return runNanos[r];
  }

  /** Every thread's span of every step that handed out tasks, in the order the steps ended. */
  public synchronized List<Span> spans() {
    return List.copyOf(spans);
  }
}
