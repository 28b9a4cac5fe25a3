package dev.vfuse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vfuse.models.Fixtures;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link Model#profile} on mobilenet_v2 (torch export): one record per planned step, in execution
 * order, with the FLOPs {@link Model#flops} counts for the whole run, and runs that change nothing:
 * an unprofiled run after profiling gives the bits it gave before.
 */
class ProfileTest {

  @Test
  void profilesEveryPlannedStepAndLeavesTheRunsAlone() throws Exception {
    Path dir = Fixtures.torchDir("mobilenet_v2_op13");
    Model model = Model.load(dir.resolve("model.onnx"), ModelOptions.defaults());
    float[] values = new float[3 * 224 * 224];
    SplittableRandom random = new SplittableRandom(3);
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) random.nextDouble(-1, 1);
    }
    Map<String, Tensor> inputs = Map.of(model.inputs().get(0).name(), Tensor.ofFloats(new int[] {1, 3, 224, 224}, values));
    float[] before = model.run(inputs).values().iterator().next().floats();

    Profile profile = model.profile(inputs, 3);

    assertThat(profile.runs()).isEqualTo(3);
    assertThat(profile.layers()).hasSizeGreaterThan(50);
    assertThat(profile.layers()).allSatisfy(layer -> {
      assertThat(layer.medianNanos()).isNotNegative();
      assertThat(layer.outputShape()).isNotEmpty();
    });
    assertThat(profile.layers().stream().mapToLong(Profile.Layer::flops).sum())
        .isEqualTo(model.flops(List.of(new int[] {1, 3, 224, 224})));
    assertThat(profile.layers().get(profile.layers().size() - 1).op()).isEqualTo("Gemm");
    assertThat(profile.layers()).anySatisfy(layer -> assertThat(layer.kernel()).isEqualTo("F32DwConvBlocked"));
    assertThat(profile.backend()).startsWith("simd(");
    assertThat(profile.table()).contains("median run").contains(profile.layers().get(0).node());
    assertThat(model.run(inputs).values().iterator().next().floats()).containsExactly(before);
    assertThatThrownBy(() -> model.profile(inputs, 0)).isInstanceOf(IllegalArgumentException.class);
  }
}
