package dev.vfuse.reference;

import static dev.vfuse.reference.Floats.assertClose;

import org.junit.jupiter.api.Test;

/** Softmax and ReduceMean. */
class ReductionTest {

  private final ReferenceKernels kernels = new ReferenceKernels();

  @Test
  void softmaxOverALastAxis() {
    // x = [1, 2, 3]: exp(x − 3) = [e^−2, e^−1, 1] = [0.13533528, 0.36787944, 1], sum 1.50321472
    // y = [0.13533528, 0.36787944, 1] / 1.50321472 = [0.09003057, 0.24472847, 0.66524096]
    float[] y = Floats.output(3);
    kernels.softmax(1, 3, 1, new float[] {1, 2, 3}, y);
    assertClose("softmax [1, 2, 3]", new float[] {0.09003057f, 0.24472847f, 0.66524096f}, y, 1e-7);
  }

  @Test
  void softmaxOverAMiddleAxisWithLargeValues() {
    // [outer 2, axis 2, inner 2], element (o, a, i) at 4o + 2a + i.
    // o = 0, i = 0: (0, ln 3) → (1, 3) / 4 = (0.25, 0.75)
    // o = 0, i = 1: (1000, 1000) → (0.5, 0.5); without subtracting the max, exp(1000) overflows
    // o = 1, i = 0: (−1000, −1000) → (0.5, 0.5); without it, exp(−1000) underflows to 0 / 0
    // o = 1, i = 1: (2, 2 + ln 3) → (0.25, 0.75)
    float ln3 = (float) Math.log(3);
    float[] x = {0, 1000, ln3, 1000, -1000, 2, -1000, 2 + ln3};
    float[] y = Floats.output(8);
    kernels.softmax(2, 2, 2, x, y);
    assertClose("softmax [2, 2, 2] on axis 1", new float[] {0.25f, 0.5f, 0.75f, 0.5f, 0.5f, 0.25f, 0.5f, 0.75f}, y,
        1e-7);
  }

  /** x = 0..23 as [2, 3, 4], so x[a, b, c] = 12a + 4b + c. */
  private float[] reduceMean(boolean[] reduced, int outSize) {
    float[] y = Floats.output(outSize);
    kernels.reduceMean(new int[] {2, 3, 4}, reduced, Floats.iota(24), y);
    return y;
  }

  @Test
  void reduceMeanOverTheMiddleAxis() {
    // y[a, 0, c] = mean over b of (12a + 4b + c) = 12a + 4 + c
    assertClose("reduceMean axes {1}", new float[] {4, 5, 6, 7, 16, 17, 18, 19},
        reduceMean(new boolean[] {false, true, false}, 8), 0);
  }

  @Test
  void reduceMeanOverOuterAndInnerAxes() {
    // y[0, b, 0] = mean over a, c of (12a + 4b + c) = 6 + 4b + 1.5 = 7.5 + 4b
    assertClose("reduceMean axes {0, 2}", new float[] {7.5f, 11.5f, 15.5f},
        reduceMean(new boolean[] {true, false, true}, 3), 0);
  }

  @Test
  void reduceMeanOverEverythingAndNothing() {
    // All axes: mean(0..23) = 11.5. No axis: a copy.
    assertClose("reduceMean all axes", new float[] {11.5f}, reduceMean(new boolean[] {true, true, true}, 1), 0);
    assertClose("reduceMean no axis", Floats.iota(24), reduceMean(new boolean[] {false, false, false}, 24), 0);
  }

  @Test
  void reduceMeanOfRankZeroIsTheElement() {
    float[] y = Floats.output(1);
    kernels.reduceMean(new int[0], new boolean[0], new float[] {3.25f}, y);
    assertClose("reduceMean rank 0", new float[] {3.25f}, y, 0);
  }
}
