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
 * cached; runs on different threads share plans and take separate buffers.
 *
 * <p>An executor made by {@link #planned} for one set of input shapes (a model whose inputs all
 * have fixed shapes) builds its plan at once and then lets the program go: the weights that the
 * plan's kernels prepared (packed) are then held only in their packed form, one copy each, and no
 * other shapes can be planned.
 */
public final class Executor {
  /** Distinct input shapes kept planned; beyond this the cache starts over. */
  private static final int MAX_PLANS = 32;

  /** Null once the executor is planned for its only input shapes. */
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

  private Executor(Kernels kernels, Parallel parallel, Key key, Plan plan) {
    this.program = null;
    this.kernels = kernels;
    this.parallel = parallel;
    plans.put(key, plan);
    this.last = plan;
  }

  /**
   * An executor for inputs of exactly these shapes and types, planned now, that keeps no reference
   * to {@code program}: what the plan's kernels consumed at plan time (the weights they packed) is
   * not retained twice. Other shapes are refused with an {@link InvalidInputException}.
   */
  public static Executor planned(Program program, Kernels kernels, Parallel parallel, int[][] shapes,
      ElementType[] types) throws InvalidInputException {
    return new Executor(kernels, parallel, key(shapes, types), Plan.build(program, shapes, types, kernels));
  }

  /** Runs on inputs in the order of {@link Program#inputs()}, already checked against the declared shapes. */
  public NdArray[] run(NdArray[] inputs) throws VfuseException {
    return plan(inputs).run(inputs, kernels, parallel);
  }

  /**
   * Runs {@code runs} times on {@code inputs} with every step timed: {@code stepNanos[r][s]} gets
   * step s of run r, {@code runNanos[r]} the whole run. Returns the steps the times refer to.
   */
  public List<Plan.StepInfo> profile(NdArray[] inputs, long[][] stepNanos, long[] runNanos) throws VfuseException {
    Plan plan = plan(inputs);
    for (int r = 0; r < runNanos.length; r++) {
      long start = System.nanoTime();
      plan.run(inputs, kernels, parallel, stepNanos[r]);
      runNanos[r] = System.nanoTime() - start;
    }
    return plan.steps();
  }

  /** The kernels this executor runs on, as they describe themselves (e.g. {@code simd(512-bit, 16 floats)}). */
  public String backend() {
    return kernels.toString();
  }

  /** Steps in the plan for these inputs (their count sizes a profile's arrays). */
  public int stepCount(NdArray[] inputs) throws InvalidInputException {
    return plan(inputs).steps().size();
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
    if (plan == null && program == null) {
      throw new InvalidInputException(null, "the executor was planned once, for fixed input shapes, and cannot plan "
          + Arrays.deepToString(shapes), null);
    }
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
