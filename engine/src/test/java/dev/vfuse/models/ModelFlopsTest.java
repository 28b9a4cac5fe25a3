package dev.vfuse.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.vfuse.Model;
import dev.vfuse.ModelOptions;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link Model#flops} against the multiply-add counts torchvision publishes for its models at
 * 224×224 (resnet18 1.814 G, mobilenet_v2 0.301 G, mobilenet_v3_small 0.0565 G), unfused; fused,
 * the work may only shrink (folding BatchNorm adds none; merging two convs can remove some, as in
 * mobilenet_v3_small, 1.4% less).
 */
class ModelFlopsTest {

  @ParameterizedTest
  @CsvSource({"resnet18_op13, 1.814e9", "mobilenet_v2_op13, 0.3009e9", "mobilenet_v3_small_op14, 0.0565e9"})
  void countsTwoFlopsPerPublishedMultiplyAdd(String name, double macs) throws Exception {
    byte[] onnx = Files.readAllBytes(Fixtures.torchDir(name).resolve("model.onnx"));
    List<int[]> shape = List.<int[]>of(new int[] {1, 3, 224, 224});
    double unfused;
    try (Model model = Model.load(onnx, ModelOptions.defaults().withFuse(false))) {
      unfused = model.flops(shape);
    }
    assertThat(unfused / 2).as(name).isCloseTo(macs, within(0.005 * macs));
    try (Model model = Model.load(onnx, ModelOptions.defaults())) {
      assertThat((double) model.flops(shape)).as("%s fused", name).isBetween(0.98 * unfused, unfused);
    }
  }
}
