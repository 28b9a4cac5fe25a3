package dev.vfuse.ops;

import static dev.vfuse.ops.Conformance.feed;
import static dev.vfuse.ops.Conformance.randomTensor;
import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.Backend;
import dev.vfuse.Model;
import dev.vfuse.ModelOptions;
import dev.vfuse.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Resize (opset 10, 11 and 13 forms) and Upsample (opset 9), nearest and linear, against ONNX
 * Runtime: every coordinate transformation mode, every nearest rounding mode, scales up, down and
 * non-integer, and sizes.
 */
class ResizeConformanceTest {

  /** How the node receives its scales or sizes. */
  enum Form {
    /** Resize-13: X, roi "", scales. */
    SCALES_13,
    /** Resize-13: X, roi "", scales "", sizes. */
    SIZES_13,
    /** Resize-13: X, roi as an empty initializer, scales. */
    SCALES_13_EMPTY_ROI,
    /** Resize-11: X, roi (empty tensor), scales. */
    SCALES_11,
    /** Resize-11: X, roi (empty tensor), scales (empty tensor), sizes. */
    SIZES_11,
    /** Resize-10: X, scales; asymmetric coordinates, floor for nearest. */
    SCALES_10,
    /** Upsample-9: X, scales. */
    UPSAMPLE_9;

    int opset() {
      return switch (this) {
        case SCALES_13, SIZES_13, SCALES_13_EMPTY_ROI -> 13;
        case SCALES_11, SIZES_11 -> 11;
        case SCALES_10 -> 10;
        case UPSAMPLE_9 -> 9;
      };
    }

    boolean sizes() {
      return this == SIZES_13 || this == SIZES_11;
    }
  }

  /** One Resize; mode "nearest" or "linear"; coordinate and nearest modes null to take the defaults. */
  record Case(Form form, int[] x, String mode, String coordinates, String nearest, float[] scales, long[] sizes) {
    @Override
    public String toString() {
      return form + " x" + Arrays.toString(x) + " " + mode + (coordinates == null ? "" : " " + coordinates)
          + (nearest == null ? "" : " " + nearest)
          + (form.sizes() ? " sizes" + Arrays.toString(sizes) : " scales" + Arrays.toString(scales));
    }
  }

