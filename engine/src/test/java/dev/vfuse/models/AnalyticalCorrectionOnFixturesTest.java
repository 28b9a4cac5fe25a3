package dev.vfuse.models;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.Model;
import dev.vfuse.ModelOptions;
import dev.vfuse.Quantization;
import dev.vfuse.Quantization.BiasCorrection;
import dev.vfuse.Tensor;
import dev.vfuse.io.Npy;
import dev.vfuse.quant.QuantizationReport;
import dev.vfuse.quant.QuantizedLayer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Data-free (analytical) bias correction on every torch quantization fixture
 * (scripts/export_quant_fixtures.py: random weights and BN affine parameters, BN statistics measured
 * in eval mode on the fixture's image distribution): the int8 output error against float on the
 * 16 held-out evaluation images is lower with the correction than without, or the correction
 * declined every layer, each with a stated reason, and the error is the same.
 *
 * <p>The oracle is the float model itself, run by the same executor (the report's load-time
 * measurement, which {@link QuantizedModelsTest} checks against {@link Model#run} within 5%). No
 * tolerance: "lower" is strict, and "the same" is the same graph, so the same bits.
 */
class AnalyticalCorrectionOnFixturesTest {

  @ParameterizedTest(name = "{0}")
  @CsvSource({
      // fixture, layers that must be corrected (names' prefixes; "-" for none required)
      "repvgg_blocks, /blocks/blocks.0/dense/dense.0/Conv",
      "dbb_blocks, -",
      "convtranspose_bn, -",
      "bn_before_conv, /conv1/Conv",
      "resnet18, -",
      "mobilenet_v2, -",
      "mobilenet_v3_small, -"})
  void analyticalCorrectionNeverMakesTheOutputWorse(String name, String mustCorrect) throws Exception {
    Path dir = Fixtures.torchDir("quant/" + name);
    byte[] onnx = Files.readAllBytes(dir.resolve("model.onnx"));
    List<Map<String, Tensor>> evaluation = npys(dir.resolve("evaluation"));
    Quantization q = new Quantization(BiasCorrection.ANALYTICAL, List.of(), evaluation);
    try (Model m = Model.load(onnx, ModelOptions.defaults().withQuantization(q))) {
      QuantizationReport r = m.quantizationReport().orElseThrow();
      System.out.printf("%s analytical: %d of %d layers corrected%n%s%s", name, r.correctedLayers(), r.layers().size(),
          r.summary(), r.table());
      for (QuantizedLayer l : r.layers()) {
        if (l.correction().equals("none")) {
          assertThat(l.uncorrectedReason()).as("%s: %s declined without a reason", name, l.name()).isNotBlank();
        }
      }
      if (!mustCorrect.equals("-")) {
        assertThat(r.layers()).as("%s: the report says %s was corrected", name, mustCorrect)
            .anyMatch(l -> l.name().startsWith(mustCorrect) && l.correction().startsWith("analytical"));
      }
      if (r.correctedLayers() == 0) {
        assertThat(r.outputErrorCorrected()).as("%s: every layer declined, the output is unchanged", name)
            .isEqualTo(r.outputErrorUncorrected());
      } else {
        assertThat(r.outputErrorCorrected()).as("%s: output error with analytical correction against without", name)
            .isLessThan(r.outputErrorUncorrected());
      }
    }
  }

  private static List<Map<String, Tensor>> npys(Path dir) throws Exception {
    List<Map<String, Tensor>> out = new ArrayList<>();
    try (var files = Files.list(dir)) {
      for (Path p : files.sorted().toList()) {
        out.add(Map.of("input", Npy.read(p)));
      }
    }
    return out;
  }
}
