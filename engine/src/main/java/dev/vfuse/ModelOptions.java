package dev.vfuse;

/**
 * How a model is loaded and run. Immutable; the {@code with…} methods return modified copies.
 *
 * @param backend which kernel implementation runs the model
 * @param fuse whether load-time fusion passes rewrite the graph
 * @param threads intra-op threads a model may use (1 = run on the calling thread only)
 * @param verifyFusion whether loading checks every fused layer against the layers it replaced,
 *     on probe inputs, and records the errors in the {@link Model#fusionReport() fusion report}
 * @param quantization int8 weight quantization, or null to keep float weights
 */
public record ModelOptions(Backend backend, boolean fuse, int threads, boolean verifyFusion, Quantization quantization) {

  public ModelOptions(Backend backend, boolean fuse, int threads) {
    this(backend, fuse, threads, false, null);
  }

  public ModelOptions(Backend backend, boolean fuse, int threads, boolean verifyFusion) {
    this(backend, fuse, threads, verifyFusion, null);
  }

  public ModelOptions {
    if (backend == null) {
      throw new IllegalArgumentException("backend must not be null");
    }
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, got " + threads);
    }
  }

  /** The {@link Backend#selected() selected} backend (simd unless a system property says otherwise), fusion on, one thread. */
  public static ModelOptions defaults() {
    return new ModelOptions(Backend.selected(), true, 1, false, null);
  }

  public ModelOptions withBackend(Backend b) {
    return new ModelOptions(b, fuse, threads, verifyFusion, quantization);
  }

  public ModelOptions withFuse(boolean f) {
    return new ModelOptions(backend, f, threads, verifyFusion, quantization);
  }

  public ModelOptions withThreads(int t) {
    return new ModelOptions(backend, fuse, t, verifyFusion, quantization);
  }

  public ModelOptions withVerifyFusion(boolean v) {
    return new ModelOptions(backend, fuse, threads, v, quantization);
  }

  /** Quantizes weights to int8 at load (null: float weights). */
  public ModelOptions withQuantization(Quantization q) {
    return new ModelOptions(backend, fuse, threads, verifyFusion, q);
  }
}
