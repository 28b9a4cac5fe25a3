package dev.vfuse.spark;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.Model;
import dev.vfuse.ModelOptions;
import dev.vfuse.Tensor;
import dev.vfuse.io.Npy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The job behind {@code vfuse batch}, in local[2]: one output file per input, equal to a single run, bad files reported. */
class BatchJobTest {
  @TempDir Path dir;

  @Test
  void writesEachOutputAtomicallyAndReportsTheCorruptFile() throws Exception {
    Path model = SparkTests.clsModel(dir);
    Path in = Files.createDirectories(dir.resolve("in"));
    for (int i = 0; i < 10; i++) {
      SparkTests.writeNpy(in, String.format("x%02d.npy", i), SparkTests.clsInput(i));
    }
    SparkTests.corruptNpy(in, "x05b.npy");
    Files.writeString(in.resolve("notes.txt"), "not an input");
    Path out = dir.resolve("out");
    List<String> progress = new java.util.concurrent.CopyOnWriteArrayList<>();
    BatchJob.Summary s = BatchJob.run(SparkTests.spark(),
        new BatchJob.Options(model, in, out, null, InferenceOptions.defaults().withBatchSize(4)),
        progress::add);

    assertThat(s.files()).isEqualTo(11);
    assertThat(s.written()).isEqualTo(10);
    assertThat(s.failed()).singleElement().satisfies(f -> {
      assertThat(f.name()).isEqualTo("x05b.npy");
      assertThat(f.error()).contains("truncated");
    });
    assertThat(s.modelLoads()).isEqualTo(1);
    assertThat(progress).last().asString().startsWith("batch: 11/11 files, ").endsWith(" rows/s");
    try (Model m = Model.load(model, ModelOptions.defaults()); Stream<Path> written = Files.list(out)) {
      List<String> names = written.map(p -> p.getFileName().toString()).sorted().toList();
      assertThat(names).hasSize(10).allMatch(n -> n.matches("x0\\d\\.npy")); // no temporary file, nothing for x05b
      for (int i = 0; i < 10; i++) {
        Tensor expected = m.run(SparkTests.clsInput(i));
        Tensor got = Npy.read(out.resolve(String.format("x%02d.npy", i)));
        assertThat(got.shape()).containsExactly(expected.shape());
        assertThat(got.floats()).containsExactly(expected.floats());
      }
    }
  }

  @Test
  void atomicWriteReplacesWholeAndLeavesNoTemporaryFile() throws Exception {
    Path target = dir.resolve("a.npy");
    AtomicFiles.write(target, new byte[] {1, 2, 3});
    AtomicFiles.write(target, new byte[] {4, 5});
    assertThat(Files.readAllBytes(target)).containsExactly(4, 5);
    try (Stream<Path> s = Files.list(dir)) {
      assertThat(s.toList()).containsExactly(target);
    }
  }

  @Test
  void topKIsLargestFirstWithTiesToTheLowerIndex() {
    float[] v = {0.5f, 2f, -1f, 2f, 1f};
    assertThat(TopK.argmax(v)).isEqualTo(1);
    assertThat(TopK.indices(v, 3)).containsExactly(1, 3, 4);
    assertThat(TopK.indices(v, 9)).containsExactly(1, 3, 4, 0, 2);
  }
}
