package dev.vfuse.fuzz;

import dev.vfuse.Backend;
import dev.vfuse.ElementType;
import dev.vfuse.Model;
import dev.vfuse.ModelOptions;
import dev.vfuse.Tensor;
import dev.vfuse.ValueInfo;
import dev.vfuse.VfuseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The fuzz targets' oracle: load bytes as a model and, when that works, run it once on a small
 * synthetic input. A {@link VfuseException} is the documented outcome for a bad file; anything
 * else escaping (OutOfMemoryError, ArithmeticException, IndexOutOfBoundsException,
 * IllegalArgumentException, a ShapeException), directly or as the cause of the VfuseException a
 * run wraps an engine fault in, is a finding and propagates to Jazzer.
 */
final class LoadAndRun {
  /** Small enough that a fuzzed model can never take a large part of the test JVM's heap. */
  static final long MEMORY_LIMIT = 32L << 20;
  /** Dynamic axes run at this size. */
  private static final int DYNAMIC_DIM = 3;
  /** Models with more work than this are loaded but not run, so that one input never takes seconds. */
  private static final long MAX_RUN_FLOPS = 50_000_000;

  private LoadAndRun() {}

  /** Loads and runs; the backend alternates with the input's length so that both get fuzzed. */
  static void check(byte[] onnx) {
    Backend backend = (onnx.length & 1) == 0 ? Backend.REFERENCE : Backend.SIMD;
    ModelOptions options = ModelOptions.defaults().withBackend(backend).withMemoryLimit(MEMORY_LIMIT);
    try (Model model = Model.load(onnx, options)) {
      Map<String, Tensor> inputs = syntheticInputs(model.inputs());
      if (inputs == null) {
        return;
      }
      List<int[]> shapes = new ArrayList<>();
      inputs.values().forEach(t -> shapes.add(t.shape()));
      if (model.flops(shapes) > MAX_RUN_FLOPS) {
        return;
      }
      model.run(inputs);
    } catch (VfuseException expected) {
      // A bad model or an input its shapes cannot take: the documented outcome, unless it wraps an
      // engine exception. Plan reports a RuntimeException from a kernel as a VfuseException
      // ("internal error in ..."), which keeps a server alive but is still a bug: rethrown with
      // its own stack trace, so that Jazzer reports it and tells distinct crash sites apart.
      if (expected.getCause() instanceof RuntimeException bug) {
        throw bug;
      }
      if (expected.getCause() instanceof Error bug) {
        throw bug;
      }
    }
  }

  /** Inputs of the declared shapes (dynamic axes at 3) with a fixed pattern of values, or null when too large to bother. */
  private static Map<String, Tensor> syntheticInputs(List<ValueInfo> declared) {
    Map<String, Tensor> inputs = new LinkedHashMap<>();
    for (ValueInfo info : declared) {
      int[] shape = info.dims().stream().mapToInt(d -> d < 0 ? DYNAMIC_DIM : d).toArray();
      long size = 1;
      for (int d : shape) {
        size *= d;
        if (size > MEMORY_LIMIT / 8) {
          return null;
        }
      }
      if (info.elementType() == ElementType.FLOAT32) {
        float[] values = new float[(int) size];
        for (int i = 0; i < values.length; i++) {
          values[i] = (i % 17 - 8) / 8f;
        }
        inputs.put(info.name(), Tensor.ofFloats(shape, values));
      } else {
        long[] values = new long[(int) size];
        for (int i = 0; i < values.length; i++) {
          values[i] = i % 3;
        }
        inputs.put(info.name(), Tensor.ofLongs(shape, values));
      }
    }
    return inputs;
  }
}