  private static final String[] COORDINATES = {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"};
  private static final float[][] SCALES = {{2f, 2f}, {0.5f, 0.5f}, {1.7f, 1.7f}, {3f, 1.5f}, {0.6f, 1.25f}};
  private static final long[][] SIZES = {{14, 18}, {3, 4}, {10, 5}, {1, 7}, {7, 9}};

  static Stream<Case> cases() {
    int[] x = {2, 3, 7, 9};
    List<Case> list = new ArrayList<>();
    // nearest, as torch exports it: asymmetric + floor
    for (float[] s : SCALES) {
      list.add(new Case(Form.SCALES_13, x, "nearest", "asymmetric", "floor", s, null));
    }
    for (long[] s : SIZES) {
      list.add(new Case(Form.SIZES_13, x, "nearest", "asymmetric", "floor", null, s));
    }
    // nearest, the opset-11+ defaults (half_pixel + round_prefer_floor) and the other rounding modes
    for (float[] s : SCALES) {
      list.add(new Case(Form.SCALES_13, x, "nearest", null, null, s, null));
    }
    for (long[] s : SIZES) {
      list.add(new Case(Form.SIZES_11, x, "nearest", "half_pixel", "round_prefer_floor", null, s));
    }
    String[] nearestModes = {"round_prefer_ceil", "floor", "ceil", "round_prefer_floor"};
    for (int i = 0; i < COORDINATES.length; i++) {
      list.add(new Case(Form.SCALES_13, x, "nearest", COORDINATES[i], nearestModes[i], SCALES[2], null));
      list.add(new Case(Form.SIZES_13, x, "nearest", COORDINATES[i], nearestModes[(i + 1) % 4], null, SIZES[4 - i]));
    }
    list.add(new Case(Form.SCALES_13, x, "nearest", "tf_half_pixel_for_nn", "round_prefer_ceil", SCALES[2], null));
    // linear in every coordinate mode, by scales and by sizes
    for (String c : COORDINATES) {
      for (float[] s : SCALES) {
        list.add(new Case(Form.SCALES_13, x, "linear", c, null, s, null));
      }
      for (long[] s : SIZES) {
        list.add(new Case(Form.SIZES_13, x, "linear", c, null, null, s));
      }
    }
    // the other input forms
    list.add(new Case(Form.SCALES_13_EMPTY_ROI, x, "linear", "pytorch_half_pixel", null, SCALES[0], null));
    list.add(new Case(Form.SCALES_11, x, "linear", "align_corners", null, SCALES[2], null));
    list.add(new Case(Form.SCALES_11, x, "nearest", "asymmetric", "floor", SCALES[3], null));
    list.add(new Case(Form.SIZES_11, x, "linear", "half_pixel", null, null, SIZES[2]));
    for (float[] s : SCALES) {
      list.add(new Case(Form.SCALES_10, x, "nearest", null, null, s, null));
      list.add(new Case(Form.SCALES_10, x, "linear", null, null, s, null));
    }
    list.add(new Case(Form.SCALES_10, x, "nearest", null, null, new float[] {0.6f, 0.7f}, null));
    list.add(new Case(Form.SCALES_10, x, "nearest", null, null, new float[] {1.7f, 0.45f}, null));
    list.add(new Case(Form.UPSAMPLE_9, x, "nearest", null, null, SCALES[0], null));
    list.add(new Case(Form.UPSAMPLE_9, x, "linear", null, null, SCALES[3], null));
    list.add(new Case(Form.SCALES_13, new int[] {1, 2, 1, 5}, "linear", "half_pixel", null, new float[] {3f, 2f}, null));
    list.add(new Case(Form.SCALES_13, new int[] {1, 1, 13, 11}, "linear", "pytorch_half_pixel", null, new float[] {0.3f, 0.7f}, null));
    list.add(new Case(Form.SIZES_13, new int[] {1, 1, 13, 11}, "nearest", "half_pixel", "round_prefer_floor", null, new long[] {2, 3}));
    return list.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void resize(Case t) {
    Form f = t.form();
    OnnxModelBuilder m = new OnnxModelBuilder(f.opset()).input("x", t.x());
    float[] scales4 = t.scales() == null ? null : new float[] {1f, 1f, t.scales()[0], t.scales()[1]};
    long[] sizes4 = t.sizes() == null ? null : new long[] {t.x()[0], t.x()[1], t.sizes()[0], t.sizes()[1]};
    OnnxModelBuilder.Node n = switch (f) {
      case SCALES_13 -> m.floats("scales", scales4).node("Resize", "x", "", "scales");
      case SIZES_13 -> m.longs("sizes", sizes4).node("Resize", "x", "", "", "sizes");
      case SCALES_13_EMPTY_ROI -> m.floats("roi").floats("scales", scales4).node("Resize", "x", "roi", "scales");
      case SCALES_11 -> m.floats("roi").floats("scales", scales4).node("Resize", "x", "roi", "scales");
      case SIZES_11 -> m.floats("roi").floats("scales").longs("sizes", sizes4).node("Resize", "x", "roi", "scales", "sizes");
      case SCALES_10 -> m.floats("scales", scales4).node("Resize", "x", "scales");
      case UPSAMPLE_9 -> m.floats("scales", scales4).node("Upsample", "x", "scales");
    };
    n.out("y").stringAttr("mode", t.mode());
    if (t.coordinates() != null) {
      n.stringAttr("coordinate_transformation_mode", t.coordinates());
    }
    if (t.nearest() != null) {
      n.stringAttr("nearest_mode", t.nearest());
    }
    m.output("y");
    SplittableRandom rng = new SplittableRandom(t.toString().hashCode());
    Conformance.check("Resize " + t.mode(), m, feed("x", randomTensor(rng, t.x())),
        t.mode().equals("nearest") ? Tolerance.EXACT : LINEAR);
  }

  /**
   * The ONNX backend test test_resize_downsample_nearest (Resize-10): a downsampled axis rounds the
   * asymmetric coordinate up, 1 / 0.6 = 1.67 → 2.
   */
  @Test
  void resize10DownsampleNearestBackendTest() throws Exception {
    OnnxModelBuilder m = new OnnxModelBuilder(10).input("x", 1, 1, 2, 4).floats("scales", 1f, 1f, 0.6f, 0.6f);
    m.node("Resize", "x", "scales").out("y").stringAttr("mode", "nearest").end().output("y");
    Tensor x = Tensor.ofFloats(new int[] {1, 1, 2, 4}, new float[] {1, 2, 3, 4, 5, 6, 7, 8});
    try (Model model = Model.load(m.build(), ModelOptions.defaults().withBackend(Backend.REFERENCE))) {
      Tensor y = model.run(x);
      assertThat(y.shape()).containsExactly(1, 1, 1, 2);
      assertThat(y.floats()).containsExactly(1f, 3f);
    }
    Conformance.check("Resize nearest", m, feed("x", x), Tolerance.EXACT);
  }

  /**
   * ORT blends the four neighbours in float: y = Σ w_i·x_i with w = dx·dy, each weight one rounded
   * product of rounded distances, each term one more product, three additions: about 6 roundings
   * of at most u·Σ|w_i·x_i|, plus vfuse's own; EPS = 2u doubles that. Σ|w_i·x_i| is the same
   * Resize run on |x|. Both engines compute the source coordinate with the same float operations.
   */
  private static final Tolerance LINEAR = new Tolerance.Bounded(7);

  @AfterAll
  static void summary() {
    Conformance.printSummary("Resize");
  }
}
