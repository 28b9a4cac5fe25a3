/**
 * The vfuse library. Exported: the API ({@code dev.vfuse}: {@code Model}, {@code ModelOptions},
 * {@code Tensor}, the exceptions), {@code .npy} files ({@code dev.vfuse.io}), and the two packages
 * whose report records the API returns ({@code Model.fusionReport()}, {@code Model.quantizationReport()}),
 * and the pure-Java OCR ({@code dev.vfuse.ocr}, with its image type from {@code dev.vfuse.demo}).
 * Everything else (import, IR, fusion passes, planner, executor, operators, the demo pipeline) is
 * internal; the CLI runs on the class path, where it still reaches them.
 *
 * <p>Reading this module resolves {@code jdk.incubator.vector} (through {@code dev.vfuse.simd}):
 * an application on the module path needs no {@code --add-modules}.
 */
module dev.vfuse.engine {
  requires dev.vfuse.reference;
  requires dev.vfuse.simd;
  requires com.google.protobuf;
  requires org.tribuo.util.onnx;
  requires transitive java.desktop; // Ocr.read takes a BufferedImage; the demo draws and reads images
  requires java.management; // the warm-up watches the JIT's compilation time

  exports dev.vfuse;
  exports dev.vfuse.io;
  exports dev.vfuse.fusion;
  exports dev.vfuse.quant;
  exports dev.vfuse.ocr;
  exports dev.vfuse.demo; // Ocr.read(RgbImage) and the demo's image type
}
