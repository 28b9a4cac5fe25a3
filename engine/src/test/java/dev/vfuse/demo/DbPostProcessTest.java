package dev.vfuse.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.vfuse.demo.DbPostProcess.Params;
import dev.vfuse.demo.DbPostProcess.TextBox;
import java.util.List;
import org.junit.jupiter.api.Test;

class DbPostProcessTest {
  private static final int W = 64;
  private static final int H = 40;

  private static void fill(float[] map, int x, int y, int w, int h, float p) {
    for (int r = y; r < y + h; r++) {
      for (int c = x; c < x + w; c++) {
        map[r * W + c] = p;
      }
    }
  }

  @Test
  void unclipDistanceIsAreaTimesRatioOverPerimeter() {
    assertThat(DbPostProcess.unclipDistance(100, 20, 1.5f)).isCloseTo(100 * 20 * 1.5 / 240, within(1e-12));
    assertThat(DbPostProcess.unclipDistance(4, 4, 1.5f)).isCloseTo(1.5, within(1e-12));
  }

  @Test
  void unclipGrowsOutwardsAndClips() {
    // 10x4 box: d = 40 * 1.5 / 28 = 2.142..., so x0 = floor(20 - 2.14) = 17, x1 = ceil(30 + 2.14) = 33.
    TextBox b = DbPostProcess.unclip(20, 10, 10, 4, 0.9f, 1.5f, W, H);
    assertThat(b).isEqualTo(new TextBox(17, 7, 16, 10, 0.9f));
    // At the image's corner the box is clipped to [0, W) x [0, H).
    TextBox c = DbPostProcess.unclip(0, 0, 10, 4, 0.9f, 1.5f, 12, 5);
    assertThat(c).isEqualTo(new TextBox(0, 0, 12, 5, 0.9f));
  }

  @Test
  void findsScoresFiltersAndSortsBoxes() {
    float[] map = new float[W * H];
    fill(map, 40, 5, 20, 4, 0.9f);   // upper right: kept
    fill(map, 4, 6, 12, 3, 0.8f);    // upper left, same row band: kept, comes first
    fill(map, 4, 20, 20, 5, 0.5f);   // above the 0.3 threshold but scores 0.5 < 0.6: dropped
    fill(map, 40, 30, 3, 3, 0.99f);  // 9 pixels < 10: dropped
    fill(map, 10, 32, 10, 2, 0.3f);  // exactly at the threshold: not text
    List<TextBox> boxes = DbPostProcess.boxes(map, W, H, Params.DEFAULT);
    assertThat(boxes).hasSize(2);

    TextBox left = boxes.get(0);
    assertThat(left.score()).isCloseTo(0.8f, within(1e-6f));
    double d = DbPostProcess.unclipDistance(12, 3, 1.5f);
    assertThat(left).isEqualTo(new TextBox((int) Math.floor(4 - d), (int) Math.floor(6 - d),
        (int) Math.ceil(16 + d) - (int) Math.floor(4 - d), (int) Math.ceil(9 + d) - (int) Math.floor(6 - d), left.score()));

    // 20x4 at (40, 5): d = 80 * 1.5 / 48 = 2.5, so [37.5, 62.5) x [2.5, 11.5) rounds out to [37, 63) x [2, 12).
    // Its top (2) is above the left box's (4) but within 10 px, so it still comes second.
    TextBox right = boxes.get(1);
    assertThat(right.score()).isCloseTo(0.9f, within(1e-6f));
    assertThat(right).isEqualTo(new TextBox(37, 2, 26, 10, right.score()));
  }

  @Test
  void readingOrderGroupsRowsWithin10Pixels() {
    TextBox a = new TextBox(100, 0, 10, 10, 1f);
    TextBox b = new TextBox(0, 9, 10, 10, 1f);
    TextBox c = new TextBox(50, 40, 10, 10, 1f);
    TextBox d = new TextBox(0, 49, 10, 10, 1f);
    assertThat(DbPostProcess.readingOrder(List.of(c, a, d, b))).containsExactly(b, a, d, c);
    TextBox e = new TextBox(0, 10, 10, 10, 1f); // 10 px below a: a new row
    assertThat(DbPostProcess.readingOrder(List.of(e, a))).containsExactly(a, e);
  }

  @Test
  void scoreIsTheMeanOverTheComponentOnly() {
    float[] map = new float[W * H];
    // An L-shaped component, 0.7 on one arm and 1.0 on the other; pixels of the bounding box that
    // are not in the component are 0 and must not dilute the mean.
    fill(map, 10, 10, 10, 2, 0.7f);
    fill(map, 10, 12, 2, 8, 1.0f);
    List<TextBox> boxes = DbPostProcess.boxes(map, W, H, Params.DEFAULT);
    assertThat(boxes).hasSize(1);
    assertThat(boxes.get(0).score()).isCloseTo((20 * 0.7f + 16 * 1.0f) / 36, within(1e-6f));
  }

  @Test
  void scaleMapsBoxesToTheImage() {
    TextBox b = new TextBox(10, 5, 20, 4, 0.7f);
    assertThat(DbPostProcess.scale(b, 64, 40, 64, 40)).isSameAs(b);
    assertThat(DbPostProcess.scale(b, 64, 40, 128, 80)).isEqualTo(new TextBox(20, 10, 40, 8, 0.7f));
    assertThat(DbPostProcess.scale(new TextBox(60, 0, 4, 40, 1f), 64, 40, 100, 50)).isEqualTo(new TextBox(93, 0, 7, 50, 1f));
  }
}
