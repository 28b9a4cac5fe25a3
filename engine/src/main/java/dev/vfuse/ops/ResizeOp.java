package dev.vfuse.ops;

import dev.vfuse.ElementType;
import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.ShapeException;
import dev.vfuse.ir.Shapes;
import dev.vfuse.kernel.ResizeSpec;

/**
 * ONNX Resize (opset 10: X, scales; opset 11+: X, roi, scales, sizes) and Upsample, nearest and
 * linear, on the H and W axes of an NCHW tensor. Scales or sizes must be known before the run.
 * The output size is floor(in · scale); when sizes are given the coordinate scale is out / in.
 */
final class ResizeOp implements Op {
  private final ResizeSpec.Mode mode;
  private final ResizeSpec.CoordinateMode coordinates;
  private final ResizeSpec.NearestMode nearest;
  private final int opset;

  ResizeOp(Attributes a, int opset) {
    this.opset = opset;
    String m = a.getString("mode", "nearest");
    mode = switch (m) {
      case "nearest" -> ResizeSpec.Mode.NEAREST;
      case "linear", "bilinear" -> ResizeSpec.Mode.LINEAR;
      default -> throw new ShapeException("Resize mode '" + m + "' is not supported (nearest and linear only)");
    };
    String ct = a.getString("coordinate_transformation_mode", opset >= 11 ? "half_pixel" : "asymmetric");
    coordinates = switch (ct) {
      case "half_pixel" -> ResizeSpec.CoordinateMode.HALF_PIXEL;
      case "pytorch_half_pixel" -> ResizeSpec.CoordinateMode.PYTORCH_HALF_PIXEL;
      case "align_corners" -> ResizeSpec.CoordinateMode.ALIGN_CORNERS;
      case "asymmetric" -> ResizeSpec.CoordinateMode.ASYMMETRIC;
      case "tf_half_pixel_for_nn" -> ResizeSpec.CoordinateMode.TF_HALF_PIXEL_FOR_NN;
      default -> throw new ShapeException("Resize coordinate_transformation_mode '" + ct + "' is not supported");
    };
    String nm = a.getString("nearest_mode", opset >= 11 ? "round_prefer_floor" : "floor");
    nearest = switch (nm) {
      case "round_prefer_floor" -> ResizeSpec.NearestMode.ROUND_PREFER_FLOOR;
      case "round_prefer_ceil" -> ResizeSpec.NearestMode.ROUND_PREFER_CEIL;
      case "floor" -> ResizeSpec.NearestMode.FLOOR;
      case "ceil" -> ResizeSpec.NearestMode.CEIL;
      default -> throw new ShapeException("Resize nearest_mode '" + nm + "' is not supported");
    };
    if (a.getInt("exclude_outside", 0) != 0) {
      throw new ShapeException("Resize exclude_outside=1 is not supported");
    }
  }

