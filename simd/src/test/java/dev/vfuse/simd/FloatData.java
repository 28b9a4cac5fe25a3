package dev.vfuse.simd;

import static org.assertj.core.api.Assertions.fail;

import dev.vfuse.kernel.PositionOffsets;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import jdk.incubator.vector.VectorSpecies;

/** Seeded test data and the exact comparison every simd test uses. */
final class FloatData {

  /** Base seed of every generator in the simd tests. */
  static final long SEED = 0x5EED_F00DL;

  /** Written past the end of every output tensor; a kernel that touches it writes out of range. */
  static final float SENTINEL = -1234.5678f;

  /** Elements added after each tensor: arrays may be longer than the tensor they hold. */
  static final int SLACK = 5;

  /**
   * Values where float semantics are easy to get wrong: NaNs (three payloads), infinities, both
   * zeros, denormals, extremes, and the knees of the activations (0, ±1, ±3, ±6, −2.5, 2.5, 0.5).
   */
  static final float[] EDGES = {
    Float.NaN, Float.intBitsToFloat(0x7fc0_0001), Float.intBitsToFloat(0xffc0_0000),
    Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f,
    Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, -Float.MIN_NORMAL,
    Float.MAX_VALUE, -Float.MAX_VALUE,
    1f, -1f, 3f, -3f, 6f, -6f, 2.5f, -2.5f, 0.5f, -0.5f,
    Math.nextUp(6f), Math.nextDown(0f), Math.nextUp(-3f), Math.nextDown(3f),
  };

  private FloatData() {}

  /** A generator whose seed depends only on the base seed and the given parts. */
  static SplittableRandom random(long... parts) {
    long seed = SEED;
    for (long p : parts) {
      seed = seed * 0x9E37_79B9_7F4A_7C15L + p;
    }
    return new SplittableRandom(seed);
  }

  /**
   * n values uniform in [−8, 8), then {@link #SLACK} more; when {@code edgeFraction} > 0 that
   * fraction of the n is replaced by random {@link #EDGES}.
   */
  static float[] floats(SplittableRandom rnd, int n, double edgeFraction) {
    float[] x = new float[n + SLACK];
    for (int i = 0; i < x.length; i++) {
      x[i] = rnd.nextDouble() < edgeFraction && i < n
          ? EDGES[rnd.nextInt(EDGES.length)]
          : (float) (rnd.nextDouble() * 16 - 8);
    }
    return x;
  }

  /** Offsets [k, p, q] of values uniform in [−8, 8), about half the rows repeating an earlier one. */
  static PositionOffsets offsets(SplittableRandom rnd, int k, int p, int q) {
    return withRepeatedRows(rnd, k, p, q, Arrays.copyOf(floats(rnd, k * p * q, 0), k * p * q));
  }

  /**
   * The dense map [k, p, q] after about half its rows were overwritten, in every channel, by an
   * earlier row: kernels then meet row classes shared by several output rows, not one class a row.
   */
  static PositionOffsets withRepeatedRows(SplittableRandom rnd, int k, int p, int q, float[] dense) {
    for (int row = 1; row < p; row++) {
      if (rnd.nextBoolean()) {
        int earlier = rnd.nextInt(row);
        for (int ch = 0; ch < k; ch++) {
          System.arraycopy(dense, (ch * p + earlier) * q, dense, (ch * p + row) * q, q);
        }
      }
    }
    return PositionOffsets.compress(k, p, q, dense);
  }

  /** An output buffer of n elements plus slack, all {@link #SENTINEL}. */
  static float[] sentinels(int n) {
    float[] y = new float[n + SLACK];
    Arrays.fill(y, SENTINEL);
    return y;
  }

  /** The lengths every kernel is tested at: 0, 1, L−1, L, L+1, 2L+3 and 1000 for L lanes. */
  static IntStream lengthsAround(VectorSpecies<Float> species) {
    int l = species.length();
    return IntStream.of(0, 1, l - 1, l, l + 1, 2 * l + 3, 1000).distinct();
  }

  /** Bit-equal, except that any NaN equals any NaN (Java does not specify NaN payloads of arithmetic). */
  static boolean same(float e, float a) {
    return Float.floatToIntBits(e) == Float.floatToIntBits(a);
  }

  /**
   * Fails, naming {@code context} and the first mismatching index with both values and their bits,
   * unless the arrays are element-for-element {@link #same}, slack included.
   */
  static void assertSame(String context, float[] expected, float[] actual) {
    if (expected.length != actual.length) {
      fail("%s: array lengths differ, expected %d, got %d", context, expected.length, actual.length);
    }
    int mismatches = 0;
    int first = -1;
    for (int i = 0; i < expected.length; i++) {
      if (!same(expected[i], actual[i])) {
        mismatches++;
        if (first < 0) {
          first = i;
        }
      }
    }
    if (first >= 0) {
      fail("%s: %d mismatches, first at index %d: expected %s (0x%08x), got %s (0x%08x)",
          context, mismatches, first,
          expected[first], Float.floatToRawIntBits(expected[first]),
          actual[first], Float.floatToRawIntBits(actual[first]));
    }
  }

  /** "512-bit" and the like. */
  static String bits(VectorSpecies<Float> species) {
    return species.vectorBitSize() + "-bit";
  }

  /**
   * True for the activations whose vector form is held to 1 ulp of the scalar one rather than to
   * its bits (see {@link F64ExpActivation}).
   */
  static boolean ulpActivation(dev.vfuse.kernel.Activation f) {
    return f instanceof dev.vfuse.kernel.Activation.Sigmoid || f instanceof dev.vfuse.kernel.Activation.Tanh;
  }

  /**
   * Fails, naming {@code context} and the first offending index, unless each element is within
   * {@code ulps} units in the last place of the expected one (NaN matching NaN, infinities equal).
   */
  static void assertWithinUlps(String context, float[] expected, float[] actual, int ulps) {
    if (expected.length != actual.length) {
      fail("%s: array lengths differ, expected %d, got %d", context, expected.length, actual.length);
    }
    for (int i = 0; i < expected.length; i++) {
      float e = expected[i];
      float a = actual[i];
      boolean ok = same(e, a) || (Float.isFinite(e) && Math.abs(a - e) <= ulps * Math.ulp(e));
      if (!ok) {
        fail("%s: index %d: expected %s, got %s, more than %d ulp apart", context, i, e, a, ulps);
      }
    }
  }
}
