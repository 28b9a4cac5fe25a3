package dev.vfuse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.Tensor;
import dev.vfuse.io.Npy;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code vfuse batch} end to end in the embedded local Spark (the test class path has Spark, as
 * ./vfuse's has): one OUT/NAME.npy per good input, equal to Relu of it, a progress line and a
 * summary, the corrupt file named on stderr and exit code 1.
 */
class BatchCommandTest {
  @TempDir Path dir;

  private record Run(int code, String out, String err) {}

  private static Run vfuse(String... args) {
    CommandLine cl = VfuseCli.commandLine(false);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    return new Run(cl.execute(args), out.toString(), err.toString());
  }

  @Test
  void writesOneOutputPerInputAndNamesTheBadFile() throws Exception {
    Path model = TinyModels.relu(dir);
    Path in = Files.createDirectories(dir.resolve("in"));
    for (int i = 0; i < 6; i++) {
      float[] x = new float[8];
      for (int j = 0; j < 8; j++) {
        x[j] = (j - 4) * (i + 1) * 0.25f;
      }
      Npy.write(in.resolve("s" + i + ".npy"), Tensor.ofFloats(TinyModels.SHAPE, x));
    }
    Files.write(in.resolve("broken.npy"), new byte[] {(byte) 0x93, 'N', 'U', 'M'});
    Path out = dir.resolve("out");

    Run r = vfuse("batch", model.toString(), "--input-dir", in.toString(), "--output-dir", out.toString(),
        "--master", "local[2]", "--batch", "2");

    assertThat(r.code()).as(r.err()).isEqualTo(VfuseCli.EXIT_ERROR);
    assertThat(r.out()).contains("batch: 7 files in ").contains("local[2]").contains("batch: 7/7 files, ")
        .contains("wrote 6 of 7 outputs to " + out).contains("1 load across executors");
    assertThat(r.err()).contains("vfuse: failed broken.npy: ");
    try (Stream<Path> s = Files.list(out)) {
      assertThat(s.map(p -> p.getFileName().toString()).sorted().toList())
          .containsExactly("s0.npy", "s1.npy", "s2.npy", "s3.npy", "s4.npy", "s5.npy");
    }
    for (int i = 0; i < 6; i++) {
      float[] x = Npy.read(in.resolve("s" + i + ".npy")).floats();
      float[] y = Npy.read(out.resolve("s" + i + ".npy")).floats();
      for (int j = 0; j < 8; j++) {
        assertThat(y[j]).isEqualTo(Math.max(0f, x[j]));
      }
    }
  }

  @Test
  void failFastStopsOnTheBadFileWithItsMessage() throws Exception {
    Path model = TinyModels.relu(dir);
    Path in = Files.createDirectories(dir.resolve("in"));
    Npy.write(in.resolve("a.npy"), Tensor.ofFloats(TinyModels.SHAPE, new float[8]));
    Files.write(in.resolve("broken.npy"), new byte[] {(byte) 0x93, 'N', 'U', 'M'});
    Run r = vfuse("batch", model.toString(), "--input-dir", in.toString(), "--output-dir", dir.resolve("out").toString(),
        "--master", "local[1]", "--fail-fast");
    assertThat(r.code()).isEqualTo(VfuseCli.EXIT_ERROR);
    assertThat(r.err().strip().lines().toList()).singleElement().asString()
        .startsWith("vfuse: '").contains("broken.npy").doesNotContain("Driver stacktrace");
  }

  @Test
  void aMissingFolderIsAUsageError() throws Exception {
    Path model = TinyModels.relu(dir);
    Run r = vfuse("batch", model.toString(), "--input-dir", dir.resolve("nope").toString(), "--output-dir",
        dir.resolve("out").toString());
    assertThat(r.code()).isEqualTo(VfuseCli.EXIT_USAGE);
    assertThat(r.err()).contains("--input-dir").contains("is not a folder");
  }
}
