package dev.vfuse.simd;

import static dev.vfuse.simd.FloatData.bits;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vfuse.kernel.ConvEpilogue;
import dev.vfuse.kernel.ConvGeometry;
import dev.vfuse.kernel.PositionOffsets;
import dev.vfuse.kernel.PreparedConv;
import dev.vfuse.reference.ReferenceKernels;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link F32Conv1x1} against the reference within {@link ReductionTolerance} for C + the epilogue's
 * adds, on one thread and two, at every width: plane sizes around the tiles (below one vector, one
 * vector, between one and three, exactly three, three and a tail, several wide panels and a
 * masked tail), output channels below, at and past the MR-row tile, weights over two chunks, one
 * position per image (the GEMV path, with channel counts around its 4-vector block), batches,
 * strides 2 and 3 and uneven ones (resnet's stride-2 shortcuts, odd input sides, an output of one
 * position), and each epilogue.
 */
class F32Conv1x1Test {
  private static final ReferenceKernels REFERENCE = new ReferenceKernels();

  record Case(VectorSpecies<Float> species, ConvGeometry g, PreparedConvCheck.Epilogue epilogue) {
    @Override
    public String toString() {
      return bits(species) + " N=" + g.n() + " C=" + g.c() + " " + g.h() + "x" + g.w() + " K=" + g.k() + " stride "
          + g.strideH() + "," + g.strideW() + ", " + epilogue;
    }
  }

