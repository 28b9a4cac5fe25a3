package dev.vfuse.simd;

import dev.vfuse.kernel.ConvGeometry;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link SimdKernels#prepareConv2dInt8} on non-depthwise geometry ({@link F32ConvImplicitGemm} on
 * int8 panels) against the reference's int8 convolution, which dequantizes the weights, on every
 * species, one thread and two (see {@link PreparedConvCheck#assertPrepared}).
 *
 * <p>Geometry around the tile: K below, at and above MR = 8 and Kg = MR ± 1 in groups, positions
 * across panels with tails, both tile widths, strides 1 to 3, dilation, symmetric and asymmetric
 * pads, 1×1 to 7×7, batch 2, a reduction over 500, then seeded random geometry. Channel 0's
 * weights are all zero in every third case (scale 0).
 *
 * <p>Tolerance: {@link ReductionTolerance} for L = C/g·R·S plus one rounding for the scale (the
 * kernel scales the sum of q·x, the reference sums fl(q·scale)·x) and one for each of offsets and
 * residual.
 */
class F32ConvImplicitGemmInt8Test {

  static Stream<Arguments> cases() {
    List<Arguments> cases = new ArrayList<>();
    for (VectorSpecies<Float> sp : VectorWidth.all()) {
      int nr = 2 * sp.length();
      List<ConvGeometry> geometries = new ArrayList<>();
      geometries.add(ConvGeometry.of(1, 5, 11, 13, 3, 3, 1, 1, 1, 1)); // K < MR
      geometries.add(ConvGeometry.of(1, 6, 9, 10, 8, 3, 1, 1, 1, 1)); // K = MR
      geometries.add(ConvGeometry.of(2, 7, 10, 9, 9, 3, 1, 1, 1, 1)); // K = MR + 1, batch 2
      geometries.add(ConvGeometry.of(1, 4, 12, 11, 17, 3, 2, 1, 1, 1)); // 2 panels + 1, stride 2
      geometries.add(ConvGeometry.of(2, 7, 23, 25, nr + 3, 1, 1, 0, 1, 1)); // pointwise, tails
      geometries.add(ConvGeometry.of(2, 6, 13, 12, 10, 1, 2, 0, 1, 1)); // 1x1 stride 2
      geometries.add(ConvGeometry.of(1, 9, 3, 3, 40, 3, 1, 1, 1, 1)); // channel blocks
      geometries.add(ConvGeometry.of(1, 5, 30, 30, 11, 3, 1, 1, 1, 1)); // wide tile
      geometries.add(ConvGeometry.of(1, 9, 7, 7, 17, 3, 1, 1, 1, 1)); // narrow tile
      geometries.add(ConvGeometry.of(1, 3, 37, 34, 9, 7, 2, 3, 1, 1)); // resnet stem
      geometries.add(ConvGeometry.of(1, 128, 3, 3, 240, 3, 1, 1, 1, 1)); // 30 panels, 28 to a WeightChunks chunk
      geometries.add(ConvGeometry.of(1, 57, 6, 6, 12, 3, 1, 1, 1, 1)); // reduction 513
      geometries.add(ConvGeometry.of(2, 6, 12, 9, 10, 3, 2, 1, 1, 2)); // groups 2
      geometries.add(ConvGeometry.of(2, 9, 7, 8, 21, 3, 1, 1, 1, 3)); // groups 3, Kg = MR + 1
      geometries.add(ConvGeometry.of(1, 8, 5, 5, 28, 1, 1, 0, 1, 4)); // groups 4 pointwise, Kg = MR - 1
      geometries.add(ConvGeometry.of(2, 5, 11, 12, 6, 3, 1, 2, 2, 1)); // dilation 2
      geometries.add(new ConvGeometry(1, 4, 17, 15, 9, 3, 3, 3, 2, 2, 1, 2, 0, 1, 2, 1));
      geometries.add(new ConvGeometry(2, 3, 13, 11, 8, 7, 7, 1, 1, 3, 3, 9, 1, 0, 8, 1));
      SplittableRandom rnd = FloatData.random(sp.vectorBitSize(), 81);
      while (geometries.size() < 30) {
        int groups = 1 + rnd.nextInt(2);
        int r = 1 + rnd.nextInt(3), s = 1 + rnd.nextInt(3);
        int stride = 1 + rnd.nextInt(2), dilation = 1 + (rnd.nextInt(4) == 0 ? 1 : 0);
        int pad = rnd.nextInt(r);
        int h = r * dilation + rnd.nextInt(12), w = s * dilation + rnd.nextInt(2 * nr);
        geometries.add(new ConvGeometry(1 + rnd.nextInt(2), groups * (1 + rnd.nextInt(6)), h, w,
            groups * (1 + rnd.nextInt(2 * F32ConvImplicitGemm.MR + 2)), r, s, stride, stride, dilation, dilation,
            pad, pad, rnd.nextInt(r), rnd.nextInt(s), groups));
      }
      for (int i = 0; i < geometries.size(); i++) {
        cases.add(Arguments.of(sp, geometries.get(i), PreparedConvCheck.EPILOGUES[i % PreparedConvCheck.EPILOGUES.length],
            i % 3 == 0));
      }
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "{0} {1} {2} zeroChannel={3}")
  @MethodSource("cases")
  void matchesReferenceInt8(VectorSpecies<Float> sp, ConvGeometry g, PreparedConvCheck.Epilogue e,
      boolean zeroChannel) {
    PreparedConvCheck.conv("conv int8", sp, g, e, zeroChannel, 1);
  }
}
