package dev.vfuse.models;

import dev.vfuse.Model;
import dev.vfuse.ModelOptions;
import dev.vfuse.Quantization;
import dev.vfuse.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PaddleQuantProbe {
  @Test
  void probe() throws Exception {
    for (String file : List.of("ch_ppocr_mobile_v2.0_cls_infer.onnx", "ch_PP-OCRv3_det_infer.onnx")) {
      byte[] onnx = Fixtures.paddleModel(file);
      boolean cls = file.contains("cls");
      List<Map<String, Tensor>> cal = new ArrayList<>();
      List<Map<String, Tensor>> eval = new ArrayList<>();
      String in = "x";
      for (int i = 0; i < 4; i++) {
        cal.add(Map.of(in, cls ? TextSamples.lines(100 + i, 8) : TextSamples.page(100 + i, 320, 192)));
        eval.add(Map.of(in, cls ? TextSamples.lines(200 + i, 8) : TextSamples.page(200 + i, 320, 192)));
      }
      for (Quantization.BiasCorrection c : Quantization.BiasCorrection.values()) {
        long t0 = System.nanoTime();
        try (Model m = Model.load(onnx, ModelOptions.defaults().withQuantization(new Quantization(c, cal, eval)))) {
          System.out.println(file + " " + c + " load " + (System.nanoTime() - t0) / 1e9 + " s");
          System.out.print(m.quantizationReport().get().summary());
        }
      }
    }
  }
}
