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
 * {@link SimdKernels#prepareConv2dInt8} on depthwise geometry ({@link F32DwConv}, each channel's
 * weights dequantized into scratch per band) against the reference's int8 convolution, on every
 * species, one thread and two (see {@link PreparedConvCheck#assertPrepared}): 3×3 (the register path)
 * and other kernels, strides 1 to 3, dilation, asymmetric pads, channel multipliers, batch 2, planes
 * of several bands, then seeded random geometry. The weights the kernel uses are exactly the
 * reference's fl(q·scale), so the tolerance is the float kernel's: L = R·S, plus offsets and residual.
 */
class F32DwConvInt8Test {

  static Stream<Arguments> cases() {
    List<Arguments> cases = new ArrayList<>();
    for (VectorSpecies<Float> sp : VectorWidth.all()) {
      List<ConvGeometry> geometries = new ArrayList<>();
      geometries.add(ConvGeometry.of(1, 5, 13, 11, 5, 3, 1, 1, 1, 5));
      geometries.add(ConvGeometry.of(2, 4, 17, 18, 4, 3, 2, 1, 1, 4));
      geometries.add(ConvGeometry.of(1, 3, 12, 14, 6, 5, 1, 2, 1, 3)); // multiplier 2
      geometries.add(ConvGeometry.of(1, 6, 9, 9, 6, 3, 1, 2, 2, 6)); // dilation 2
      geometries.add(ConvGeometry.of(1, 2, 120, 96, 2, 3, 1, 1, 1, 2)); // several bands
      geometries.add(new ConvGeometry(2, 3, 15, 16, 3, 3, 5, 3, 2, 1, 1, 0, 2, 1, 1, 3));
      geometries.add(ConvGeometry.of(1, 7, 8, 9, 7, 7, 1, 3, 1, 7));
      // The direct kernels: 3×3 and 5×5, strides 1 and 2, whole blocks of 4 rows and a rest.
      geometries.add(ConvGeometry.of(1, 3, 9, 2 * sp.length() + 1, 3, 3, 1, 1, 1, 3));
      geometries.add(ConvGeometry.of(1, 4, 19, 2 * sp.length() + 3, 8, 3, 2, 1, 1, 4)); // multiplier 2
      geometries.add(ConvGeometry.of(2, 2, 10, sp.length(), 2, 5, 1, 2, 1, 2));
      geometries.add(ConvGeometry.of(1, 3, 21, 3 * sp.length() - 1, 3, 5, 2, 2, 1, 3));
      SplittableRandom rnd = FloatData.random(sp.vectorBitSize(), 82);
      while (geometries.size() < 22) {
        int c = 1 + rnd.nextInt(6), m = 1 + (rnd.nextInt(3) == 0 ? 1 : 0);
        int r = 1 + rnd.nextInt(5), s = 1 + rnd.nextInt(5);
        int stride = 1 + rnd.nextInt(2), dilation = 1 + (rnd.nextInt(4) == 0 ? 1 : 0);
        int h = r * dilation + rnd.nextInt(20), w = s * dilation + rnd.nextInt(40);
        geometries.add(new ConvGeometry(1 + rnd.nextInt(2), c, h, w, c * m, r, s, stride, stride, dilation, dilation,
            rnd.nextInt(r), rnd.nextInt(s), rnd.nextInt(r), rnd.nextInt(s), c));
      }
      for (int i = 0; i < geometries.size(); i++) {
        cases.add(Arguments.of(sp, geometries.get(i), PreparedConvCheck.EPILOGUES[i % PreparedConvCheck.EPILOGUES.length],
            i % 3 == 1));
      }
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "{0} {1} {2} zeroChannel={3}")
  @MethodSource("cases")
  void matchesReferenceInt8(VectorSpecies<Float> sp, ConvGeometry g, PreparedConvCheck.Epilogue e,
      boolean zeroChannel) {
    PreparedConvCheck.conv("depthwise int8", sp, g, e, zeroChannel, 0);
  }
}
