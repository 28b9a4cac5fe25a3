package dev.vfuse.spark;

import dev.vfuse.Model;
import dev.vfuse.ModelOptions;
import dev.vfuse.VfuseException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The models loaded in this JVM, one per (model bytes, load options): what makes "one model per
 * executor" true. The first task of a job on an executor reads the broadcast bytes and loads the
 * model; every later task, partition and batch on that executor, of this job or a later one with
 * the same model, runs the same {@link Model} (a loaded model may run on many threads at once, so
 * the executor's concurrent tasks share it). The models are closed when the JVM stops (a shutdown
 * hook: an executor that Spark stops exits its JVM), or by {@link #close(String)} when the driver
 * that shares this JVM (local mode) is done with one.
 */
final class ExecutorModels {
  private static final Map<String, Model> MODELS = new ConcurrentHashMap<>();
  private static final Map<String, AtomicInteger> LOADS = new ConcurrentHashMap<>();

  static {
    Thread hook = new Thread(ExecutorModels::closeAll, "vfuse-models-close");
    Runtime.getRuntime().addShutdownHook(hook);
  }

  private ExecutorModels() {}

  /**
   * The model under {@code key}, loaded from {@code bytes} (read only then: a broadcast is fetched
   * once per JVM, by the task that loads) the first time it is asked for in this JVM; {@code
   * onLoad} runs then, in the loading thread, and never for a model found loaded.
   */
  static Model get(String key, Supplier<byte[]> bytes, ModelOptions options, Runnable onLoad) throws VfuseException {
    Model m = MODELS.get(key);
    if (m != null) {
      return m;
    }
    synchronized (ExecutorModels.class) {
      m = MODELS.get(key);
      if (m == null) {
        m = Model.load(bytes.get(), options);
        LOADS.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
        MODELS.put(key, m);
        onLoad.run();
      }
      return m;
    }
  }

  /** How many times this JVM loaded the model under {@code key} (0 or 1 unless it was closed and loaded again). */
  static int loads(String key) {
    AtomicInteger n = LOADS.get(key);
    return n == null ? 0 : n.get();
  }

  /** Closes and forgets the model under {@code key} in this JVM, if it is loaded here. */
  static void close(String key) {
    Model m;
    synchronized (ExecutorModels.class) {
      m = MODELS.remove(key);
    }
    if (m != null) {
      m.close();
    }
  }

  private static void closeAll() {
    for (String key : MODELS.keySet()) {
      close(key);
    }
  }
}
