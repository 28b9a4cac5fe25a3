package dev.vfuse.ops;

import dev.vfuse.ElementType;
import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.ShapeException;

/** ONNX Pad in constant mode: pads and value from attributes (before opset 11) or constant inputs. */
final class PadOp implements Op {
  private final Attributes attributes;
  private final int opset;

  PadOp(Attributes attributes, int opset) {
    this.attributes = attributes;
    this.opset = opset;
    String mode = attributes.getString("mode", "constant");
    if (!mode.equals("constant")) {
      throw new ShapeException("Pad mode '" + mode + "' is not supported (constant only)");
    }
  }

  @Override
  public Bound bind(Value[] in) {
    Inputs.count(in, 1, 3);
    Value x = in[0];
    x.requireFloat("data");
    long[] pads;
    float value;
    if (opset < 11) {
      Inputs.count(in, 1, 1);
      pads = attributes.getLongs("pads");
      value = attributes.getFloat("value", 0f);
      if (pads == null) {
        throw new ShapeException("Pad needs pads");
      }
    } else {
      Inputs.count(in, 2, 3);
      pads = in[1].requireKnown("Pad pads").toLongs();
      Value v = Inputs.optional(in, 2);
      var c = v == null ? null : v.requireKnown("Pad constant_value");
      if (c != null && c.size() != 1) {
        throw new ShapeException("Pad constant_value must be a scalar");
      }
      value = c == null ? 0f : c.toFloats()[0];
    }
    int rank = x.rank();
    if (pads.length != 2 * rank) {
      throw new ShapeException("pads has " + pads.length + " values for a rank-" + rank + " input");
    }
    int[] begin = new int[rank];
    int[] end = new int[rank];
    int[] out = new int[rank];
    for (int d = 0; d < rank; d++) {
      if (pads[d] < 0 || pads[d + rank] < 0 || pads[d] > Integer.MAX_VALUE || pads[d + rank] > Integer.MAX_VALUE) {
        throw new ShapeException("negative or huge pads are not supported: " + java.util.Arrays.toString(pads));
      }
      begin[d] = (int) pads[d];
      end[d] = (int) pads[d + rank];
      out[d] = begin[d] + x.dim(d) + end[d];
    }
    int[] shape = x.shape();
    float v = value;
    return Bound.single(ElementType.FLOAT32, out, (i, o, k, ws) -> k.pad(shape, begin, end, v, i[0].f, o[0].f));
  }
}
