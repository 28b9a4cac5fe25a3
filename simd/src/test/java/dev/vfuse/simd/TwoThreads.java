package dev.vfuse.simd;

import dev.vfuse.kernel.Parallel;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A test {@link Parallel} of two real threads (the caller and one fresh thread per call) that
 * claim tasks from a shared counter, so kernels are checked with tasks running concurrently and
 * in no fixed order.
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
    Runnable[] body = new Runnable[2];
    for (int w = 0; w < 2; w++) {
      int worker = w;
      body[w] = () -> {
        for (int t; (t = next.getAndIncrement()) < tasks; ) {
          task.run(t, worker);
        }
      };
    }
    Thread helper = new Thread(body[1]);
    helper.start();
    body[0].run();
    try {
      helper.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
