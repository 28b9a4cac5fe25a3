package dev.vfuse.simd;

import static dev.vfuse.simd.FloatData.assertSame;
import static dev.vfuse.simd.FloatData.bits;

import dev.vfuse.kernel.Activation;
import dev.vfuse.reference.ReferenceKernels;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link SimdKernels#activation} against the reference on every species: bit for bit, except
 * Sigmoid and Tanh, within 1 ulp (see {@link F64ExpActivation}).
 */
class SimdActivationTest {

  private static final ReferenceKernels REFERENCE = new ReferenceKernels();

  /** Every variant, with ONNX defaults and parameters that stress the corner cases. */
  static final List<Activation> ACTIVATIONS = List.of(
      new Activation.Relu(),
      new Activation.LeakyRelu(0.01f),
      new Activation.LeakyRelu(-1.5f),
      new Activation.Clip(0f, 6f),
      new Activation.Clip(-1f, 1f),
      new Activation.Clip(2f, -2f), // min > max: the min test wins, as in the reference
      new Activation.Clip(Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY),
      new Activation.Sigmoid(),
      new Activation.HardSigmoid(0.2f, 0.5f),
      new Activation.HardSigmoid(1f / 6f, 0.5f),
      new Activation.HardSigmoid(-0.7f, -0f),
      new Activation.HardSwish(),
      new Activation.Tanh());

  static Stream<Arguments> cases() {
    return VectorWidth.all().stream().flatMap(species -> ACTIVATIONS.stream().flatMap(f ->
        FloatData.lengthsAround(species).mapToObj(n -> Arguments.of(species, f, n))));
  }

  static Stream<Arguments> edgeCases() {
    return VectorWidth.all().stream().flatMap(species -> ACTIVATIONS.stream().map(f -> Arguments.of(species, f)));
  }

  @ParameterizedTest(name = "{0} {1} n={2}")
  @MethodSource("cases")
  void matchesReferenceOnRandomDataWithEdgeValues(VectorSpecies<Float> species, Activation f, int n) {
    SplittableRandom rnd = FloatData.random(species.vectorBitSize(), n, f.hashCode());
    check(species, f, n, FloatData.floats(rnd, n, 0.2));
  }

  /** Every edge value once, in full vectors and in the masked tail. */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("edgeCases")
  void matchesReferenceOnEveryEdgeValue(VectorSpecies<Float> species, Activation f) {
    int n = FloatData.EDGES.length;
    float[] x = FloatData.sentinels(n);
    System.arraycopy(FloatData.EDGES, 0, x, 0, n);
    check(species, f, n, x);
  }

  private static void check(VectorSpecies<Float> species, Activation f, int n, float[] x) {
    SimdKernels simd = new SimdKernels(species);
    String context = "activation " + f + " on " + bits(species) + " species " + species + ", length " + n;

    float[] expected = FloatData.sentinels(n);
    REFERENCE.activation(f, n, x.clone(), expected);

    float[] actual = FloatData.sentinels(n);
    float[] input = x.clone();
    simd.activation(f, n, input, actual);
    compare(f, context, expected, actual);
    assertSame(context + ": input changed", x, input);

    // y may be x.
    float[] expectedInPlace = x.clone();
    REFERENCE.activation(f, n, expectedInPlace, expectedInPlace);
    float[] inPlace = x.clone();
    simd.activation(f, n, inPlace, inPlace);
    compare(f, context + ", in place", expectedInPlace, inPlace);
  }

  private static void compare(Activation f, String context, float[] expected, float[] actual) {
    if (FloatData.ulpActivation(f)) {
      FloatData.assertWithinUlps(context, expected, actual, 1);
    } else {
      assertSame(context, expected, actual);
    }
  }
}
