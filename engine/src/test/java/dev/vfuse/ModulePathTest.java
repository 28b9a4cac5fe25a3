package dev.vfuse;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.ops.OnnxModelBuilder;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.spi.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An application on the module path that depends only on the library (this module and its
 * runtime dependencies, as Maven resolves them into {@code target/library-module-path.txt}):
 * it compiles against the exported API, cannot see an internal package, and runs a model on the
 * simd backend in a JVM started without {@code --add-modules}, because the library's module
 * descriptors require {@code jdk.incubator.vector}.
 */
class ModulePathTest {
  private static final String MODULE_INFO = "module app { requires dev.vfuse.engine; }\n";
  private static final String MAIN = """
      package app;

      import dev.vfuse.*;
      import java.nio.file.Path;

      public class Main {
        public static void main(String[] args) throws Exception {
          try (Model m = Model.load(Path.of(args[0]), ModelOptions.defaults())) {
            Tensor y = m.run(Tensor.ofFloats(new int[] {1, 4}, new float[] {-1f, 2f, -3f, 4f}));
            System.out.println("backend " + m.options().backend());
            System.out.println("module " + Model.class.getModule().getName());
            System.out.println("vector " + ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent());
            System.out.println("output " + java.util.Arrays.toString(y.floats()));
          }
        }
      }
      """;

  @TempDir Path dir;

  @Test
  void applicationOnTheModulePathRunsTheSimdBackendWithoutAddModules() throws IOException, InterruptedException {
    String modulePath = libraryModulePath();
    Path src = dir.resolve("src");
    Files.createDirectories(src.resolve("app"));
    Files.writeString(src.resolve("module-info.java"), MODULE_INFO);
    Files.writeString(src.resolve("app/Main.java"), MAIN);
    Path classes = dir.resolve("classes");
    String compiled = javac(modulePath, classes, src.resolve("module-info.java"), src.resolve("app/Main.java"));
    assertThat(compiled).as("javac output").startsWith("exit 0");

    Path model = dir.resolve("relu.onnx");
    Files.write(model, new OnnxModelBuilder(13).input("x", 1, 4).node("Relu", "x").out("y").end().output("y").build());
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process p = new ProcessBuilder(java.toString(), "--module-path", modulePath + File.pathSeparator + classes,
        "-m", "app/app.Main", model.toString()).redirectErrorStream(true).start();
    boolean ended = p.waitFor(60, TimeUnit.SECONDS);
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(ended).as(out).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).contains("backend SIMD", "module dev.vfuse.engine", "vector true", "output [0.0, 2.0, 0.0, 4.0]");
  }

  @Test
  void internalPackagesAreNotVisibleOnTheModulePath() throws IOException {
    Path src = dir.resolve("src");
    Files.createDirectories(src.resolve("app"));
    Files.writeString(src.resolve("module-info.java"), MODULE_INFO);
    Files.writeString(src.resolve("app/Main.java"),
        "package app; public class Main { Class<?> c = dev.vfuse.onnx.OnnxImporter.class; }\n");
    String compiled = javac(libraryModulePath(), dir.resolve("classes"), src.resolve("module-info.java"), src.resolve("app/Main.java"));
    assertThat(compiled).startsWith("exit 1").contains("package dev.vfuse.onnx is not visible");
  }

  /** The library's runtime dependencies as Maven resolved them, and this module's classes. */
  private static String libraryModulePath() throws IOException {
    Path deps = Path.of("target", "library-module-path.txt");
    assertThat(deps).as("written by maven-dependency-plugin (build-classpath) in generate-test-resources; run the test through Maven").exists();
    Path engineClasses = Path.of("target", "classes").toAbsolutePath();
    assertThat(engineClasses.resolve("module-info.class")).exists();
    return Files.readString(deps).strip() + File.pathSeparator + engineClasses;
  }

  /** Runs javac in-process and returns what it printed; compile errors show there. */
  private static String javac(String modulePath, Path out, Path... sources) {
    List<String> args = new ArrayList<>(List.of("--module-path", modulePath, "-d", out.toString()));
    for (Path s : sources) {
      args.add(s.toString());
    }
    ByteArrayOutputStream text = new ByteArrayOutputStream();
    PrintStream print = new PrintStream(text, true, StandardCharsets.UTF_8);
    int code = ToolProvider.findFirst("javac").orElseThrow().run(print, print, args.toArray(String[]::new));
    return "exit " + code + "\n" + text.toString(StandardCharsets.UTF_8);
  }
}
