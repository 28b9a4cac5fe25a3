package dev.vfuse.simd;

import static dev.vfuse.simd.FloatData.bits;
import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.kernel.Activation;
import dev.vfuse.kernel.ConvEpilogue;
import dev.vfuse.kernel.ConvGeometry;
import dev.vfuse.kernel.Parallel;
import dev.vfuse.kernel.PositionOffsets;
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
 * The prepared {@link F32ConvImplicitGemm} with its fused epilogue, on one thread and on two, is bit for
 * bit the unfused convolution (whose distance to the reference {@link SimdConv2dTest} bounds)
 * followed by the scalar {@link ConvEpilogue#applyTo} (Sigmoid and Tanh: within 1 ulp, see
 * {@link F64ExpActivation}): the split into tasks and channel blocks
 * changes who computes an output, never how. Scratch arrives full of NaN garbage and must not leak.
 */
class F32ConvImplicitGemmTest {

  record Case(VectorSpecies<Float> species, String label, ConvGeometry g, boolean bias, boolean offsets,
      boolean residual, Activation activation) {
    @Override
    public String toString() {
      return bits(species) + " " + label + " bias=" + bias + " offsets=" + offsets + " residual=" + residual + " "
          + activation + " " + g;
    }
  }

  /** Geometries on which {@link F32ConvImplicitGemm#vectorsPerRow} picks each tile, at every width. */
  private static final ConvGeometry WIDE = ConvGeometry.of(1, 5, 30, 30, 11, 3, 1, 1, 1, 1);
  private static final ConvGeometry NARROW = ConvGeometry.of(1, 9, 7, 7, 17, 3, 1, 1, 1, 1);

  @Test
  void bothImplicitTilesAreExercisedAtEveryWidth() {
    for (VectorSpecies<Float> sp : VectorWidth.all()) {
      assertThat(F32ConvImplicitGemm.vectorsPerRow(WIDE, sp.length())).as("%s", sp)
          .isEqualTo(3);
      assertThat(F32ConvImplicitGemm.vectorsPerRow(NARROW, sp.length())).as("%s", sp)
          .isEqualTo(2);
    }
  }

  static Stream<Case> cases() {
    List<Case> cases = new ArrayList<>();
    for (VectorSpecies<Float> sp : VectorWidth.all()) {
      int nr = 2 * sp.length();
      cases.add(new Case(sp, "3x3 pad 1, all epilogue parts", ConvGeometry.of(1, 5, 11, 13, 14, 3, 1, 1, 1, 1),
          true, true, true, new Activation.Relu()));
      cases.add(new Case(sp, "pointwise, 2 tiles + tail, batch 2", ConvGeometry.of(2, 7, 23, 25, nr + 3, 1, 1, 0, 1, 1),
          true, false, true, new Activation.HardSwish()));
      cases.add(new Case(sp, "few positions, many channels (channel blocks)", ConvGeometry.of(1, 9, 3, 3, 40, 3, 1, 1, 1, 1),
          true, true, false, new Activation.Clip(0f, 6f)));
      // 17 panels, 14 to a WeightChunks chunk: on two threads a channel block starts before the boundary
      cases.add(new Case(sp, "channel blocks across two weight chunks", ConvGeometry.of(1, 64, 3, 3, 136, 3, 1, 1, 1, 1),
          true, false, true, new Activation.Relu()));
      cases.add(new Case(sp, "stride 2, groups 2, sigmoid", ConvGeometry.of(2, 6, 12, 9, 10, 3, 2, 1, 1, 2),
          false, true, true, new Activation.Sigmoid()));
      cases.add(new Case(sp, "reduction over 2 blocks, no epilogue", ConvGeometry.of(1, 40, 7, 8, 7, 3, 1, 1, 1, 1),
          true, false, false, null));
      cases.add(new Case(sp, "wide tile (3 vectors a row)", WIDE, true, true, false, new Activation.Relu()));
      cases.add(new Case(sp, "narrow tile (2 vectors a row)", NARROW, true, false, true, new Activation.HardSwish()));
      cases.add(new Case(sp, "7x7 stride 2 pad 3 (resnet stem)", ConvGeometry.of(1, 3, 37, 34, 9, 7, 2, 3, 1, 1),
          true, false, true, new Activation.Relu()));
      cases.add(new Case(sp, "1x1 stride 2 (one phase of four)", ConvGeometry.of(2, 6, 13, 12, 10, 1, 2, 0, 1, 1),
          true, true, false, null));
      cases.add(new Case(sp, "3x3 stride 3x2, dilation 2x1, asymmetric pads",
          new ConvGeometry(1, 4, 17, 15, 9, 3, 3, 3, 2, 2, 1, 2, 0, 1, 2, 1), false, true, true,
          new Activation.Clip(-1f, 1f)));
      cases.add(new Case(sp, "7x7 dilation 3, asymmetric pads, batch 2",
          new ConvGeometry(2, 3, 13, 11, 8, 7, 7, 1, 1, 3, 3, 9, 1, 0, 8, 1), true, true, true, new Activation.LeakyRelu(0.2f)));
    }
    return cases.stream();
  }

  private static PreparedConv prepare(Case c, float[] w, float[] bias, PositionOffsets offsets,
      Activation activation) {
    return F32ConvImplicitGemm.prepare(c.species(), c.g(), w, bias, offsets, activation);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void preparedEqualsConvThenScalarEpilogue(Case c) {
    ConvGeometry g = c.g();
    SplittableRandom rnd = FloatData.random(c.species().vectorBitSize(), c.label().hashCode());
    int size = (int) g.outputSize();
    int plane = g.p() * g.q();
    float[] x = FloatData.floats(rnd, (int) g.inputSize(), 0);
    float[] w = FloatData.floats(rnd, (int) g.weightSize(), 0);
    float[] bias = c.bias() ? FloatData.floats(rnd, g.k(), 0) : null;
    PositionOffsets offsets = c.offsets() ? FloatData.offsets(rnd, g.k(), g.p(), g.q()) : null;
    float[] residual = c.residual() ? FloatData.floats(rnd, size, 0) : null;

    float[] expected = FloatData.sentinels(size);
    PreparedConv plain = prepare(c, w, bias, null, null);
    plain.run(x, null, expected, garbage(plain.scratchPerWorker()), Parallel.SERIAL);
    new ConvEpilogue(offsets, residual, c.activation()).applyTo(g.n(), g.k(), plane, expected);

    PreparedConv fused = prepare(c, w, bias, offsets, c.activation());
    for (Parallel parallel : new Parallel[] {Parallel.SERIAL, TwoThreads.INSTANCE}) {
      float[] actual = FloatData.sentinels(size);
      fused.run(x, residual, actual, garbage(fused.scratchPerWorker() * parallel.threads()), parallel);
      if (FloatData.ulpActivation(c.activation())) {
        FloatData.assertWithinUlps(c + " on " + parallel.threads() + " thread(s)", expected, actual, 1);
      } else {
        FloatData.assertSame(c + " on " + parallel.threads() + " thread(s)", expected, actual);
      }
    }
  }

  private static float[] garbage(int n) {
    float[] a = new float[n];
    Arrays.fill(a, Float.NaN);
    return a;
  }
}
