package dev.vfuse;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Where the time of a run goes: every step of the planned (fused) graph, timed over several runs.
 * Made by {@link Model#profile}. Times are medians over the profiled runs; the steps' medians add up
 * to about the median run ({@link #coverage()} says how closely), the rest being the executor's own
 * work between steps.
 *
 * @param layers the steps in execution order
 * @param runs how many runs were timed
 * @param medianRunNanos the median wall time of a whole profiled run
 * @param backend the kernels that ran, e.g. {@code simd(512-bit, 16 floats)}
 */
public record Profile(List<Layer> layers, int runs, long medianRunNanos, String backend) {

  /**
   * One step of the planned graph.
   *
   * @param node the node's name (a fused node keeps the name of its convolution)
   * @param op the operator ({@code Conv} also for a conv with fused parts; {@code ConvBlocked} on
   *     the channel-blocked layout)
   * @param kernel the prepared kernel that ran it (for example {@code F32DwConvBlocked},
   *     {@code F32Conv3x3Winograd}), or "" for the backend's plain method
   * @param inputShapes the shapes of its inputs (empty for an absent optional input)
   * @param outputShape the shape of its first output
   * @param flops floating-point operations of a convolution or matrix product (two per
   *     multiply-add), 0 for other operators
   * @param medianNanos the median of its wall time over the runs
   */
  public record Layer(String node, String op, String kernel, List<int[]> inputShapes, int[] outputShape, long flops,
      long medianNanos) {

    /** GFLOP/s at the median time, 0 for a step that does no counted work. */
    public double gflopsPerSecond() {
      return medianNanos == 0 ? 0 : (double) flops / medianNanos;
    }
  }

  public Profile {
    layers = List.copyOf(layers);
  }

  /** The sum of the steps' medians over the median run: near 1 when the steps explain the run. */
  public double coverage() {
    long sum = 0;
    for (Layer layer : layers) {
      sum += layer.medianNanos();
    }
    return medianRunNanos == 0 ? 0 : (double) sum / medianRunNanos;
  }

  /** The layers, slowest first. */
  public List<Layer> slowestFirst() {
    List<Layer> sorted = new ArrayList<>(layers);
    sorted.sort(Comparator.comparingLong(Layer::medianNanos).reversed());
    return sorted;
  }

  /** A plain-text table, slowest first: node, op, kernel, output shape, µs, share, GFLOP/s. */
  public String table() {
    StringBuilder out = new StringBuilder();
    out.append("backend ").append(backend).append(System.lineSeparator());
    out.append(String.format(Locale.ROOT, "%-40s %-14s %-22s %-18s %10s %7s %9s%n", "node", "op", "kernel", "output",
        "median us", "share", "GFLOP/s"));
    for (Layer layer : slowestFirst()) {
      out.append(String.format(Locale.ROOT, "%-40s %-14s %-22s %-18s %10.1f %6.1f%% %9.1f%n", layer.node(), layer.op(),
          layer.kernel(), java.util.Arrays.toString(layer.outputShape()).replace(" ", ""), layer.medianNanos() / 1e3,
          100.0 * layer.medianNanos() / medianRunNanos, layer.gflopsPerSecond()));
    }
    out.append(String.format(Locale.ROOT, "median run %.1f us over %d runs; the steps add up to %.1f%% of it%n",
        medianRunNanos / 1e3, runs, 100 * coverage()));
    return out.toString();
  }
}
