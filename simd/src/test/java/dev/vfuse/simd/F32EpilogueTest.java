package dev.vfuse.simd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.kernel.Activation;
import dev.vfuse.kernel.PositionOffsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link F32Epilogue#apply} is bit-identical to bias add, offsets, residual and
 * {@link Activation#apply} done one float operation at a time (Sigmoid and Tanh within 1 ulp), for every activation, on every
 * width, for runs around the vector length at unaligned offsets, with NaN, ±0 and ±∞ mixed in. The
 * offset rows are shorter than a vector and the runs start mid-row, so runs cross rows, some of
 * which share a row class.
 */
class F32EpilogueTest {

  private static final Activation[] ACTIVATIONS = {null, new Activation.Relu(), new Activation.LeakyRelu(0.1f),
      new Activation.Clip(0f, 6f), new Activation.Clip(-1.5f, 0.25f), new Activation.HardSigmoid(0.2f, 0.5f),
      new Activation.HardSigmoid(1f / 6f, 0.5f), new Activation.HardSwish(), new Activation.Sigmoid(),
      new Activation.Tanh()};

  static List<Object[]> cases() {
    List<Object[]> out = new ArrayList<>();
    for (VectorSpecies<Float> sp : VectorWidth.all()) {
      int l = sp.length();
      int i = 0;
      for (int len : new int[] {1, l - 1, l, l + 1, 3 * l + 5}) {
        for (Activation act : ACTIVATIONS) {
          out.add(new Object[] {sp, len, i % 2 == 0, i % 3 != 0, i % 4 != 1, act});
          i++;
        }
      }
    }
    return out;
  }

  @ParameterizedTest
  @MethodSource("cases")
  void matchesScalarOperationsBitForBit(VectorSpecies<Float> sp, int len, boolean hasBias, boolean withOffsets,
      boolean withResidual, Activation act) {
    SplittableRandom r = new SplittableRandom(len * 977L + sp.vectorBitSize());
    int yOff = 3;
    int channel = 1;
    int position = POSITION;
    int resOff = 1;
    float[] y = random(r, yOff + len + 4);
    PositionOffsets offsets = withOffsets ? offsets(r, sp, channel + 1, position + len) : null;
    float[] residual = withResidual ? random(r, resOff + len) : null;
    float bias = (float) r.nextDouble(-2, 2);
    float[] expected = y.clone();
    for (int i = 0; i < len; i++) {
      float v = expected[yOff + i];
      if (hasBias) {
        v += bias;
      }
      if (offsets != null) {
        int at = position + i;
        v += offsets.at(channel, at / offsets.width(), at % offsets.width());
      }
      if (residual != null) {
        v += residual[resOff + i];
      }
      expected[yOff + i] = act == null ? v : act.apply(v);
    }
    F32Epilogue.apply(sp, y, yOff, len, hasBias, bias, offsets, channel, position, residual, resOff, act);
    String context = String.format("%s len=%d bias=%s offsets=%s residual=%s %s", sp, len, hasBias, withOffsets,
        withResidual, act);
    if (FloatData.ulpActivation(act)) {
      FloatData.assertWithinUlps(context, expected, y, 1);
    } else {
      assertThat(y).as(context).containsExactly(expected);
    }
  }

  /** Where the runs start in their channel's plane: mid-row, as {@link #offsets} sizes the rows. */
  private static final int POSITION = 3;

  /**
   * Random offsets (specials included) for channels [0, channels) and positions [0, positions), in
   * rows of L/2 + 3 for L lanes, so a run from {@link #POSITION} crosses rows.
   */
  private static PositionOffsets offsets(SplittableRandom r, VectorSpecies<Float> sp, int channels, int positions) {
    int width = sp.length() / 2 + 3;
    int height = Math.ceilDiv(positions, width);
    return FloatData.withRepeatedRows(r, channels, height, width, random(r, channels * height * width));
  }

  private static float[] random(SplittableRandom r, int n) {
    float[] special = {Float.NaN, 0f, -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 6f, -3f, 3f};
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = r.nextInt(8) == 0 ? special[r.nextInt(special.length)] : (float) r.nextDouble(-8, 8);
    }
    return a;
  }

  /** {@link F32Epilogue#applyRows} is {@link F32Epilogue#apply} row by row, bit for bit. */
  @ParameterizedTest
  @MethodSource("cases")
  void rowsEqualRowByRow(VectorSpecies<Float> sp, int len, boolean hasBias, boolean withOffsets, boolean withResidual,
      Activation act) {
    SplittableRandom r = new SplittableRandom(len * 31L + sp.vectorBitSize());
    int rows = 3;
    int srcStride = len + 2;
    int yStride = len + 5;
    float[] src = random(r, 1 + rows * srcStride);
    int channel = 2;
    float[] bias = hasBias ? random(r, channel + rows) : null;
    PositionOffsets offsets = withOffsets ? offsets(r, sp, channel + rows, POSITION + len) : null;
    float[] residual = withResidual ? random(r, 7 + rows * yStride) : null;
    float[] y = random(r, 7 + rows * yStride);
    float[] expected = y.clone();
    for (int row = 0; row < rows; row++) {
      F32Epilogue.apply(sp, src, 1 + row * srcStride, expected, 7 + row * yStride, len, hasBias,
          hasBias ? bias[channel + row] : 0f, offsets, channel + row, POSITION, residual, 7 + row * yStride, act);
    }
    F32Epilogue.applyRows(sp, src, 1, srcStride, y, 7, yStride, rows, len, bias, channel, offsets, POSITION, residual,
        act);
    assertThat(y).as("%s len=%d bias=%s offsets=%s residual=%s %s", sp, len, hasBias, withOffsets, withResidual, act)
        .containsExactly(expected);
  }
}
