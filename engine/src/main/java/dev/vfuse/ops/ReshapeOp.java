package dev.vfuse.ops;

import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.ShapeException;
import dev.vfuse.ir.Shapes;

/**
 * Operators that change the shape but not the data: Reshape, Flatten, Squeeze, Unsqueeze,
 * Identity and Dropout (inference: identity). The data is copied into the output buffer.
 */
final class ReshapeOp implements Op {
  enum Kind { RESHAPE, FLATTEN, SQUEEZE, UNSQUEEZE, IDENTITY }

  private final Kind kind;
  private final Attributes attributes;
  private final int opset;

  ReshapeOp(Kind kind, Attributes attributes, int opset, int outputCount) {
    this.kind = kind;
    this.attributes = attributes;
    this.opset = opset;
    if (outputCount > 1) {
      throw new ShapeException("only the first output is supported (Dropout's mask is a training output)");
    }
    if (kind == Kind.RESHAPE && attributes.getInt("allowzero", 0) != 0) {
      throw new ShapeException("Reshape with allowzero=1 is not supported");
    }
  }

  @Override
  public Bound bind(Value[] in) {
    Value x = in.length > 0 ? in[0] : null;
    if (x == null) {
      throw new ShapeException("input data is missing");
    }
    int[] out = switch (kind) {
      case IDENTITY -> {
        Inputs.count(in, 1, 3); // Dropout may carry ratio and training_mode inputs
        yield x.shape();
      }
      case FLATTEN -> {
        Inputs.count(in, 1, 1);
        int axis = attributes.getInt("axis", 1);
        axis = axis < 0 ? axis + x.rank() : axis;
        if (axis < 0 || axis > x.rank()) {
          throw new ShapeException("axis " + attributes.getInt("axis", 1) + " is out of range for rank " + x.rank());
        }
        yield new int[] {Shapes.product(x.shape(), 0, axis), Shapes.product(x.shape(), axis, x.rank())};
      }
      case RESHAPE -> {
        Inputs.count(in, 2, 2);
        yield reshape(x.shape(), in[1].requireKnown("Reshape shape").toLongs());
      }
      case SQUEEZE -> squeeze(x.shape(), axes(in, "Squeeze"));
      case UNSQUEEZE -> {
        long[] axes = axes(in, "Unsqueeze");
        if (axes == null) {
          throw new ShapeException("Unsqueeze needs axes");
        }
        yield unsqueeze(x.shape(), axes);
      }
    };
    return Bound.single(x.type(), out, (i, o, k, ws) -> LongMoves.copy(i[0], o[0]));
  }

  /** Axes from the attribute (before opset 13) or the optional second input (from 13). */
  private long[] axes(Value[] in, String op) {
    if (opset < 13) {
      Inputs.count(in, 1, 1);
      return attributes.getLongs("axes");
    }
    Inputs.count(in, 1, 2);
    Value axes = Inputs.optional(in, 1);
    return axes == null ? null : axes.requireKnown(op + " axes").toLongs();
  }

  static int[] reshape(int[] in, long[] spec) {
    int[] out = new int[spec.length];
    int inferred = -1;
    long known = 1;
    for (int i = 0; i < spec.length; i++) {
      long d = spec[i];
      if (d == -1) {
        if (inferred >= 0) {
          throw new ShapeException("shape " + java.util.Arrays.toString(spec) + " has more than one -1");
        }
        inferred = i;
        continue;
      }
      if (d == 0) {
        if (i >= in.length) {
          throw new ShapeException("shape " + java.util.Arrays.toString(spec) + " copies axis " + i + " of a rank-" + in.length + " input");
        }
        d = in[i];
      }
      if (d < 0 || d > Integer.MAX_VALUE) {
        throw new ShapeException("invalid dimension " + d + " in shape " + java.util.Arrays.toString(spec));
      }
      out[i] = (int) d;
      known *= d;
    }
    int size = Shapes.size(in);
    if (inferred >= 0) {
      if (known == 0 || size % known != 0) {
        throw new ShapeException("cannot reshape " + Shapes.str(in) + " to " + java.util.Arrays.toString(spec));
      }
      out[inferred] = (int) (size / known);
    } else if (known != size) {
      throw new ShapeException("cannot reshape " + Shapes.str(in) + " (" + size + " elements) to " + Shapes.str(out));
    }
    return out;
  }

  private static int[] squeeze(int[] in, long[] axes) {
    boolean[] drop = new boolean[in.length];
    if (axes == null) {
      for (int i = 0; i < in.length; i++) {
        drop[i] = in[i] == 1;
      }
    } else {
      for (long a : axes) {
        int ax = Shapes.axis((int) a, in.length);
        if (in[ax] != 1) {
          throw new ShapeException("cannot squeeze axis " + a + " of size " + in[ax] + " in " + Shapes.str(in));
        }
        drop[ax] = true;
      }
    }
    return java.util.stream.IntStream.range(0, in.length).filter(i -> !drop[i]).map(i -> in[i]).toArray();
  }

  private static int[] unsqueeze(int[] in, long[] axes) {
    int rank = in.length + axes.length;
    boolean[] inserted = new boolean[rank];
    for (long a : axes) {
      int ax = Shapes.axis((int) a, rank);
      if (inserted[ax]) {
        throw new ShapeException("axis " + a + " repeats in Unsqueeze axes");
      }
      inserted[ax] = true;
    }
    int[] out = new int[rank];
    for (int i = 0, j = 0; i < rank; i++) {
      out[i] = inserted[i] ? 1 : in[j++];
    }
    return out;
  }
}
