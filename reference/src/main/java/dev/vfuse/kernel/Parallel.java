package dev.vfuse.kernel;

/**
 * Runs independent tasks of one kernel call, on the calling thread alone or on several threads.
 * A kernel splits its work into tasks (tiles of the output, channel ranges) and hands them here;
 * the engine supplies the implementation, a thread pool owned by the model.
 *
 * <p>The {@code worker} index a task receives lies in [0, {@link #threads()}) and is held by one
 * thread at a time for the duration of the call, so a task may use the scratch slice of its
 * worker without synchronization.
 */
public interface Parallel {

  /** Every task on the calling thread, in order, as worker 0: no threads, no synchronization. */
  Parallel SERIAL = new Parallel() {
    @Override
    public int threads() {
      return 1;
    }

    @Override
    public void forEach(int tasks, Task task) {
      for (int t = 0; t < tasks; t++) {
        task.run(t, 0);
      }
    }

    @Override
    public String toString() {
      return "serial";
    }
  };

  /** One unit of work. */
  @FunctionalInterface
  interface Task {
    /** Runs task {@code index} as {@code worker}. */
    void run(int index, int worker);
  }

  /** Threads that may run tasks at once, the caller included; per-worker scratch is sized by it. */
  int threads();

  /**
   * Runs {@code task.run(t, worker)} once for every t in [0, tasks) and returns when all have
   * finished. Tasks must be independent (no task waits for another). The first exception a task
   * throws is rethrown here after the others have finished.
   */
  void forEach(int tasks, Task task);
}
