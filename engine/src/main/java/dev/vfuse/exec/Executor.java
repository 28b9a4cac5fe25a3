package dev.vfuse.exec;

import dev.vfuse.ElementType;
import dev.vfuse.InvalidInputException;
import dev.vfuse.VfuseException;
import dev.vfuse.ir.NdArray;
import dev.vfuse.kernel.Kernels;
import dev.vfuse.kernel.Parallel;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs a {@link Program} on a backend. Plans are built on first use of each input shape and
 * cached (a model with fixed input shapes is planned once, at load); runs on different threads
 * share plans and take separate buffers.
 */
public final class Executor {
  /** Distinct input shapes kept planned; beyond this the cache starts over. */
  private static final int MAX_PLANS = 32;

  private final Program program;
  private final Kernels kernels;
  private final Parallel parallel;
  private final ConcurrentHashMap<Key, Plan> plans = new ConcurrentHashMap<>();
  /** The plan of the most recent run, tried first. */
  private volatile Plan last;

  private record Key(List<Integer> dims, List<ElementType> types) {}

  public Executor(Program program, Kernels kernels) {
    this(program, kernels, Parallel.SERIAL);
  }

  /** An executor whose kernels may split their work over {@code parallel}'s threads. */
  public Executor(Program program, Kernels kernels, Parallel parallel) {
    this.program = program;
    this.kernels = kernels;
    this.parallel = parallel;
  }

  public Program program() {
    return program;
  }

  /** Runs on inputs in the order of {@link Program#inputs()}, already checked against the declared shapes. */
  public NdArray[] run(NdArray[] inputs) throws VfuseException {
    return plan(inputs).run(inputs, kernels, parallel);
  }

  /** Plans for these inputs now (used at load for fixed-shape models, so faults surface early). */
  public void prepare(int[][] shapes, ElementType[] types) throws InvalidInputException {
    planFor(shapes, types);
  }

  /** Convolution and matrix-product FLOPs of one run at these input shapes; see {@code Plan#flops}. */
  public long flops(int[][] shapes, ElementType[] types) throws InvalidInputException {
    return planFor(shapes, types).flops();
  }

  /** Float32 elements one run needs for activations at these input shapes. */
  public long activationElements(int[][] shapes, ElementType[] types) throws InvalidInputException {
    return planFor(shapes, types).activationElements();
  }

  private Plan plan(NdArray[] inputs) throws InvalidInputException {
    Plan recent = last;
    if (recent != null && recent.accepts(inputs)) {
      return recent; // the steady state: same shapes as the previous run, found without allocating
    }
    int[][] shapes = new int[inputs.length][];
    ElementType[] types = new ElementType[inputs.length];
    for (int i = 0; i < inputs.length; i++) {
      shapes[i] = inputs[i].shape;
      types[i] = inputs[i].type;
    }
    return planFor(shapes, types);
  }

  private Plan planFor(int[][] shapes, ElementType[] types) throws InvalidInputException {
    Key key = key(shapes, types);
    Plan plan = plans.get(key);
    if (plan == null) {
      plan = Plan.build(program, shapes, types, kernels);
      if (plans.size() >= MAX_PLANS) {
        plans.clear();
      }
      Plan raced = plans.putIfAbsent(key, plan);
      plan = raced != null ? raced : plan;
    }
    last = plan;
    return plan;
  }

  private static Key key(int[][] shapes, ElementType[] types) {
    Integer[] flat = Arrays.stream(shapes).flatMapToInt(s -> java.util.stream.IntStream.concat(
        java.util.stream.IntStream.of(-1 - s.length), Arrays.stream(s))).boxed().toArray(Integer[]::new);
    return new Key(List.of(flat), List.of(types));
  }
}
