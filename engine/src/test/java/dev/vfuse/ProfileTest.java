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
    Model model = Model.load(dir.resolve("model.onnx"), ModelOptions.defaults().withThreads(2));
    float[] values = new float[3 * 224 * 224];
    SplittableRandom random = new SplittableRandom(3);
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) random.nextDouble(-1, 1);
    }
    Map<String, Tensor> inputs = Map.of(model.inputs().get(0).name(), Tensor.ofFloats(new int[] {1, 3, 224, 224}, values));
    float[] before = model.run(inputs).values().iterator().next().floats();

    Profile profile = model.profile(inputs, 3);

    assertThat(profile.runs()).isEqualTo(3);
    // 52 convs and a few other steps; the first blocks' convs run as chains, one step each
    assertThat(profile.layers()).hasSizeGreaterThan(40);
    assertThat(profile.layers()).allSatisfy(layer -> {
      assertThat(layer.medianNanos()).isNotNegative();
      assertThat(layer.outputShape()).isNotEmpty();
    });
    assertThat(profile.layers().stream().mapToLong(Profile.Layer::flops).sum())
        .isEqualTo(model.flops(List.of(new int[] {1, 3, 224, 224})));
    assertThat(profile.layers().get(profile.layers().size() - 1).op()).isEqualTo("Gemm");
    assertThat(profile.layers()).anySatisfy(layer -> assertThat(layer.kernel()).isEqualTo("F32DwConvBlocked"));
    assertThat(profile.backend()).startsWith("simd(");
    int bits = Integer.parseInt(profile.backend().replaceAll("simd\\((\\d+)-bit.*", "$1"));
    assertThat(profile.layers()).allSatisfy(layer -> {
      assertThat(layer.bytes()).as(layer.node()).isPositive();
      if (!layer.kernel().isEmpty()) {
        assertThat(layer.vectorBits()).as(layer.node()).isEqualTo(bits);
      }
    });
    assertThat(profile.layers()).anySatisfy(layer -> assertThat(layer.fused()).contains("Add"));
    assertThat(profile.layers()).anySatisfy(layer -> assertThat(layer.fused()).isNotEmpty().doesNotContain("Add"));
    // the first layer: the stem conv (32 3×3 filters on the RGB image), the depthwise 3×3 and the 32 → 16
    // projection at 112², run as one chain; its inputs (image, weights, biases) and outputs read or written once
    Profile.Layer stem = profile.layers().get(0);
    assertThat(stem.op()).isEqualTo("ConvBlockedChain");
    assertThat(stem.flops()).isEqualTo(2L * 112 * 112 * (32 * 27 + 32 * 9 + 16 * 32));
    long plane = 112 * 112;
    assertThat(stem.bytes()).isEqualTo(4L * (3 * 224 * 224 + 32 * 27 + 32 + 32 * 9 + 32 + 16 * 32 + 16
        + 2 * 32 * plane + 16 * plane));
    assertThat(stem.flopsPerByte()).isEqualTo((double) stem.flops() / stem.bytes());
    assertThat(profile.threads()).isEqualTo(2);
    assertThat(profile.timeline()).hasSize(3).allSatisfy(run -> {
      assertThat(run.stepNanos()).hasSize(profile.layers().size());
      assertThat(run.stepsNanos()).isLessThanOrEqualTo(run.nanos());
    });
    assertThat(profile.spans()).isNotEmpty().allSatisfy(span -> assertThat(span.tasks()).isPositive());
    assertThat(profile.stepsMedianNanos()).isEqualTo(profile.layers().stream().mapToLong(Profile.Layer::medianNanos).sum());
    assertThat(profile.table()).contains("median run").contains(profile.layers().get(profile.layers().size() - 1).node());
    assertThat(model.run(inputs).values().iterator().next().floats()).containsExactly(before);
    assertThatThrownBy(() -> model.profile(inputs, 0)).isInstanceOf(IllegalArgumentException.class);
  }
}
