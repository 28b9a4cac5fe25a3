package dev.vfuse.spark;

import dev.vfuse.Tensor;
import dev.vfuse.io.Npy;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.apache.spark.sql.SparkSession;

/** One local[2] session for every test class of this module (a session takes seconds to start), and shared fixtures. */
final class SparkTests {
  private static SparkSession spark;

  private SparkTests() {}

  static synchronized SparkSession spark() {
    if (spark == null) {
      spark = SparkSession.builder().appName("vfuse-spark tests").master("local[2]")
          .config("spark.ui.enabled", "false")
          .config("spark.driver.bindAddress", "127.0.0.1")
          .config("spark.driver.host", "127.0.0.1")
          .config("spark.sql.shuffle.partitions", "2")
          .getOrCreate();
      Runtime.getRuntime().addShutdownHook(new Thread(spark::stop));
    }
    return spark;
  }

  /** PP-OCR's direction classifier (x: [?, 3, ?, ?] → [?, 2]), copied out of the models jar into {@code dir}. */
  static Path clsModel(Path dir) throws IOException {
    Path p = dir.resolve("cls.onnx");
    try (InputStream in = SparkTests.class.getResourceAsStream("/models/ch_ppocr_mobile_v2.0_cls_infer.onnx")) {
      if (in == null) {
        throw new IOException("models/ch_ppocr_mobile_v2.0_cls_infer.onnx is not on the test class path");
      }
      Files.copy(in, p);
    }
    return p;
  }

  /** A seeded input of the classifier's shape [1, 3, 48, 192]. */
  static Tensor clsInput(long seed) {
    Random r = new Random(seed);
    float[] x = new float[3 * 48 * 192];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (r.nextGaussian() * 0.5);
    }
    return Tensor.ofFloats(new int[] {1, 3, 48, 192}, x);
  }

  static Path writeNpy(Path dir, String name, Tensor t) throws IOException {
    Path p = dir.resolve(name);
    Npy.write(p, t);
    return p;
  }

  /** A .npy file cut off in its data: the header promises more floats than follow. */
  static Path corruptNpy(Path dir, String name) throws IOException {
    Path p = dir.resolve(name);
    byte[] whole = Npy.toBytes(clsInput(999));
    Files.write(p, java.util.Arrays.copyOf(whole, whole.length / 2));
    return p;
  }
}
