package dev.vfuse.simd;

import static dev.vfuse.simd.FloatData.bits;

import dev.vfuse.kernel.ChannelBlocks;
import dev.vfuse.kernel.Parallel;
import dev.vfuse.kernel.PoolGeometry;
import dev.vfuse.reference.ReferenceKernels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link F32Pool} against {@link ReferenceKernels}: bit-identical (any NaN equals any NaN) on every
 * species, for max pooling, average pooling with and without countIncludePad, and global average
 * pooling.
 *
 * <p>Geometry: the real layers (ResNet's 3×3 stride-2 max pool, PP-OCR's 2×2 stride-2 and 3×3
 * stride-1 pools), that 3×3 stride-2 window with one column of left padding at widths around the
 * vector, then seeded random windows 1..4 × 1..4 with strides 1..3, dilation 1..2, pads from
 * 0 to past the window's reach (so whole windows fall into the padding), ceil mode on and off,
 * and output widths around the lane count. Inputs mix in NaNs, infinities and both zeros, so the
 * NaN skipping and the ±0 tie order of max pooling are checked. Every case runs twice: with the
 * input array longer than the tensor, and with it exactly as long (the stride-2 loads read one
 * element past the last one they use, which must then go through the masked path), and once more
 * on an input of only ±0, NaN and negatives. The output's slack must stay untouched.
 */
class F32PoolTest {

  private static final ReferenceKernels REFERENCE = new ReferenceKernels();

  enum Kind { MAX, AVG, AVG_INCLUDE_PAD }

  static Stream<Arguments> pools() {
    List<Arguments> cases = new ArrayList<>();
    for (VectorSpecies<Float> sp : VectorWidth.all()) {
      for (PoolGeometry g : geometries(sp)) {
        for (Kind kind : Kind.values()) {
          cases.add(Arguments.of(sp, kind, g));
        }
      }
    }
    return cases.stream();
  }

  /** The geometries of the class comment for species sp. */
  private static List<PoolGeometry> geometries(VectorSpecies<Float> sp) {
    List<PoolGeometry> geometries = new ArrayList<>();
    // resnet18 stem max pool (fewer channels), PP-OCR pools
    geometries.add(new PoolGeometry(1, 3, 112, 112, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false));
    geometries.add(new PoolGeometry(1, 3, 32, 100, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, false));
    geometries.add(new PoolGeometry(2, 2, 17, 41, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, true));
    geometries.add(new PoolGeometry(1, 3, 20, 37, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, false));
    geometries.add(new PoolGeometry(1, 2, 8, 80, 2, 2, 2, 1, 1, 1, 0, 0, 0, 0, false));
    // 1×1 window, whole-row windows, a window as large as the input
    geometries.add(new PoolGeometry(1, 2, 5, 3 * sp.length() + 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, false));
    geometries.add(new PoolGeometry(1, 2, 4, 9, 4, 9, 1, 1, 1, 1, 0, 0, 0, 0, false));
    int l = sp.length();
    // The 3-wide stride-2 path with one left padding column (its vectors take column 0 and a
    // partial last vector): output widths around one and two vectors, right padding 0 or 1.
    for (int w : new int[] {2 * l - 1, 2 * l, 2 * l + 1, 2 * l + 2, 4 * l + 5}) {
      geometries.add(new PoolGeometry(1, 2, 5, w, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false));
      geometries.add(new PoolGeometry(2, 1, 4, w, 3, 3, 2, 2, 1, 1, 1, 1, 0, 0, true));
    }
    SplittableRandom rnd = FloatData.random(sp.vectorBitSize(), 17);
    int[] widths = {1, 2, l / 2 - 1, l / 2, l / 2 + 1, l - 1, l, l + 1, 2 * l + 3};
    while (geometries.size() < 170) {
      int r = 1 + rnd.nextInt(4), s = 1 + rnd.nextInt(4);
      int sH = 1 + rnd.nextInt(3), sW = 1 + rnd.nextInt(3);
      int dH = 1 + (rnd.nextInt(4) == 0 ? 1 : 0), dW = 1 + (rnd.nextInt(4) == 0 ? 1 : 0);
      int reachH = dH * (r - 1) + 1, reachW = dW * (s - 1) + 1;
      int[] pad = {rnd.nextInt(reachH + 1), rnd.nextInt(reachW + 1), rnd.nextInt(reachH + 1), rnd.nextInt(reachW + 1)};
      boolean ceil = rnd.nextBoolean();
      int qTarget = widths[rnd.nextInt(widths.length)];
      int pTarget = 1 + rnd.nextInt(3);
      int h = Math.max(1, (pTarget - 1) * sH + reachH - pad[0] - pad[2] + rnd.nextInt(sH));
      int w = Math.max(1, (qTarget - 1) * sW + reachW - pad[1] - pad[3] + rnd.nextInt(sW));
      try {
        geometries.add(new PoolGeometry(1 + rnd.nextInt(2), 1 + rnd.nextInt(3), h, w, r, s, sH, sW, dH, dW,
            pad[0], pad[1], pad[2], pad[3], ceil));
      } catch (IllegalArgumentException tooLarge) {
        // the window does not fit the padded input: draw again
      }
    }
    return geometries;
  }

