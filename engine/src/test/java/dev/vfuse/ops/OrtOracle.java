package dev.vfuse.ops;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.vfuse.ElementType;
import dev.vfuse.Tensor;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ONNX Runtime as the oracle: runs model bytes on one thread and returns every output as plain
 * arrays, closing all native objects before it returns. Float32 and int64 tensors in and out.
 *
 * <p>One {@link Session} may run several feeds (a model with dynamic axes fed two shapes).
 */
public final class OrtOracle implements AutoCloseable {

  /** One output: its name, shape and data (floats for float32, longs for int64; the other is null). */
  public record Output(String name, int[] shape, float[] floats, long[] longs) {
    public boolean isFloat() {
      return floats != null;
    }

    @Override
    public String toString() {
      return name + Arrays.toString(shape) + (isFloat() ? " float32" : " int64");
    }
  }

  private final OrtSession.SessionOptions options;
  private final OrtSession session;

  /** Opens a session on the model; close it when done. */
  public OrtOracle(byte[] model) throws OrtException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    options = new OrtSession.SessionOptions();
    try {
      options.setIntraOpNumThreads(1);
      options.setInterOpNumThreads(1);
      session = env.createSession(model, options);
    } catch (OrtException | RuntimeException e) {
      options.close();
      throw e;
    }
  }

  /** Runs the model once on these inputs, in a fresh session. */
  public static List<Output> run(byte[] model, Map<String, Tensor> inputs) throws OrtException {
    try (OrtOracle oracle = new OrtOracle(model)) {
      return oracle.run(inputs);
    }
  }

  /** Runs the open session on these inputs; outputs in the model's declared order. */
  public List<Output> run(Map<String, Tensor> inputs) throws OrtException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    Map<String, OnnxTensor> feed = new LinkedHashMap<>();
    try {
      for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
        Tensor t = e.getValue();
        long[] shape = Arrays.stream(t.shape()).asLongStream().toArray();
        feed.put(e.getKey(), t.elementType() == ElementType.FLOAT32
            ? OnnxTensor.createTensor(env, FloatBuffer.wrap(t.floats()), shape)
            : OnnxTensor.createTensor(env, LongBuffer.wrap(t.longs()), shape));
      }
      try (OrtSession.Result result = session.run(feed)) {
        List<Output> outs = new ArrayList<>();
        for (Map.Entry<String, OnnxValue> e : result) {
          OnnxTensor y = (OnnxTensor) e.getValue();
          int[] shape = Arrays.stream(y.getInfo().getShape()).mapToInt(d -> (int) d).toArray();
          OnnxJavaType type = y.getInfo().type;
          if (type == OnnxJavaType.FLOAT) {
            FloatBuffer fb = y.getFloatBuffer();
            float[] data = new float[fb.remaining()];
            fb.get(data);
            outs.add(new Output(e.getKey(), shape, data, null));
          } else if (type == OnnxJavaType.INT64) {
            LongBuffer lb = y.getLongBuffer();
            long[] data = new long[lb.remaining()];
            lb.get(data);
            outs.add(new Output(e.getKey(), shape, null, data));
          } else {
            throw new IllegalStateException("output " + e.getKey() + " has type " + type + "; the oracle handles float32 and int64");
          }
        }
        return outs;
      }
    } finally {
      feed.values().forEach(OnnxTensor::close);
    }
  }

  @Override
  public void close() throws OrtException {
    try {
      session.close();
    } finally {
      options.close();
    }
  }
}
