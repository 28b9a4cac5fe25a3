package dev.vfuse.simd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.kernel.Activation;
import dev.vfuse.kernel.ConvEpilogue;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The vector epilogue is bit-identical to {@link ConvEpilogue#applyTo} (Sigmoid within 1 ulp), on
 * every width and around the vector length.
 */
class SimdEpilogueTest {

  static List<Object[]> cases() {
    List<Object[]> out = new ArrayList<>();
    Activation[] acts = {null, new Activation.Relu(), new Activation.HardSwish(), new Activation.Clip(0, 6), new Activation.Sigmoid()};
    for (VectorSpecies<Float> sp : VectorWidth.all()) {
      int l = sp.length();
      for (int plane : new int[] {1, l - 1, l, l + 1, 2 * l + 3}) {
        for (int mask = 0; mask < 4; mask++) {
          out.add(new Object[] {sp, plane, (mask & 1) != 0, (mask & 2) != 0, acts[(plane + mask) % acts.length]});
        }
      }
    }
    return out;
  }

  @ParameterizedTest
  @MethodSource("cases")
  void matchesTheScalarEpilogueBitForBit(VectorSpecies<Float> sp, int plane, boolean offsets, boolean residual, Activation act) {
    int n = 2;
    int k = 3;
    SplittableRandom r = new SplittableRandom(plane * 31L + k);
    float[] y = random(r, n * k * plane);
    ConvEpilogue e = new ConvEpilogue(offsets ? random(r, k * plane) : null, residual ? random(r, n * k * plane) : null, act);
    float[] expected = y.clone();
    e.applyTo(n, k, plane, expected);
    new SimdKernels(sp).applyEpilogue(n, k * plane, e, y);
    String context = String.format("%s plane=%d offsets=%s residual=%s %s", sp, plane, offsets, residual, act);
    if (FloatData.ulpActivation(act)) {
      FloatData.assertWithinUlps(context, expected, y, 1);
    } else {
      assertThat(y).as(context).containsExactly(expected);
    }
  }

  private static float[] random(SplittableRandom r, int n) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) r.nextDouble(-8, 8);
    }
    return a;
  }
}
