package dev.vfuse.ops;

import dev.vfuse.ElementType;
import dev.vfuse.ir.NdArray;
import dev.vfuse.kernel.Kernels;

/**
 * An operator bound to concrete input shapes: the types and shapes of its outputs, the
 * computation, and the scratch each worker thread needs while it runs. {@link Compute#run}
 * receives arrays whose shapes are exactly those bound; their backing arrays may be longer
 * (reused buffers).
 *
 * <p>{@code preparedInputs} lists the inputs (by index) that binding consumed and {@link Compute#run}
 * never reads: constant weights a backend packed into its prepared kernel. The plan passes null for
 * them and keeps no reference of its own, so that the packed copy is the only one. {@code kernel}
 * names the prepared kernel that runs the step, for profiles ("" for the backend's plain method).
 */
public record Bound(ElementType[] outputTypes, int[][] outputShapes, Compute compute, NdArray[] knownOutputs,
    int scratchPerWorker, int[] preparedInputs, String kernel) {

  private static final int[] NONE = new int[0];

  @FunctionalInterface
  public interface Compute {
    void run(NdArray[] in, NdArray[] out, Kernels k, Workspace ws);
  }

  public static Bound single(ElementType type, int[] shape, Compute compute) {
    return new Bound(new ElementType[] {type}, new int[][] {shape}, compute, null, 0, NONE, "");
  }

  /** One float32 output computed with {@code scratchPerWorker} floats of scratch per worker thread. */
  public static Bound withScratch(int[] shape, int scratchPerWorker, Compute compute) {
    return new Bound(new ElementType[] {ElementType.FLOAT32}, new int[][] {shape}, compute, null, scratchPerWorker, NONE, "");
  }

  /** Outputs known from input shapes alone (Shape): they become constants of the plan. */
  public static Bound known(NdArray value) {
    return new Bound(new ElementType[] {value.type}, new int[][] {value.shape}, (i, o, k, ws) -> LongMoves.copy(value, o[0]),
        new NdArray[] {value}, 0, NONE, "");
  }

  /**
   * This binding with inputs {@code indices} marked as consumed at bind time: its compute must not
   * read them (it receives null in their place).
   */
  public Bound withPreparedInputs(int... indices) {
    return new Bound(outputTypes, outputShapes, compute, knownOutputs, scratchPerWorker, indices.clone(), kernel);
  }

  /**
   * This binding, saying which prepared kernel runs it (its class, e.g. {@code F32DwConvBlocked}):
   * what a profile shows beside the operator. Empty when the backend's plain method runs it.
   */
  public Bound withKernel(Object prepared) {
    return new Bound(outputTypes, outputShapes, compute, knownOutputs, scratchPerWorker, preparedInputs,
        prepared.getClass().getSimpleName());
  }

  /** Same shape and type as the input, computed elementwise. */
  public static Bound like(Value in, Compute compute) {
    return single(in.type(), in.shape(), compute);
  }
}
