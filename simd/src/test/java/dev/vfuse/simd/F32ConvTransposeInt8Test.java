package dev.vfuse.simd;

import static dev.vfuse.simd.FloatData.bits;
import static dev.vfuse.simd.PreparedConvCheck.abs;

import dev.vfuse.kernel.ConvEpilogue;
import dev.vfuse.kernel.ConvTransposeGeometry;
import dev.vfuse.kernel.Int8Weights;
import dev.vfuse.kernel.Parallel;
import dev.vfuse.kernel.PositionOffsets;
import dev.vfuse.kernel.PreparedConv;
import dev.vfuse.reference.ReferenceKernels;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link SimdKernels#prepareConvTranspose2dInt8} ({@link F32ConvTranspose}, A dequantized while
 * the GEMM packs it) against the reference's int8 transposed convolution, on every species, one
 * thread and two (see {@link PreparedConvCheck#assertPrepared}): PP-OCR's detection head, groups 2 and
 * depthwise (the scale layout of {@link Int8Weights#convTranspose} differs per group), channel
 * blocks, a reduction longer than the GEMM's K block, then seeded random geometry. The GEMM runs on
 * the reference's fl(q·scale), so the tolerance is {@link F32ConvTransposeTest}'s.
 */
class F32ConvTransposeInt8Test {

  private static final ReferenceKernels REFERENCE = new ReferenceKernels();

  static Stream<Arguments> cases() {
    List<Arguments> cases = new ArrayList<>();
    for (VectorSpecies<Float> sp : VectorWidth.all()) {
      int l = sp.length();
      List<ConvTransposeGeometry> geometries = new ArrayList<>();
      geometries.add(ct(1, 24, 20, 20, 24, 2, 2, 0, 0, 1, 1));
      geometries.add(ct(1, 24, 20, 20, 1, 2, 2, 0, 0, 1, 1));
      geometries.add(ct(1, 16, 10, 12, 8, 3, 2, 1, 1, 1, 2));
      geometries.add(ct(1, 8, 20, 24, 8, 4, 2, 1, 0, 1, 8));
      geometries.add(ct(2, 3, 3, 2 * l + 3, 5, 3, 1, 1, 0, 1, 1));
      geometries.add(ct(1, 5, 4, 6, 70, 3, 1, 0, 0, 1, 1));
      geometries.add(ct(1, 600, 3, 5, 4, 2, 2, 0, 0, 1, 2));
      geometries.add(ct(1, 6, 7, 8, 9, 3, 1, 2, 0, 2, 3));
      SplittableRandom rnd = FloatData.random(sp.vectorBitSize(), 83);
      while (geometries.size() < 20) {
        int groups = 1 + rnd.nextInt(3);
        int r = 1 + rnd.nextInt(4), s = 1 + rnd.nextInt(4);
        int sH = 1 + rnd.nextInt(3), sW = 1 + rnd.nextInt(3);
        int dH = 1 + (rnd.nextInt(3) == 0 ? 1 : 0), dW = 1 + (rnd.nextInt(3) == 0 ? 1 : 0);
        int[] pad = {rnd.nextInt(dH * (r - 1) + 1), rnd.nextInt(dW * (s - 1) + 1),
            rnd.nextInt(dH * (r - 1) + 1), rnd.nextInt(dW * (s - 1) + 1)};
        try {
          geometries.add(new ConvTransposeGeometry(1 + rnd.nextInt(2), groups * (1 + rnd.nextInt(4)),
              1 + rnd.nextInt(6), 1 + rnd.nextInt(2 * l + 4), groups * (1 + rnd.nextInt(4)), r, s, sH, sW, dH, dW,
              pad[0], pad[1], pad[2], pad[3], rnd.nextInt(Math.max(sH, dH)), rnd.nextInt(Math.max(sW, dW)), groups));
        } catch (IllegalArgumentException emptyOutput) {
          // the pads leave no output: draw again
        }
      }
      for (int i = 0; i < geometries.size(); i++) {
        cases.add(Arguments.of(sp, geometries.get(i), PreparedConvCheck.EPILOGUES[i % PreparedConvCheck.EPILOGUES.length],
            i % 3 == 2));
      }
    }
    return cases.stream();
  }

  /** Square kernel, stride, symmetric pad, output padding, dilation and groups. */
  private static ConvTransposeGeometry ct(int n, int c, int h, int w, int k, int kernel, int stride, int pad,
      int outPad, int dilation, int groups) {
    return new ConvTransposeGeometry(n, c, h, w, k, kernel, kernel, stride, stride, dilation, dilation, pad, pad, pad,
        pad, outPad, outPad, groups);
  }

  @ParameterizedTest(name = "{0} {1} {2} zeroChannel={3}")
  @MethodSource("cases")
  void matchesReferenceInt8(VectorSpecies<Float> sp, ConvTransposeGeometry g, PreparedConvCheck.Epilogue e,
      boolean zeroChannel) {
    SplittableRandom rnd = FloatData.random(sp.vectorBitSize(), g.hashCode(), e.hashCode());
    int size = (int) g.outputSize();
    int plane = g.p() * g.q();
    float[] x = FloatData.floats(rnd, g.n() * g.c() * g.h() * g.w(), 0);
    Int8Weights.Layout layout = Int8Weights.convTranspose(g);
    Int8Weights q = PreparedConvCheck.weights(rnd, layout, zeroChannel);
    float[] bias = e.bias() ? FloatData.floats(rnd, g.k(), 0) : null;
    PositionOffsets offsets = e.offsets() ? FloatData.offsets(rnd, g.k(), g.p(), g.q()) : null;
    float[] residual = e.residual() ? FloatData.floats(rnd, size, 0) : null;

    float[] expected = FloatData.sentinels(size);
    REFERENCE.prepareConvTranspose2dInt8(g, q, bias, offsets, null)
        .run(x, residual, expected, new float[0], Parallel.SERIAL);
    float[] absSum = FloatData.sentinels(size);
    REFERENCE.convTranspose2d(g, abs(x), abs(q.dequantize(layout)), abs(bias),
        new ConvEpilogue(abs(offsets), abs(residual), null), absSum);
    int reduction = g.c() / g.groups()
        * F32ConvTransposeTest.maxTaps(g.p(), g.padTop(), g.strideH(), g.dilationH(), g.h(), g.r())
        * F32ConvTransposeTest.maxTaps(g.q(), g.padLeft(), g.strideW(), g.dilationW(), g.w(), g.s());

    SimdKernels simd = new SimdKernels(sp);
    PreparedConv linear = simd.prepareConvTranspose2dInt8(g, q, bias, offsets, null);
    PreparedConv activated = e.activation() == null ? null
        : simd.prepareConvTranspose2dInt8(g, q, bias, offsets, e.activation());
    PreparedConvCheck.assertPrepared("convTranspose int8 " + bits(sp) + " " + g + " P=" + g.p() + " Q=" + g.q() + ", "
        + e, linear, activated, e.activation(), x, residual, size, expected, absSum, reduction + e.roundings());
  }
}
