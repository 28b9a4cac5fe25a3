package dev.vfuse.simd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The committed generated sources are what their generators write: every {@code scripts/gen_*.py}
 * is run with {@code --check} (writes nothing, prints a unified diff and exits 1 when a file it
 * generates differs) and must exit 0. A hand edit of a generated file, or a script change whose
 * output was not committed, fails here with the script's name and the diff. Needs {@code python3}
 * on the PATH; without it the test fails rather than skips.
 */
class GeneratedSourcesTest {

  @TestFactory
  Stream<DynamicTest> everyGeneratorMatchesTheCommittedSources() throws IOException {
    Path scripts = repoRoot().resolve("scripts");
    List<Path> generators;
    try (Stream<Path> files = Files.list(scripts)) {
      generators = files.filter(p -> p.getFileName().toString().matches("gen_.*\\.py")).sorted().toList();
    }
    assertThat(generators).as("scripts/gen_*.py in " + scripts).isNotEmpty();
    return generators.stream().map(script -> DynamicTest.dynamicTest(script.getFileName().toString(),
        () -> check(script)));
  }

  private static void check(Path script) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder("python3", script.toString(), "--check")
        .directory(script.getParent().getParent().toFile())
        .redirectErrorStream(true);
    pb.environment().put("PYTHONDONTWRITEBYTECODE", "1");
    Process process;
    try {
      process = pb.start();
    } catch (IOException e) {
      fail("cannot run python3 (needed to check the generated sources against scripts/gen_*.py): " + e.getMessage());
      return;
    }
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(120, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      fail(script.getFileName() + " --check did not finish in 120 s");
    }
    if (process.exitValue() != 0) {
      fail(script.getFileName() + " --check exited " + process.exitValue()
          + ": the committed sources differ from what it writes (edit the script, not the generated file, and rerun"
          + " python3 scripts/" + script.getFileName() + ")\n" + output);
    }
  }

  /** The nearest directory at or above the working directory holding both {@code scripts/} and {@code pom.xml}. */
  private static Path repoRoot() {
    Path start = Path.of(System.getProperty("user.dir")).toAbsolutePath();
    for (Path dir = start; dir != null; dir = dir.getParent()) {
      if (Files.isDirectory(dir.resolve("scripts")) && Files.isRegularFile(dir.resolve("pom.xml"))) {
        return dir;
      }
    }
    throw new AssertionError("no directory with scripts/ and pom.xml at or above " + start);
  }
}
