package dev.vfuse.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link WorkerPool}: every task once, workers in range and exclusive, failures surface, many callers at once. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WorkerPoolTest {

  @Test
  void runsEveryTaskExactlyOnceWithExclusiveWorkerIndices() {
    try (WorkerPool pool = new WorkerPool(3)) {
      for (int tasks : new int[] {0, 1, 2, 3, 7, 1000}) {
        AtomicIntegerArray count = new AtomicIntegerArray(Math.max(tasks, 1));
        AtomicIntegerArray busy = new AtomicIntegerArray(pool.threads());
        pool.forEach(tasks, (t, worker) -> {
          assertThat(worker).isBetween(0, pool.threads() - 1);
          assertThat(busy.incrementAndGet(worker)).as("worker %d used by two threads at once", worker).isEqualTo(1);
          count.incrementAndGet(t);
          busy.decrementAndGet(worker);
        });
        for (int t = 0; t < tasks; t++) {
          assertThat(count.get(t)).as("task %d of %d", t, tasks).isEqualTo(1);
        }
      }
    }
  }

  @Test
  void usesMoreThanOneThreadWhenTasksWait() throws Exception {
    try (WorkerPool pool = new WorkerPool(2)) {
      Set<Thread> seen = ConcurrentHashMap.newKeySet();
      CountDownLatch both = new CountDownLatch(2);
      pool.forEach(2, (t, worker) -> {
        seen.add(Thread.currentThread());
        both.countDown();
        try {
          assertThat(both.await(10, TimeUnit.SECONDS)).as("the second task never ran concurrently").isTrue();
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
      });
      assertThat(seen).hasSize(2);
    }
  }

  @Test
  void oneThreadRunsInOrderOnTheCaller() {
    try (WorkerPool pool = new WorkerPool(1)) {
      StringBuilder order = new StringBuilder();
      Thread caller = Thread.currentThread();
      pool.forEach(4, (t, worker) -> {
        assertThat(Thread.currentThread()).isSameAs(caller);
        assertThat(worker).isZero();
        order.append(t);
      });
      assertThat(order).hasToString("0123");
    }
  }

  @Test
  void rethrowsATaskFailureAfterTheOthersFinish() {
    try (WorkerPool pool = new WorkerPool(2)) {
      AtomicIntegerArray done = new AtomicIntegerArray(1);
      assertThatThrownBy(() -> pool.forEach(50, (t, worker) -> {
        if (t == 17) {
          throw new IllegalArgumentException("task 17 failed");
        }
        done.incrementAndGet(0);
      })).isInstanceOf(IllegalArgumentException.class).hasMessage("task 17 failed");
      // The pool still works afterwards.
      AtomicIntegerArray again = new AtomicIntegerArray(1);
      pool.forEach(10, (t, worker) -> again.incrementAndGet(0));
      assertThat(again.get(0)).isEqualTo(10);
    }
  }

  @Test
  void manyCallersShareThePool() throws Exception {
    try (WorkerPool pool = new WorkerPool(2)) {
      ExecutorService callers = Executors.newFixedThreadPool(4);
      try {
        Future<?>[] futures = new Future<?>[8];
        for (int c = 0; c < futures.length; c++) {
          futures[c] = callers.submit(() -> {
            for (int rep = 0; rep < 200; rep++) {
              AtomicIntegerArray count = new AtomicIntegerArray(13);
              pool.forEach(13, (t, worker) -> count.incrementAndGet(t));
              for (int t = 0; t < 13; t++) {
                assertThat(count.get(t)).isEqualTo(1);
              }
            }
            return null;
          });
        }
        for (Future<?> f : futures) {
          f.get(30, TimeUnit.SECONDS);
        }
      } finally {
        callers.shutdownNow();
      }
    }
  }

  @Test
  void closedPoolRefusesWork() {
    WorkerPool pool = new WorkerPool(2);
    pool.close();
    pool.close();
    assertThatThrownBy(() -> pool.forEach(4, (t, w) -> {})).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> new WorkerPool(0)).isInstanceOf(IllegalArgumentException.class);
  }
}