  @ParameterizedTest(name = "{0} {1} {2}")
  @MethodSource("pools")
  void poolMatchesReference(VectorSpecies<Float> sp, Kind kind, PoolGeometry g) {
    SplittableRandom rnd = FloatData.random(sp.vectorBitSize(), kind.ordinal(), g.hashCode());
    int inSize = g.n() * g.c() * g.h() * g.w();
    float[] withSlack = FloatData.floats(rnd, inSize, 0.1);
    // Only ±0, NaN and negatives: windows whose maximum is a zero of either sign, or nothing.
    float[] zeros = new float[inSize + FloatData.SLACK];
    float[] zeroValues = {0f, -0f, Float.NaN, -1f, Float.NEGATIVE_INFINITY};
    for (int i = 0; i < zeros.length; i++) {
      zeros[i] = zeroValues[rnd.nextInt(zeroValues.length)];
    }
    for (float[] x : List.of(withSlack, Arrays.copyOf(withSlack, inSize), zeros)) {
      int size = (int) g.outputSize();
      float[] expected = FloatData.sentinels(size);
      float[] actual = FloatData.sentinels(size);
      float[] xIn = x.clone();
      switch (kind) {
        case MAX -> {
          REFERENCE.maxPool2d(g, x, expected);
          F32Pool.maxPool2d(sp, g, xIn, actual, Parallel.SERIAL);
          float[] twoThreads = FloatData.sentinels(size);
          F32Pool.maxPool2d(sp, g, xIn, twoThreads, TwoThreads.INSTANCE);
          FloatData.assertSame(kind + " on " + bits(sp) + ", " + g + ": two threads vs one", actual, twoThreads);
        }
        case AVG, AVG_INCLUDE_PAD -> {
          boolean include = kind == Kind.AVG_INCLUDE_PAD;
          REFERENCE.avgPool2d(g, include, x, expected);
          F32Pool.avgPool2d(sp, g, include, xIn, actual);
        }
      }
      String context = kind + " on " + bits(sp) + " species " + sp + ", " + g + " P=" + g.p() + " Q=" + g.q()
          + ", input array length " + x.length + " for " + inSize;
      FloatData.assertSame(context, expected, actual);
      FloatData.assertSame(context + ": x changed", x, xIn);
    }
  }

