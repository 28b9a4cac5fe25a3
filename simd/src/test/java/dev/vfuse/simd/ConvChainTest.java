package dev.vfuse.simd;

import static dev.vfuse.simd.FloatData.bits;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vfuse.kernel.Activation;
import dev.vfuse.kernel.BandedConv;
import dev.vfuse.kernel.ChannelBlocks;
import dev.vfuse.kernel.ConvChain;
import dev.vfuse.kernel.ConvGeometry;
import dev.vfuse.kernel.Parallel;
import dev.vfuse.kernel.PreparedConv;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link ConvChain} on the blocked kernels ({@link F32ConvBlocked}, {@link F32DwConvBlocked}) must
 * give the layer-by-layer result bit for bit, the final output and every intermediate, at every
 * width, on one thread and two, with bands of 1, 2 and 3 final rows (many bands, halos that
 * overlap the previous band's rows) and the chain's own band size. Chains as mobile networks have
 * them: 1×1 → depthwise → 1×1 with a residual (depthwise on the padded-copy path and the row path,
 * stride 1 and 2, 3×3 and 5×5), the stem on a plain input → depthwise → 1×1, depthwise → 1×1,
 * four stages, two images. The stage kernels themselves are held to the reference by
 * {@link F32ConvBlockedTest}; the padding lanes of the input and residuals hold NaN.
 */
class ConvChainTest {
  /** One stage: k output channels (0: depthwise), kernel, stride, pad, a residual or not. */
  record Stage(int k, int kernel, int stride, int pad, boolean residual, Activation activation) {}

  record Case(VectorSpecies<Float> species, int n, int c, int h, int w, boolean plainInput, List<Stage> stages) {
    @Override
    public String toString() {
      return bits(species) + " x=[" + n + "," + c + "," + h + "," + w + "]" + (plainInput ? " plain" : "") + " " + stages;
    }
  }

  static Stream<Case> cases() {
    List<Case> cases = new ArrayList<>();
    Activation relu6 = new Activation.Clip(0f, 6f);
    Activation hswish = new Activation.HardSwish();
    for (VectorSpecies<Float> sp : VectorWidth.all()) {
      int l = sp.length();
      // Inverted residual, stride 1: the depthwise conv (q = 16) runs from its padded copy.
      cases.add(new Case(sp, 1, l + 3, 15, 16, false, List.of(new Stage(3 * l + 2, 1, 1, 0, false, relu6),
          new Stage(0, 3, 1, 1, false, relu6), new Stage(l + 3, 1, 1, 0, true, null))));
      // Stride 2 on the row path (q = 15).
      cases.add(new Case(sp, 1, 2 * l, 23, 30, false, List.of(new Stage(2 * l + 5, 1, 1, 0, false, new Activation.Relu()),
          new Stage(0, 3, 2, 1, false, new Activation.Relu()), new Stage(l, 1, 1, 0, false, null))));
      // The stem on the plain image, then depthwise and pointwise.
      cases.add(new Case(sp, 1, 3, 33, 35, true, List.of(new Stage(l + 1, 3, 2, 1, false, hswish),
          new Stage(0, 3, 1, 1, false, hswish), new Stage(2 * l, 1, 1, 0, false, null))));
      // Two images, 5×5 stride 2.
      cases.add(new Case(sp, 2, l, 20, 21, false, List.of(new Stage(2 * l, 1, 1, 0, false, hswish),
          new Stage(0, 5, 2, 2, true, hswish))));
      // Depthwise first, then pointwise with a residual.
      cases.add(new Case(sp, 1, 2 * l + 1, 16, 16, false, List.of(new Stage(0, 3, 1, 1, false, relu6),
          new Stage(l, 1, 1, 0, true, null))));
      // Four stages.
      cases.add(new Case(sp, 1, l, 18, 18, false, List.of(new Stage(2 * l, 1, 1, 0, false, relu6),
          new Stage(0, 3, 1, 1, false, relu6), new Stage(l + 2, 1, 1, 0, false, null), new Stage(0, 3, 2, 1, false, null))));
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void matchesLayerByLayer(Case t) {
    int l = t.species().length();
    SimdKernels simd = new SimdKernels(t.species());
    SplittableRandom rnd = FloatData.random(t.species().vectorBitSize(), t.toString().hashCode());
    List<BandedConv> stages = new ArrayList<>();
    List<float[]> residuals = new ArrayList<>();
    int c = t.c(), h = t.h(), w = t.w();
    for (int s = 0; s < t.stages().size(); s++) {
      Stage st = t.stages().get(s);
      int k = st.k() == 0 ? c : st.k();
      ConvGeometry g = ConvGeometry.of(t.n(), c, h, w, k, st.kernel(), st.stride(), st.pad(), 1, st.k() == 0 ? c : 1);
      float[] weight = FloatData.floats(rnd, (int) g.weightSize(), 0);
      float[] bias = FloatData.floats(rnd, k, 0);
      PreparedConv prepared = simd.prepareBlockedConv(g, !(s == 0 && t.plainInput()), l, weight, bias, st.activation());
      assertThat(prepared).as("%s stage %d", t, s).isInstanceOf(BandedConv.class);
      stages.add((BandedConv) prepared);
      residuals.add(st.residual() ? F32ConvBlockedTest.blockedWithNanPadding(g.n(), k, g.p() * g.q(), l,
          FloatData.floats(rnd, (int) g.outputSize(), 0)) : null);
      c = k;
      h = g.p();
      w = g.q();
    }
    float[] plainX = FloatData.floats(rnd, t.n() * t.c() * t.h() * t.w(), 0);
    float[] x = t.plainInput() ? plainX : F32ConvBlockedTest.blockedWithNanPadding(t.n(), t.c(), t.h() * t.w(), l, plainX);

    int last = stages.size() - 1;
    float[][] expected = new float[stages.size()][];
    float[] in = x;
    for (int s = 0; s <= last; s++) {
      BandedConv stage = stages.get(s);
      expected[s] = FloatData.sentinels(outputSize(stage.geometry(), l));
      stage.run(in, residuals.get(s), expected[s], PreparedConvCheck.scratch(stage, Parallel.SERIAL), Parallel.SERIAL);
      in = expected[s];
    }

    ConvChain chain = new ConvChain(stages, l);
    float[][] residualArray = residuals.toArray(float[][]::new);
    for (ConvChain banded : List.of(chain, chain.withBandRows(1), chain.withBandRows(2), chain.withBandRows(3))) {
      for (Parallel parallel : List.of(Parallel.SERIAL, TwoThreads.INSTANCE)) {
        String where = t + ", bands of " + banded.bandRows() + " rows, " + parallel;
        float[][] intermediates = new float[last][];
        for (int s = 0; s < last; s++) {
          intermediates[s] = FloatData.sentinels(outputSize(stages.get(s).geometry(), l));
        }
        float[] y = FloatData.sentinels(outputSize(stages.get(last).geometry(), l));
        float[] xIn = x.clone();
        banded.run(xIn, residualArray, intermediates, y, new float[banded.scratchPerWorker() * parallel.threads()], parallel);
        for (int s = 0; s < last; s++) {
          FloatData.assertSame(where + ": intermediate " + s, expected[s], intermediates[s]);
        }
        FloatData.assertSame(where + ": output", expected[last], y);
        FloatData.assertSame(where + ": x changed", x, xIn);
      }
    }
  }

  /** A band is as tall as the intermediate rows it needs allow: ≥ 1, and the whole plane when everything fits. */
  @Test
  void bandsFitTheirBudget() {
    SimdKernels simd = new SimdKernels(VectorWidth.all().get(0));
    int l = VectorWidth.all().get(0).length();
    // mobilenet_v2's second block: 16 → 96 at 112², depthwise stride 2: 43 KB an expanded row.
    ConvGeometry expand = ConvGeometry.of(1, 16, 112, 112, 96, 1, 1, 0, 1, 1);
    ConvGeometry dw = ConvGeometry.of(1, 96, 112, 112, 96, 3, 2, 1, 1, 96);
    ConvChain big = new ConvChain(List.of(banded(simd, expand, l), banded(simd, dw, l)), l);
    long rowBytes = 112L * 96 * Float.BYTES;
    assertThat(big.bandRows()).isGreaterThanOrEqualTo(1);
    assertThat((2L * big.bandRows() + 1) * rowBytes).isLessThanOrEqualTo(512 << 10);
    assertThat((2L * (big.bandRows() + 1) + 1) * rowBytes).isGreaterThan(512 << 10);
    // A 7×7 stage fits whole.
    ConvGeometry small = ConvGeometry.of(1, 16, 7, 7, 32, 1, 1, 0, 1, 1);
    ConvGeometry smallDw = ConvGeometry.of(1, 32, 7, 7, 32, 3, 1, 1, 1, 32);
    assertThat(new ConvChain(List.of(banded(simd, small, l), banded(simd, smallDw, l)), l).bandRows()).isEqualTo(7);
  }

  @Test
  void refusesStagesThatDoNotConnect() {
    SimdKernels simd = new SimdKernels(VectorWidth.all().get(0));
    int l = VectorWidth.all().get(0).length();
    BandedConv a = banded(simd, ConvGeometry.of(1, 8, 10, 10, 16, 1, 1, 0, 1, 1), l);
    BandedConv b = banded(simd, ConvGeometry.of(1, 17, 10, 10, 17, 3, 1, 1, 1, 17), l);
    assertThatThrownBy(() -> new ConvChain(List.of(a, b), l)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("does not read stage 0");
    assertThatThrownBy(() -> new ConvChain(List.of(a), l)).isInstanceOf(IllegalArgumentException.class);
  }

  private static BandedConv banded(SimdKernels simd, ConvGeometry g, int l) {
    float[] weight = new float[(int) g.weightSize()];
    Arrays.fill(weight, 0.5f);
    return (BandedConv) simd.prepareBlockedConv(g, true, l, weight, null, null);
  }

  private static int outputSize(ConvGeometry g, int block) {
    return ChannelBlocks.size(g.n(), g.k(), g.p() * g.q(), block);
  }

}
