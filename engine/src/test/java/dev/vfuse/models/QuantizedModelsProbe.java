package dev.vfuse.models;

import dev.vfuse.Model;
import dev.vfuse.ModelOptions;
import dev.vfuse.Quantization;
import dev.vfuse.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class QuantizedModelsProbe {
  static Tensor smoothImage(long seed, int h, int w) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = new float[3 * h * w];
    for (int c = 0; c < 3; c++) {
      double[][] blobs = new double[8][4];
      for (double[] b : blobs) {
        b[0] = r.nextDouble(h); b[1] = r.nextDouble(w); b[2] = r.nextDouble(8, 40); b[3] = r.nextDouble(-1, 1);
      }
      for (int y = 0; y < h; y++) {
        for (int xx = 0; xx < w; xx++) {
          double v = 0.45;
          for (double[] b : blobs) {
            double d2 = (y - b[0]) * (y - b[0]) + (xx - b[1]) * (xx - b[1]);
            v += 0.3 * b[3] * Math.exp(-d2 / (2 * b[2] * b[2]));
          }
          v += r.nextDouble(-0.03, 0.03);
          x[(c * h + y) * w + xx] = (float) ((v - 0.45) / 0.225);
        }
      }
    }
    return Tensor.ofFloats(new int[] {1, 3, h, w}, x);
  }

  @Test
  void probe() throws Exception {
    for (String name : List.of(System.getProperty("probe.models", "mobilenet_v3_small").split(","))) {
      Path dir = Fixtures.torchDir("quant/" + name);
      byte[] onnx = Files.readAllBytes(dir.resolve("model.onnx"));
      List<Map<String, Tensor>> cal = new ArrayList<>();
      List<Map<String, Tensor>> eval = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        cal.add(Map.of("input", dev.vfuse.io.Npy.read(dir.resolve(String.format("calibration/%02d.npy", i)))));
      }
      for (int i = 0; i < 4; i++) {
        eval.add(Map.of("input", dev.vfuse.io.Npy.read(dir.resolve(String.format("evaluation/%02d.npy", i)))));
      }
      for (Quantization.BiasCorrection c : Quantization.BiasCorrection.values()) {
        long t0 = System.nanoTime();
        Quantization q = new Quantization(c, cal, eval);
        try (Model m = Model.load(onnx, ModelOptions.defaults().withQuantization(q))) {
          System.out.println(name + " " + c + " load " + (System.nanoTime() - t0) / 1e9 + " s");
          System.out.print(m.quantizationReport().get().summary());
          if (c != Quantization.BiasCorrection.NONE) {
            for (var l : m.quantizationReport().get().layers()) {
              System.out.printf("%-50s %-28s err %.3e -> %.3e  meanshift %.3e -> %.3e%n", l.name(), l.correction(), l.errorBefore(), l.errorAfter(), l.meanShiftBefore(), l.meanShiftAfter());
            }
          }
        }
      }
    }
  }
}
