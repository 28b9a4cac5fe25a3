package dev.vfuse.simd;

import static dev.vfuse.simd.FloatData.assertSame;
import static dev.vfuse.simd.FloatData.bits;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.vfuse.reference.ReferenceKernels;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fold arithmetic of {@link SimdKernels} ({@link F64Fold}) against the scalar definitions of
 * {@link ReferenceKernels}, bit for bit, on every species: the same return value and, when the
 * fold succeeds, the same output (slack untouched). Past each input's length the arrays hold
 * values that would refuse (infinite scale, {@link Float#MAX_VALUE} weights, negative variances),
 * so a kernel that lets a lane out of range into a refusal check fails.
 */
class F64FoldTest {

  private static final ReferenceKernels REFERENCE = new ReferenceKernels();

  /**
   * b, s, t where (float) (b·s + t) in separate double operations differs from (float) Math.fma(b, s, t):
   * the double sum is a float tie (rounded to even), the FMA's double is just past it.
   */
  static final float NO_FMA_B = 0x1.744p-1f;
  static final double NO_FMA_S = 0x1.133dd1da91ap+0;
  static final double NO_FMA_T = 0x1.33db7e4000001p-26;

  @Test
  void multiplyAddCaseSeparatesFma() {
    assertThat((float) (NO_FMA_B * NO_FMA_S + NO_FMA_T)).isNotEqualTo((float) Math.fma(NO_FMA_B, NO_FMA_S, NO_FMA_T));
  }

  /**
   * Lengths around both lane counts of the species: its float lanes L (FloatData's lengths) and
   * its double lanes L/2, which F64Fold runs on.
   */
  static IntStream lengths(VectorSpecies<Float> species) {
    int d = species.length() / 2;
    return IntStream.concat(FloatData.lengthsAround(species), IntStream.of(d - 1, d, d + 1, 3 * d + 1))
        .filter(n -> n >= 0).distinct().sorted();
  }

  static Stream<Arguments> speciesAndLength() {
    return VectorWidth.all().stream().flatMap(sp -> lengths(sp).mapToObj(n -> Arguments.of(sp, n)));
  }

  /**
   * Block sizes: 1 (scale per element), 2 to 9 (odd and even, below, at and above the double
   * lanes: the gather path, then the broadcast-or-blend path), 37, and blocks as long as the whole
   * weight or longer.
   */
  static Stream<Arguments> speciesLengthAndBlock() {
    return VectorWidth.all().stream().flatMap(sp -> lengths(sp).boxed().flatMap(n ->
        IntStream.of(1, 2, 3, 4, 5, 7, 8, 9, 37, Math.max(n, 1), n + 3).distinct()
            .mapToObj(block -> Arguments.of(sp, n, block))));
  }

  // ---------------------------------------------------------------- scaleBlocks

  @ParameterizedTest(name = "{0} n={1} block={2}")
  @MethodSource("speciesLengthAndBlock")
  void scaleBlocksMatchesReference(VectorSpecies<Float> species, int n, int block) {
    SplittableRandom rnd = FloatData.random(1, species.vectorBitSize(), n, block);
    float[] w = weights(rnd, n);
    double[] scale = scales(rnd, blocks(n, block));
    String context = "scaleBlocks n=" + n + " block=" + block + " on " + bits(species);
    assertThat(scaleBlocks(species, n, w, block, scale, context)).as(context).isTrue();
  }

  /**
   * A weight whose product overflows float at the first element, in the middle, at the last, and
   * at the first element of the tail vector: both refuse, whatever else the weights hold.
   */
  @ParameterizedTest(name = "{0} n={1} block={2}")
  @MethodSource("speciesLengthAndBlock")
  void scaleBlocksRefusesOverflowAnywhere(VectorSpecies<Float> species, int n, int block) {
    int lanes = species.length() / 2;
    for (int pos : positions(n, lanes)) {
      SplittableRandom rnd = FloatData.random(2, species.vectorBitSize(), n, block, pos);
      float[] w = weights(rnd, n);
      double[] scale = scales(rnd, blocks(n, block));
      w[pos] = rnd.nextBoolean() ? Float.MAX_VALUE : -Float.MAX_VALUE;
      scale[pos / block] = rnd.nextBoolean() ? 1.5 : -1.5;
      String context = "scaleBlocks n=" + n + " block=" + block + " overflow at " + pos + " on " + bits(species);
      assertThat(scaleBlocks(species, n, w, block, scale, context)).as(context).isFalse();
    }
  }

  /**
   * The refusal is |v| &gt; Float.MAX_VALUE in double: MAX·(1 + 2⁻⁴⁰) refuses although it would
   * round to MAX, while MAX·1 passes; a NaN product (NaN weight, 0·∞) does not refuse; ±∞ scale
   * refuses unless every weight of its block is zero.
   */
  @ParameterizedTest(name = "{0} n={1}")
  @MethodSource("speciesAndLength")
  void scaleBlocksEdges(VectorSpecies<Float> species, int n) {
    if (n == 0) {
      return;
    }
    int lanes = species.length() / 2;
    for (int pos : positions(n, lanes)) {
      for (int block : new int[] {1, 3, lanes + 1, n}) {
        String at = " n=" + n + " block=" + block + " at " + pos + " on " + bits(species);
        SplittableRandom rnd = FloatData.random(3, species.vectorBitSize(), n, block, pos);
        float[] w = weights(rnd, n);
        double[] scale = scales(rnd, blocks(n, block));

        float[] justOver = w.clone();
        double[] justOverScale = scale.clone();
        justOver[pos] = Float.MAX_VALUE;
        justOverScale[pos / block] = 1 + 0x1p-40;
        assertThat(scaleBlocks(species, n, justOver, block, justOverScale, "just over MAX" + at)).isFalse();

        float[] exactlyMax = justOver.clone();
        double[] one = scale.clone();
        one[pos / block] = 1.0;
        // The other weights of the block times 1 fit too.
        assertThat(scaleBlocks(species, n, exactlyMax, block, one, "exactly MAX" + at)).isTrue();

        float[] nan = w.clone();
        nan[pos] = Float.NaN;
        assertThat(scaleBlocks(species, n, nan, block, scale, "NaN weight" + at)).isTrue();

        for (double special : new double[] {Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NaN}) {
          double[] s = scale.clone();
          s[pos / block] = special;
          // A weight of 1 in the block: ±∞ refuses; NaN gives NaN and passes.
          float[] unit = w.clone();
          unit[pos] = 1f;
          assertThat(scaleBlocks(species, n, unit, block, s, special + " scale" + at)).isEqualTo(Double.isNaN(special));
          float[] zeros = w.clone();
          int first = pos / block * block;
          Arrays.fill(zeros, first, Math.min(first + block, n), 0f);
          zeros[Math.min(first + block, n) - 1] = -0f;
          assertThat(scaleBlocks(species, n, zeros, block, s, special + " scale on zeros" + at)).isTrue();
        }
      }
    }
  }

  // ---------------------------------------------------------------- affineBias

  @ParameterizedTest(name = "{0} channels={1}")
  @MethodSource("speciesAndLength")
  void affineBiasMatchesReference(VectorSpecies<Float> species, int channels) {
    SplittableRandom rnd = FloatData.random(4, species.vectorBitSize(), channels);
    float[] b = weights(rnd, channels);
    double[] scale = scales(rnd, channels);
    double[] shift = scales(rnd, channels);
    String context = "affineBias channels=" + channels + " on " + bits(species);
    assertThat(affineBias(species, channels, b, scale, shift, context)).isTrue();
    assertThat(affineBias(species, channels, null, scale, shift, context + ", no bias")).isTrue();
  }

  /** Overflow at the head, middle and tail refuses; an infinite or NaN scale with no bias is NaN, not a refusal. */
  @ParameterizedTest(name = "{0} channels={1}")
  @MethodSource("speciesAndLength")
  void affineBiasEdges(VectorSpecies<Float> species, int channels) {
    int lanes = species.length() / 2;
    for (int pos : positions(channels, lanes)) {
      SplittableRandom rnd = FloatData.random(5, species.vectorBitSize(), channels, pos);
      float[] b = weights(rnd, channels);
      double[] scale = scales(rnd, channels);
      double[] shift = scales(rnd, channels);
      String at = " channels=" + channels + " at " + pos + " on " + bits(species);

      double[] bigShift = shift.clone();
      bigShift[pos] = rnd.nextBoolean() ? 1e39 : -1e39;
      assertThat(affineBias(species, channels, b, scale, bigShift, "shift overflow" + at)).isFalse();
      assertThat(affineBias(species, channels, null, scale, bigShift, "shift overflow, no bias" + at)).isFalse();

      float[] bigBias = b.clone();
      bigBias[pos] = Float.MAX_VALUE;
      double[] s = scale.clone();
      s[pos] = -2;
      assertThat(affineBias(species, channels, bigBias, s, shift, "product overflow" + at)).isFalse();

      for (double special : new double[] {Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NaN}) {
        double[] sp = scale.clone();
        sp[pos] = special;
        assertThat(affineBias(species, channels, null, sp, shift, special + " scale, no bias" + at)).isTrue();
        float[] unit = b.clone();
        unit[pos] = 1f;
        assertThat(affineBias(species, channels, unit, sp, shift, special + " scale" + at)).isEqualTo(Double.isNaN(special));
      }
      // 0·(−s) + (−0.0) is −0.0, 0·s + (−0.0) is +0.0.
      double[] zeroShift = shift.clone();
      zeroShift[pos] = -0.0;
      assertThat(affineBias(species, channels, null, scale, zeroShift, "−0.0 shift" + at)).isTrue();

      // b·s + t with a separate multiply and add lands on a float tie (rounded to even, down);
      // an FMA's b·s + t, rounded to double once, is just above it and rounds up.
      float[] tieB = b.clone();
      double[] tieS = scale.clone();
      double[] tieT = shift.clone();
      tieB[pos] = NO_FMA_B;
      tieS[pos] = NO_FMA_S;
      tieT[pos] = NO_FMA_T;
      assertThat(affineBias(species, channels, tieB, tieS, tieT, "multiply-add tie" + at)).isTrue();
    }
  }

  // ---------------------------------------------------------------- roundToFloat

  @ParameterizedTest(name = "{0} n={1}")
  @MethodSource("speciesAndLength")
  void roundToFloatMatchesReference(VectorSpecies<Float> species, int n) {
    SplittableRandom rnd = FloatData.random(6, species.vectorBitSize(), n);
    double[] v = sums(rnd, n);
    String context = "roundToFloat n=" + n + " on " + bits(species);
    assertThat(roundToFloat(species, n, v, context)).isTrue();
  }

  /** ±∞, NaN and anything just past ±MAX refuse at the head, middle and tail; ±MAX itself passes. */
  @ParameterizedTest(name = "{0} n={1}")
  @MethodSource("speciesAndLength")
  void roundToFloatEdges(VectorSpecies<Float> species, int n) {
    int lanes = species.length() / 2;
    double justOver = Math.nextUp((double) Float.MAX_VALUE);
    for (int pos : positions(n, lanes)) {
      SplittableRandom rnd = FloatData.random(7, species.vectorBitSize(), n, pos);
      double[] v = sums(rnd, n);
      String at = " n=" + n + " at " + pos + " on " + bits(species);
      for (double bad : new double[] {Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NaN, justOver, -justOver}) {
        double[] x = v.clone();
        x[pos] = bad;
        assertThat(roundToFloat(species, n, x, bad + at)).isFalse();
      }
      for (double ok : new double[] {Float.MAX_VALUE, -Float.MAX_VALUE, -0.0, Double.MIN_VALUE}) {
        double[] x = v.clone();
        x[pos] = ok;
        assertThat(roundToFloat(species, n, x, ok + at)).isTrue();
      }
    }
  }

  // ---------------------------------------------------------------- batchNormAffine

  @ParameterizedTest(name = "{0} channels={1}")
  @MethodSource("speciesAndLength")
  void batchNormAffineMatchesReference(VectorSpecies<Float> species, int channels) {
    SplittableRandom rnd = FloatData.random(8, species.vectorBitSize(), channels);
    Bn bn = Bn.random(rnd, channels);
    String context = "batchNormAffine channels=" + channels + " on " + bits(species);
    for (float eps : new float[] {1e-5f, 1e-3f, Float.MIN_VALUE}) {
      assertThat(batchNormAffine(species, channels, bn, eps, context + " ε=" + eps)).isEqualTo(-1);
    }
    // ε = 0: channels with var 0 refuse; the two agree on which comes first.
    batchNormAffine(species, channels, bn, 0f, context + " ε=0");
  }

  /**
   * Each kind of unusable channel (var + ε zero, negative or NaN; scale or shift past float) at the
   * head, middle and tail, alone and after an earlier one: both return the first.
   */
  @ParameterizedTest(name = "{0} channels={1}")
  @MethodSource("speciesAndLength")
  void batchNormAffineRefusals(VectorSpecies<Float> species, int channels) {
    int lanes = species.length() / 2;
    float eps = 1e-5f;
    for (int pos : positions(channels, lanes)) {
      for (int kind = 0; kind < 5; kind++) {
        SplittableRandom rnd = FloatData.random(9, species.vectorBitSize(), channels, pos, kind);
        Bn bn = Bn.random(rnd, channels);
        switch (kind) {
          case 0 -> bn.var[pos] = -eps; // var + ε = 0
          case 1 -> bn.var[pos] = -1f;
          case 2 -> bn.var[pos] = Float.NaN;
          case 3 -> { // scale = 3e38 / sqrt(1e-5 + 0) ≈ 9.5e40
            bn.gamma[pos] = 3e38f;
            bn.var[pos] = 0f;
          }
          default -> { // scale ≈ 316, shift ≈ −3e38·316
            bn.gamma[pos] = 1f;
            bn.var[pos] = 0f;
            bn.mean[pos] = 3e38f;
          }
        }
        String context = "batchNormAffine channels=" + channels + " kind " + kind + " at " + pos + " on " + bits(species);
        assertThat(batchNormAffine(species, channels, bn, eps, context)).isEqualTo(pos);
        if (pos + 1 < channels) {
          bn.var[channels - 1] = -1f; // a later refusal does not hide the first
          assertThat(batchNormAffine(species, channels, bn, eps, context + " and at the end")).isEqualTo(pos);
        }
      }
    }
  }

  // ---------------------------------------------------------------- comparisons

  /** Runs both, checks they agree (return value; output when true) and returns the result. */
  private static boolean scaleBlocks(VectorSpecies<Float> species, int n, float[] w, int block, double[] scale,
      String context) {
    float[] expected = FloatData.sentinels(n);
    boolean e = REFERENCE.scaleBlocks(n, w.clone(), block, scale.clone(), expected);
    float[] actual = FloatData.sentinels(n);
    float[] wIn = w.clone();
    double[] sIn = scale.clone();
    boolean a = new SimdKernels(species).scaleBlocks(n, wIn, block, sIn, actual);
    return agree(context, e, a, expected, actual, n, () -> {
      assertSame(context + ": weights changed", w, wIn);
      assertDoubles(context + ": scale changed", scale, sIn, scale.length);
    });
  }

  private static boolean affineBias(VectorSpecies<Float> species, int channels, float[] b, double[] scale,
      double[] shift, String context) {
    float[] expected = FloatData.sentinels(channels);
    boolean e = REFERENCE.affineBias(channels, b == null ? null : b.clone(), scale.clone(), shift.clone(), expected);
    float[] actual = FloatData.sentinels(channels);
    boolean a = new SimdKernels(species).affineBias(channels, b, scale, shift, actual);
    return agree(context, e, a, expected, actual, channels, () -> {});
  }

  private static boolean roundToFloat(VectorSpecies<Float> species, int n, double[] v, String context) {
    float[] expected = FloatData.sentinels(n);
    boolean e = REFERENCE.roundToFloat(n, v.clone(), expected);
    float[] actual = FloatData.sentinels(n);
    boolean a = new SimdKernels(species).roundToFloat(n, v, actual);
    return agree(context, e, a, expected, actual, n, () -> {});
  }

  private static boolean agree(String context, boolean e, boolean a, float[] expected, float[] actual, int n,
      Runnable more) {
    if (e != a) {
      fail("%s: reference returned %s, simd %s", context, e, a);
    }
    if (e) {
      assertSame(context, expected, actual);
    } else {
      // On refusal only [0, n) may have been written.
      assertSame(context + ": slack", Arrays.copyOfRange(expected, n, expected.length),
          Arrays.copyOfRange(actual, n, actual.length));
    }
    more.run();
    return e;
  }

  /** Runs both, checks the same channel and the same scale and shift through it, and returns the channel. */
  private static int batchNormAffine(VectorSpecies<Float> species, int channels, Bn bn, float eps, String context) {
    double[] eScale = doubleSentinels(channels);
    double[] eShift = doubleSentinels(channels);
    int e = REFERENCE.batchNormAffine(channels, bn.gamma.clone(), bn.beta.clone(), bn.mean.clone(), bn.var.clone(), eps,
        eScale, eShift);
    double[] aScale = doubleSentinels(channels);
    double[] aShift = doubleSentinels(channels);
    int a = new SimdKernels(species).batchNormAffine(channels, bn.gamma, bn.beta, bn.mean, bn.var, eps, aScale, aShift);
    if (e != a) {
      fail("%s: reference returned channel %d, simd %d", context, e, a);
    }
    int written = e < 0 ? channels : e + 1;
    assertDoubles(context + ": scale", eScale, aScale, written);
    assertDoubles(context + ": shift", eShift, aShift, written);
    for (int i = channels; i < aScale.length; i++) {
      if (!(aScale[i] == SENTINEL && aShift[i] == SENTINEL)) {
        fail("%s: wrote past the channels at %d", context, i);
      }
    }
    return e;
  }

  private static final double SENTINEL = -9876.5;

  private static double[] doubleSentinels(int n) {
    double[] a = new double[n + FloatData.SLACK];
    Arrays.fill(a, SENTINEL);
    return a;
  }

  /** Bit-equal on [0, n), any NaN equal to any NaN. */
  private static void assertDoubles(String context, double[] expected, double[] actual, int n) {
    for (int i = 0; i < n; i++) {
      if (Double.doubleToLongBits(expected[i]) != Double.doubleToLongBits(actual[i])) {
        fail("%s: first mismatch at %d: expected %s (0x%016x), got %s (0x%016x)", context, i,
            expected[i], Double.doubleToRawLongBits(expected[i]), actual[i], Double.doubleToRawLongBits(actual[i]));
      }
    }
  }

  // ---------------------------------------------------------------- data

  /** The first and last index, one in the middle, and the first of the last (tail) vector of double lanes. */
  private static int[] positions(int n, int lanes) {
    if (n == 0) {
      return new int[0];
    }
    int tail = (n - 1) / lanes * lanes;
    return IntStream.of(0, n / 2, n - 1, tail).distinct().toArray();
  }

  private static int blocks(int n, int block) {
    return (n + block - 1) / block;
  }

  /**
   * n weights in [−8, 8), never zero, with some signed zeros' neighbours: denormals, MIN_NORMAL
   * and a few NaNs; then slack holding ±MAX, which any scale but 0 or a tiny one would overflow.
   */
  private static float[] weights(SplittableRandom rnd, int n) {
    float[] special = {Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, -Float.MIN_NORMAL, Float.NaN,
        Math.nextUp(1f), 0x1.fffffep-1f};
    float[] w = new float[n + FloatData.SLACK];
    for (int i = 0; i < n; i++) {
      float v;
      do {
        v = (float) (rnd.nextDouble() * 16 - 8);
      } while (v == 0f);
      w[i] = rnd.nextDouble() < 0.05 ? special[rnd.nextInt(special.length)] : v;
    }
    for (int i = n; i < w.length; i++) {
      w[i] = i % 2 == 0 ? Float.MAX_VALUE : -Float.MAX_VALUE;
    }
    return w;
  }

  /**
   * n doubles in [−4, 4) (not floats: products need double), with some exact zeros, −0.0, and
   * scales that make float denormals (1e-40) or round at float's top (1e37); then slack holding +∞.
   */
  private static double[] scales(SplittableRandom rnd, int n) {
    double[] special = {0.0, -0.0, 1e-40, -3e-42, 1e37, 1.0 / 3, Math.nextUp(1.0)};
    double[] s = new double[n + FloatData.SLACK];
    for (int i = 0; i < n; i++) {
      s[i] = rnd.nextDouble() < 0.1 ? special[rnd.nextInt(special.length)] : rnd.nextDouble() * 8 - 4;
    }
    Arrays.fill(s, n, s.length, Double.POSITIVE_INFINITY);
    return s;
  }

  /** Sums as merges make them: doubles at many magnitudes, ties between floats, denormals; slack NaN. */
  private static double[] sums(SplittableRandom rnd, int n) {
    double tie = 1.0 + 0x1p-24; // halfway between 1 and nextUp(1f): rounds to even (1f)
    double[] special = {0.0, -0.0, tie, -tie, 1.0 + 0x1p-24 + 0x1p-52, 1e-44, -7e-46, Float.MAX_VALUE,
        Math.nextDown((double) Float.MAX_VALUE), 1e-300};
    double[] v = new double[n + FloatData.SLACK];
    for (int i = 0; i < n; i++) {
      v[i] = rnd.nextDouble() < 0.1 ? special[rnd.nextInt(special.length)]
          : (rnd.nextDouble() * 2 - 1) * Math.pow(10, rnd.nextInt(-30, 30));
    }
    Arrays.fill(v, n, v.length, Double.NaN);
    return v;
  }

  /** BN parameters for n channels: var ≥ 0, and slack that would refuse (negative variance). */
  private record Bn(float[] gamma, float[] beta, float[] mean, float[] var) {
    static Bn random(SplittableRandom rnd, int n) {
      Bn bn = new Bn(new float[n + FloatData.SLACK], new float[n + FloatData.SLACK], new float[n + FloatData.SLACK],
          new float[n + FloatData.SLACK]);
      for (int i = 0; i < n; i++) {
        bn.gamma[i] = (float) (rnd.nextDouble() * 4 - 2);
        bn.beta[i] = (float) (rnd.nextDouble() * 4 - 2);
        bn.mean[i] = (float) (rnd.nextDouble() * 4 - 2);
        bn.var[i] = rnd.nextDouble() < 0.1 ? 0f : (float) (rnd.nextDouble() * 3);
      }
      Arrays.fill(bn.var, n, bn.var.length, -1f);
      Arrays.fill(bn.gamma, n, bn.gamma.length, Float.MAX_VALUE);
      return bn;
    }
  }
}
