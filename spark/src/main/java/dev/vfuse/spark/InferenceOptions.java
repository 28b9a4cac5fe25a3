package dev.vfuse.spark;

import dev.vfuse.Backend;
import dev.vfuse.ModelOptions;
import java.io.Serializable;
import java.util.Locale;
import java.util.Objects;

/**
 * How {@link VfuseInference} reads its input column, runs the model and shapes its output columns.
 * Immutable and serializable (it travels to the executors with each task); start from {@link
 * #defaults()} and change what differs:
 *
 * <pre>{@code
 * InferenceOptions.defaults().withInput("path", InputFormat.NPY).withBatchSize(16).withTopK(5)
 * }</pre>
 *
 * @param inputColumn the column that holds each row's input
 * @param inputFormat what that column holds (see {@link InputFormat})
 * @param shapeColumn with {@link InputFormat#FLOATS}: the column of the shape (array of int)
 * @param image with {@link InputFormat#IMAGE}: the PP-OCR preprocessing to apply
 * @param outputName the model output to return, or null for the first
 * @param batchSize rows taken together from a partition: parsed together and, when the model's
 *     axis 0 is dynamic and the rows have one shape, run as one [B, …] tensor
 * @param threads intra-op threads of the model in each executor JVM (its tasks share the model)
 * @param backend {@code simd} or {@code reference}
 * @param fuse whether the load-time fusion passes run
 * @param argmax whether to add the {@code argmax} column (over each row's output, flattened)
 * @param topK when above 0, the {@code top_k} (indices) and {@code top_k_scores} columns, largest first
 * @param failFast whether a bad row fails its task (and so, after Spark's retries, the job)
 *     instead of getting an {@code error}
 */
public record InferenceOptions(String inputColumn, InputFormat inputFormat, String shapeColumn, ImagePreprocess image,
    String outputName, int batchSize, int threads, String backend, boolean fuse, boolean argmax, int topK,
    boolean failFast) implements Serializable {

  /** What the input column holds. A string column holds paths, a binary column the files' bytes. */
  public enum InputFormat {
    /** A {@code .npy} file: its path (string) or its bytes (binary, as Spark's binaryFile source gives). */
    NPY,
    /** An image file (PNG, JPEG, anything ImageIO reads), preprocessed as {@link InferenceOptions#image()} says. */
    IMAGE,
    /** An array of float with the shape in {@link InferenceOptions#shapeColumn()}. */
    FLOATS
  }

  /** The PaddleOCR preprocessing of an image input ({@code dev.vfuse.demo.Preprocess}). */
  public enum ImagePreprocess {
    /** Detector: ImageNet mean and std on RGB/255 at the image's own size, [1, 3, H, W]. */
    DET,
    /** Direction classifier: height 48, width up to 192, (x/255 − 0.5)/0.5, right-padded, [1, 3, 48, 192]. */
    CLS,
    /** Recognizer: height 48, own width (at least 320, a multiple of 32), (x/255 − 0.5)/0.5, [1, 3, 48, W]. */
    REC
  }

  public InferenceOptions {
    Objects.requireNonNull(inputColumn, "inputColumn");
    Objects.requireNonNull(inputFormat, "inputFormat");
    Objects.requireNonNull(shapeColumn, "shapeColumn");
    Objects.requireNonNull(image, "image");
    Objects.requireNonNull(backend, "backend");
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
    }
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, got " + threads);
    }
    if (topK < 0) {
      throw new IllegalArgumentException("top-k must be 0 (off) or more, got " + topK);
    }
    Backend.parse(backend); // fails on an unknown name
  }

  /** Column {@code input} of {@code .npy} paths, first output, batches of 8, 1 thread, simd, fused, no extra columns. */
  public static InferenceOptions defaults() {
    return new InferenceOptions("input", InputFormat.NPY, "shape", ImagePreprocess.DET, null, 8, 1, "simd", true,
        false, 0, false);
  }

  public InferenceOptions withInput(String column, InputFormat format) {
    return new InferenceOptions(column, format, shapeColumn, image, outputName, batchSize, threads, backend, fuse,
        argmax, topK, failFast);
  }

  /** Input from an array-of-float column with its shape in an array-of-int column. */
  public InferenceOptions withFloats(String column, String shape) {
    return new InferenceOptions(column, InputFormat.FLOATS, shape, image, outputName, batchSize, threads, backend,
        fuse, argmax, topK, failFast);
  }

  /** Input from a column of image paths (or bytes) with the given PP-OCR preprocessing. */
  public InferenceOptions withImages(String column, ImagePreprocess preprocess) {
    return new InferenceOptions(column, InputFormat.IMAGE, shapeColumn, preprocess, outputName, batchSize, threads,
        backend, fuse, argmax, topK, failFast);
  }

  public InferenceOptions withOutput(String name) {
    return new InferenceOptions(inputColumn, inputFormat, shapeColumn, image, name, batchSize, threads, backend, fuse,
        argmax, topK, failFast);
  }

  public InferenceOptions withBatchSize(int b) {
    return new InferenceOptions(inputColumn, inputFormat, shapeColumn, image, outputName, b, threads, backend, fuse,
        argmax, topK, failFast);
  }

  public InferenceOptions withThreads(int t) {
    return new InferenceOptions(inputColumn, inputFormat, shapeColumn, image, outputName, batchSize, t, backend, fuse,
        argmax, topK, failFast);
  }

  public InferenceOptions withBackend(String b) {
    return new InferenceOptions(inputColumn, inputFormat, shapeColumn, image, outputName, batchSize, threads,
        b.toLowerCase(Locale.ROOT), fuse, argmax, topK, failFast);
  }

  public InferenceOptions withFuse(boolean f) {
    return new InferenceOptions(inputColumn, inputFormat, shapeColumn, image, outputName, batchSize, threads, backend,
        f, argmax, topK, failFast);
  }

  public InferenceOptions withArgmax(boolean a) {
    return new InferenceOptions(inputColumn, inputFormat, shapeColumn, image, outputName, batchSize, threads, backend,
        fuse, a, topK, failFast);
  }

  public InferenceOptions withTopK(int k) {
    return new InferenceOptions(inputColumn, inputFormat, shapeColumn, image, outputName, batchSize, threads, backend,
        fuse, argmax, k, failFast);
  }

  public InferenceOptions withFailFast(boolean f) {
    return new InferenceOptions(inputColumn, inputFormat, shapeColumn, image, outputName, batchSize, threads, backend,
        fuse, argmax, topK, f);
  }

  /** The engine options each executor loads the model with. */
  ModelOptions modelOptions() {
    return ModelOptions.defaults().withBackend(Backend.parse(backend)).withThreads(threads).withFuse(fuse);
  }

  /** What distinguishes one loaded model from another with the same bytes. */
  String loadKey() {
    return backend + "/t" + threads + "/" + (fuse ? "fused" : "unfused");
  }
}
