package dev.vfuse.models;

import dev.vfuse.Backend;
import dev.vfuse.Model;
import dev.vfuse.ModelOptions;
import dev.vfuse.Tensor;
import dev.vfuse.io.Npy;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every torch fixture, run by the reference backend without fusion, matches both torch's own
 * output (saved by the export script) and ONNX Runtime on the same input.
 */
class TorchModelsTest {

  @ParameterizedTest
  @ValueSource(strings = {
      "resnet18_op13", "resnet18_op14", "mobilenet_v2_op13", "mobilenet_v2_op14",
      "mobilenet_v3_small_op13", "mobilenet_v3_small_op14", "repvgg_blocks", "dbb_blocks", "convtranspose_bn", "bn_before_conv"})
  void referenceMatchesTorchAndOnnxRuntime(String name) throws Exception {
    Path dir = Fixtures.torchDir(name);
    byte[] onnx = Files.readAllBytes(dir.resolve("model.onnx"));
    Tensor input = Npy.read(dir.resolve("input.npy"));
    Tensor torchOut = Npy.read(dir.resolve("output.npy"));
    ModelOptions options = ModelOptions.defaults().withBackend(Backend.REFERENCE).withFuse(false);
    try (Model model = Model.load(onnx, options)) {
      Tensor out = model.run(input);
      Comparison.assertClose(name + " vs torch", out, torchOut.shape(), torchOut.floats());
      OrtRunner.Output ort = OrtRunner.run(onnx, model.inputs().get(0).name(), input);
      Comparison.assertClose(name + " vs onnxruntime", out, ort.shape(), ort.data());
    }
  }
}
