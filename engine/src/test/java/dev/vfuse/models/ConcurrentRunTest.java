package dev.vfuse.models;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.Backend;
import dev.vfuse.Model;
import dev.vfuse.ModelOptions;
import dev.vfuse.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * One loaded model run from 8 threads at once gives, bit for bit, what sequential runs give. The
 * inputs differ in content and in shape (the detector has dynamic H and W), so threads race on the
 * plan cache and on the buffer pool as well as on the kernels; with 2 intra-op threads the
 * callers also share the model's worker pool.
 */
class ConcurrentRunTest {
  private static final int THREADS = 8;
  private static final int RUNS_PER_THREAD = 3;

  @ParameterizedTest
  @CsvSource({"REFERENCE, 1", "SIMD, 1", "SIMD, 2"})
  void eightThreadsMatchSequentialRunsBitForBit(Backend backend, int intraOpThreads) throws Exception {
    byte[] onnx = Fixtures.paddleModel("ch_PP-OCRv3_det_infer.onnx");
    int[][] sizes = {{64, 96}, {96, 64}, {64, 128}, {32, 160}, {160, 224}};
    ModelOptions options = ModelOptions.defaults().withBackend(backend).withThreads(intraOpThreads);
    try (Model model = Model.load(onnx, options)) {
      List<Tensor> inputs = new ArrayList<>();
      List<float[]> expected = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        int[] hw = sizes[t % sizes.length];
        Tensor in = PaddleOcrModelsTest.textLikeImage(1 + t % 2, hw[0], hw[1]);
        inputs.add(in);
        expected.add(model.run(in).floats());
      }
      ExecutorService pool = Executors.newFixedThreadPool(THREADS);
      try {
        List<Future<List<float[]>>> futures = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
          Tensor in = inputs.get(t);
          futures.add(pool.submit(() -> {
            List<float[]> outs = new ArrayList<>();
            for (int r = 0; r < RUNS_PER_THREAD; r++) {
              outs.add(model.run(in).floats());
            }
            return outs;
          }));
        }
        for (int t = 0; t < THREADS; t++) {
          for (float[] out : futures.get(t).get(5, TimeUnit.MINUTES)) {
            assertThat(out).as("thread %d, backend %s, %d intra-op threads", t, backend, intraOpThreads).containsExactly(expected.get(t));
          }
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }
}
