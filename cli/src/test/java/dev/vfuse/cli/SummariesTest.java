package dev.vfuse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.ModelFormatException;
import dev.vfuse.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The small formatting helpers behind the CLI's output and error lines. */
class SummariesTest {

  @Test
  void floatSummary() {
    Tensor t = Tensor.ofFloats(new int[] {2, 2}, new float[] {1f, -2f, Float.NaN, 4f});
    assertThat(Summaries.tensor(t)).isEqualTo("FLOAT32 [2, 2] min=-2 max=4 mean=1 nan=1 values=[1, -2, NaN, 4]");
    Tensor big = Tensor.ofFloats(new int[] {10}, new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    assertThat(Summaries.tensor(big)).isEqualTo("FLOAT32 [10] min=0 max=9 mean=4.5");
    assertThat(Summaries.tensor(Tensor.ofFloats(new int[] {0, 3}, new float[0]))).isEqualTo("FLOAT32 [0, 3] (empty)");
  }

  @Test
  void longSummary() {
    assertThat(Summaries.tensor(Tensor.ofLongs(new int[] {3}, new long[] {5, -1, 9})))
        .isEqualTo("INT64 [3] min=-1 max=9 values=[5, -1, 9]");
  }

  @Test
  void numbers() {
    assertThat(Summaries.num(0.1f)).isEqualTo("0.1");
    assertThat(Summaries.num(1234567.0)).isEqualTo("1234570");
    assertThat(Summaries.num(1e-9)).isEqualTo("1.00000e-09");
    assertThat(Summaries.num(-0.0)).isEqualTo("0");
    assertThat(Summaries.ms(12_345_678)).isEqualTo("12.346");
  }

  @Test
  void median() {
    assertThat(Summaries.median(new long[] {5, 1, 3})).isEqualTo(3);
    assertThat(Summaries.median(new long[] {4, 1, 3, 2})).isEqualTo(2);
    assertThat(Summaries.median(new long[] {7})).isEqualTo(7);
  }

  @Test
  void errorLines() {
    assertThat(ErrorMessages.describe(new NoSuchFileException("m.onnx"))).isEqualTo("m.onnx: no such file");
    assertThat(ErrorMessages.describe(new AccessDeniedException("y.npy"))).isEqualTo("y.npy: permission denied");
    assertThat(ErrorMessages.describe(new UncheckedIOException(new NoSuchFileException("a")))).isEqualTo("a: no such file");
    assertThat(ErrorMessages.describe(new ModelFormatException("conv1", "bad\nweights"))).isEqualTo("node 'conv1': bad weights");
    assertThat(ErrorMessages.describe(new IOException())).isEqualTo("IOException");
    assertThat(ErrorMessages.describe(new IllegalStateException("boom")))
        .isEqualTo("internal error: java.lang.IllegalStateException: boom");
    assertThat(ErrorMessages.expected(new IllegalStateException())).isFalse();
    assertThat(ErrorMessages.expected(new UsageException("x"))).isTrue();
  }

  @Test
  void commandSuggestions() {
    Set<String> commands = Set.of("run", "inspect", "demo", "help");
    assertThat(VfuseCli.suggestions(List.of("rnu"), commands)).containsExactly("run");
    assertThat(VfuseCli.suggestions(List.of("inpsect"), commands)).containsExactly("inspect");
    assertThat(VfuseCli.suggestions(List.of("frobnicate"), commands)).isEmpty();
    assertThat(VfuseCli.suggestions(List.of("--rnu"), commands)).isEmpty();
    assertThat(VfuseCli.editDistance("kitten", "sitting")).isEqualTo(3);
  }
}
