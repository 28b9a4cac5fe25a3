package dev.vfuse.models;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.Backend;
import dev.vfuse.Model;
import dev.vfuse.ModelOptions;
import dev.vfuse.Tensor;
import dev.vfuse.io.Npy;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The simd backend, fused as users run it by default, matches the oracles within the same
 * tolerance as the reference backend. It accumulates in float, so its error is of the oracle's
 * own order rather than below it. Two threads give the same bits as one.
 */
class SimdModelsTest {
  private static final ModelOptions SIMD = ModelOptions.defaults().withBackend(Backend.SIMD);

  @ParameterizedTest
  @ValueSource(strings = {"resnet18_op13", "mobilenet_v2_op13", "mobilenet_v3_small_op14", "repvgg_blocks", "dbb_blocks",
      "convtranspose_bn", "bn_before_conv"})
  void simdMatchesTorchAndOnnxRuntime(String name) throws Exception {
    Path dir = Fixtures.torchDir(name);
    byte[] onnx = Files.readAllBytes(dir.resolve("model.onnx"));
    Tensor input = Npy.read(dir.resolve("input.npy"));
    Tensor torchOut = Npy.read(dir.resolve("output.npy"));
    try (Model model = Model.load(onnx, SIMD)) {
      Tensor out = model.run(input);
      Comparison.assertClose(name + " simd vs torch", out, torchOut.shape(), torchOut.floats());
      OrtRunner.Output ort = OrtRunner.run(onnx, model.inputs().get(0).name(), input);
      Comparison.assertClose(name + " simd vs onnxruntime", out, ort.shape(), ort.data());
      assertSameOnTwoThreads(onnx, input, out);
    }
  }

  @ParameterizedTest
  @CsvSource({
      "ch_ppocr_mobile_v2.0_cls_infer.onnx, 3, 48, 192",
      "ch_PP-OCRv3_det_infer.onnx, 1, 320, 320"})
  void simdMatchesOnnxRuntimeOnPaddleModels(String file, int n, int h, int w) throws Exception {
    byte[] onnx = Fixtures.paddleModel(file);
    Tensor input = PaddleOcrModelsTest.textLikeImage(n, h, w);
    try (Model model = Model.load(onnx, SIMD)) {
      Tensor out = model.run(input);
      OrtRunner.Output ort = OrtRunner.run(onnx, model.inputs().get(0).name(), input);
      Comparison.assertClose(file + " simd", out, ort.shape(), ort.data());
      assertSameOnTwoThreads(onnx, input, out);
    }
  }

  /**
   * Threads split the work, never the arithmetic of an output: every kernel computes each element
   * the same way whichever task holds it, so 2 threads give 1 thread's bits.
   */
  private static void assertSameOnTwoThreads(byte[] onnx, Tensor input, Tensor oneThread) throws Exception {
    try (Model model = Model.load(onnx, SIMD.withThreads(2))) {
      for (int run = 0; run < 2; run++) {
        assertThat(model.run(input).floats()).as("2 threads, run %d", run).containsExactly(oneThread.floats());
      }
    }
  }
}
