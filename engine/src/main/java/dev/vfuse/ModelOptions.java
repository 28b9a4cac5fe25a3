package dev.vfuse;

/**
 * How a model is loaded and run. Immutable; the {@code with…} methods return modified copies.
 *
 * @param backend which kernel implementation runs the model
 * @param fuse whether load-time fusion passes rewrite the graph
 * @param threads intra-op threads a model may use (1 = run on the calling thread only)
 */
public record ModelOptions(Backend backend, boolean fuse, int threads) {

  public ModelOptions {
    if (backend == null) {
      throw new IllegalArgumentException("backend must not be null");
    }
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, got " + threads);
    }
  }

  /** The reference backend, fusion on, one thread. */
  public static ModelOptions defaults() {
    return new ModelOptions(Backend.REFERENCE, true, 1);
  }

  public ModelOptions withBackend(Backend b) {
    return new ModelOptions(b, fuse, threads);
  }

  public ModelOptions withFuse(boolean f) {
    return new ModelOptions(backend, f, threads);
  }

  public ModelOptions withThreads(int t) {
    return new ModelOptions(backend, fuse, t);
  }
}
