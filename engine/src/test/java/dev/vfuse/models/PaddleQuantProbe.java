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
    byte[] onnx = Fixtures.paddleModel("ch_PP-OCRv3_det_infer.onnx");
    for (int[] size : new int[][] {{320, 192}, {640, 384}}) {
      List<Map<String, Tensor>> cal = new ArrayList<>();
      List<Tensor> eval = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        cal.add(Map.of("x", TextSamples.page(100 + i, size[0], size[1])));
        eval.add(TextSamples.page(200 + i, size[0], size[1]));
      }
      var demo = dev.vfuse.demo.TextImage.render();
      eval.add(Tensor.ofFloats(new int[] {1, 3, 256, 640}, dev.vfuse.demo.Preprocess.detInput(dev.vfuse.demo.RgbImage.of(demo.image()))));
      try (Model f = Model.load(onnx, ModelOptions.defaults())) {
        for (Quantization.BiasCorrection c : Quantization.BiasCorrection.values()) {
          try (Model q = Model.load(onnx, ModelOptions.defaults().withQuantization(new Quantization(c, cal, List.of())))) {
            StringBuilder sb = new StringBuilder(size[0] + "x" + size[1] + " " + c + ":");
            for (Tensor t : eval) {
              float[] pf = f.run(t).floats();
              float[] pq = q.run(t).floats();
              long both = 0, either = 0;
              for (int i = 0; i < pf.length; i++) {
                boolean a = pf[i] > 0.3f, b = pq[i] > 0.3f;
                both += a && b ? 1 : 0;
                either += a || b ? 1 : 0;
              }
              sb.append(String.format(" %.4f(%d)", (double) both / either, either));
            }
            System.out.println(sb);
          }
        }
      }
    }
  }
}
