package dev.vfuse.ops;

import dev.vfuse.ElementType;
import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.ShapeException;
import dev.vfuse.ir.Shapes;
import dev.vfuse.kernel.ConvGeometry;
import dev.vfuse.kernel.Kernels;

/** ONNX Conv, 1-D or 2-D, with groups, dilations, pads or auto_pad, and an optional bias. */
final class ConvOp implements Op {
  private final Attributes attributes;

  ConvOp(Attributes attributes) {
    this.attributes = attributes;
    Window.checkConvAttributes(attributes);
  }

  @Override
  public Bound bind(Value[] in) {
    return bind(in, null);
  }

  @Override
  public Bound bind(Value[] in, Kernels kernels) {
    Inputs.count(in, 2, 3);
    ConvGeometry g = geometry(in);
    return PreparedConvs.conv(in, g, Window.outputShape(g.n(), g.k(), g.p(), g.q(), in[1].rank() - 2), null, null, -1,
        kernels);
  }

  /** The group attribute. */
  int groups() {
    return attributes.getInt("group", 1);
  }

  /** Checks X, W and the optional B and returns the geometry they and the attributes define. */
  ConvGeometry geometry(Value[] in) {
    Value x = in[0];
    Value w = in[1];
    Value b = Inputs.optional(in, 2);
    x.requireFloat("input X");
    if (w.type() != ElementType.INT8) {
      w.requireFloat("weight W");
    }
    int spatial = w.rank() - 2;
    if (spatial < 1 || spatial > 2) {
      throw new ShapeException("only 1-D and 2-D convolutions are supported, weight has shape " + Shapes.str(w.shape()));
    }
    int[] kernel = java.util.Arrays.copyOfRange(w.shape(), 2, w.rank());
    Window win = Window.read(attributes, kernel);
    int[] kw = spatial == 2 ? kernel : new int[] {1, kernel[0]};
    if (win.kernel()[0] != kw[0] || win.kernel()[1] != kw[1]) {
      throw new ShapeException("kernel_shape " + Shapes.str(win.kernel()) + " disagrees with weight shape " + Shapes.str(w.shape()));
    }
    int[] xs = Window.nchw(x, spatial, "input X");
    int groups = attributes.getInt("group", 1);
    int k = w.dim(0);
    if (groups < 1 || xs[1] != w.dim(1) * groups || k % groups != 0) {
      throw new ShapeException("input has " + xs[1] + " channels but weight " + Shapes.str(w.shape()) + " with group="
          + groups + " expects " + w.dim(1) * groups);
    }
    if (b != null) {
      b.requireFloat("bias B");
      if (b.rank() != 1 || b.dim(0) != k) {
        throw new ShapeException("bias must have shape [" + k + "], found " + Shapes.str(b.shape()));
      }
    }
    int[] pads = win.resolvePads(xs[2], xs[3]);
    int strideH = Window.effectiveStride(win.strides()[0], (long) xs[2] + pads[0] + pads[2],
        (long) (kw[0] - 1) * win.dilations()[0] + 1);
    int strideW = Window.effectiveStride(win.strides()[1], (long) xs[3] + pads[1] + pads[3],
        (long) (kw[1] - 1) * win.dilations()[1] + 1);
    try {
      return new ConvGeometry(xs[0], xs[1], xs[2], xs[3], k, kw[0], kw[1], strideH, strideW,
          win.dilations()[0], win.dilations()[1], pads[0], pads[1], pads[2], pads[3], groups);
    } catch (IllegalArgumentException e) {
      throw new ShapeException(e.getMessage());
    }
  }
}
