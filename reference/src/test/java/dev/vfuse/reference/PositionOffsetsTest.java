package dev.vfuse.reference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vfuse.kernel.Activation;
import dev.vfuse.kernel.ConvEpilogue;
import dev.vfuse.kernel.PositionOffsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link PositionOffsets}: its layout, the exact round trip of {@code compress}, its shape checks,
 * and {@link ConvEpilogue} reading it.
 */
class PositionOffsetsTest {

  /** Values whose bits a float comparison would merge: both zeros and NaNs with different payloads. */
  private static final float[] SPECIALS = {0f, -0f, Float.NaN, Float.intBitsToFloat(0x7fc0_0001), 1f};

  @Test
  void compressRoundTripsARandomMapBitForBit() {
    SplittableRandom rnd = new SplittableRandom(11);
    int k = 3, p = 7, q = 5;
    float[] dense = new float[k * p * q];
    for (int i = 0; i < dense.length; i++) {
      dense[i] = rnd.nextInt(4) == 0 ? SPECIALS[rnd.nextInt(SPECIALS.length)] : (float) rnd.nextDouble(-4, 4);
    }
    PositionOffsets offsets = PositionOffsets.compress(k, p, q, dense);
    assertThat(offsets.classes()).isEqualTo(p);
    assertRoundTrip(offsets, dense);
  }

  @Test
  void compressKeepsOneRowPerDistinctRowAcrossAllChannels() {
    // Rows 0 and 5 are borders, 1..4 the interior; channel 1 tells rows 2 and 3 apart only by the sign of a zero.
    int k = 2, p = 6, q = 3;
    float[][][] rows = {
      {{1, 2, 3}, {4, 5, 6}, {4, 5, 6}, {4, 5, 6}, {4, 5, 6}, {7, 8, 9}},
      {{1, 1, 1}, {2, 0, 2}, {2, 0, 2}, {2, -0f, 2}, {2, 0, 2}, {3, 3, 3}},
    };
    float[] dense = new float[k * p * q];
    for (int ch = 0; ch < k; ch++) {
      for (int row = 0; row < p; row++) {
        System.arraycopy(rows[ch][row], 0, dense, (ch * p + row) * q, q);
      }
    }
    PositionOffsets offsets = PositionOffsets.compress(k, p, q, dense);
    assertThat(offsets.classes()).isEqualTo(4);
    assertThat(offsets.rowClass()).containsExactly(0, 1, 1, 2, 1, 3);
    assertThat(offsets.rows()).hasSize(k * 4 * q);
    assertThat(offsets.bytes()).isEqualTo(4L * (k * 4 * q + p));
    assertRoundTrip(offsets, dense);
  }

  @Test
  void rowBaseIndexesTheStoredRowOfAPosition() {
    // Two classes: rows 0 and 2 are class 1, row 1 class 0.
    PositionOffsets offsets = new PositionOffsets(2, 3, 2, 2, new int[] {1, 0, 1},
        new float[] {10, 11, 20, 21, 30, 31, 40, 41});
    assertThat(offsets.rowBase(0, 0)).isEqualTo(2);
    assertThat(offsets.rowBase(1, 1)).isEqualTo(4);
    assertThat(offsets.at(1, 2, 1)).isEqualTo(41f);
    assertThat(offsets.at(0, 1, 0)).isEqualTo(10f);
  }

  @Test
  void constructorRejectsInconsistentShapes() {
    assertThatThrownBy(() -> new PositionOffsets(1, 2, 2, 1, new int[] {0}, new float[2]))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("rowClass has 1 entries for 2 rows");
    assertThatThrownBy(() -> new PositionOffsets(2, 2, 2, 1, new int[] {0, 0}, new float[2]))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("rows has 2 floats");
    assertThatThrownBy(() -> new PositionOffsets(1, 2, 2, 1, new int[] {0, 1}, new float[2]))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("rowClass[1] = 1 is outside [0, 1)");
    assertThatThrownBy(() -> new PositionOffsets(1, 1, 2, 1, new int[] {-1}, new float[2]))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("rowClass[0] = -1");
    assertThatThrownBy(() -> new PositionOffsets(1, 1, -2, 1, new int[] {0}, new float[0]))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("width must not be negative");
    assertThatThrownBy(() -> PositionOffsets.compress(2, 2, 2, new float[7]))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dense map has 7 floats");
  }

  @Test
  void epilogueAddsEachPositionsOffsetBeforeTheResidual() {
    SplittableRandom rnd = new SplittableRandom(3);
    int n = 2, k = 3, p = 4, q = 5, plane = p * q;
    float[] dense = Floats.uniform(rnd, k * plane);
    System.arraycopy(dense, q, dense, 2 * q, q); // rows 1 and 2 equal in channel 0 only: still two classes
    float[] residual = Floats.uniform(rnd, n * k * plane);
    float[] y = Floats.uniform(rnd, n * k * plane);
    Activation relu = new Activation.Relu();
    float[] expected = new float[y.length];
    for (int i = 0; i < y.length; i++) {
      expected[i] = relu.apply(y[i] + dense[i % (k * plane)] + residual[i]);
    }
    new ConvEpilogue(PositionOffsets.compress(k, p, q, dense), residual, relu).applyTo(n, k, plane, y);
    assertThat(y).containsExactly(expected);
  }

  private static void assertRoundTrip(PositionOffsets offsets, float[] dense) {
    int p = offsets.height(), q = offsets.width();
    for (int ch = 0; ch < offsets.channels(); ch++) {
      for (int row = 0; row < p; row++) {
        for (int col = 0; col < q; col++) {
          float expected = dense[(ch * p + row) * q + col];
          assertThat(Float.floatToRawIntBits(offsets.at(ch, row, col)))
              .as("offset (%d, %d, %d)", ch, row, col).isEqualTo(Float.floatToRawIntBits(expected));
        }
      }
    }
  }
}
