package dev.vfuse.models;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.Backend;
import dev.vfuse.Model;
import dev.vfuse.ModelOptions;
import dev.vfuse.Tensor;
import dev.vfuse.fusion.FusionLog;
import dev.vfuse.fusion.FusionReport;
import dev.vfuse.io.Npy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every model with fusion on (the default) still matches torch and ONNX Runtime within the
 * tolerance of the unfused run, and the fusions the model allows all happened: no
 * BatchNormalization is left, and each train-time RepVGG block is one Conv.
 */
class FusedModelsTest {

  @ParameterizedTest
  @CsvSource({
      // fixture, BatchNormalization left, Conv after fusion (-1: not checked), Add left (-1: not checked)
      "resnet18_op13, 0, 20, 0",
      "mobilenet_v2_op14, 0, 52, -1",
      "mobilenet_v3_small_op13, 0, 51, -1", // one 1×1 → 1×1 pair merges sequentially
      "mobilenet_v3_small_op14, 0, 51, -1",
      "repvgg_blocks, 0, 4, 0",
      "dbb_blocks, 0, 5, 0", // stem + one Conv per DBB block (Pad → AveragePool branches merged)
      "convtranspose_bn, 0, 1, -1",
      "bn_before_conv, 0, 4, -1"})
  void fusedTorchModelsMatchTheOracles(String name, int bnLeft, int convs, int adds) throws Exception {
    Path dir = Fixtures.torchDir(name);
    byte[] onnx = Files.readAllBytes(dir.resolve("model.onnx"));
    Tensor input = Npy.read(dir.resolve("input.npy"));
    Tensor torchOut = Npy.read(dir.resolve("output.npy"));
    try (Model model = Model.load(onnx, ModelOptions.defaults().withBackend(Backend.REFERENCE).withVerifyFusion(true))) {
      FusionReport report = model.fusionReport();
      System.out.println(name + " before " + report.before() + "\n" + name + " after  " + report.after());
      report.entries().stream().filter(e -> !e.fused()).map(FusionLog.Entry::message).forEach(m -> System.out.println("  kept: " + m));
      Tensor out = model.run(input);
      Comparison.assertClose(name + " fused vs torch", out, torchOut.shape(), torchOut.floats());
      OrtRunner.Output ort = OrtRunner.run(onnx, model.inputs().get(0).name(), input);
      Comparison.assertClose(name + " fused vs onnxruntime", out, ort.shape(), ort.data());
      assertCounts(report.after(), bnLeft, convs, adds);
      assertThat(report.checks()).as("verified layers").isNotEmpty()
          .allSatisfy(c -> assertThat(c.maxRelError()).as(c.node()).isLessThanOrEqualTo(Comparison.MODEL_TOLERANCE));
    }
  }

  @ParameterizedTest
  @CsvSource({
      "ch_ppocr_mobile_v2.0_cls_infer.onnx, 1, 48, 192",
      "ch_PP-OCRv3_det_infer.onnx, 1, 320, 320",
      "ch_PP-OCRv4_det_infer.onnx, 1, 160, 256"})
  void fusedPaddleModelsMatchOnnxRuntime(String file, int n, int h, int w) throws Exception {
    byte[] onnx = Fixtures.paddleModel(file);
    Tensor input = PaddleOcrModelsTest.textLikeImage(n, h, w);
    try (Model model = Model.load(onnx, ModelOptions.defaults().withBackend(Backend.REFERENCE))) {
      FusionReport report = model.fusionReport();
      System.out.println(file + " before " + report.before() + "\n" + file + " after  " + report.after());
      Tensor out = model.run(input);
      OrtRunner.Output ort = OrtRunner.run(onnx, model.inputs().get(0).name(), input);
      Comparison.assertClose(file + " fused", out, ort.shape(), ort.data());
      assertThat(report.after().getOrDefault("BatchNormalization", 0)).as("BatchNormalization left").isZero();
    }
  }

  private static void assertCounts(Map<String, Integer> after, int bnLeft, int convs, int adds) {
    assertThat(after.getOrDefault("BatchNormalization", 0)).as("BatchNormalization left").isEqualTo(bnLeft);
    if (convs >= 0) {
      assertThat(after.getOrDefault("Conv", 0)).as("Conv after fusion").isEqualTo(convs);
    }
    if (adds >= 0) {
      assertThat(after.getOrDefault("Add", 0)).as("Add after fusion").isEqualTo(adds);
    }
  }
}
