package dev.vfuse.reference;

import static dev.vfuse.reference.Floats.assertClose;

import dev.vfuse.kernel.ResizeSpec;
import dev.vfuse.kernel.ResizeSpec.CoordinateMode;
import dev.vfuse.kernel.ResizeSpec.Mode;
import dev.vfuse.kernel.ResizeSpec.NearestMode;
import org.junit.jupiter.api.Test;

/** {@link ReferenceKernels#resize2d}, mostly on x = [[1, 2], [3, 4]]. */
class ResizeTest {

  private static final float[] X = {1, 2, 3, 4};

  private final ReferenceKernels kernels = new ReferenceKernels();

  private float[] resize(int c, int h, int w, int outH, int outW, ResizeSpec spec, float[] x) {
    float[] y = Floats.output(c * outH * outW);
    kernels.resize2d(1, c, h, w, outH, outW, spec, x, y);
    return y;
  }

  private static ResizeSpec spec(Mode mode, CoordinateMode coordinates, NearestMode nearest, double scaleH, double scaleW) {
    return new ResizeSpec(mode, coordinates, nearest, scaleH, scaleW);
  }

  @Test
  void nearestAsymmetricFloorTwiceOnTwoPlanes() {
    // Coordinate o / 2 = 0, 0.5, 1, 1.5 → floor 0, 0, 1, 1: each input pixel becomes a 2x2 block.
    // The second plane is the first plus 10.
    ResizeSpec spec = spec(Mode.NEAREST, CoordinateMode.ASYMMETRIC, NearestMode.FLOOR, 2, 2);
    float[] expected = {
        1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4,
        11, 11, 12, 12, 11, 11, 12, 12, 13, 13, 14, 14, 13, 13, 14, 14};
    assertClose("nearest asymmetric floor 2x", expected, resize(2, 2, 2, 4, 4, spec,
        new float[] {1, 2, 3, 4, 11, 12, 13, 14}), 0);
  }

  @Test
  void nearestHalfPixelRoundPreferFloorClampsNegativeCoordinates() {
    // (o + 0.5) / 2 − 0.5 = −0.25, 0.25, 0.75, 1.25 → round 0 (clamped from −0), 0, 1, 1: same blocks.
    ResizeSpec spec = spec(Mode.NEAREST, CoordinateMode.HALF_PIXEL, NearestMode.ROUND_PREFER_FLOOR, 2, 2);
    float[] expected = {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4};
    assertClose("nearest half_pixel round_prefer_floor 2x", expected, resize(1, 2, 2, 4, 4, spec, X), 0);
  }

  @Test
  void nearestTiesFollowTheNearestMode() {
    // One row of 4 → 8, asymmetric: coordinate o / 2 = 0, 0.5, 1, …, 3.5 (ties at odd o), x = 0..3.
    float[] x = Floats.iota(4);
    float[] preferFloor = {0, 0, 1, 1, 2, 2, 3, 3};
    float[] preferCeil = {0, 1, 1, 2, 2, 3, 3, 3}; // 3.5 → 4, clamped to 3
    float[] ceil = {0, 1, 1, 2, 2, 3, 3, 3}; // every non-integer rounds up: the same as preferCeil here
    assertClose("round_prefer_floor", preferFloor,
        resize(1, 1, 4, 1, 8, spec(Mode.NEAREST, CoordinateMode.ASYMMETRIC, NearestMode.ROUND_PREFER_FLOOR, 1, 2), x), 0);
    assertClose("round_prefer_ceil", preferCeil,
        resize(1, 1, 4, 1, 8, spec(Mode.NEAREST, CoordinateMode.ASYMMETRIC, NearestMode.ROUND_PREFER_CEIL, 1, 2), x), 0);
    assertClose("ceil", ceil,
        resize(1, 1, 4, 1, 8, spec(Mode.NEAREST, CoordinateMode.ASYMMETRIC, NearestMode.CEIL, 1, 2), x), 0);
  }

  @Test
  void nearestCoordinatesAreFloatArithmeticLikeOnnxRuntime() {
    // One row of 7 → 2, x = 0..6, scale 2/7 = 0.2857143f in float.
    // asymmetric, round_prefer_ceil: o = 1 → 1 / 0.2857143f = 3.4999998f → 3 (in double 3.5 → 4).
    float[] x = Floats.iota(7);
    assertClose("asymmetric 7 → 2", new float[] {0, 3},
        resize(1, 1, 7, 1, 2, spec(Mode.NEAREST, CoordinateMode.ASYMMETRIC, NearestMode.ROUND_PREFER_CEIL, 1, 2 / 7.0), x), 0);
    // half_pixel, floor, 7 → 1: scale 1/7 = 0.14285715f, 0.5 / 0.14285715f − 0.5 = 2.9999998f → 2 (in double 3).
    assertClose("half_pixel 7 → 1", new float[] {2},
        resize(1, 1, 7, 1, 1, spec(Mode.NEAREST, CoordinateMode.HALF_PIXEL, NearestMode.FLOOR, 1, 1 / 7.0), x), 0);
  }

