package dev.vfuse.ops;

import dev.vfuse.ElementType;
import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.ShapeException;
import dev.vfuse.ir.Shapes;

/** ONNX BatchNormalization in inference form, on [N, C, ...]; epsilon is read from the node (default 1e-5). */
final class BatchNormOp implements Op {
  private final float epsilon;

  BatchNormOp(Attributes attributes, int outputCount) {
    this.epsilon = attributes.getFloat("epsilon", 1e-5f);
    if (attributes.getInt("training_mode", 0) != 0 || outputCount > 1) {
      throw new ShapeException("training-mode BatchNormalization (running statistics as outputs) is not supported");
    }
    if (!(epsilon >= 0f)) {
      throw new ShapeException("epsilon must be non-negative, found " + epsilon);
    }
  }

  @Override
  public Bound bind(Value[] in) {
    Inputs.count(in, 5, 5);
    Value x = in[0];
    x.requireFloat("input X");
    if (x.rank() < 2) {
      throw new ShapeException("input must have rank at least 2, found " + Shapes.str(x.shape()));
    }
    int c = x.dim(1);
    String[] names = {"scale", "B", "mean", "var"};
    for (int i = 1; i < 5; i++) {
      in[i].requireFloat(names[i - 1]);
      if (in[i].rank() != 1 || in[i].dim(0) != c) {
        throw new ShapeException(names[i - 1] + " must have shape [" + c + "], found " + Shapes.str(in[i].shape()));
      }
    }
    int n = x.dim(0);
    int spatial = Shapes.product(x.shape(), 2, x.rank());
    float eps = epsilon;
    return Bound.like(x, (i, o, k, ws) -> k.batchNorm(n, c, spatial, i[0].f, i[1].f, i[2].f, i[3].f, i[4].f, eps, o[0].f));
  }
}
