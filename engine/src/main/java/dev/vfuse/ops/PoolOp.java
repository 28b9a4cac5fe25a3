package dev.vfuse.ops;

import dev.vfuse.ElementType;
import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.ShapeException;
import dev.vfuse.ir.Shapes;
import dev.vfuse.kernel.PoolGeometry;

/** MaxPool and AveragePool (1-D or 2-D, with count_include_pad and ceil_mode), and GlobalAveragePool. */
final class PoolOp implements Op {
  enum Kind { MAX, AVERAGE, GLOBAL_AVERAGE }

  private final Kind kind;
  private final Attributes attributes;

  PoolOp(Kind kind, Attributes attributes, int outputCount) {
    this.kind = kind;
    this.attributes = attributes;
    if (outputCount > 1) {
      throw new ShapeException("the Indices output of MaxPool is not supported");
    }
    if (kind != Kind.GLOBAL_AVERAGE) {
      Window.read(attributes, null).requirePoolPadsBelowKernel();
      if (attributes.getInt("storage_order", 0) != 0) {
        throw new ShapeException("storage_order=1 is not supported");
      }
    }
  }

  @Override
  public Bound bind(Value[] in) {
    Inputs.count(in, 1, 1);
    Value x = in[0];
    x.requireFloat("input X");
    if (kind == Kind.GLOBAL_AVERAGE) {
      if (x.rank() < 3) {
        throw new ShapeException("input must have rank at least 3, found " + Shapes.str(x.shape()));
      }
      int planes = x.dim(0) * x.dim(1);
      int spatial = Shapes.product(x.shape(), 2, x.rank());
      int[] out = x.shape().clone();
      java.util.Arrays.fill(out, 2, out.length, 1);
      long bytes = 4L * planes * spatial;
      return Bound.single(ElementType.FLOAT32, out, (i, o, k, ws) -> k.globalAvgPool(planes, spatial, i[0].f, o[0].f,
          PreparedConvs.threadsForBytes(bytes, ws)));
    }
    int spatialRank = attributes.getInts("kernel_shape", null).length;
    PoolGeometry g = geometry(attributes, Window.nchw(x, spatialRank, "input X"));
    int[] out = Window.outputShape(g.n(), g.c(), g.p(), g.q(), spatialRank);
    if (kind == Kind.MAX) {
      long bytes = (long) Float.BYTES * ((long) g.n() * g.c() * g.h() * g.w() + Shapes.size(out));
      return Bound.single(ElementType.FLOAT32, out,
          (i, o, k, ws) -> k.maxPool2d(g, i[0].f, o[0].f, PreparedConvs.threadsForBytes(bytes, ws)));
    }
    boolean includePad = attributes.getInt("count_include_pad", 0) != 0;
    return Bound.single(ElementType.FLOAT32, out, (i, o, k, ws) -> k.avgPool2d(g, includePad, i[0].f, o[0].f));
  }

  /**
   * The window of a MaxPool or AveragePool with these attributes on an input of plain shape xs =
   * [N, C, H, W] (H = 1 for a 1-D pool); also read by the blocked MaxPool ({@link ChannelBlockOps}).
   */
  static PoolGeometry geometry(Attributes attributes, int[] xs) {
    Window win = Window.read(attributes, null).requirePoolPadsBelowKernel();
    int[] pads = win.resolvePads(xs[2], xs[3]);
    boolean ceil = attributes.getInt("ceil_mode", 0) != 0;
    // Ceil mode may start a last window past the span, so its strides are kept as given.
    int strideH = ceil ? win.strides()[0] : Window.effectiveStride(win.strides()[0], (long) xs[2] + pads[0] + pads[2],
        (long) (win.kernel()[0] - 1) * win.dilations()[0] + 1);
    int strideW = ceil ? win.strides()[1] : Window.effectiveStride(win.strides()[1], (long) xs[3] + pads[1] + pads[3],
        (long) (win.kernel()[1] - 1) * win.dilations()[1] + 1);
    try {
      return new PoolGeometry(xs[0], xs[1], xs[2], xs[3], win.kernel()[0], win.kernel()[1], strideH, strideW,
          win.dilations()[0], win.dilations()[1], pads[0], pads[1], pads[2], pads[3], attributes.getInt("ceil_mode", 0) != 0);
    } catch (IllegalArgumentException e) {
      throw new ShapeException(e.getMessage());
    }
  }
}
