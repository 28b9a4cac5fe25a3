package dev.vfuse.exec;

import dev.vfuse.ElementType;
import dev.vfuse.InvalidInputException;
import dev.vfuse.ValueInfo;
import dev.vfuse.VfuseException;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.Node;
import dev.vfuse.ir.ShapeException;
import dev.vfuse.ir.Shapes;
import dev.vfuse.kernel.Kernels;
import dev.vfuse.ops.Bound;
import dev.vfuse.ops.Value;
import dev.vfuse.ops.Workspace;
import dev.vfuse.kernel.Parallel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * A {@link Program} bound to one set of input shapes: every value's shape is fixed, everything
 * computable from shapes alone (Shape → Gather → Concat → Reshape chains) has been evaluated, and
 * the remaining steps run in topological order on buffers assigned by liveness.
 *
 * <p>Buffer planning: float32 values produced at run time share a small set of slots. Walking the
 * steps in order, each output takes the free slot whose capacity fits best (growing the largest
 * free one when none fits), and a slot is freed after the last step that reads its value. Graph
 * outputs are never freed. A plan is immutable; each concurrent run takes its own set of slot
 * buffers and scratch (an {@link Arena}) from a pool, so steady-state runs allocate nothing but
 * their outputs. Each step declares the scratch its kernel needs per worker thread; an arena holds
 * the largest of them times the thread count, shared by the steps one after another.
 *
 * <p>Weights: a value known at plan time (a constant, or computed from constants and shapes) that
 * no step reads at run time (every step that takes it consumed it at bind time, see
 * {@link Bound#preparedInputs}) and that is no graph output is not kept by the plan: the prepared
 * kernel holds the only copy it needs (packed panels, Winograd's transformed weights). The plan
 * keeps no reference to its {@link Program} either, so that an executor planned once for fixed
 * shapes can let the program's own copies go.
 */
public final class Plan {
  /**
   * A step as a profile reports it: its node, the prepared kernel, its shapes, its convolution or
   * matrix FLOPs, the bytes it must move at least (every input, weights included, read once and
   * every output written once, at their element sizes) and what a fused node does besides its
   * main operator ({@code Relu}, {@code Add} for a residual).
   */
  public record StepInfo(Node node, String kernel, List<int[]> inputShapes, int[] outputShape, long flops, long bytes,
      List<String> fused) {}

  private record Step(Node node, Bound.Compute compute, int[] inputs, int[] outputs, int scratchPerWorker, String kernel) {}

  private final int[] graphInputIds;
  private final int[] graphOutputIds;
  private final List<Step> steps;
  private final ElementType[] types;
  private final int[][] shapes;
  private final NdArray[] known;
  private final int[] slotOf;
  private final int[] slotCapacity;
  /** Values known at plan time that the plan does not keep (consumed by prepared kernels). */
  private final boolean[] dropped;
  private final ConcurrentLinkedQueue<Arena> pool = new ConcurrentLinkedQueue<>();

  private Plan(Program program, List<Step> steps, ElementType[] types, int[][] shapes, NdArray[] known, int[] slotOf,
      int[] slotCapacity, boolean[] dropped) {
    this.graphInputIds = program.graphInputIds;
    this.graphOutputIds = program.graphOutputIds;
    this.dropped = dropped;
    this.steps = steps;
    this.types = types;
    this.shapes = shapes;
    this.known = known;
    this.slotOf = slotOf;
    this.slotCapacity = slotCapacity;
  }

  /**
   * Plans the program for these input shapes, refusing them with an {@link InvalidInputException}
   * when an input, any value, or the plan as a whole (buffers, {@code threads} workers' scratch,
   * weights its kernels pack) needs more than the program's memory limit: checked before each
   * such allocation.
   */
  static Plan build(Program p, int[][] inputShapes, ElementType[] inputTypes, Kernels kernels, int threads)
      throws InvalidInputException {
    int n = p.valueCount;
    long limit = p.memoryLimit;
    for (int i = 0; i < p.graphInputIds.length; i++) {
      long bytes = MemoryLimit.bytes(inputTypes[i], inputShapes[i]);
      if (bytes > limit) {
        throw new InvalidInputException(null, "input '" + p.inputs().get(i).name() + "' of shape " + Shapes.str(inputShapes[i])
            + " needs " + MemoryLimit.over(bytes, limit), null);
      }
    }
    long packedWeightBytes = 0;
    ElementType[] types = new ElementType[n];
    int[][] shapes = new int[n][];
    NdArray[] known = p.constants.clone();
    for (int id = 0; id < n; id++) {
      if (known[id] != null) {
        types[id] = known[id].type;
        shapes[id] = known[id].shape;
      }
    }
    for (int i = 0; i < p.graphInputIds.length; i++) {
      types[p.graphInputIds[i]] = inputTypes[i];
      shapes[p.graphInputIds[i]] = inputShapes[i];
    }
    List<Step> steps = new ArrayList<>();
    boolean[] readAtRun = new boolean[n];
    for (int s = 0; s < p.nodes.size(); s++) {
      Node node = p.nodes.get(s);
      int[] ins = p.nodeInputs[s];
      Value[] values = new Value[ins.length];
      boolean allKnown = true;
      for (int i = 0; i < ins.length; i++) {
        if (ins[i] < 0) {
          continue;
        }
        values[i] = new Value(types[ins[i]], shapes[ins[i]], known[ins[i]]);
        allKnown &= known[ins[i]] != null;
      }
      int[] outs = p.nodeOutputs[s];
      if (allKnown) {
        NdArray[] results = Program.evaluate(node, p.ops.get(s), values, kernels, limit, InvalidInputException::new);
        for (int o = 0; o < outs.length; o++) {
          if (outs[o] >= 0) {
            known[outs[o]] = results[o];
            types[outs[o]] = results[o].type;
            shapes[outs[o]] = results[o].shape;
          }
        }
        continue;
      }
      Bound b = Program.bind(node, p.ops.get(s), values, kernels, limit, InvalidInputException::new);
      if (b.knownOutputs() != null) {
        for (int o = 0; o < outs.length; o++) {
          if (outs[o] >= 0) {
            known[outs[o]] = b.knownOutputs()[o];
            types[outs[o]] = known[outs[o]].type;
            shapes[outs[o]] = known[outs[o]].shape;
          }
        }
        continue;
      }
      for (int o = 0; o < outs.length; o++) {
        if (outs[o] >= 0) {
          types[outs[o]] = b.outputTypes()[o];
          shapes[outs[o]] = b.outputShapes()[o];
          long bytes = MemoryLimit.bytes(b.outputTypes()[o], b.outputShapes()[o]);
          if (bytes > limit) {
            throw new InvalidInputException(node.name(), node.opType() + " output '" + node.outputs().get(o) + "' of shape "
                + Shapes.str(b.outputShapes()[o]) + " needs " + MemoryLimit.over(bytes, limit), null);
          }
          try {
            Shapes.size(b.outputShapes()[o]);
          } catch (ShapeException e) {
            throw new InvalidInputException(node.name(), e.getMessage(), null);
          }
        }
      }
      for (int i = 0; i < ins.length; i++) {
        if (ins[i] >= 0 && !contains(b.preparedInputs(), i)) {
          readAtRun[ins[i]] = true;
        } else if (ins[i] >= 0 && known[ins[i]] != null) {
          packedWeightBytes = MemoryLimit.plus(packedWeightBytes, known[ins[i]].bytes()); // the kernel's packed copy
        }
      }
      steps.add(new Step(node, b.compute(), ins, outs, b.scratchPerWorker(), b.kernel()));
    }
    for (int id : p.graphOutputIds) {
      readAtRun[id] = true;
    }
    boolean[] dropped = new boolean[n];
    for (int id = 0; id < n; id++) {
      if (known[id] != null && !readAtRun[id]) {
        known[id] = null;
        dropped[id] = true;
      }
    }
    for (int i = 0; i < p.graphOutputIds.length; i++) {
      ValueInfo declared = p.outputs().get(i);
      int id = p.graphOutputIds[i];
      if (declared.rank() > 0 && declared.rank() != shapes[id].length) {
        throw new InvalidInputException(null, "output '" + declared.name() + "' would have shape " + Shapes.str(shapes[id])
            + " but the model declares rank " + declared.rank(), null);
      }
    }
    Plan plan = assignSlots(p, steps, types, shapes, known, dropped);
    plan.checkMemory(limit, threads, packedWeightBytes, inputShapes);
    return plan;
  }

  /**
   * Refuses the plan when one run's buffers (slots, int64 values, {@code threads} workers' scratch)
   * plus the weights kept and packed exceed {@code limit} bytes; the arena is allocated per run,
   * after this check.
   */
  private void checkMemory(long limit, int threads, long packedWeightBytes, int[][] inputShapes) throws InvalidInputException {
    long buffers = MemoryLimit.times(activationElements(), Float.BYTES);
    long kept = packedWeightBytes;
    for (int id = 0; id < known.length; id++) {
      if (known[id] != null) {
        kept = MemoryLimit.plus(kept, known[id].bytes());
      } else if (slotOf[id] < 0 && shapes[id] != null && !dropped[id] && !isGraphInput(id)) {
        buffers = MemoryLimit.plus(buffers, MemoryLimit.bytes(types[id], shapes[id]));
      }
    }
    long scratchElements = MemoryLimit.times(maxScratchPerWorker(), threads);
    long total = MemoryLimit.plus(MemoryLimit.plus(buffers, MemoryLimit.times(scratchElements, Float.BYTES)), kept);
    if (total > limit || scratchElements > Integer.MAX_VALUE) {
      throw new InvalidInputException(null, "the plan for input shapes " + java.util.Arrays.deepToString(inputShapes)
          + " needs " + MemoryLimit.over(total, limit) + ": buffers " + buffers + ", scratch " + scratchElements * Float.BYTES
          + " for " + threads + " thread(s), weights " + kept, null);
    }
  }

  private int maxScratchPerWorker() {
    int scratch = 0;
    for (Step step : steps) {
      scratch = Math.max(scratch, step.scratchPerWorker());
    }
    return scratch;
  }

  private boolean isGraphInput(int id) {
    for (int g : graphInputIds) {
      if (g == id) {
        return true;
      }
    }
    return false;
  }

  private static boolean contains(int[] values, int value) {
    for (int v : values) {
      if (v == value) {
        return true;
      }
    }
    return false;
  }

  private static Plan assignSlots(Program p, List<Step> steps, ElementType[] types, int[][] shapes, NdArray[] known,
      boolean[] dropped) {
    int n = p.valueCount;
    int[] lastUse = new int[n];
    Arrays.fill(lastUse, -1);
    for (int s = 0; s < steps.size(); s++) {
      for (int id : steps.get(s).inputs()) {
        if (id >= 0) {
          lastUse[id] = s;
        }
      }
    }
    for (int id : p.graphOutputIds) {
      lastUse[id] = Integer.MAX_VALUE;
    }
    boolean[] isInput = new boolean[n];
    for (int id : p.graphInputIds) {
      isInput[id] = true;
    }
    int[] slotOf = new int[n];
    Arrays.fill(slotOf, -1);
    List<Integer> capacity = new ArrayList<>();
    List<Integer> free = new ArrayList<>();
    for (int s = 0; s < steps.size(); s++) {
      Step step = steps.get(s);
      for (int id : step.outputs()) {
        if (id < 0 || types[id] != ElementType.FLOAT32) {
          continue;
        }
        int size = Shapes.size(shapes[id]);
        int best = -1;
        for (int slot : free) {
          int cap = capacity.get(slot);
          if (cap >= size && (best < 0 || cap < capacity.get(best))) {
            best = slot;
          }
        }
        if (best < 0 && !free.isEmpty()) {
          best = free.stream().max((a, b) -> Integer.compare(capacity.get(a), capacity.get(b))).orElseThrow();
          capacity.set(best, size);
        }
        if (best < 0) {
          best = capacity.size();
          capacity.add(size);
        } else {
          free.remove(Integer.valueOf(best));
        }
        slotOf[id] = best;
      }
      for (int id : step.inputs()) {
        if (id >= 0 && lastUse[id] == s && slotOf[id] >= 0 && !free.contains(slotOf[id])) {
          free.add(slotOf[id]);
        }
      }
      for (int id : step.outputs()) {
        if (id >= 0 && lastUse[id] < 0 && slotOf[id] >= 0) {
          free.add(slotOf[id]); // an output nothing reads
        }
      }
    }
    return new Plan(p, List.copyOf(steps), types, shapes, known, slotOf, capacity.stream().mapToInt(Integer::intValue).toArray(),
        dropped);
  }

  /** Runs the plan on inputs already checked against it; returns the graph outputs as fresh arrays. */
  NdArray[] run(NdArray[] graphInputs, Kernels kernels, Parallel parallel) throws VfuseException {
    return run(graphInputs, kernels, parallel, null);
  }

  /**
   * As {@link #run(NdArray[], Kernels, Parallel)}, and when {@code recorder} is not null, records
   * each step's start and wall time in it (see {@link #steps()}) and runs the steps on threads that
   * time every task ({@link StepRecorder#wrap}). Without it the loop reads no clock.
   */
  NdArray[] run(NdArray[] graphInputs, Kernels kernels, Parallel parallel, StepRecorder recorder) throws VfuseException {
    Arena arena = pool.poll();
    if (arena == null) {
      arena = new Arena(parallel);
    }
    Workspace timed = recorder == null ? null : new Workspace(arena.workspace.scratch(), recorder.wrap(arena.workspace.parallel()));
    try {
      for (int i = 0; i < graphInputIds.length; i++) {
        arena.values[graphInputIds[i]] = graphInputs[i];
      }
      for (int s = 0; s < steps.size(); s++) {
        Step step = steps.get(s);
        NdArray[] in = arena.stepInputs[s];
        for (int i = 0; i < in.length; i++) {
          int id = step.inputs()[i];
          in[i] = id < 0 ? null : arena.values[id];
        }
        try {
          if (recorder == null) {
            step.compute().run(in, arena.stepOutputs[s], kernels, arena.workspace);
          } else {
            recorder.startStep(s);
            step.compute().run(in, arena.stepOutputs[s], kernels, timed);
            recorder.endStep();
          }
        } catch (ShapeException e) {
          throw new InvalidInputException(step.node().name(), step.node().opType() + ": " + e.getMessage(), null);
        } catch (RuntimeException e) {
          throw new VfuseException(step.node().name(), "internal error in " + step.node().describe() + ": " + e, e);
        }
      }
      NdArray[] out = new NdArray[graphOutputIds.length];
      for (int i = 0; i < out.length; i++) {
        out[i] = arena.values[graphOutputIds[i]].copy();
      }
      return out;
    } finally {
      for (int id : graphInputIds) {
        arena.values[id] = null;
      }
      for (NdArray[] in : arena.stepInputs) {
        Arrays.fill(in, null); // the caller's inputs are not kept past the run
      }
      pool.offer(arena);
    }
  }

  /**
   * Floating-point operations of one run in its convolutions and matrix products, two per
   * multiply-add (the figure GFLOP/s is quoted against): Conv 2·|Y|·(C/g)·R·S (a blocked conv
   * counts its K channels, not the padding lanes), ConvTranspose 2·|X|·(K/g)·R·S, Gemm and MatMul
   * 2·|Y|·k. Other operators are not counted.
   */
  long flops() {
    long total = 0;
    for (Step step : steps) {
      total += flops(step);
    }
    return total;
  }

  /**
   * A step's multiply-adds × 2, or 0 when its shapes do not give them: it reads shapes binding
   * accepted, and binding accepts some that are not a convolution's (a fuzzed rank-0 weight of a
   * vfuse-domain conv, a node that declares no output), so every axis it reads is checked first.
   */
  private long flops(Step step) {
    String op = step.node().opType();
    int[] in = step.inputs();
    int out = step.outputs().length == 0 ? -1 : step.outputs()[0];
    if (out < 0 || shapes[out] == null || in.length < 2 || in[0] < 0 || in[1] < 0 || shapes[in[0]] == null
        || shapes[in[1]] == null) {
      return 0;
    }
    if (op.equals(dev.vfuse.ops.ChannelBlockOps.CONV_CHAIN)) {
      return chainFlops(step);
    }
    int[] w = shapes[in[1]];
    int[] o = shapes[out];
    return switch (op) {
      case "Conv" -> w.length < 1 || w[0] < 1 ? 0 : 2 * (long) Shapes.size(o) * (long) Shapes.size(w) / w[0];
      case dev.vfuse.ops.ChannelBlockOps.CONV -> blockedConvFlops(w, o);
      case "ConvTranspose" -> w.length < 1 || w[0] < 1 ? 0 : 2 * (long) Shapes.size(shapes[in[0]]) * (long) Shapes.size(w) / w[0];
      case "Gemm", "MatMul" -> {
        int[] a = shapes[in[0]];
        boolean transA = op.equals("Gemm") && step.node().attributes().getInt("transA", 0) != 0;
        int reduced = transA ? a.length - 2 : a.length - 1;
        yield reduced < 0 ? 0 : 2 * (long) Shapes.size(o) * a[reduced];
      }
      default -> 0;
    };
  }

  /** A ConvBlockedChain's: its stages', stage s with weight input 1 + 3s and output s + 1 (the last stage's is output 0). */
  private long chainFlops(Step step) {
    int stages = step.outputs().length;
    long total = 0;
    for (int s = 0; s < stages; s++) {
      int weight = 1 + 3 * s < step.inputs().length ? step.inputs()[1 + 3 * s] : -1;
      int out = step.outputs()[s == stages - 1 ? 0 : s + 1];
      if (weight < 0 || out < 0 || shapes[weight] == null || shapes[out] == null) {
        return 0;
      }
      total += blockedConvFlops(shapes[weight], shapes[out]);
    }
    return total;
  }

  /** A blocked conv's: its output [N, ⌈K/B⌉, P, Q, B] has padding lanes that are not work, so N·P·Q·|W|·2. */
  private static long blockedConvFlops(int[] weight, int[] output) {
    return output.length < 4 ? 0 : 2L * output[0] * output[2] * output[3] * Shapes.size(weight);
  }

  /** The steps a run executes, in order: what {@code stepNanos} of a profiled run is indexed by. */
  List<StepInfo> steps() {
    List<StepInfo> infos = new ArrayList<>(steps.size());
    for (Step step : steps) {
      List<int[]> inputShapes = new ArrayList<>();
      for (int id : step.inputs()) {
        inputShapes.add(id < 0 || shapes[id] == null ? new int[0] : shapes[id].clone());
      }
      int out = step.outputs().length == 0 ? -1 : step.outputs()[0];
      infos.add(new StepInfo(step.node(), step.kernel(), inputShapes, out < 0 || shapes[out] == null ? new int[0] : shapes[out].clone(),
          flops(step), bytes(step), fused(step.node())));
    }
    return infos;
  }

  /** Compulsory traffic of a step: each input (weights at their stored type) read once, each output written once. */
  private long bytes(Step step) {
    long total = 0;
    for (int[] ids : new int[][] {step.inputs(), step.outputs()}) {
      for (int id : ids) {
        if (id >= 0 && shapes[id] != null) {
          total += (long) Shapes.size(shapes[id]) * switch (types[id]) {
            case FLOAT32 -> 4;
            case INT64 -> 8;
            case INT8 -> 1;
          };
        }
      }
    }
    return total;
  }

  /**
   * What a fused conv does after its convolution: the residual Add (its fourth input) and the
   * activation (attribute {@value dev.vfuse.ops.ActivationAttributes#NAME}). BatchNorms folded into
   * the weights leave no trace at run time and are in the fusion report instead.
   */
  private static List<String> fused(Node node) {
    List<String> parts = new ArrayList<>();
    if (!node.domain().equals(dev.vfuse.ops.OpRegistry.VFUSE_DOMAIN)) {
      return parts;
    }
    if (!node.input(3).isEmpty()) {
      parts.add("Add");
    }
    String activation = node.attributes().getString(dev.vfuse.ops.ActivationAttributes.NAME, "");
    if (!activation.isEmpty()) {
      parts.add(activation);
    }
    return parts;
  }

  /** True when these graph inputs have exactly the types and shapes this plan was built for. */
  boolean accepts(NdArray[] graphInputs) {
    int[] ids = graphInputIds;
    if (graphInputs.length != ids.length) {
      return false;
    }
    for (int i = 0; i < ids.length; i++) {
      if (graphInputs[i].type != types[ids[i]] || !Arrays.equals(graphInputs[i].shape, shapes[ids[i]])) {
        return false;
      }
    }
    return true;
  }

  /** Total float32 elements in the slot buffers of one run: the activation memory the plan needs. */
  long activationElements() {
    long sum = 0;
    for (int c : slotCapacity) {
      sum += c;
    }
    return sum;
  }

  int slotCount() {
    return slotCapacity.length;
  }

  /** The buffers and per-step argument arrays of one run in flight. */
  private final class Arena {
    final NdArray[] values;
    final NdArray[][] stepInputs;
    final NdArray[][] stepOutputs;
    final Workspace workspace;

    Arena(Parallel parallel) {
      values = known.clone();
      workspace = new Workspace(new float[Math.multiplyExact(maxScratchPerWorker(), parallel.threads())], parallel);
      float[][] slots = new float[slotCapacity.length][];
      for (int i = 0; i < slots.length; i++) {
        slots[i] = new float[slotCapacity[i]];
      }
      for (int id = 0; id < values.length; id++) {
        if (values[id] != null || shapes[id] == null || dropped[id] || isGraphInput(id)) {
          continue;
        }
        values[id] = slotOf[id] >= 0 ? NdArray.ofFloats(shapes[id], slots[slotOf[id]]) : NdArray.allocate(types[id], shapes[id]);
      }
      stepInputs = new NdArray[steps.size()][];
      stepOutputs = new NdArray[steps.size()][];
      for (int s = 0; s < steps.size(); s++) {
        Step step = steps.get(s);
        stepInputs[s] = new NdArray[step.inputs().length];
        stepOutputs[s] = new NdArray[step.outputs().length];
        for (int o = 0; o < step.outputs().length; o++) {
          int id = step.outputs()[o];
          stepOutputs[s][o] = id < 0 ? null : values[id];
        }
      }
    }
  }
}