  /**
   * The same windows on channel blocks of the lane count, with channel counts that leave the last
   * block full, nearly empty or nearly full: {@link F32Pool#maxPoolBlocked} against the reference's
   * definition, every lane (padding lanes are pooled alike), on one thread and two.
   */
  static Stream<Arguments> blockedPools() {
    List<Arguments> cases = new ArrayList<>();
    for (VectorSpecies<Float> sp : VectorWidth.all()) {
      int l = sp.length();
      int[] channels = {1, l - 1, l, l + 1, 2 * l + 3};
      int i = 0;
      for (PoolGeometry g : geometries(sp)) {
        int c = channels[i++ % channels.length];
        cases.add(Arguments.of(sp, new PoolGeometry(g.n(), c, g.h(), g.w(), g.r(), g.s(), g.strideH(), g.strideW(),
            g.dilationH(), g.dilationW(), g.padTop(), g.padLeft(), g.padBottom(), g.padRight(), g.ceilMode())));
      }
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("blockedPools")
  void blockedMaxPoolMatchesReference(VectorSpecies<Float> sp, PoolGeometry g) {
    int l = sp.length();
    SplittableRandom rnd = FloatData.random(sp.vectorBitSize(), 5, g.hashCode());
    int planes = g.n() * ChannelBlocks.blocks(g.c(), l);
    int inSize = planes * g.h() * g.w() * l;
    int outSize = planes * g.p() * g.q() * l;
    float[] mixed = FloatData.floats(rnd, inSize, 0.1);
    float[] zeros = new float[inSize];
    float[] zeroValues = {0f, -0f, Float.NaN, -1f, Float.NEGATIVE_INFINITY};
    for (int i = 0; i < zeros.length; i++) {
      zeros[i] = zeroValues[rnd.nextInt(zeroValues.length)];
    }
    for (float[] x : List.of(mixed, zeros)) {
      float[] expected = FloatData.sentinels(outSize);
      REFERENCE.maxPool2dBlocked(g, l, x, expected, Parallel.SERIAL);
      for (Parallel parallel : List.of(Parallel.SERIAL, TwoThreads.INSTANCE)) {
        float[] actual = FloatData.sentinels(outSize);
        float[] xIn = x.clone();
        F32Pool.maxPoolBlocked(sp, g, xIn, actual, parallel);
        String context = "blocked max pool on " + bits(sp) + ", " + parallel + ", " + g + " P=" + g.p() + " Q=" + g.q()
            + (x == zeros ? ", only zeros, NaN and negatives" : "");
        FloatData.assertSame(context, expected, actual);
        FloatData.assertSame(context + ": x changed", x, xIn);
      }
    }
  }

  static Stream<Arguments> globalPools() {
    List<Arguments> cases = new ArrayList<>();
    for (VectorSpecies<Float> sp : VectorWidth.all()) {
      int l = sp.length();
      int[] planes = {1, 2, 3, 5, 1280};
      for (int p : planes) {
        for (int spatial : new int[] {1, 2, l / 2 - 1, l / 2, l - 1, l, l + 1, 2 * l + 3, 49, 100, 1000}) {
          cases.add(Arguments.of(sp, p, spatial));
        }
      }
    }
    return cases.stream();
  }

  /**
   * Global pooling on four inputs: uniform values (mostly the vector sum: a narrow exponent range),
   * with NaN, infinities and zeros mixed in, with magnitudes 1e12 and 1e−12 mixed in (order-dependent
   * sums: the sequential fallback), and planes built at the edge of the exactness test, whose exact
   * sums need 53 bits or one bit more (the latter round, so vector order would show).
   */
  @ParameterizedTest(name = "{0} planes={1} spatial={2}")
  @MethodSource("globalPools")
  void globalAvgPoolMatchesReference(VectorSpecies<Float> sp, int planes, int spatial) {
    SplittableRandom rnd = FloatData.random(sp.vectorBitSize(), planes, spatial);
    int size = planes * spatial;
    float[] uniform = FloatData.floats(rnd, size, 0);
    float[] edges = FloatData.floats(rnd, size, 0.05);
    float[] mixed = FloatData.floats(rnd, size, 0);
    for (int i = 0; i < size; i += 3) {
      mixed[i] *= (i % 2 == 0) ? 1e12f : 1e-12f;
    }
    // Plane i: spatial − 1 positive elements just below 2^(eMax−126), one with field eMax − span and
    // only its lowest bit set beyond the leading one, span = 29 − ⌈log2 n⌉ + (i % 2): the largest
    // span the test accepts on even planes, one more (sequential fallback) on odd ones.
    float[] edge = new float[size + FloatData.SLACK];
    int ceilLog2 = 32 - Integer.numberOfLeadingZeros(spatial - 1);
    for (int i = 0; i < planes; i++) {
      int eMax = 140;
      int span = Math.min(29 - ceilLog2 + (i % 2), eMax - 1);
      for (int j = 0; j < spatial; j++) {
        int bits = j == spatial / 2 ? ((eMax - span) << 23) | 1 : (eMax << 23) | 0x7f_ffff - rnd.nextInt(4);
        edge[i * spatial + j] = Float.intBitsToFloat(bits);
      }
    }
    for (float[] full : List.of(uniform, edges, mixed, edge)) {
      for (float[] x : List.of(full, Arrays.copyOf(full, size))) {
        float[] expected = FloatData.sentinels(planes);
        REFERENCE.globalAvgPool(planes, spatial, x, expected);
        for (Parallel parallel : List.of(Parallel.SERIAL, TwoThreads.INSTANCE)) {
          float[] actual = FloatData.sentinels(planes);
          float[] xIn = x.clone();
          F32Pool.globalAvgPool(sp, planes, spatial, xIn, actual, parallel);
          String context = "globalAvgPool on " + bits(sp) + " species " + sp + ", " + parallel + ", planes=" + planes
              + " spatial=" + spatial + ", input " + (full == uniform ? "uniform" : full == edges ? "edges"
              : full == mixed ? "mixed" : "exactness edge") + ", array length " + x.length;
          FloatData.assertSame(context, expected, actual);
          FloatData.assertSame(context + ": x changed", x, xIn);
        }
      }
    }
  }
}
