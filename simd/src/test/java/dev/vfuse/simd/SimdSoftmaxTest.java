package dev.vfuse.simd;

import static dev.vfuse.simd.FloatData.bits;

import dev.vfuse.reference.ReferenceKernels;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link SimdKernels#softmax} against the reference on every species: within 1 ulp along a
 * contiguous axis ({@link F64ExpActivation#softmaxRows} rounds the exponential to float once before
 * dividing), bit for bit along a strided one (the reference itself); row lengths around the vector
 * length and the recognizers' 6625, values spread over [−30, 30] so that exponentials underflow in
 * some rows, −∞ entries (exactly 0), a row of −∞ and a row with NaN (NaN everywhere in the row),
 * in place and not. Memory past the output stays untouched.
 */
class SimdSoftmaxTest {
  private static final ReferenceKernels REFERENCE = new ReferenceKernels();

  static Stream<Arguments> cases() {
    List<Arguments> out = new ArrayList<>();
    for (VectorSpecies<Float> sp : VectorWidth.all()) {
      int l = sp.length() / 2; // the double lanes of the kernel
      for (int len : new int[] {1, 2, l - 1, l, l + 1, 2 * l + 3, 15, 40, 6625}) {
        if (len >= 1) {
          out.add(Arguments.of(sp, 5, len, 1));
        }
      }
      out.add(Arguments.of(sp, 2, 7, 3)); // strided axis: the reference
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} outer={1} axis={2} inner={3}")
  @MethodSource("cases")
  void matchesReference(VectorSpecies<Float> species, int outer, int axis, int inner) {
    SplittableRandom rnd = FloatData.random(species.vectorBitSize(), outer, axis, inner);
    int n = outer * axis * inner;
    float[] x = FloatData.floats(rnd, n, 0);
    for (int i = 0; i < n; i++) {
      x[i] *= 30f / 8f;
    }
    if (axis > 1 && inner == 1) {
      x[rnd.nextInt(axis)] = Float.NEGATIVE_INFINITY; // row 0: one −∞, exactly 0 out
      for (int i = axis; i < 2 * axis; i++) {
        x[i] = Float.NEGATIVE_INFINITY; // row 1: all −∞, NaN out (−∞ − (−∞))
      }
      x[2 * axis + rnd.nextInt(axis)] = Float.NaN; // row 2: NaN propagates
    }
    String context = "softmax on " + bits(species) + " outer=" + outer + " axis=" + axis + " inner=" + inner;
    float[] expected = FloatData.sentinels(n);
    REFERENCE.softmax(outer, axis, inner, x.clone(), expected);
    float[] actual = FloatData.sentinels(n);
    new SimdKernels(species).softmax(outer, axis, inner, x.clone(), actual);
    FloatData.assertWithinUlps(context, expected, actual, inner == 1 ? 1 : 0);
    float[] inPlace = x.clone();
    float[] expectedInPlace = x.clone();
    REFERENCE.softmax(outer, axis, inner, expectedInPlace, expectedInPlace);
    new SimdKernels(species).softmax(outer, axis, inner, inPlace, inPlace);
    FloatData.assertWithinUlps(context + ", in place", expectedInPlace, inPlace, inner == 1 ? 1 : 0);
  }
}
