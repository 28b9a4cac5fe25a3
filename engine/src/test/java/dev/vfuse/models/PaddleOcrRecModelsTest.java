package dev.vfuse.models;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.Backend;
import dev.vfuse.Model;
import dev.vfuse.ModelOptions;
import dev.vfuse.Tensor;
import dev.vfuse.fusion.FusionReport;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The PaddleOCR recognizers (PP-OCRv3 and v4 rec: a conv backbone, then transformer blocks with
 * LayerNorm spelled out in primitives, attention MatMuls of [1, 8, T, 15] × [1, 8, 15, T], and a
 * 6625-way softmax per column) against ONNX Runtime, on rendered text lines 48 pixels tall at
 * several widths through one loaded model: each width is planned once, on its first run.
 *
 * <p>Tolerance: {@link Comparison#MODEL_TOLERANCE} of the output's scale, as for every model. The
 * longest reductions are the backbone's convolutions (L up to 480·1·1 and 960·1·3 = 2880 in the
 * neck), the head's MatMul (L = 120 for v4, 64 for v3) and the attention (L = 15 and T); each layer
 * contributes a relative error of order √L·2⁻²⁴ ≤ 4e-6, a few dozen layers compound, and the
 * softmax output's scale is its largest probability, close to 1.
 */
class PaddleOcrRecModelsTest {
  private static final int[] WIDTHS = {80, 320, 577};
  private static final String[] TEXTS = {"vfuse 42", "Invoice 2026-12-04 total 12.50 EUR", "The quick brown fox jumps over 13 lazy dogs"};
  private static final Map<String, OrtRunner.Output> ORT = new ConcurrentHashMap<>();

  @ParameterizedTest(name = "{0} {1} fuse={2}")
  @CsvSource({
      "ch_PP-OCRv3_rec_infer.onnx, REFERENCE, false",
      "ch_PP-OCRv3_rec_infer.onnx, REFERENCE, true",
      "ch_PP-OCRv3_rec_infer.onnx, SIMD, false",
      "ch_PP-OCRv3_rec_infer.onnx, SIMD, true",
      "ch_PP-OCRv4_rec_infer.onnx, REFERENCE, false",
      "ch_PP-OCRv4_rec_infer.onnx, REFERENCE, true",
      "ch_PP-OCRv4_rec_infer.onnx, SIMD, false",
      "ch_PP-OCRv4_rec_infer.onnx, SIMD, true"})
  void matchesOnnxRuntimeAtSeveralWidths(String file, Backend backend, boolean fuse) throws Exception {
    byte[] onnx = Fixtures.paddleModel(file);
    try (Model model = Model.load(onnx, ModelOptions.defaults().withBackend(backend).withFuse(fuse))) {
      FusionReport report = model.fusionReport();
      if (fuse) {
        System.out.println(file + " before " + report.before() + "\n" + file + " after  " + report.after());
        assertThat(report.after().getOrDefault("LayerNormalization", 0)).as("LayerNorms fused").isGreaterThan(0);
        assertThat(report.after()).as("no spelled-out LayerNorm left").doesNotContainKeys("Pow", "Sqrt", "ReduceMean");
      }
      Tensor[] first = new Tensor[WIDTHS.length];
      for (int i = 0; i < WIDTHS.length; i++) {
        int w = WIDTHS[i];
        Tensor line = TextLines.line(TEXTS[i], w);
        first[i] = model.run(line);
        OrtRunner.Output ort = ortOutput(file, onnx, model.inputs().get(0).name(), i, line);
        Comparison.assertClose(file + " " + backend + " fuse=" + fuse + " 48x" + w, first[i], ort.shape(), ort.data());
      }
      // Each width again, now on its cached plan (buffers reused from the pool): the same bits. On
      // the simd backend only: the plan cache is the backend's own, and the reference is slow.
      for (int i = 0; i < WIDTHS.length && backend == Backend.SIMD; i++) {
        assertThat(model.run(TextLines.line(TEXTS[i], WIDTHS[i])).floats()).as("second run at width %d", WIDTHS[i])
            .containsExactly(first[i].floats());
      }
    }
  }

  /**
   * Two lines in one batch: the attention's batched MatMul over [2, 8, T, 15] and per-image
   * LayerNorm rows. Two threads give one thread's bits, as for every model.
   */
  @ParameterizedTest(name = "{0} batch of 2")
  @CsvSource({"ch_PP-OCRv3_rec_infer.onnx", "ch_PP-OCRv4_rec_infer.onnx"})
  void batchOfTwoLinesOnSimd(String file) throws Exception {
    byte[] onnx = Fixtures.paddleModel(file);
    int w = 256;
    float[] a = TextLines.line("vfuse 2026", w).floats();
    float[] b = TextLines.line("Paddle OCR 7", w).floats();
    float[] both = java.util.Arrays.copyOf(a, 2 * a.length);
    System.arraycopy(b, 0, both, a.length, b.length);
    Tensor batch = Tensor.ofFloats(new int[] {2, 3, TextLines.HEIGHT, w}, both);
    try (Model model = Model.load(onnx, ModelOptions.defaults().withBackend(Backend.SIMD))) {
      Tensor out = model.run(batch);
      OrtRunner.Output ort = OrtRunner.run(onnx, model.inputs().get(0).name(), batch);
      Comparison.assertClose(file + " SIMD fused 2x3x48x" + w, out, ort.shape(), ort.data());
      try (Model twoThreads = Model.load(onnx, ModelOptions.defaults().withBackend(Backend.SIMD).withThreads(2))) {
        assertThat(twoThreads.run(batch).floats()).as("2 threads").containsExactly(out.floats());
      }
    }
  }

  private static OrtRunner.Output ortOutput(String file, byte[] onnx, String input, int i, Tensor line) throws Exception {
    String key = file + "#" + i;
    OrtRunner.Output o = ORT.get(key);
    if (o == null) {
      o = OrtRunner.run(onnx, input, line);
      ORT.put(key, o);
    }
    return o;
  }
}
