package dev.vfuse.ops;

import dev.vfuse.ElementType;
import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.ShapeException;
import dev.vfuse.ir.Shapes;
import dev.vfuse.kernel.ConvTransposeGeometry;
import dev.vfuse.kernel.Kernels;

/**
 * ONNX ConvTranspose, 1-D or 2-D: groups, dilations, pads, output_padding, and output_shape or
 * auto_pad, which set the pads as the ONNX specification's total-padding rule gives.
 */
final class ConvTransposeOp implements Op {
  private final Attributes attributes;

  ConvTransposeOp(Attributes attributes) {
    this.attributes = attributes;
    Window.checkConvAttributes(attributes); // a ConvTranspose's pads crop its output
  }

  @Override
  public Bound bind(Value[] in) {
    return bind(in, null);
  }

  @Override
  public Bound bind(Value[] in, Kernels kernels) {
    Inputs.count(in, 2, 3);
    ConvTransposeGeometry g = geometry(in);
    return PreparedConvs.convTranspose(in, g, Window.outputShape(g.n(), g.k(), g.p(), g.q(), in[1].rank() - 2), null,
        null, -1, kernels);
  }

  /** Checks X, W and the optional B and returns the geometry they and the attributes define. */
  ConvTransposeGeometry geometry(Value[] in) {
    Value x = in[0];
    Value w = in[1];
    Value b = Inputs.optional(in, 2);
    x.requireFloat("input X");
    if (w.type() != ElementType.INT8) {
      w.requireFloat("weight W");
    }
    int spatial = w.rank() - 2;
    if (spatial < 1 || spatial > 2) {
      throw new ShapeException("only 1-D and 2-D transposed convolutions are supported, weight has shape " + Shapes.str(w.shape()));
    }
    int[] kernel = java.util.Arrays.copyOfRange(w.shape(), 2, w.rank());
    Window win = Window.read(attributes, kernel);
    int[] kw = spatial == 2 ? kernel : new int[] {1, kernel[0]};
    if (win.kernel()[0] != kw[0] || win.kernel()[1] != kw[1]) {
      throw new ShapeException("kernel_shape " + Shapes.str(win.kernel()) + " disagrees with weight shape " + Shapes.str(w.shape()));
    }
    int[] xs = Window.nchw(x, spatial, "input X");
    int groups = attributes.getInt("group", 1);
    if (groups < 1 || xs[1] != w.dim(0) || xs[1] % groups != 0) {
      throw new ShapeException("input has " + xs[1] + " channels but weight " + Shapes.str(w.shape()) + " (layout [C, K/group, R, S]) with group="
          + groups + " expects " + w.dim(0));
    }
    int k = w.dim(1) * groups;
    if (b != null) {
      b.requireFloat("bias B");
      if (b.rank() != 1 || b.dim(0) != k) {
        throw new ShapeException("bias must have shape [" + k + "], found " + Shapes.str(b.shape()));
      }
    }
    int[] outPad = to2d(attributes.getInts("output_padding", new int[spatial]), spatial, "output_padding");
    int[] outShape = attributes.getInts("output_shape", null);
    int[] pads = win.pads().clone();
    int[] inHw = {xs[2], xs[3]};
    String autoPad = win.autoPad();
    if (outShape != null || autoPad.startsWith("SAME")) {
      int[] target = outShape != null ? targetSize(outShape, spatial)
          : new int[] {inHw[0] * win.strides()[0], inHw[1] * win.strides()[1]};
      for (int i = 0; i < 2; i++) {
        int total = win.strides()[i] * (inHw[i] - 1) + outPad[i] + (win.kernel()[i] - 1) * win.dilations()[i] + 1 - target[i];
        if (total < 0) {
          throw new ShapeException("output_shape " + Shapes.str(outShape) + " needs negative padding");
        }
        int half = total / 2;
        boolean upper = autoPad.equals("SAME_UPPER");
        pads[i] = upper ? half : total - half;
        pads[i + 2] = upper ? total - half : half;
      }
    } else if (autoPad.equals("VALID")) {
      pads = new int[4];
    }
    try {
      return new ConvTransposeGeometry(xs[0], xs[1], xs[2], xs[3], k, win.kernel()[0], win.kernel()[1],
          win.strides()[0], win.strides()[1], win.dilations()[0], win.dilations()[1], pads[0], pads[1], pads[2], pads[3],
          outPad[0], outPad[1], groups);
    } catch (IllegalArgumentException e) {
      throw new ShapeException(e.getMessage());
    }
  }

  /** output_shape may list only the spatial axes or all of them; a 1-D target has height 1. */
  private static int[] targetSize(int[] outShape, int spatial) {
    if (outShape.length < spatial) {
      throw new ShapeException("output_shape " + Shapes.str(outShape) + " has fewer than " + spatial + " values");
    }
    int[] t = java.util.Arrays.copyOfRange(outShape, outShape.length - spatial, outShape.length);
    return spatial == 2 ? t : new int[] {1, t[0]};
  }

  private static int[] to2d(int[] v, int spatial, String what) {
    if (v.length != spatial) {
      throw new ShapeException(what + " must have " + spatial + " values, found " + Shapes.str(v));
    }
    return spatial == 2 ? v : new int[] {0, v[0]};
  }
}
