package dev.vfuse.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vfuse.demo.ConnectedComponents.Component;
import dev.vfuse.demo.ConnectedComponents.Labeling;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ConnectedComponentsTest {

  /** A mask from rows of '#' (set) and '.' (clear). */
  static boolean[] mask(String... rows) {
    boolean[] m = new boolean[rows.length * rows[0].length()];
    for (int y = 0; y < rows.length; y++) {
      for (int x = 0; x < rows[y].length(); x++) {
        m[y * rows[0].length() + x] = rows[y].charAt(x) == '#';
      }
    }
    return m;
  }

  @Test
  void emptyMaskHasNoComponents() {
    Labeling l = ConnectedComponents.label(new boolean[12], 4, 3);
    assertThat(l.components()).isEmpty();
    assertThat(l.labels()).containsOnly(0);
  }

  @Test
  void diagonalNeighboursAreConnected() {
    Labeling l = ConnectedComponents.label(mask(
        "#...",
        ".#..",
        "..#.",
        "...#"), 4, 4);
    assertThat(l.components()).containsExactly(new Component(1, 0, 0, 3, 3, 4));
  }

  @Test
  void separateBlobsInRasterOrderOfTheirFirstPixel() {
    Labeling l = ConnectedComponents.label(mask(
        "..##..#",
        "..##...",
        "#......",
        "##...##"), 7, 4);
    assertThat(l.components()).containsExactly(
        new Component(1, 2, 0, 3, 1, 4),
        new Component(2, 6, 0, 6, 0, 1),
        new Component(3, 0, 2, 1, 3, 3),
        new Component(4, 5, 3, 6, 3, 2));
    assertThat(l.labels()[0 * 7 + 2]).isEqualTo(1);
    assertThat(l.labels()[3 * 7 + 1]).isEqualTo(3);
    assertThat(l.labels()[1 * 7 + 5]).isZero();
  }

  @Test
  void branchesThatMeetLowerDownAreOneComponent() {
    // A U shape: the two arms are first seen as separate runs in row 0 but join at the bottom.
    Labeling l = ConnectedComponents.label(mask(
        "#...#",
        "#...#",
        "#####"), 5, 3);
    assertThat(l.components()).containsExactly(new Component(1, 0, 0, 4, 2, 9));
  }

  @Test
  void edgesAndCornersOfTheImage() {
    Labeling l = ConnectedComponents.label(mask(
        "#..#",
        "....",
        "#..#"), 4, 3);
    assertThat(l.components()).hasSize(4);
    assertThat(l.components()).extracting(Component::pixels).containsOnly(1);
  }

  @Test
  void largeComponentDoesNotOverflow() {
    int w = 1000;
    int h = 800;
    boolean[] m = new boolean[w * h];
    java.util.Arrays.fill(m, true);
    Labeling l = ConnectedComponents.label(m, w, h);
    assertThat(l.components()).containsExactly(new Component(1, 0, 0, w - 1, h - 1, w * h));
  }

  @Test
  void agreesWithANaiveUnionFindOnRandomMasks() {
    Random rnd = new Random(7);
    for (int trial = 0; trial < 50; trial++) {
      int w = 1 + rnd.nextInt(30);
      int h = 1 + rnd.nextInt(30);
      boolean[] m = new boolean[w * h];
      for (int i = 0; i < m.length; i++) {
        m[i] = rnd.nextFloat() < 0.45f;
      }
      Labeling l = ConnectedComponents.label(m, w, h);
      int[] parent = new int[m.length];
      for (int i = 0; i < m.length; i++) {
        parent[i] = i;
      }
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          if (!m[y * w + x]) {
            continue;
          }
          for (int dy = 0; dy <= 1; dy++) {
            for (int dx = -1; dx <= 1; dx++) {
              int nx = x + dx;
              int ny = y + dy;
              if ((dy == 0 && dx <= 0) || nx < 0 || nx >= w || ny >= h || !m[ny * w + nx]) {
                continue;
              }
              parent[find(parent, y * w + x)] = find(parent, ny * w + nx);
            }
          }
        }
      }
      for (int i = 0; i < m.length; i++) {
        assertThat(l.labels()[i] != 0).as("trial %d %dx%d pixel %d", trial, w, h, i).isEqualTo(m[i]);
        for (int j = i + 1; j < m.length && m[i]; j++) {
          if (m[j]) {
            assertThat(l.labels()[i] == l.labels()[j]).as("trial %d %dx%d pixels %d,%d", trial, w, h, i, j)
                .isEqualTo(find(parent, i) == find(parent, j));
          }
        }
      }
      int total = l.components().stream().mapToInt(Component::pixels).sum();
      int set = 0;
      for (boolean b : m) {
        set += b ? 1 : 0;
      }
      assertThat(total).isEqualTo(set);
    }
  }

  private static int find(int[] parent, int i) {
    while (parent[i] != i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  }

  @Test
  void rejectsAMaskOfTheWrongSize() {
    assertThatThrownBy(() -> ConnectedComponents.label(new boolean[5], 2, 3)).isInstanceOf(IllegalArgumentException.class);
  }
}
