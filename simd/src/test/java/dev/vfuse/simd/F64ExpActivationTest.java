package dev.vfuse.simd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.kernel.Activation;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link F64ExpActivation} against {@link Activation.Sigmoid#apply} and {@link Activation.Tanh#apply}:
 * every element within 1 ulp, at least 99.9% of them bit-identical, on every width, at lengths
 * around the lane count and at offsets; saturated tails (|x| up to 120, where e^x overflows float
 * but not double), ±0, ±∞ and NaN included; elements outside the range untouched.
 */
class F64ExpActivationTest {

  static List<Object[]> cases() {
    List<Object[]> out = new ArrayList<>();
    for (VectorSpecies<Float> sp : VectorWidth.all()) {
      for (boolean tanh : new boolean[] {false, true}) {
        FloatData.lengthsAround(sp).forEach(n -> out.add(new Object[] {sp, tanh, n}));
        out.add(new Object[] {sp, tanh, 100_000});
      }
    }
    return out;
  }

  @ParameterizedTest
  @MethodSource("cases")
  void withinOneUlpOfTheScalarDefinition(VectorSpecies<Float> sp, boolean tanh, int n) {
    Activation f = tanh ? new Activation.Tanh() : new Activation.Sigmoid();
    SplittableRandom r = new SplittableRandom(n * 7919L + sp.vectorBitSize() + (tanh ? 1 : 0));
    float[] special = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 88.7f, -88.7f, 120f,
        -120f, 1e-30f, -1e-30f, Float.MIN_VALUE};
    int off = 3;
    float[] y = new float[off + n + 4];
    for (int i = 0; i < y.length; i++) {
      y[i] = r.nextInt(16) == 0 ? special[r.nextInt(special.length)]
          : (float) (r.nextBoolean() ? r.nextDouble(-12, 12) : r.nextDouble(-120, 120));
    }
    float[] expected = y.clone();
    for (int i = off; i < off + n; i++) {
      expected[i] = f.apply(expected[i]);
    }
    F64ExpActivation.apply(sp, tanh, y, off, n);
    String context = f + " " + sp + " n=" + n;
    FloatData.assertWithinUlps(context, expected, y, 1);
    int identical = 0;
    for (int i = 0; i < y.length; i++) {
      identical += FloatData.same(expected[i], y[i]) ? 1 : 0;
    }
    assertThat(identical).as(context + ": bit-identical elements").isGreaterThanOrEqualTo((int) (0.999 * y.length));
  }
}