  @Test
  void linearHalfPixelTwice() {
    // (o + 0.5) / 2 − 0.5 = −0.25, 0.25, 0.75, 1.25, clamped to [0, 1]: t = 0, 0.25, 0.75, 1 on both axes.
    // x is affine, x(row t, column u) = 1 + 2t + u, and so is the bilinear blend: y[i][j] = 1 + 2·t_i + t_j.
    //   t_i:     0     0.25  0.75  1
    //   row 0:   1     1.25  1.75  2
    //   row 1:   1.5   1.75  2.25  2.5
    //   row 2:   2.5   2.75  3.25  3.5
    //   row 3:   3     3.25  3.75  4
    ResizeSpec spec = spec(Mode.LINEAR, CoordinateMode.HALF_PIXEL, NearestMode.ROUND_PREFER_FLOOR, 2, 2);
    float[] expected = {
        1, 1.25f, 1.75f, 2,
        1.5f, 1.75f, 2.25f, 2.5f,
        2.5f, 2.75f, 3.25f, 3.5f,
        3, 3.25f, 3.75f, 4};
    assertClose("linear half_pixel 2x", expected, resize(1, 2, 2, 4, 4, spec, X), 0);
  }

  @Test
  void linearAlignCornersTwice() {
    // o·(2 − 1)/(4 − 1) = 0, 1/3, 2/3, 1 on both axes, so y[i][j] = 1 + 2·(i/3) + j/3:
    //   row 0: 1,     4/3,  5/3,  2
    //   row 1: 5/3,   2,    7/3,  8/3
    //   row 2: 7/3,   8/3,  3,    10/3
    //   row 3: 3,     10/3, 11/3, 4
    ResizeSpec spec = spec(Mode.LINEAR, CoordinateMode.ALIGN_CORNERS, NearestMode.ROUND_PREFER_FLOOR, 2, 2);
    float[] expected = {
        1, 4 / 3f, 5 / 3f, 2,
        5 / 3f, 2, 7 / 3f, 8 / 3f,
        7 / 3f, 8 / 3f, 3, 10 / 3f,
        3, 10 / 3f, 11 / 3f, 4};
    assertClose("linear align_corners 2x", expected, resize(1, 2, 2, 4, 4, spec, X), 1e-6);
  }

  @Test
  void linearToOnePixel() {
    // 2x2 → 1x1 (scale 0.5).
    // pytorch_half_pixel with outSize 1: coordinate 0 → x[0][0] = 1.
    // align_corners with outSize 1: coordinate 0 → 1.
    // half_pixel: (0 + 0.5) / 0.5 − 0.5 = 0.5 on both axes → mean of the four = 2.5.
    assertClose("pytorch_half_pixel → 1x1", new float[] {1},
        resize(1, 2, 2, 1, 1, spec(Mode.LINEAR, CoordinateMode.PYTORCH_HALF_PIXEL, NearestMode.FLOOR, .5, .5), X), 0);
    assertClose("align_corners → 1x1", new float[] {1},
        resize(1, 2, 2, 1, 1, spec(Mode.LINEAR, CoordinateMode.ALIGN_CORNERS, NearestMode.FLOOR, .5, .5), X), 0);
    assertClose("half_pixel → 1x1", new float[] {2.5f},
        resize(1, 2, 2, 1, 1, spec(Mode.LINEAR, CoordinateMode.HALF_PIXEL, NearestMode.FLOOR, .5, .5), X), 0);
  }

  @Test
  void linearAsymmetricAndTfHalfPixelClampAtTheEnd() {
    // One row of 2 → 4 with x = [1, 2].
    // asymmetric: o / 2 = 0, 0.5, 1, 1.5 → clamped 0, 0.5, 1, 1 → 1, 1.5, 2, 2
    // tf_half_pixel_for_nn: (o + 0.5) / 2 = 0.25, 0.75, 1.25, 1.75 → 0.25, 0.75, 1, 1 → 1.25, 1.75, 2, 2
    float[] x = {1, 2};
    assertClose("linear asymmetric", new float[] {1, 1.5f, 2, 2},
        resize(1, 1, 2, 1, 4, spec(Mode.LINEAR, CoordinateMode.ASYMMETRIC, NearestMode.FLOOR, 1, 2), x), 0);
    assertClose("linear tf_half_pixel_for_nn", new float[] {1.25f, 1.75f, 2, 2},
        resize(1, 1, 2, 1, 4, spec(Mode.LINEAR, CoordinateMode.TF_HALF_PIXEL_FOR_NN, NearestMode.FLOOR, 1, 2), x), 0);
  }
}