  static Stream<Case> cases() {
    List<Case> cases = new ArrayList<>();
    int e = 0;
    for (VectorSpecies<Float> sp : VectorWidth.all()) {
      int l = sp.length();
      int wide = F32Conv1x1.WIDE * l;
      int[][] planes = {{1, l - 1}, {1, l}, {2, l}, {1, wide}, {1, wide + 1}, {7, 7}, {14, 14}, {3, 2 * wide + l + 3}};
      int[] channels = {1, F32Conv1x1.MR - 1, F32Conv1x1.MR, F32Conv1x1.MR + 3, 2 * F32Conv1x1.MR + 5};
      for (int[] hw : planes) {
        for (int k : channels) {
          int c = 1 + (hw[0] * 7 + k * 3) % 37;
          int n = k % 2 == 0 ? 2 : 1;
          cases.add(new Case(sp, ConvGeometry.of(n, c, hw[0], hw[1], k, 1, 1, 0, 1, 1),
              PreparedConvCheck.EPILOGUES[e++ % PreparedConvCheck.EPILOGUES.length]));
        }
      }
      // 8 panels of 8 channels × 1024 fill a 256 KB weight chunk: 75 channels span two chunks.
      cases.add(new Case(sp, ConvGeometry.of(1, 1024, 2, 3, 9 * F32Conv1x1.MR + 3, 1, 1, 0, 1, 1),
          PreparedConvCheck.EPILOGUES[1]));
      int block = F32Conv1x1.GEMV_VECTORS * l;
      for (int k : new int[] {1, l - 1, l + 1, block, block + 1, 2 * block + l + 3}) {
        for (PreparedConvCheck.Epilogue epilogue : PreparedConvCheck.EPILOGUES) {
          cases.add(new Case(sp, ConvGeometry.of(k % 2 + 1, 3 + k % 29, 1, 1, k, 1, 1, 0, 1, 1), epilogue));
        }
      }
      // Strided: the subsampled copy after the workers' spills, then the same tiles.
      int[][] strided = {{56, 56, 2, 2}, {14, 14, 2, 2}, {9, 2 * wide + 5, 2, 2}, {7, 23, 3, 3}, {5, 31, 1, 2},
          {12, 4, 3, 1}, {2, 2, 2, 2}};
      for (int[] hs : strided) {
        for (int k : new int[] {F32Conv1x1.MR - 1, 2 * F32Conv1x1.MR + 5}) {
          int c = 3 + (hs[0] * 5 + hs[1] + k) % 29;
          int n = hs[1] % 2 == 0 ? 1 : 2;
          cases.add(new Case(sp, new ConvGeometry(n, c, hs[0], hs[1], k, 1, 1, hs[2], hs[3], 1, 1, 0, 0, 0, 0, 1),
              PreparedConvCheck.EPILOGUES[e++ % PreparedConvCheck.EPILOGUES.length]));
        }
      }
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void matchesTheReference(Case t) {
    ConvGeometry g = t.g();
    PreparedConvCheck.Epilogue e = t.epilogue();
    SplittableRandom rnd = FloatData.random(t.species().vectorBitSize(), g.hashCode(), e.hashCode());
    int size = (int) g.outputSize();
    float[] x = FloatData.floats(rnd, (int) g.inputSize(), 0);
    float[] w = FloatData.floats(rnd, (int) g.weightSize(), 0);
    float[] bias = e.bias() ? FloatData.floats(rnd, g.k(), 0) : null;
    PositionOffsets offsets = e.offsets() ? FloatData.offsets(rnd, g.k(), g.p(), g.q()) : null;
    float[] residual = e.residual() ? FloatData.floats(rnd, size, 0) : null;

    float[] expected = FloatData.sentinels(size);
    REFERENCE.conv2d(g, x, w, bias, new ConvEpilogue(offsets, residual, null), expected);
    float[] absSum = FloatData.sentinels(size);
    REFERENCE.conv2d(g, PreparedConvCheck.abs(x), PreparedConvCheck.abs(w), PreparedConvCheck.abs(bias),
        new ConvEpilogue(PreparedConvCheck.abs(offsets), PreparedConvCheck.abs(residual), null), absSum);

    PreparedConv linear = F32Conv1x1.prepare(t.species(), g, w, bias, offsets, null);
    PreparedConv activated = e.activation() == null ? null
        : F32Conv1x1.prepare(t.species(), g, w, bias, offsets, e.activation());
    PreparedConvCheck.assertPrepared(t.toString(), linear, activated, e.activation(), x, residual, size, expected,
        absSum, g.c() + e.roundings());
  }

  @Test
  void takesPointwiseGeometryOnlyAndSimdKernelsRoutesItHere() {
    assertThat(F32Conv1x1.supports(ConvGeometry.of(1, 4, 5, 5, 6, 1, 1, 0, 1, 1))).isTrue();
    assertThat(F32Conv1x1.supports(ConvGeometry.of(1, 4, 5, 5, 6, 1, 1, 0, 2, 1))).as("dilation is moot at 1x1").isTrue();
    assertThat(F32Conv1x1.supports(ConvGeometry.of(1, 4, 5, 5, 6, 1, 2, 0, 1, 1))).as("stride 2").isTrue();
    assertThat(F32Conv1x1.supports(ConvGeometry.of(1, 4, 5, 5, 6, 1, 1, 1, 1, 1))).as("padded").isFalse();
    assertThat(F32Conv1x1.supports(ConvGeometry.of(1, 4, 5, 5, 6, 1, 1, 0, 1, 2))).as("grouped").isFalse();
    assertThat(F32Conv1x1.supports(ConvGeometry.of(1, 4, 5, 5, 6, 3, 1, 1, 1, 1))).as("3x3").isFalse();
    ConvGeometry g = ConvGeometry.of(1, 4, 5, 5, 6, 1, 1, 0, 1, 1);
    assertThat(new SimdKernels().prepareConv2d(g, new float[24], null, null, null)).isInstanceOf(F32Conv1x1.class);
    ConvGeometry whole = ConvGeometry.of(1, 4, 1, 2 * F32Conv1x1.WIDE * 8, 6, 1, 1, 0, 1, 1);
    assertThat(F32Conv1x1.prepare(FloatVector.SPECIES_256, whole, new float[24], null, null, null).scratchPerWorker())
        .as("whole wide panels read x in place and store into y").isZero();
    assertThatThrownBy(() -> F32Conv1x1.prepare(FloatVector.SPECIES_256,
        ConvGeometry.of(1, 4, 5, 5, 6, 3, 1, 1, 1, 1), new float[216], null, null, null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a pointwise convolution");
  }
}
