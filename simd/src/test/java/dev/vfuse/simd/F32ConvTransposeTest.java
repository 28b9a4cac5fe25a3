package dev.vfuse.simd;

import static dev.vfuse.simd.FloatData.bits;
import static dev.vfuse.simd.PreparedConvCheck.abs;
import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.kernel.Activation;
import dev.vfuse.kernel.ConvEpilogue;
import dev.vfuse.kernel.ConvTransposeGeometry;
import dev.vfuse.kernel.Parallel;
import dev.vfuse.kernel.PositionOffsets;
import dev.vfuse.kernel.PreparedConv;
import dev.vfuse.reference.ReferenceKernels;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link F32ConvTranspose#prepare} against {@link ReferenceKernels#convTranspose2d} with the fused
 * epilogue, on every species, run through {@link Parallel#SERIAL} and through a two-thread
 * {@link Parallel}.
 *
 * <p>Geometry: PP-OCR's detection head (ConvTranspose 2×2 stride 2, 24→24 and 24→1 channels, and a
 * 96→24 variant), the grouped cases of the model fixtures, and seeded random geometry: kernels
 * 1..4, strides 1..3, dilation 1..2, pads, output padding, groups 1, 2 and C, batches of 1 and 2;
 * also more output channels than one task takes and a reduction longer than the GEMM's K block.
 *
 * <p>Checks, per case:
 *
 * <ul>
 *   <li>without activation: within {@link ReductionTolerance} of the reference, for
 *       L = (C/groups)·(most taps that reach one output) plus one rounding each for offsets and
 *       residual, Σ|terms| from the reference on absolute values; the slack after y untouched;
 *   <li>with an activation: bit-identical to the activation applied to the run without it (the
 *       epilogue is exact);
 *   <li>the two-thread run bit-identical to the serial one (tasks own disjoint outputs);
 *   <li>x and the weight unchanged; scratch contents ignored (it is filled with NaN).
 * </ul>
 */
class F32ConvTransposeTest {

  private static final ReferenceKernels REFERENCE = new ReferenceKernels();

  private static final PreparedConvCheck.Epilogue[] EPILOGUES = {
    new PreparedConvCheck.Epilogue(true, false, false, null),
    new PreparedConvCheck.Epilogue(false, false, false, null),
    new PreparedConvCheck.Epilogue(true, true, false, new Activation.Relu()),
    new PreparedConvCheck.Epilogue(true, false, true, new Activation.Sigmoid()),
    new PreparedConvCheck.Epilogue(false, true, true, new Activation.Clip(0f, 6f)),
  };

  static Stream<Arguments> cases() {
    List<Arguments> cases = new ArrayList<>();
    for (VectorSpecies<Float> sp : VectorWidth.all()) {
      List<ConvTransposeGeometry> geometries = new ArrayList<>();
      // PP-OCR det head, reduced from 160×160 (the full size runs once below)
      geometries.add(ct(1, 24, 40, 40, 24, 2, 2, 2, 0, 0, 1, 1));
      geometries.add(ct(1, 24, 40, 40, 1, 2, 2, 2, 0, 0, 1, 1));
      geometries.add(ct(1, 96, 20, 20, 24, 2, 2, 2, 0, 0, 1, 1));
      // the model fixtures: 3×3 s2 p1 op1 groups 2; 4×4 s2 p1 depthwise
      geometries.add(ct(1, 16, 10, 12, 8, 3, 3, 2, 1, 1, 1, 2));
      geometries.add(ct(1, 8, 20, 24, 8, 4, 4, 2, 1, 0, 1, 8));
      // wide rows around the lane count, channel blocks (K·R·S above the GEMM row cap)
      int l = sp.length();
      geometries.add(ct(2, 3, 3, 2 * l + 3, 5, 3, 3, 1, 1, 0, 1, 1));
      geometries.add(ct(1, 5, 4, 6, 70, 3, 3, 1, 0, 0, 1, 1));
      // a reduction C/groups longer than the GEMM's K block (256)
      geometries.add(ct(1, 600, 3, 5, 4, 2, 2, 2, 0, 0, 1, 2));
      SplittableRandom rnd = FloatData.random(sp.vectorBitSize(), 23);
      while (geometries.size() < 45) {
        int groups = switch (rnd.nextInt(3)) {
          case 0 -> 1;
          case 1 -> 2;
          default -> 0; // depthwise: groups = C
        };
        int cg = 1 + rnd.nextInt(groups == 0 ? 1 : 4);
        int kgr = 1 + rnd.nextInt(4);
        int gr = groups == 0 ? 1 + rnd.nextInt(4) : groups;
        int r = 1 + rnd.nextInt(4), s = 1 + rnd.nextInt(4);
        int sH = 1 + rnd.nextInt(3), sW = 1 + rnd.nextInt(3);
        int dH = 1 + (rnd.nextInt(3) == 0 ? 1 : 0), dW = 1 + (rnd.nextInt(3) == 0 ? 1 : 0);
        int h = 1 + rnd.nextInt(6), w = 1 + rnd.nextInt(2 * l + 4);
        int[] pad = {rnd.nextInt(dH * (r - 1) + 1), rnd.nextInt(dW * (s - 1) + 1),
            rnd.nextInt(dH * (r - 1) + 1), rnd.nextInt(dW * (s - 1) + 1)};
        int opH = rnd.nextInt(Math.max(sH, dH)), opW = rnd.nextInt(Math.max(sW, dW));
        try {
          geometries.add(new ConvTransposeGeometry(1 + rnd.nextInt(2), cg * gr, h, w, kgr * gr, r, s, sH, sW, dH, dW,
              pad[0], pad[1], pad[2], pad[3], opH, opW, gr));
        } catch (IllegalArgumentException emptyOutput) {
          // the pads leave no output: draw again
        }
      }
      for (int i = 0; i < geometries.size(); i++) {
        cases.add(Arguments.of(sp, geometries.get(i), EPILOGUES[i % EPILOGUES.length]));
      }
    }
    cases.add(Arguments.of(FloatVector.SPECIES_PREFERRED, ct(1, 24, 160, 160, 24, 2, 2, 2, 0, 0, 1, 1),
        new PreparedConvCheck.Epilogue(true, false, false, new Activation.Relu())));
    return cases.stream();
  }

