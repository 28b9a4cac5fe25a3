package dev.vfuse.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vfuse.ElementType;
import dev.vfuse.ValueInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Binding of --input/--output arguments to model names, without a model. */
class BindingsTest {
  @TempDir Path dir;

  private static ValueInfo v(String name) {
    return new ValueInfo(name, ElementType.FLOAT32, List.of(1, 3), Arrays.asList(null, null));
  }

  private static final List<ValueInfo> ONE = List.of(v("x"));
  private static final List<ValueInfo> TWO = List.of(v("a"), v("b"));

  @Test
  void unnamedInputBindsToTheOnlyInput() {
    assertThat(Bindings.inputs(List.of("in.npy"), ONE, dir)).containsExactly(Map.entry("x", dir.resolve("in.npy")));
  }

  @Test
  void namedInputs() {
    Map<String, Path> m = Bindings.inputs(List.of("b=2.npy", "a=1.npy"), TWO, dir);
    assertThat(m).containsExactly(Map.entry("a", dir.resolve("1.npy")), Map.entry("b", dir.resolve("2.npy")));
  }

  @Test
  void unnamedInputTakesTheRemainingOne() {
    assertThat(Bindings.inputs(List.of("1.npy", "a=0.npy"), TWO, dir))
        .containsExactly(Map.entry("a", dir.resolve("0.npy")), Map.entry("b", dir.resolve("1.npy")));
  }

  @Test
  void ambiguousOrMissingInputs() {
    assertThatThrownBy(() -> Bindings.inputs(List.of("1.npy"), TWO, dir))
        .isInstanceOf(UsageException.class).hasMessageContaining("2 model inputs are not given (a, b)");
    assertThatThrownBy(() -> Bindings.inputs(List.of("1.npy", "2.npy"), TWO, dir))
        .isInstanceOf(UsageException.class).hasMessageContaining("2 --input files have no name");
    assertThatThrownBy(() -> Bindings.inputs(List.of("a=1.npy", "b=2.npy", "3.npy"), TWO, dir))
        .isInstanceOf(UsageException.class).hasMessageContaining("every model input is already given");
    assertThatThrownBy(() -> Bindings.inputs(List.of("a=1.npy"), TWO, dir))
        .isInstanceOf(UsageException.class).hasMessage("no --input for model input b: FLOAT32 [1, 3]; use --input b=FILE");
    assertThatThrownBy(() -> Bindings.inputs(List.of("a=1.npy", "a=2.npy"), TWO, dir))
        .isInstanceOf(UsageException.class).hasMessage("input 'a' is given twice");
    assertThatThrownBy(() -> Bindings.inputs(List.of("a="), TWO, dir))
        .isInstanceOf(UsageException.class).hasMessageContaining("no file after '='");
  }

  @Test
  void unknownNameIsAnError() {
    assertThatThrownBy(() -> Bindings.inputs(List.of("y=1.npy"), ONE, dir))
        .isInstanceOf(UsageException.class).hasMessage("unknown input 'y' in --input y=1.npy; the model's inputs are x");
    assertThatThrownBy(() -> Bindings.outputs(List.of("z=1.npy"), ONE, dir))
        .isInstanceOf(UsageException.class).hasMessage("unknown output 'z' in --output z=1.npy; the model's outputs are x");
  }

  @Test
  void pathsWithEqualsSignsStillWork() throws IOException {
    // "./k=v.npy" has a '/' before '=', and "k=v.npy" exists as a file: both are bare paths.
    assertThat(Bindings.inputs(List.of("./k=v.npy"), ONE, dir)).containsEntry("x", dir.resolve("./k=v.npy"));
    Files.createFile(dir.resolve("k=v.npy"));
    assertThat(Bindings.inputs(List.of("k=v.npy"), ONE, dir)).containsEntry("x", dir.resolve("k=v.npy"));
  }

  @Test
  void namesMayContainSlashes() {
    List<ValueInfo> model = List.of(v("/conv1/Conv_output_0"));
    assertThat(Bindings.inputs(List.of("/conv1/Conv_output_0=in.npy"), model, dir))
        .containsEntry("/conv1/Conv_output_0", dir.resolve("in.npy"));
  }

  @Test
  void unnamedOutputIsTheFirst() {
    assertThat(Bindings.outputs(List.of("o.npy"), TWO, dir)).containsExactly(Map.entry("a", dir.resolve("o.npy")));
    assertThat(Bindings.outputs(List.of("b=2.npy", "1.npy"), TWO, dir))
        .containsExactly(Map.entry("a", dir.resolve("1.npy")), Map.entry("b", dir.resolve("2.npy")));
    assertThat(Bindings.outputs(List.of(), TWO, dir)).isEmpty();
  }

  @Test
  void conflictingOutputs() {
    assertThatThrownBy(() -> Bindings.outputs(List.of("1.npy", "2.npy"), TWO, dir))
        .isInstanceOf(UsageException.class).hasMessageContaining("several --output files have no name");
    assertThatThrownBy(() -> Bindings.outputs(List.of("a=1.npy", "2.npy"), TWO, dir))
        .isInstanceOf(UsageException.class).hasMessageContaining("output 'a' is given twice");
  }
}
