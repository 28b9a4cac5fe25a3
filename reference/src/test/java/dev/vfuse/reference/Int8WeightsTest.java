package dev.vfuse.reference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vfuse.kernel.ConvGeometry;
import dev.vfuse.kernel.ConvTransposeGeometry;
import dev.vfuse.kernel.Int8Weights;
import dev.vfuse.kernel.Parallel;
import dev.vfuse.kernel.PreparedConv;
import dev.vfuse.kernel.PreparedGemm;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Per-channel symmetric int8 quantization, its layouts, and the reference's int8 kernels. */
class Int8WeightsTest {

  private final ReferenceKernels kernels = new ReferenceKernels();

  @Test
  void quantizeMapsEachChannelsLargestWeightTo127AndRoundsTheRest() {
    // Channel 0: max 2.54 → scale 0.02; channel 1: max |−1.27| → scale 0.01; channel 2 all zero.
    float[] w = {2.54f, 1.0f, -0.013f, -1.27f, 0.5f, 0.004f, 0f, 0f, 0f};
    Int8Weights q = Int8Weights.quantize(w, Int8Weights.rows(3, 3));
    assertThat(q.scales()).containsExactly((float) (2.54f / 127.0), (float) (1.27f / 127.0), 0f);
    assertThat(q.values()).containsExactly(127, 50, -1, -127, 50, 0, 0, 0, 0);
  }

  @Test
  void dequantizedWeightsAreWithinHalfAScaleOfTheOriginals() {
    SplittableRandom rnd = new SplittableRandom(5);
    float[] w = new float[16 * 75];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (rnd.nextGaussian() * Math.exp(rnd.nextDouble(-4, 2)));
    }
    Int8Weights.Layout layout = Int8Weights.rows(16, 75);
    Int8Weights q = Int8Weights.quantize(w, layout);
    float[] back = q.dequantize(layout);
    for (int i = 0; i < w.length; i++) {
      float s = q.scales()[i / 75];
      assertThat((double) Math.abs(back[i] - w[i])).as("element %d", i).isLessThanOrEqualTo(s * 0.5000001);
      assertThat((int) q.values()[i]).isBetween(-127, 127);
    }
  }

  @Test
  void quantizeRefusesNonFiniteWeights() {
    assertThatThrownBy(() -> Int8Weights.quantize(new float[] {1, Float.NaN}, Int8Weights.rows(1, 2)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("weight 1");
  }

  @Test
  void convTransposeLayoutScalesByOutputChannelAcrossGroups() {
    // C = 4, K = 6, groups 2: weight [4, 3, 1, 1]; input channels 0, 1 feed outputs 0..2, 2, 3 feed 3..5.
    ConvTransposeGeometry g = new ConvTransposeGeometry(1, 4, 2, 2, 6, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 2);
    Int8Weights.Layout layout = Int8Weights.convTranspose(g);
    int[] channels = new int[layout.size()];
    for (int i = 0; i < channels.length; i++) {
      channels[i] = layout.channelOf(i);
    }
    assertThat(channels).containsExactly(0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5);
  }

  @Test
  void gemmLayoutScalesByOutputColumn() {
    Int8Weights.Layout kn = Int8Weights.gemm(false, 3, 2);
    Int8Weights.Layout nk = Int8Weights.gemm(true, 3, 2);
    assertThat(new int[] {kn.channelOf(0), kn.channelOf(2), kn.channelOf(4), kn.channelOf(5)}).containsExactly(0, 2, 1, 2);
    assertThat(new int[] {nk.channelOf(0), nk.channelOf(1), nk.channelOf(2), nk.channelOf(5)}).containsExactly(0, 0, 1, 2);
  }

  @Test
  void referenceInt8ConvIsTheConvOfTheDequantizedWeights() {
    SplittableRandom rnd = new SplittableRandom(9);
    ConvGeometry g = new ConvGeometry(2, 6, 7, 9, 4, 3, 3, 2, 1, 1, 2, 1, 2, 0, 1, 2);
    float[] x = Floats.uniform(rnd, 2 * 6 * 7 * 9);
    float[] w = Floats.uniform(rnd, (int) g.weightSize());
    float[] bias = Floats.uniform(rnd, 4);
    Int8Weights q = Int8Weights.quantize(w, Int8Weights.conv(g));
    float[] expected = new float[(int) g.outputSize()];
    kernels.conv2d(g, x, q.dequantize(Int8Weights.conv(g)), bias, expected);
    PreparedConv prepared = kernels.prepareConv2dInt8(g, q, bias, null, null);
    float[] y = new float[expected.length];
    prepared.run(x, null, y, new float[prepared.scratchPerWorker()], Parallel.SERIAL);
    assertThat(y).containsExactly(expected);
  }

  @Test
  void referenceInt8GemmIsTheGemmOfTheDequantizedWeights() {
    SplittableRandom rnd = new SplittableRandom(11);
    int m = 3, n = 5, k = 7;
    float[] a = Floats.uniform(rnd, m * k);
    float[] b = Floats.uniform(rnd, n * k);
    for (boolean transB : new boolean[] {false, true}) {
      Int8Weights q = Int8Weights.quantize(b, Int8Weights.gemm(transB, n, k));
      float[] expected = new float[m * n];
      kernels.gemm(false, transB, m, n, k, 1.5f, a, 0, k, q.dequantize(Int8Weights.gemm(transB, n, k)), 0,
          transB ? k : n, 0f, expected, 0, n);
      PreparedGemm prepared = kernels.prepareGemmInt8(transB, n, k, q);
      float[] c = new float[m * n];
      prepared.run(m, false, 1.5f, a, k, 0f, c, new float[0], Parallel.SERIAL);
      assertThat(c).as("transB %s", transB).containsExactly(expected);
    }
  }
}
