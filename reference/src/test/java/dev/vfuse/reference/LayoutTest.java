package dev.vfuse.reference;

import static dev.vfuse.reference.Floats.assertClose;

import org.junit.jupiter.api.Test;

/** Transpose, pad, slice, gather and concat. */
class LayoutTest {

  private final ReferenceKernels kernels = new ReferenceKernels();

  @Test
  void transposeRank3() {
    // x = [2, 3, 4] = 0..23, x[a, b, c] = 12a + 4b + c; perm [2, 0, 1] gives y[c, a, b] = 12a + 4b + c, shape [4, 2, 3].
    float[] expected = {
        0, 4, 8, 12, 16, 20,   // c = 0
        1, 5, 9, 13, 17, 21,   // c = 1
        2, 6, 10, 14, 18, 22,  // c = 2
        3, 7, 11, 15, 19, 23}; // c = 3
    float[] y = Floats.output(24);
    kernels.transpose(new int[] {2, 3, 4}, new int[] {2, 0, 1}, Floats.iota(24), y);
    assertClose("transpose [2,3,4] by [2,0,1]", expected, y, 0);
  }

  @Test
  void transposeRank6Reversed() {
    // x of shape [2, 1, 3, 1, 2, 2] = 0..23 with strides [12, 12, 4, 4, 2, 1]; reversing the axes gives
    // y of shape [2, 2, 1, 3, 1, 2] with y[f, e, 0, c, 0, a] = x[a, 0, c, 0, e, f] = 12a + 4c + 2e + f.
    float[] expected = new float[24];
    int i = 0;
    for (int f = 0; f < 2; f++) {
      for (int e = 0; e < 2; e++) {
        for (int c = 0; c < 3; c++) {
          for (int a = 0; a < 2; a++) {
            expected[i++] = 12 * a + 4 * c + 2 * e + f;
          }
        }
      }
    }
    float[] y = Floats.output(24);
    kernels.transpose(new int[] {2, 1, 3, 1, 2, 2}, new int[] {5, 4, 3, 2, 1, 0}, Floats.iota(24), y);
    assertClose("transpose rank 6 reversed", expected, y, 0);
  }

  @Test
  void transposeRank1IsACopy() {
    float[] y = Floats.output(3);
    kernels.transpose(new int[] {3}, new int[] {0}, new float[] {7, 8, 9}, y);
    assertClose("transpose rank 1", new float[] {7, 8, 9}, y, 0);
  }

  @Test
  void pad() {
    // x = [2, 3] = [[0, 1, 2], [3, 4, 5]], one row before, two columns after, value −1 → [3, 5].
    float[] expected = {
        -1, -1, -1, -1, -1,
        0, 1, 2, -1, -1,
        3, 4, 5, -1, -1};
    float[] y = Floats.output(15);
    kernels.pad(new int[] {2, 3}, new int[] {1, 0}, new int[] {0, 2}, -1, Floats.iota(6), y);
    assertClose("pad [2,3] begin [1,0] end [0,2]", expected, y, 0);
  }

  @Test
  void padRank1BothSides() {
    float[] y = Floats.output(5);
    kernels.pad(new int[] {2}, new int[] {2}, new int[] {1}, 0.5f, new float[] {7, 8}, y);
    assertClose("pad [2] by 2 and 1", new float[] {0.5f, 0.5f, 7, 8, 0.5f}, y, 0);
  }

  @Test
  void sliceWithNegativeSteps() {
    // x = [2, 5] = 0..9, x[a][b] = 5a + b; starts [1, 4], steps [−1, −2], out [2, 3]:
    // y[i][j] = x[1 − i][4 − 2j] → [[9, 7, 5], [4, 2, 0]]
    float[] y = Floats.output(6);
    kernels.slice(new int[] {2, 5}, new int[] {1, 4}, new int[] {-1, -2}, new int[] {2, 3}, Floats.iota(10), y);
    assertClose("slice negative steps", new float[] {9, 7, 5, 4, 2, 0}, y, 0);
  }

  @Test
  void sliceWithPositiveStepsAndOffset() {
    // x = [3, 4] = 0..11, starts [1, 1], steps [1, 2], out [2, 2]: y[i][j] = x[1 + i][1 + 2j] → [[5, 7], [9, 11]]
    float[] y = Floats.output(4);
    kernels.slice(new int[] {3, 4}, new int[] {1, 1}, new int[] {1, 2}, new int[] {2, 2}, Floats.iota(12), y);
    assertClose("slice steps [1, 2]", new float[] {5, 7, 9, 11}, y, 0);
  }

  @Test
  void gather() {
    // x = [2, 3, 2] = 0..11, x[o][a][r] = 6o + 2a + r; indices [2, 0, 2] → y[o][i][r] = 6o + 2·idx[i] + r.
    float[] y = Floats.output(12);
    kernels.gather(2, 3, 2, new int[] {2, 0, 2}, Floats.iota(12), y);
    assertClose("gather [2, 0, 2]", new float[] {4, 5, 0, 1, 4, 5, 10, 11, 6, 7, 10, 11}, y, 0);
  }

  @Test
  void concat() {
    // a = [2, 1, 2] = [a0..a3], b = [2, 2, 2] = [b0..b7] → [2, 3, 2]:
    // outer 0: a0 a1 b0 b1 b2 b3, outer 1: a2 a3 b4 b5 b6 b7
    float[] a = {1, 2, 3, 4};
    float[] b = {10, 11, 12, 13, 14, 15, 16, 17};
    float[] y = Floats.output(12);
    kernels.concat(2, new int[] {1, 2}, 2, new float[][] {a, b}, y);
    assertClose("concat on axis 1", new float[] {1, 2, 10, 11, 12, 13, 3, 4, 14, 15, 16, 17}, y, 0);
  }
}
