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
 * @param warmup how long loading may spend warming the model up ({@link #withWarmup}), or null for
 *     no warm-up
 * @param memoryLimit the bytes one plan of the model may hold ({@link #withMemoryLimit}); the
 *     constructors without it and {@link #defaults()} use {@link #defaultMemoryLimit()}
 */
public record ModelOptions(Backend backend, boolean fuse, int threads, boolean verifyFusion, Quantization quantization,
    java.time.Duration warmup, long memoryLimit) {

  public ModelOptions(Backend backend, boolean fuse, int threads, boolean verifyFusion, Quantization quantization,
      java.time.Duration warmup) {
    this(backend, fuse, threads, verifyFusion, quantization, warmup, defaultMemoryLimit());
  }

  public ModelOptions(Backend backend, boolean fuse, int threads) {
    this(backend, fuse, threads, false, null);
  }

  public ModelOptions(Backend backend, boolean fuse, int threads, boolean verifyFusion) {
    this(backend, fuse, threads, verifyFusion, null);
  }

  public ModelOptions(Backend backend, boolean fuse, int threads, boolean verifyFusion, Quantization quantization) {
    this(backend, fuse, threads, verifyFusion, quantization, null);
  }

  public ModelOptions {
    if (backend == null) {
      throw new IllegalArgumentException("backend must not be null");
    }
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, got " + threads);
    }
    if (warmup != null && warmup.isNegative()) {
      throw new IllegalArgumentException("warmup must not be negative, got " + warmup);
    }
    if (memoryLimit < 1) {
      throw new IllegalArgumentException("memoryLimit must be positive, got " + memoryLimit);
    }
  }

  /**
   * Half the JVM's maximum heap ({@code -Xmx}): room for one plan of the model while the caller's
   * own tensors, a second concurrent run's buffers and the garbage collector's headroom fit in the
   * other half. A file or an input that would need more fails with a {@link VfuseException}
   * instead of an {@link OutOfMemoryError}.
   */
  public static long defaultMemoryLimit() {
    return Runtime.getRuntime().maxMemory() / 2;
  }

  /** The {@link Backend#selected() selected} backend (simd unless a system property says otherwise), fusion on, one thread. */
  public static ModelOptions defaults() {
    return new ModelOptions(Backend.selected(), true, 1, false, null, null, defaultMemoryLimit());
  }

  public ModelOptions withBackend(Backend b) {
    return new ModelOptions(b, fuse, threads, verifyFusion, quantization, warmup, memoryLimit);
  }

  public ModelOptions withFuse(boolean f) {
    return new ModelOptions(backend, f, threads, verifyFusion, quantization, warmup, memoryLimit);
  }

  public ModelOptions withThreads(int t) {
    return new ModelOptions(backend, fuse, t, verifyFusion, quantization, warmup, memoryLimit);
  }

  public ModelOptions withVerifyFusion(boolean v) {
    return new ModelOptions(backend, fuse, threads, v, quantization, warmup, memoryLimit);
  }

  /** Quantizes weights to int8 at load (null: float weights). */
  public ModelOptions withQuantization(Quantization q) {
    return new ModelOptions(backend, fuse, threads, verifyFusion, q, warmup, memoryLimit);
  }

  /**
   * Warms the model up at load, for at most {@code budget} (null: no warm-up): after planning, it
   * runs the model on a fixed synthetic input (floats in [−1, 1], int64 zeros) until the latency
   * settles ({@link Warmup}), so that the first run the caller makes is already at steady speed.
   * The cost is that time at load: for resnet18 at 1 thread in a fresh JVM, about 6 s (about 180 runs);
   * {@link Model#loadWarmup()} says what it took. Every input must have a fixed shape, apart from
   * a dynamic batch axis (the first), which is warmed up at 1; for other models call
   * {@link Model#warmUp} with a representative input instead.
   */
  public ModelOptions withWarmup(java.time.Duration budget) {
    return new ModelOptions(backend, fuse, threads, verifyFusion, quantization, budget, memoryLimit);
  }

  /**
   * The most bytes one plan may hold: activation buffers, per-thread scratch and the weights its
   * kernels pack (and constants folded at load). Loading refuses a model whose declared shapes
   * need more with a {@link ModelFormatException}; running refuses an input shape that needs more
   * with an {@link InvalidInputException}; both name the value and the bytes. Concurrent runs
   * each take their own buffers, so peak use can be a multiple of one plan's activations.
   */
  public ModelOptions withMemoryLimit(long bytes) {
    return new ModelOptions(backend, fuse, threads, verifyFusion, quantization, warmup, bytes);
  }
}
