package dev.vfuse.models;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.vfuse.Tensor;
import java.nio.FloatBuffer;
import java.util.Arrays;

/** Runs a model in ONNX Runtime (one thread, all optimizations) on the same input: the independent oracle. */
final class OrtRunner {
  private OrtRunner() {}

  record Output(int[] shape, float[] data) {}

  static Output run(byte[] model, String inputName, Tensor input) throws OrtException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setIntraOpNumThreads(1);
      try (OrtSession session = env.createSession(model, options);
          OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(input.floats()),
              Arrays.stream(input.shape()).asLongStream().toArray());
          OrtSession.Result result = session.run(java.util.Map.of(inputName, x))) {
        OnnxTensor y = (OnnxTensor) result.get(0);
        int[] shape = Arrays.stream(y.getInfo().getShape()).mapToInt(d -> (int) d).toArray();
        FloatBuffer fb = y.getFloatBuffer();
        float[] data = new float[fb.remaining()];
        fb.get(data);
        return new Output(shape, data);
      }
    }
  }
}
