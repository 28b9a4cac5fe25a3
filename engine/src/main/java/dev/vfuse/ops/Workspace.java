package dev.vfuse.ops;

import dev.vfuse.kernel.Parallel;

/**
 * What one run lends each step besides its inputs and outputs: the threads it may use and a
 * scratch array of at least {@link Bound#scratchPerWorker()}·{@code parallel.threads()} floats,
 * owned by that run alone, so steps need not allocate.
 */
public record Workspace(float[] scratch, Parallel parallel) {

  /** A serial workspace with {@code floats} of fresh scratch: for evaluating one node outside a plan. */
  public static Workspace serial(int floats) {
    return new Workspace(new float[floats], Parallel.SERIAL);
  }
}
