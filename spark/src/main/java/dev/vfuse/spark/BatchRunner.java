package dev.vfuse.spark;

import dev.vfuse.ElementType;
import dev.vfuse.Model;
import dev.vfuse.Tensor;
import dev.vfuse.ValueInfo;
import dev.vfuse.VfuseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs one batch of a partition's rows through the model. Rows whose inputs have one shape are
 * stacked along axis 0 and run as one tensor when the model's axis 0 is dynamic and each input's
 * is 1; otherwise, and whenever a stacked run fails, each row runs alone, so a failure belongs to
 * the row that caused it. A stacked run gives each row the same bits as its own run (each image
 * of a batch goes through the same kernels in the same order; {@code VfuseInferenceTest} checks
 * it on PP-OCR's classifier).
 */
final class BatchRunner {
  /** One row's input: a tensor, or why there is none. */
  record Input(Tensor tensor, String error) {
    static Input failed(String error) {
      return new Input(null, error);
    }
  }

  /** One row's result: the output tensor ([1, …] for a row of [1, …]), or the error. */
  record Outcome(Tensor output, String error) {}

  private final Model model;
  private final String inputName;
  private final int inputRank;
  private final boolean stackable;
  private final String outputName;

  BatchRunner(Model model, String outputName) {
    if (model.inputs().size() != 1) {
      throw new IllegalArgumentException("vfuse-spark feeds models with one input; this one has "
          + model.inputs().size() + ": " + model.inputs());
    }
    ValueInfo in = model.inputs().get(0);
    this.model = model;
    this.inputName = in.name();
    this.inputRank = in.rank();
    this.stackable = in.rank() > 0 && in.dims().get(0) < 0;
    if (outputName == null) {
      this.outputName = model.outputs().get(0).name();
    } else if (model.outputs().stream().anyMatch(o -> o.name().equals(outputName))) {
      this.outputName = outputName;
    } else {
      throw new IllegalArgumentException("the model has no output '" + outputName + "'; its outputs: " + model.outputs());
    }
  }

  String outputName() {
    return outputName;
  }

  /** The outcomes of {@code inputs}, in order. */
  List<Outcome> run(List<Input> inputs) {
    Outcome[] out = new Outcome[inputs.size()];
    // Rows of one shape, in order of first appearance; rows that cannot be stacked run alone.
    Map<String, List<Integer>> groups = new LinkedHashMap<>();
    for (int i = 0; i < inputs.size(); i++) {
      Input in = inputs.get(i);
      if (in.tensor() == null) {
        out[i] = new Outcome(null, in.error());
        continue;
      }
      Tensor t = withBatchAxis(in.tensor());
      inputs.set(i, new Input(t, null));
      if (stackable && t.rank() == inputRank && t.dim(0) == 1 && t.elementType() == ElementType.FLOAT32) {
        groups.computeIfAbsent(Arrays.toString(t.shape()), k -> new ArrayList<>()).add(i);
      } else {
        out[i] = runOne(t);
      }
    }
    for (List<Integer> rows : groups.values()) {
      if (rows.size() == 1 || !runStacked(inputs, rows, out)) {
        for (int i : rows) {
          out[i] = runOne(inputs.get(i).tensor());
        }
      }
    }
    return Arrays.asList(out);
  }

  /** A tensor one axis short of the model's input gets a leading axis of 1 ({@code [3, 224, 224]} → {@code [1, 3, 224, 224]}). */
  private Tensor withBatchAxis(Tensor t) {
    if (t.rank() != inputRank - 1) {
      return t;
    }
    int[] shape = new int[inputRank];
    shape[0] = 1;
    System.arraycopy(t.shape(), 0, shape, 1, t.rank());
    return t.elementType() == ElementType.FLOAT32 ? Tensor.ofFloats(shape, t.floats()) : Tensor.ofLongs(shape, t.longs());
  }

  private Outcome runOne(Tensor t) {
    try {
      return new Outcome(model.run(Map.of(inputName, t)).get(outputName), null);
    } catch (VfuseException | RuntimeException e) {
      return new Outcome(null, e.getMessage() == null ? e.toString() : e.getMessage());
    }
  }

  /** Runs {@code rows} (all [1, …] of one shape) as one [k, …] tensor; false when that fails or the output does not split. */
  private boolean runStacked(List<Input> inputs, List<Integer> rows, Outcome[] out) {
    Tensor first = inputs.get(rows.get(0)).tensor();
    int per = first.size();
    float[] data = new float[per * rows.size()];
    for (int r = 0; r < rows.size(); r++) {
      System.arraycopy(inputs.get(rows.get(r)).tensor().floats(), 0, data, r * per, per);
    }
    int[] shape = first.shape();
    shape[0] = rows.size();
    Tensor result;
    try {
      result = model.run(Map.of(inputName, Tensor.ofFloats(shape, data))).get(outputName);
    } catch (VfuseException | RuntimeException e) {
      return false;
    }
    if (result.rank() == 0 || result.dim(0) != rows.size() || result.size() % rows.size() != 0) {
      return false;
    }
    int outPer = result.size() / rows.size();
    int[] rowShape = result.shape();
    rowShape[0] = 1;
    float[] all = floats(result);
    for (int r = 0; r < rows.size(); r++) {
      out[rows.get(r)] = new Outcome(Tensor.ofFloats(rowShape, Arrays.copyOfRange(all, r * outPer, (r + 1) * outPer)), null);
    }
    return true;
  }

  /** A tensor's values as floats (INT64 outputs converted). */
  static float[] floats(Tensor t) {
    if (t.elementType() == ElementType.FLOAT32) {
      return t.floats();
    }
    long[] l = t.longs();
    float[] f = new float[l.length];
    for (int i = 0; i < l.length; i++) {
      f[i] = l[i];
    }
    return f;
  }
}