  /** Square kernel, stride, symmetric pad, output padding, dilation and groups. */
  private static ConvTransposeGeometry ct(int n, int c, int h, int w, int k, int r, int s, int stride, int pad,
      int outPad, int dilation, int groups) {
    return new ConvTransposeGeometry(n, c, h, w, k, r, s, stride, stride, dilation, dilation, pad, pad, pad, pad,
        outPad, outPad, groups);
  }

  @ParameterizedTest(name = "{0} {1} {2}")
  @MethodSource("cases")
  void matchesReference(VectorSpecies<Float> sp, ConvTransposeGeometry g, PreparedConvCheck.Epilogue e) {
    SplittableRandom rnd = FloatData.random(sp.vectorBitSize(), g.hashCode(), e.hashCode());
    int inSize = g.n() * g.c() * g.h() * g.w();
    int size = (int) g.outputSize();
    int plane = g.p() * g.q();
    float[] x = FloatData.floats(rnd, inSize, 0);
    float[] w = FloatData.floats(rnd, (int) g.weightSize(), 0);
    float[] bias = e.bias() ? FloatData.floats(rnd, g.k(), 0) : null;
    PositionOffsets offsets = e.offsets() ? FloatData.offsets(rnd, g.k(), g.p(), g.q()) : null;
    float[] residual = e.residual() ? FloatData.floats(rnd, size, 0) : null;

    float[] expected = FloatData.sentinels(size);
    REFERENCE.convTranspose2d(g, x, w, bias, new ConvEpilogue(offsets, residual, null), expected);
    float[] absSum = FloatData.sentinels(size);
    REFERENCE.convTranspose2d(g, abs(x), abs(w), abs(bias), new ConvEpilogue(abs(offsets), abs(residual), null),
        absSum);
    int reduction = g.c() / g.groups() * maxTaps(g.p(), g.padTop(), g.strideH(), g.dilationH(), g.h(), g.r())
        * maxTaps(g.q(), g.padLeft(), g.strideW(), g.dilationW(), g.w(), g.s())
        + e.roundings();

    float[] wIn = w.clone();
    PreparedConv linear = F32ConvTranspose.prepare(sp, g, wIn, bias, offsets, null);
    PreparedConv activated = e.activation() == null ? null
        : F32ConvTranspose.prepare(sp, g, wIn, bias, offsets, e.activation());
    String context = "convTranspose " + bits(sp) + " species " + sp + ", " + g + " P=" + g.p() + " Q=" + g.q() + ", "
        + e;
    PreparedConvCheck.assertPrepared(context, linear, activated, e.activation(), x, residual, size, expected, absSum,
        reduction);
    FloatData.assertSame(context + ": weight changed", w, wIn);
    assertThat(linear.scratchPerWorker()).isGreaterThanOrEqualTo(0);
  }

  /** The most (tap, input position) pairs that reach one output position along an axis. */
  static int maxTaps(int out, int pad, int stride, int dilation, int in, int taps) {
    int max = 0;
    for (int o = 0; o < out; o++) {
      int count = 0;
      for (int t = 0; t < taps; t++) {
        int rest = o + pad - t * dilation;
        if (rest >= 0 && rest % stride == 0 && rest / stride < in) {
          count++;
        }
      }
      max = Math.max(max, count);
    }
    return max;
  }

}
