package dev.vfuse.exec;

import dev.vfuse.kernel.Parallel;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * The intra-op threads of one model: {@code threads − 1} daemon workers plus the calling thread,
 * which always takes part. {@link #forEach} hands out task indices from one atomic counter, so
 * the threads balance uneven tasks themselves, and returns when all have finished.
 *
 * <p>Several runs of the model may call {@link #forEach} at once: each call is its own job with its
 * own counters, and a worker that finishes one job takes the next from the queue. Workers hold
 * worker indices 1 … threads−1 and the caller holds 0, but a worker index must be unique only
 * within one job, so a job's participants each claim a fresh index from the job's counter.
 *
 * <p>A pool of one thread runs everything on the caller, through {@link Parallel#SERIAL}'s path,
 * with no queue and no atomics: one thread does not pay for threading.
 */
public final class WorkerPool implements Parallel, AutoCloseable {
  /**
   * How long the caller spins for the last tasks of a job, and a worker for its next job, before
   * parking, in nanoseconds. The spinning yields the core at each turn: on a machine where the
   * two compute threads end up sharing one core (another process, the JIT, a virtual CPU the host
   * took away) a waiter that only spun held that core for its whole time slice while the thread it
   * waited for could not run. With a busy loop beside JMH on the 2-core VM, mobilenet_v3_small on
   * 2 threads took 1.09 ms spinning and 0.86 ms yielding (0.87 ms on 1 thread); without it 0.51 ms.
   */
  private static final long SPIN_NANOS = 50_000;

  private final int threads;
  private final Thread[] workers;
  private final BlockingQueue<Job> queue;
  private volatile boolean closed;

  public WorkerPool(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, got " + threads);
    }
    this.threads = threads;
    this.workers = new Thread[threads - 1];
    this.queue = new ArrayBlockingQueue<>(Math.max(1, 64 * threads));
    for (int i = 0; i < workers.length; i++) {
      Thread t = new Thread(this::work, "vfuse-worker-" + (i + 1));
      t.setDaemon(true);
      workers[i] = t;
      t.start();
    }
  }

  @Override
  public int threads() {
    return threads;
  }

  @Override
  public void forEach(int tasks, Task task) {
    if (threads == 1 || tasks <= 1) {
      SERIAL.forEach(tasks, task);
      return;
    }
    if (closed) {
      throw new IllegalStateException("worker pool is closed");
    }
    Job job = new Job(tasks, task, Thread.currentThread());
    int helpers = Math.min(tasks, threads) - 1;
    for (int h = 0; h < helpers; h++) {
      if (!queue.offer(job)) {
        break; // the queue is full of other runs' jobs: the caller does the rest itself
      }
    }
    job.participate();
    job.await();
    Throwable failure = job.failure.get();
    if (failure instanceof RuntimeException e) {
      throw e;
    }
    if (failure instanceof Error e) {
      throw e;
    }
  }

  /**
   * A worker polls for the next job for {@link #SPIN_NANOS} after finishing one before it blocks:
   * a model's layers hand out jobs back to back, and waking a parked thread costs tens of
   * microseconds, as much as a small layer's whole work.
   */
  private void work() {
    while (!closed) {
      Job job = null;
      long spinUntil = System.nanoTime() + SPIN_NANOS;
      while (job == null && System.nanoTime() < spinUntil) {
        job = queue.poll();
        if (job == null) {
          Thread.yield();
        }
      }
      try {
        if (job == null) {
          job = queue.take();
        }
      } catch (InterruptedException e) {
        return;
      }
      job.participate();
    }
  }

  /** Stops the workers; a call to {@link #forEach} afterwards fails. Idempotent. */
  @Override
  public void close() {
    closed = true;
    for (Thread t : workers) {
      t.interrupt();
    }
  }

  @Override
  public String toString() {
    return threads + " thread(s)";
  }

  /** One {@link #forEach} call in flight. */
  private static final class Job {
    final int tasks;
    final Task task;
    final Thread owner;
    final AtomicInteger next = new AtomicInteger();
    final AtomicInteger finished = new AtomicInteger();
    final AtomicInteger participants = new AtomicInteger();
    final AtomicReference<Throwable> failure = new AtomicReference<>();

    Job(int tasks, Task task, Thread owner) {
      this.tasks = tasks;
      this.task = task;
      this.owner = owner;
    }

    /** Claims tasks until none are left; a late worker that finds none does nothing. */
    void participate() {
      int worker = -1;
      int done = 0;
      for (int t; (t = next.getAndIncrement()) < tasks; ) {
        if (worker < 0) {
          worker = participants.getAndIncrement();
        }
        try {
          if (failure.get() == null) {
            task.run(t, worker);
          }
        } catch (Throwable e) {
          failure.compareAndSet(null, e);
        }
        done++;
      }
      if (done > 0 && finished.addAndGet(done) == tasks) {
        LockSupport.unpark(owner);
      }
    }

    /** Waits (yielding for {@link #SPIN_NANOS}, then parked) until every task has finished. */
    void await() {
      long spinUntil = System.nanoTime() + SPIN_NANOS;
      while (finished.get() < tasks) {
        if (System.nanoTime() < spinUntil) {
          Thread.yield();
        } else {
          LockSupport.parkNanos(this, 100_000);
        }
      }
    }
  }
}
