package dev.vfuse.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.Backend;
import dev.vfuse.Model;
import dev.vfuse.ModelOptions;
import dev.vfuse.Tensor;
import dev.vfuse.ValueInfo;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The structure-aware fuzzer's seeds are valid models that load and run on both backends with
 * {@link LoadAndRun}'s memory limit: a seed that fails already would only fuzz error paths.
 */
class SeedModelsTest {

  @Test
  void everySeedLoadsAndRunsOnBothBackends() throws Exception {
    for (var seed : SeedModels.ALL) {
      for (Backend backend : Backend.values()) {
        ModelOptions options = ModelOptions.defaults().withBackend(backend).withMemoryLimit(LoadAndRun.MEMORY_LIMIT);
        try (Model model = Model.load(seed.toByteArray(), options)) {
          Map<String, Tensor> inputs = new LinkedHashMap<>();
          for (ValueInfo info : model.inputs()) {
            int[] shape = info.dims().stream().mapToInt(d -> d < 0 ? 2 : d).toArray();
            inputs.put(info.name(), Tensor.ofFloats(shape, new float[java.util.Arrays.stream(shape).reduce(1, (a, b) -> a * b)]));
          }
          Map<String, Tensor> out = model.run(inputs);
          assertThat(out).as("%s on %s", seed.getGraph().getNode(0).getOpType(), backend).hasSize(1);
        }
      }
    }
  }
}
