package dev.vfuse.simd;

import static dev.vfuse.simd.FloatData.assertSame;
import static dev.vfuse.simd.FloatData.bits;

import dev.vfuse.reference.ReferenceKernels;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@link SimdKernels#scaleShift} against the reference, bit for bit, on every species. */
class SimdScaleShiftTest {

  private static final ReferenceKernels REFERENCE = new ReferenceKernels();

  /**
   * [N, C, spatial] with the spatial run at every length around L (the per-plane path), and
   * spatial = 1 with C around L (the per-channel path), plus empty tensors.
   */
  static Stream<Arguments> shapes() {
    return VectorWidth.all().stream().flatMap(species -> {
      int l = species.length();
      Stream<int[]> planes = FloatData.lengthsAround(species)
          .filter(s -> s > 0)
          .boxed()
          .flatMap(s -> Stream.of(new int[] {1, 1, s}, new int[] {2, 3, s}));
      Stream<int[]> channels = IntStream.of(1, l - 1, l, l + 1, 2 * l + 3, 1000).distinct()
          .boxed()
          .flatMap(c -> Stream.of(new int[] {1, c, 1}, new int[] {3, c, 1}));
      Stream<int[]> empty = Stream.of(new int[] {0, 3, l}, new int[] {2, 3, 0});
      return Stream.of(planes, channels, empty).flatMap(s -> s)
          .map(nCs -> Arguments.of(species, nCs[0], nCs[1], nCs[2]));
    });
  }

  @ParameterizedTest(name = "{0} n={1} c={2} spatial={3}")
  @MethodSource("shapes")
  void matchesReference(VectorSpecies<Float> species, int n, int c, int spatial) {
    SplittableRandom rnd = FloatData.random(species.vectorBitSize(), n, c, spatial);
    int size = n * c * spatial;
    float[] x = FloatData.floats(rnd, size, 0.05);
    float[] scale = FloatData.floats(rnd, c, 0.1);
    float[] shift = FloatData.floats(rnd, c, 0.1);
    SimdKernels simd = new SimdKernels(species);
    String context = "scaleShift [N=" + n + ", C=" + c + ", spatial=" + spatial + "] on " + bits(species)
        + " species " + species;

    float[] expected = FloatData.sentinels(size);
    REFERENCE.scaleShift(n, c, spatial, x.clone(), scale.clone(), shift.clone(), expected);
    float[] actual = FloatData.sentinels(size);
    float[] input = x.clone();
    simd.scaleShift(n, c, spatial, input, scale, shift, actual);
    assertSame(context, expected, actual);
    assertSame(context + ": input changed", x, input);

    // y may be x.
    float[] expectedInPlace = x.clone();
    REFERENCE.scaleShift(n, c, spatial, expectedInPlace, scale, shift, expectedInPlace);
    float[] inPlace = x.clone();
    simd.scaleShift(n, c, spatial, inPlace, scale, shift, inPlace);
    assertSame(context + ", in place", expectedInPlace, inPlace);
  }
}
