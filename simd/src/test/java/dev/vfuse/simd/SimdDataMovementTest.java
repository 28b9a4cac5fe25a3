package dev.vfuse.simd;

import static dev.vfuse.simd.FloatData.assertSame;

import dev.vfuse.kernel.Parallel;
import dev.vfuse.kernel.ResizeSpec;
import dev.vfuse.reference.ReferenceKernels;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link SimdKernels#resize2d} (NEAREST: row gathers and row copies, planes split over threads)
 * and {@link SimdKernels#concat} (output pieces split over threads) against the reference, bit for
 * bit, at every vector width, on one thread and on two, with arrays longer than their tensors.
 */
class SimdDataMovementTest {

  private static final ReferenceKernels REFERENCE = new ReferenceKernels();
  private static final List<Parallel> PARALLELS = List.of(Parallel.SERIAL, TwoThreads.INSTANCE);

  /** Random NEAREST resizes: up and down, integer and fractional scales, every coordinate and rounding mode. */
  static Stream<Arguments> resizes() {
    return IntStream.range(0, 60).mapToObj(seed -> {
      SplittableRandom rnd = new SplittableRandom(seed);
      int n = 1 + rnd.nextInt(2);
      int c = 1 + rnd.nextInt(5);
      int h = 1 + rnd.nextInt(9);
      int w = 1 + rnd.nextInt(9);
      // Every third case an integer upsampling (the FPN shape: 2, 4, 8), else any size 1..20.
      int factor = seed % 3 == 0 ? 1 << (1 + rnd.nextInt(3)) : 0;
      int outH = factor > 0 ? h * factor : 1 + rnd.nextInt(20);
      int outW = factor > 0 ? w * factor : 1 + rnd.nextInt(20);
      ResizeSpec.CoordinateMode[] coords = ResizeSpec.CoordinateMode.values();
      ResizeSpec.NearestMode[] rounding = ResizeSpec.NearestMode.values();
      ResizeSpec spec = new ResizeSpec(ResizeSpec.Mode.NEAREST, coords[seed % coords.length],
          rounding[(seed / coords.length) % rounding.length], (double) outH / h, (double) outW / w);
      return Arguments.of(n, c, h, w, outH, outW, spec);
    });
  }

  @ParameterizedTest(name = "n={0} c={1} {2}x{3} -> {4}x{5} {6}")
  @MethodSource("resizes")
  void nearestResizeMatchesReference(int n, int c, int h, int w, int outH, int outW, ResizeSpec spec) {
    SplittableRandom rnd = FloatData.random(n, c, h, w, outH, outW, spec.hashCode());
    float[] x = FloatData.floats(rnd, n * c * h * w, 0.1);
    int size = n * c * outH * outW;
    float[] expected = FloatData.sentinels(size);
    REFERENCE.resize2d(n, c, h, w, outH, outW, spec, x.clone(), expected);
    for (VectorSpecies<Float> sp : VectorWidth.all()) {
      SimdKernels simd = new SimdKernels(sp);
      for (Parallel parallel : PARALLELS) {
        float[] xIn = x.clone();
        float[] actual = FloatData.sentinels(size);
        simd.resize2d(n, c, h, w, outH, outW, spec, xIn, actual, parallel);
        String context = "resize " + spec + ", " + FloatData.bits(sp) + ", " + parallel;
        assertSame(context, expected, actual);
        assertSame(context + ": x changed", x, xIn);
      }
    }
  }

  /** Random concats: one to four inputs, outer and inner from 1, pieces that split inside a row. */
  static Stream<Arguments> concats() {
    return IntStream.range(0, 40).mapToObj(seed -> {
      SplittableRandom rnd = new SplittableRandom(1000 + seed);
      int inputs = 1 + rnd.nextInt(4);
      int[] lens = new int[inputs];
      for (int j = 0; j < inputs; j++) {
        lens[j] = 1 + rnd.nextInt(6);
      }
      return Arguments.of(1 + rnd.nextInt(4), lens, 1 + rnd.nextInt(40));
    });
  }

  @ParameterizedTest(name = "outer={0} lens={1} inner={2}")
  @MethodSource("concats")
  void concatMatchesReference(int outer, int[] lens, int inner) {
    SplittableRandom rnd = FloatData.random(outer, inner, lens.length, lens[0]);
    float[][] xs = new float[lens.length][];
    int axis = 0;
    for (int j = 0; j < lens.length; j++) {
      xs[j] = FloatData.floats(rnd, outer * lens[j] * inner, 0.1);
      axis += lens[j];
    }
    int size = outer * axis * inner;
    float[] expected = FloatData.sentinels(size);
    REFERENCE.concat(outer, lens, inner, xs, expected);
    for (VectorSpecies<Float> sp : VectorWidth.all()) {
      SimdKernels simd = new SimdKernels(sp);
      for (Parallel parallel : PARALLELS) {
        float[] actual = FloatData.sentinels(size);
        simd.concat(outer, lens, inner, xs, actual, parallel);
        assertSame("concat, " + FloatData.bits(sp) + ", " + parallel, expected, actual);
      }
    }
  }
}
