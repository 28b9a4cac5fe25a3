package dev.vfuse.simd;

import static dev.vfuse.simd.FloatData.assertSame;
import static dev.vfuse.simd.FloatData.bits;

import dev.vfuse.kernel.UnaryOp;
import dev.vfuse.reference.ReferenceKernels;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link SimdKernels#unary} against the reference on every species, bit for bit: the ops with a
 * vector loop are one IEEE operation each (Sqrt, Reciprocal, Neg, Abs, Pow's x·x and x^0.5), and
 * Exp, Log and Erf run the reference itself. Random data with edge values (±0, ±∞, NaN,
 * subnormals, ±MAX), lengths around the vector length, in place and not.
 */
class SimdUnaryTest {
  private static final ReferenceKernels REFERENCE = new ReferenceKernels();

  static Stream<Arguments> cases() {
    return VectorWidth.all().stream().flatMap(species -> Arrays.stream(UnaryOp.values()).flatMap(op ->
        FloatData.lengthsAround(species).mapToObj(n -> Arguments.of(species, op, n))));
  }

  static Stream<Arguments> edgeCases() {
    return VectorWidth.all().stream().flatMap(species -> Arrays.stream(UnaryOp.values()).map(op -> Arguments.of(species, op)));
  }

  @ParameterizedTest(name = "{0} {1} n={2}")
  @MethodSource("cases")
  void matchesReferenceOnRandomDataWithEdgeValues(VectorSpecies<Float> species, UnaryOp op, int n) {
    SplittableRandom rnd = FloatData.random(species.vectorBitSize(), n, op.hashCode());
    check(species, op, n, FloatData.floats(rnd, n, 0.2));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("edgeCases")
  void matchesReferenceOnEveryEdgeValue(VectorSpecies<Float> species, UnaryOp op) {
    int n = FloatData.EDGES.length;
    float[] x = FloatData.sentinels(n);
    System.arraycopy(FloatData.EDGES, 0, x, 0, n);
    check(species, op, n, x);
  }

  private static void check(VectorSpecies<Float> species, UnaryOp op, int n, float[] x) {
    SimdKernels simd = new SimdKernels(species);
    String context = "unary " + op + " on " + bits(species) + " species " + species + ", length " + n;
    float[] expected = FloatData.sentinels(n);
    REFERENCE.unary(op, n, x.clone(), expected);
    float[] actual = FloatData.sentinels(n);
    float[] input = x.clone();
    simd.unary(op, n, input, actual);
    assertSame(context, expected, actual);
    assertSame(context + ": input changed", x, input);
    float[] expectedInPlace = x.clone();
    REFERENCE.unary(op, n, expectedInPlace, expectedInPlace);
    float[] inPlace = x.clone();
    simd.unary(op, n, inPlace, inPlace);
    assertSame(context + ", in place", expectedInPlace, inPlace);
  }
}