  @Override
  public Bound bind(Value[] in) {
    Value x = in[0];
    x.requireFloat("X");
    x.requireRank("X", 4);
    Value scalesIn;
    Value sizesIn = null;
    if (opset < 11) {
      Inputs.count(in, 2, 2);
      scalesIn = in[1];
    } else {
      Inputs.count(in, 1, 4);
      scalesIn = Inputs.optional(in, 2);
      sizesIn = Inputs.optional(in, 3);
    }
    NdArray scales = scalesIn == null ? null : scalesIn.requireKnown("Resize scales");
    NdArray sizes = sizesIn == null ? null : sizesIn.requireKnown("Resize sizes");
    if (scales != null && scales.size() == 0) {
      scales = null;
    }
    if (sizes != null && sizes.size() == 0) {
      sizes = null;
    }
    int[] s = x.shape();
    int[] out = new int[4];
    double[] scale = new double[4];
    if (sizes != null) {
      long[] sz = sizes.toLongs();
      if (sz.length != 4) {
        throw new ShapeException("sizes must have 4 values, found " + sz.length);
      }
      for (int d = 0; d < 4; d++) {
        if (sz[d] <= 0 || sz[d] > Integer.MAX_VALUE) {
          throw new ShapeException("invalid output size " + sz[d]);
        }
        out[d] = (int) sz[d];
        scale[d] = (double) out[d] / s[d];
      }
    } else if (scales != null) {
      float[] sc = scales.toFloats();
      if (sc.length != 4) {
        throw new ShapeException("scales must have 4 values, found " + sc.length);
      }
      for (int d = 0; d < 4; d++) {
        if (!(sc[d] > 0)) {
          throw new ShapeException("scales must be positive, found " + java.util.Arrays.toString(sc));
        }
        scale[d] = sc[d];
        out[d] = (int) Math.floor(s[d] * (double) sc[d]);
      }
    } else {
      throw new ShapeException("Resize needs scales or sizes");
    }
    if (out[0] != s[0] || out[1] != s[1]) {
      throw new ShapeException("only the H and W axes can be resized, output would be " + Shapes.str(out));
    }
    if (out[2] < 1 || out[3] < 1) {
      throw new ShapeException("output would be empty: " + Shapes.str(out));
    }
    if (opset < 11 && mode == ResizeSpec.Mode.NEAREST) {
      return legacyNearest(s, out, scale);
    }
    return single(s, out, new ResizeSpec(mode, coordinates, nearest, scale[2], scale[3]));
  }

  /** One resize of input shape s into out, on the threads its bytes are worth. */
  private static Bound single(int[] s, int[] out, ResizeSpec spec) {
    long bytes = 4L * (Shapes.size(s) + Shapes.size(out));
    return Bound.single(ElementType.FLOAT32, out, (i, o, k, ws) -> k.resize2d(s[0], s[1], s[2], s[3], out[2], out[3],
        spec, i[0].f, o[0].f, PreparedConvs.threadsForBytes(bytes, ws)));
  }

  /**
   * Resize-10 and Upsample have no nearest_mode: the input index is the asymmetric coordinate
   * o / scale rounded up on a downsampled axis (scale &lt; 1) and down otherwise. This is ONNX
   * Runtime's rule and the one the ONNX backend test test_resize_downsample_nearest (2×4 input,
   * scales 0.6, expected [[1, 3]]) requires; flooring would give [[1, 2]]. A tensor downsampled
   * on one axis and upsampled on the other is resized one axis at a time.
   */
  private static Bound legacyNearest(int[] s, int[] out, double[] scale) {
    ResizeSpec.NearestMode modeH = scale[2] < 1 ? ResizeSpec.NearestMode.CEIL : ResizeSpec.NearestMode.FLOOR;
    ResizeSpec.NearestMode modeW = scale[3] < 1 ? ResizeSpec.NearestMode.CEIL : ResizeSpec.NearestMode.FLOOR;
    ResizeSpec.CoordinateMode asym = ResizeSpec.CoordinateMode.ASYMMETRIC;
    if (modeH == modeW) {
      return single(s, out, new ResizeSpec(ResizeSpec.Mode.NEAREST, asym, modeH, scale[2], scale[3]));
    }
    // With scale 1 the asymmetric coordinate of o is o itself, so each pass leaves the other axis alone.
    ResizeSpec rows = new ResizeSpec(ResizeSpec.Mode.NEAREST, asym, modeH, scale[2], 1.0);
    ResizeSpec cols = new ResizeSpec(ResizeSpec.Mode.NEAREST, asym, modeW, 1.0, scale[3]);
    return Bound.single(ElementType.FLOAT32, out, (i, o, k, ws) -> {
      float[] tmp = new float[s[0] * s[1] * out[2] * s[3]];
      k.resize2d(s[0], s[1], s[2], s[3], out[2], s[3], rows, i[0].f, tmp);
      k.resize2d(s[0], s[1], out[2], s[3], out[2], out[3], cols, tmp, o[0].f);
    });
  }
}
