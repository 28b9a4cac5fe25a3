package dev.vfuse.ops;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.kernel.ConvGeometry;
import dev.vfuse.kernel.ConvTransposeGeometry;
import dev.vfuse.kernel.PositionOffsets;
import dev.vfuse.reference.ReferenceKernels;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The row-class offsets {@link FusedConvOp} binds ({@link ShiftTapOffsets}) are, bit for bit, the
 * dense map they replace: the reference convolution of an all-ones image with the shift taps. And
 * they keep only a few rows: one per set of kernel rows that reach the input.
 */
class ShiftTapOffsetsTest {
  private static final ReferenceKernels REFERENCE = new ReferenceKernels();

  /** Label, geometry (n, c, h, w, k, r, s, strides, dilations, pads top/left/bottom/right, groups), row classes. */
  static Stream<Arguments> convs() {
    return Stream.of(
        Arguments.of("3x3 pad 1", new ConvGeometry(1, 8, 32, 20, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1), 3),
        Arguments.of("3x3 pad 1 stride 2", new ConvGeometry(1, 4, 31, 16, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1), 3),
        Arguments.of("5x5 pad 2 dilation 2", new ConvGeometry(1, 3, 24, 24, 5, 5, 5, 1, 1, 2, 2, 2, 2, 2, 2, 1), 3),
        Arguments.of("asymmetric pads", new ConvGeometry(1, 2, 12, 9, 4, 3, 4, 1, 2, 1, 1, 0, 3, 2, 1, 1), 3),
        Arguments.of("1x7 pad 0,3", new ConvGeometry(1, 4, 10, 30, 4, 1, 7, 1, 1, 1, 1, 0, 3, 0, 3, 1), 1),
        Arguments.of("7x1 pad 3,0", new ConvGeometry(2, 4, 30, 10, 4, 7, 1, 1, 1, 1, 1, 3, 0, 3, 0, 1), 7),
        Arguments.of("depthwise 3x3 pad 1 stride 2", new ConvGeometry(1, 16, 14, 14, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1,
            16), 2),
        Arguments.of("grouped 3x3 pad 1", new ConvGeometry(1, 8, 9, 9, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4), 3),
        Arguments.of("kernel taller than input", new ConvGeometry(1, 1, 3, 5, 2, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1), 3));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("convs")
  void convOffsetsAreTheDenseMapInFewRows(String label, ConvGeometry g, int classes) {
    float[] taps = taps(g.k(), g.r(), g.s());
    ConvGeometry ones = new ConvGeometry(1, 1, g.h(), g.w(), g.k(), g.r(), g.s(), g.strideH(), g.strideW(),
        g.dilationH(), g.dilationW(), g.padTop(), g.padLeft(), g.padBottom(), g.padRight(), 1);
    float[] dense = new float[g.k() * g.p() * g.q()];
    REFERENCE.conv2d(ones, allOnes(g.h() * g.w()), taps, null, dense);

    PositionOffsets offsets = ShiftTapOffsets.conv(taps, g);
    assertSameMap(label, offsets, dense, g.k(), g.p(), g.q());
    assertThat(offsets.classes()).as(label).isEqualTo(classes);
  }

  static Stream<Arguments> convTransposes() {
    return Stream.of(
        Arguments.of("4x4 stride 2 pad 1", transposed(16, 12, 6, 4, 2, 1, 1, 0, 1), 4),
        Arguments.of("4x4 stride 2 pad 1 output padding 1", transposed(16, 12, 6, 4, 2, 1, 1, 1, 1), 5),
        Arguments.of("3x3 stride 2 pad 1 output padding 1", transposed(10, 7, 4, 3, 2, 1, 1, 1, 1), 3),
        Arguments.of("2x2 stride 2", transposed(8, 8, 3, 2, 2, 0, 1, 0, 1), 2),
        Arguments.of("3x3 stride 3 dilation 2 pad 2", transposed(9, 5, 2, 3, 3, 2, 2, 0, 1), 3),
        Arguments.of("depthwise 4x4 stride 2 pad 1", transposed(12, 12, 8, 4, 2, 1, 1, 0, 8), 4));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("convTransposes")
  void convTransposeOffsetsAreTheDenseMapInFewRows(String label, ConvTransposeGeometry g, int classes) {
    float[] taps = taps(g.k(), g.r(), g.s());
    ConvTransposeGeometry ones = new ConvTransposeGeometry(1, 1, g.h(), g.w(), g.k(), g.r(), g.s(), g.strideH(),
        g.strideW(), g.dilationH(), g.dilationW(), g.padTop(), g.padLeft(), g.padBottom(), g.padRight(),
        g.outputPadH(), g.outputPadW(), 1);
    float[] dense = new float[g.k() * g.p() * g.q()];
    REFERENCE.convTranspose2d(ones, allOnes(g.h() * g.w()), taps, null, dense);

    PositionOffsets offsets = ShiftTapOffsets.convTranspose(taps, g);
    assertSameMap(label, offsets, dense, g.k(), g.p(), g.q());
    assertThat(offsets.classes()).as(label).isEqualTo(classes);
  }

  /** A ConvTranspose with C = K = channels, the same kernel, stride, dilation, pads and output padding on both axes. */
  private static ConvTransposeGeometry transposed(int h, int w, int channels, int kernel, int stride, int pad,
      int dilation, int outputPad, int groups) {
    return new ConvTransposeGeometry(1, channels, h, w, channels, kernel, kernel, stride, stride, dilation, dilation,
        pad, pad, pad, pad, outputPad, outputPad, groups);
  }

  /** Random taps [K, R, S] in [−2, 2), seeded by their shape. */
  private static float[] taps(int k, int r, int s) {
    SplittableRandom rnd = new SplittableRandom(31L * (31L * k + r) + s);
    float[] taps = new float[k * r * s];
    for (int i = 0; i < taps.length; i++) {
      taps[i] = (float) rnd.nextDouble(-2, 2);
    }
    return taps;
  }

  private static float[] allOnes(int n) {
    float[] ones = new float[n];
    Arrays.fill(ones, 1f);
    return ones;
  }

  private static void assertSameMap(String label, PositionOffsets offsets, float[] dense, int k, int p, int q) {
    assertThat(new int[] {offsets.channels(), offsets.height(), offsets.width()}).as(label).containsExactly(k, p, q);
    for (int ch = 0; ch < k; ch++) {
      for (int row = 0; row < p; row++) {
        for (int col = 0; col < q; col++) {
          assertThat(Float.floatToRawIntBits(offsets.at(ch, row, col)))
              .as("%s: offset (%d, %d, %d)", label, ch, row, col)
              .isEqualTo(Float.floatToRawIntBits(dense[(ch * p + row) * q + col]));
        }
      }
    }
  }
}
