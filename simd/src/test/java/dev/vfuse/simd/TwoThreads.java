package dev.vfuse.simd;

import dev.vfuse.kernel.Parallel;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A test {@link Parallel} of two real threads, the caller (worker 0) and a fresh one (worker 1)
 * per call, claiming tasks from a shared counter: kernels are checked with tasks running
 * concurrently, in no fixed order, on both scratch slices. A task's failure on the second thread
 * is rethrown on the caller.
 */
final class TwoThreads implements Parallel {
  static final TwoThreads INSTANCE = new TwoThreads();

  @Override
  public int threads() {
    return 2;
  }

  @Override
  public void forEach(int tasks, Task task) {
    AtomicInteger next = new AtomicInteger();
    AtomicReference<Throwable> helperFailure = new AtomicReference<>();
    Thread helper = new Thread(() -> claim(next, tasks, task, 1), "vfuse-test-second-thread");
    helper.setUncaughtExceptionHandler((thread, e) -> helperFailure.set(e));
    helper.start();
    claim(next, tasks, task, 0);
    try {
      helper.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    if (helperFailure.get() != null) {
      throw new AssertionError("task failed on the second thread", helperFailure.get());
    }
  }

  private static void claim(AtomicInteger next, int tasks, Task task, int worker) {
    for (int t; (t = next.getAndIncrement()) < tasks; ) {
      task.run(t, worker);
    }
  }

  @Override
  public String toString() {
    return "two threads";
  }
}
