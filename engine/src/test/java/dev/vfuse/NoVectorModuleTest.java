package dev.vfuse;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.ops.OnnxModelBuilder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A JVM started without {@code --add-modules=jdk.incubator.vector}, as an embedding application
 * is by default: loading a model on the simd backend fails with a {@link BackendUnavailableException}
 * that names the flag, and the reference backend still loads and runs.
 */
class NoVectorModuleTest {

  @Test
  void simdNamesTheFlagAndReferenceStillRuns() throws IOException, InterruptedException {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process p = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
        Main.class.getName()).redirectErrorStream(true).start();
    boolean ended = p.waitFor(60, TimeUnit.SECONDS);
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(ended).as(out).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).as("the child JVM must not have the module").doesNotContain("Using incubator modules");
    assertThat(out).contains("simd: dev.vfuse.BackendUnavailableException: the simd backend needs the JDK module"
        + " jdk.incubator.vector, which this JVM has not loaded: start java with --add-modules=jdk.incubator.vector");
    assertThat(out).contains("reference: [0.0, 2.0, 0.0, 4.0]");
  }

  /** The child JVM: a Relu model loaded on each backend in turn. */
  public static final class Main {
    public static void main(String[] args) throws Exception {
      byte[] relu = new OnnxModelBuilder(13).input("x", 1, 4).node("Relu", "x").out("y").end().output("y").build();
      try (Model m = Model.load(relu, ModelOptions.defaults())) {
        System.out.println("simd: loaded, which it must not");
      } catch (VfuseException e) {
        System.out.println("simd: " + e);
      }
      try (Model m = Model.load(relu, ModelOptions.defaults().withBackend(Backend.REFERENCE))) {
        float[] y = m.run(Tensor.ofFloats(new int[] {1, 4}, new float[] {-1f, 2f, -3f, 4f})).floats();
        System.out.println("reference: " + java.util.Arrays.toString(y));
      }
    }
  }
}
