package dev.vfuse.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class PreprocessTest {

  private static RgbImage solid(int w, int h, int rgb) {
    int[] px = new int[w * h];
    Arrays.fill(px, rgb);
    return new RgbImage(w, h, px);
  }

  @Test
  void detInputIsImageNetNormalizedNchw() {
    // 3 wide, 2 tall: pixel (x, y) has R = 10x + y, G = 100, B = 255.
    int[] px = new int[6];
    for (int y = 0; y < 2; y++) {
      for (int x = 0; x < 3; x++) {
        px[y * 3 + x] = (10 * x + y) << 16 | 100 << 8 | 255;
      }
    }
    float[] t = Preprocess.detInput(new RgbImage(3, 2, px));
    assertThat(t).hasSize(3 * 2 * 3);
    for (int y = 0; y < 2; y++) {
      for (int x = 0; x < 3; x++) {
        int i = y * 3 + x;
        assertThat(t[i]).as("R at %d,%d", x, y).isCloseTo(((10 * x + y) / 255f - 0.485f) / 0.229f, within(1e-5f));
        assertThat(t[6 + i]).as("G at %d,%d", x, y).isCloseTo((100 / 255f - 0.456f) / 0.224f, within(1e-5f));
        assertThat(t[12 + i]).as("B at %d,%d", x, y).isCloseTo((1f - 0.406f) / 0.225f, within(1e-5f));
      }
    }
  }

  @Test
  void clsWidthKeepsAspectUpTo192() {
    assertThat(Preprocess.clsWidth(48, 48)).isEqualTo(48);
    assertThat(Preprocess.clsWidth(100, 48)).isEqualTo(100);
    assertThat(Preprocess.clsWidth(101, 50)).isEqualTo(97); // ceil(96.96)
    assertThat(Preprocess.clsWidth(1000, 40)).isEqualTo(192);
    assertThat(Preprocess.clsWidth(1, 500)).isEqualTo(1);
  }

  @Test
  void recWidthKeepsAspectAndTheInputIsAtLeast320InStepsOf32() {
    assertThat(Preprocess.recWidth(100, 48)).isEqualTo(100);
    assertThat(Preprocess.recWidth(101, 50)).isEqualTo(97);
    assertThat(Preprocess.recInputWidth(101, 50)).isEqualTo(320);
    assertThat(Preprocess.recInputWidth(1000, 48)).isEqualTo(1024);
    assertThat(Preprocess.recInputWidth(960, 48)).isEqualTo(960);
    assertThat(Preprocess.recInputWidth(1, 500)).isEqualTo(320);
  }

  @Test
  void recInputResizesToHeight48NormalizesAndPadsWithZeros() {
    // A white 100x24 crop becomes 200x48 of +1.0, then zeros up to 320.
    float[] t = Preprocess.recInput(solid(100, 24, 0xffffff));
    int plane = 48 * 320;
    assertThat(t).hasSize(3 * plane);
    for (int c = 0; c < 3; c++) {
      for (int y = 0; y < 48; y++) {
        for (int x = 0; x < 320; x++) {
          assertThat(t[c * plane + y * 320 + x]).as("c=%d y=%d x=%d", c, y, x).isEqualTo(x < 200 ? 1f : 0f);
        }
      }
    }
  }

  @Test
  void clsInputResizesNormalizesAndPadsWithZeros() {
    // A white 40x20 crop becomes 96x48 of +1.0, then zeros up to 192; a black 500x10 crop fills all 192 with -1.0.
    float[] t = Preprocess.clsInput(List.of(solid(40, 20, 0xffffff), solid(500, 10, 0x000000)));
    int plane = 48 * 192;
    assertThat(t).hasSize(2 * 3 * plane);
    for (int c = 0; c < 3; c++) {
      for (int y = 0; y < 48; y++) {
        for (int x = 0; x < 192; x++) {
          float first = t[c * plane + y * 192 + x];
          float second = t[3 * plane + c * plane + y * 192 + x];
          assertThat(first).as("crop 0 c=%d y=%d x=%d", c, y, x).isEqualTo(x < 96 ? 1f : 0f);
          assertThat(second).as("crop 1 c=%d y=%d x=%d", c, y, x).isEqualTo(-1f);
        }
      }
    }
  }

  @Test
  void bilinearKeepsSolidColoursAndIdentity() {
    RgbImage s = solid(7, 5, 0x336699);
    assertThat(Preprocess.resizeBilinear(s, 13, 3).rgb()).containsOnly(0x336699);
    assertThat(Preprocess.resizeBilinear(s, 7, 5)).isSameAs(s);
  }

  @Test
  void bilinearHalvingAveragesPixelPairs() {
    // Halving puts each destination centre exactly between two source pixels (OpenCV's alignment).
    int[] px = {0, 100, 200, 50, 10, 30, 250, 250};
    RgbImage src = new RgbImage(4, 2, Arrays.stream(px).map(v -> v << 16 | v << 8 | v).toArray());
    RgbImage half = Preprocess.resizeBilinear(src, 2, 1);
    assertThat(half.channel(0, 0, 0)).isEqualTo(Math.round((0 + 100 + 10 + 30) / 4f));
    assertThat(half.channel(1, 0, 1)).isEqualTo(Math.round((200 + 50 + 250 + 250) / 4f));
  }

  @Test
  void bilinearUpscalingInterpolatesAndClampsAtEdges() {
    RgbImage src = new RgbImage(2, 1, new int[] {0x000000, 0xff0000});
    RgbImage up = Preprocess.resizeBilinear(src, 4, 1);
    // Source positions -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
    assertThat(up.channel(0, 0, 0)).isZero();
    assertThat(up.channel(1, 0, 0)).isEqualTo(64);
    assertThat(up.channel(2, 0, 0)).isEqualTo(191);
    assertThat(up.channel(3, 0, 0)).isEqualTo(255);
  }

  @Test
  void cropCopiesTheRegion() {
    int[] px = new int[20];
    for (int i = 0; i < px.length; i++) {
      px[i] = i;
    }
    RgbImage img = new RgbImage(5, 4, px);
    assertThat(img.crop(1, 2, 3, 2).rgb()).containsExactly(11, 12, 13, 16, 17, 18);
    assertThatThrownBy(() -> img.crop(3, 0, 3, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new RgbImage(3, 3, new int[8])).isInstanceOf(IllegalArgumentException.class);
  }
}
