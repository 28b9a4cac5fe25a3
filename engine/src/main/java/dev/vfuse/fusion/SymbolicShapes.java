package dev.vfuse.fusion;

import dev.vfuse.ValueInfo;
import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.Node;
import dev.vfuse.ops.ChannelBlockOps;
import dev.vfuse.ops.OpRegistry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Value shapes known at load time, for every input size the model accepts: a pass uses them to
 * prove that two tensors always have the same shape (a residual Add that never broadcasts).
 *
 * <p>A dimension is either a number or floor((c·x + a) / q) of one symbol x, a dynamic input axis
 * (named by its dim_param, which {@code Model} binds to one value across inputs, or by
 * "input[axis]" when unnamed). The form is closed under what convolutions and pooling do:
 * floor((floor((c·x + a)/q) + b)/s) = floor((c·x + a + b·q)/(q·s)), and it is kept in lowest terms
 * (gcd(c, q) = 1, a reduced with it), where two forms are equal for every x exactly when they are
 * the same numbers. Equal forms are therefore a proof; anything the analysis does not follow
 * (Reshape, Slice, ceil-mode pooling on a dynamic axis, a non-integer resize scale of a dynamic
 * axis, ...) is unknown, which proves nothing.
 */
final class SymbolicShapes {

  /** floor((c·symbol + a) / q); a plain number a when symbol is null. */
  record Dim(String symbol, long c, long a, long q) {

    static Dim known(long v) {
      return new Dim(null, 0, v, 1);
    }

    static Dim symbol(String name) {
      return new Dim(name, 1, 0, 1);
    }

    boolean isKnown() {
      return symbol == null;
    }

    /** floor((this + b) / s) for s ≥ 1, or null on overflow. */
    Dim plusThenDivide(long b, long s) {
      try {
        return normal(symbol, c, Math.addExact(a, Math.multiplyExact(b, q)), Math.multiplyExact(q, s));
      } catch (ArithmeticException e) {
        return null;
      }
    }

    /** s·this + t, or null when this is a floor of a symbol (q > 1) or on overflow. */
    Dim timesThenPlus(long s, long t) {
      if (q != 1) {
        return null;
      }
      try {
        return normal(symbol, Math.multiplyExact(s, c), Math.addExact(Math.multiplyExact(s, a), t), 1);
      } catch (ArithmeticException e) {
        return null;
      }
    }

    private static Dim normal(String symbol, long c, long a, long q) {
      if (symbol == null || c == 0) {
        return known(Math.floorDiv(a, q));
      }
      long g = gcd(c, q);
      // floor((g·c'·x + a)/(g·q')) = floor((c'·x + floor(a/g))/q'), as c'·x is an integer.
      return new Dim(symbol, c / g, Math.floorDiv(a, g), q / g);
    }

    private static long gcd(long x, long y) {
      return y == 0 ? Math.abs(x) : gcd(y, x % y);
    }

    @Override
    public String toString() {
      if (symbol == null) {
        return String.valueOf(a);
      }
      String lin = (c == 1 ? "" : c + "·") + symbol + (a == 0 ? "" : (a > 0 ? "+" : "") + a);
      return q == 1 ? lin : "floor((" + lin + ")/" + q + ")";
    }
  }

  private final Map<String, List<Dim>> shapes = new HashMap<>();

  private SymbolicShapes() {}

  /** Infers the shapes of every value of the graph from its declared inputs and its constants. */
  static SymbolicShapes infer(GraphEditor g) {
    SymbolicShapes s = new SymbolicShapes();
    for (ValueInfo v : g.inputs()) {
      if (v.rank() == 0) {
        continue;
      }
      List<Dim> dims = new ArrayList<>();
      for (int d = 0; d < v.rank(); d++) {
        String name = v.dimNames().get(d);
        dims.add(v.dims().get(d) >= 0 ? Dim.known(v.dims().get(d))
            : Dim.symbol(name != null && !name.equals("?") ? name : v.name() + "[" + d + "]"));
      }
      s.shapes.put(v.name(), dims);
    }
    for (Node n : g.nodes()) {
      List<Dim> out;
      try {
        out = s.output(g, n);
      } catch (dev.vfuse.ir.ShapeException | IndexOutOfBoundsException | ArithmeticException e) {
        // Attributes or shapes this node cannot take: its shape stays unknown, so no pass relies on
        // it, and binding the node at planning reports the fault with the node's name.
        out = null;
      }
      if (out != null && !n.outputs().isEmpty() && !n.outputs().get(0).isEmpty()) {
        s.shapes.put(n.outputs().get(0), out);
      }
    }
    return s;
  }

  /** The shape of {@code value} (a dimension is null where it is not known), or null when not even its rank is known. */
  List<Dim> of(GraphEditor g, String value) {
    NdArray c = g.constant(value);
    if (c != null) {
      List<Dim> dims = new ArrayList<>();
      for (int d : c.shape) {
        dims.add(Dim.known(d));
      }
      return dims;
    }
    return shapes.get(value);
  }

  /** Whether the two values have the same shape for every input the model accepts. */
  boolean provablySame(GraphEditor g, String x, String y) {
    List<Dim> a = of(g, x);
    List<Dim> b = of(g, y);
    if (a == null || b == null || a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      if (a.get(i) == null || !a.get(i).equals(b.get(i))) {
        return false;
      }
    }
    return true;
  }

  /**
   * A ConvBlocked's output, blocked [N, ⌈K/B⌉, P, Q, B], from its input (blocked [N, ⌈C/B⌉, H, W,
   * B] or plain [N, C, H, W]) and weight.
   */
  private static List<Dim> blockedConv(GraphEditor g, Node n, List<Dim> x) {
    NdArray w = g.constant(n.input(1));
    Attributes a = n.attributes();
    int block = a.getInt(ChannelBlockOps.BLOCK, 0);
    boolean blockedInput = a.getInt(ChannelBlockOps.BLOCKED_INPUT, 0) != 0;
    if (x == null || w == null || w.rank() != 4 || block < 1 || x.size() != (blockedInput ? 5 : 4)) {
      return null;
    }
    List<Dim> plain = List.of(x.get(0), Dim.known((long) w.shape[1] * a.getInt("group", 1)), x.get(2), x.get(3));
    List<Dim> y = conv(plain, w.shape, a, false);
    if (y == null) {
      return null;
    }
    return java.util.Arrays.asList(y.get(0), Dim.known(Math.ceilDiv(w.shape[0], block)), y.get(2), y.get(3), Dim.known(block));
  }

  /** "[1, 64, floor((H+1)/2), ?]", or "unknown". */
  static String str(List<Dim> shape) {
    if (shape == null) {
      return "unknown";
    }
    return shape.stream().map(d -> d == null ? "?" : d.toString()).toList().toString();
  }

  private List<Dim> output(GraphEditor g, Node n) {
    List<Dim> x = n.inputs().isEmpty() ? null : of(g, n.input(0));
    Attributes a = n.attributes();
    if (n.domain().equals(OpRegistry.VFUSE_DOMAIN) && n.opType().equals("ScaleShift")) {
      return x;
    }
    if (n.opType().equals("Conv") || n.opType().equals("ConvTranspose")) {
      NdArray w = g.constant(n.input(1));
      return x == null || w == null || w.rank() != x.size() ? null : conv(x, w.shape, a, n.opType().equals("ConvTranspose"));
    }
    if (n.domain().equals(OpRegistry.VFUSE_DOMAIN) && n.opType().equals(ChannelBlockOps.CONV)) {
      return blockedConv(g, n, x);
    }
    if (n.domain().equals(OpRegistry.VFUSE_DOMAIN) && n.opType().equals(ChannelBlockOps.MAX_POOL)) {
      // [N, ⌈C/B⌉, H, W, B] → [N, ⌈C/B⌉, P, Q, B]: the plain pool's window on the middle axes.
      List<Dim> plain = x == null || x.size() != 5 ? null : pool(x.subList(0, 4), a);
      return plain == null ? null : java.util.Arrays.asList(plain.get(0), x.get(1), plain.get(2), plain.get(3), x.get(4));
    }
    if (n.domain().equals(OpRegistry.VFUSE_DOMAIN) && n.opType().equals(ChannelBlockOps.FROM)) {
      int channels = a.getInt(ChannelBlockOps.CHANNELS, 0);
      return x == null || x.size() != 5 || channels < 1 ? null
          : java.util.Arrays.asList(x.get(0), Dim.known(channels), x.get(2), x.get(3));
    }
    if (!n.domain().isEmpty()) {
      return null;
    }
    return switch (n.opType()) {
      case "BatchNormalization", "Relu", "LeakyRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh",
          "Identity", "Dropout", "Softmax", "Cast" -> x;
      case "Add", "Sub", "Mul", "Div" -> x == null ? null : broadcast(x, of(g, n.input(1)));
      case "MaxPool", "AveragePool" -> x == null ? null : pool(x, a);
      case "GlobalAveragePool" -> {
        if (x == null || x.size() < 3) {
          yield null;
        }
        List<Dim> out = new ArrayList<>(x);
        for (int d = 2; d < out.size(); d++) {
          out.set(d, Dim.known(1));
        }
        yield out;
      }
      case "Concat" -> concat(g, n);
      case "Resize", "Upsample" -> x == null || x.size() != 4 ? null : resize(g, n, x);
      default -> null;
    };
  }

  private static List<Dim> conv(List<Dim> x, int[] w, Attributes a, boolean transposed) {
    int spatial = w.length - 2;
    if (spatial < 1) {
      return null;
    }
    int groups = a.getInt("group", 1);
    List<Dim> out = new ArrayList<>();
    out.add(x.get(0));
    out.add(Dim.known(transposed ? (long) w[1] * groups : w[0]));
    int[] kernel = a.getInts("kernel_shape", java.util.Arrays.copyOfRange(w, 2, w.length));
    int[] strides = a.getInts("strides", ones(spatial));
    int[] dilations = a.getInts("dilations", ones(spatial));
    int[] pads = a.getInts("pads", new int[2 * spatial]);
    int[] outPad = a.getInts("output_padding", new int[spatial]);
    int[] outShape = a.getInts("output_shape", null);
    String autoPad = a.getString("auto_pad", "NOTSET");
    if (kernel.length != spatial || strides.length != spatial || dilations.length != spatial || pads.length != 2 * spatial
        || outPad.length != spatial || (outShape != null && outShape.length < spatial)) {
      return null;
    }
    for (int i = 0; i < spatial; i++) {
      Dim d = x.get(2 + i);
      long reach = (long) (kernel[i] - 1) * dilations[i] + 1;
      long padTotal = autoPad.equals("VALID") ? 0 : (long) pads[i] + pads[i + spatial];
      Dim o;
      if (d == null) {
        o = transposed && outShape != null ? Dim.known(outShape[outShape.length - spatial + i]) : null;
      } else if (transposed) {
        if (outShape != null) {
          o = Dim.known(outShape[outShape.length - spatial + i]);
        } else if (autoPad.startsWith("SAME")) {
          o = d.timesThenPlus(strides[i], 0);
        } else {
          o = d.timesThenPlus(strides[i], outPad[i] + reach - padTotal - strides[i]);
        }
      } else if (autoPad.startsWith("SAME")) {
        o = d.plusThenDivide(strides[i] - 1, strides[i]);
      } else {
        o = d.plusThenDivide(padTotal - reach + strides[i], strides[i]);
      }
      out.add(o);
    }
    return out;
  }

  private static List<Dim> pool(List<Dim> x, Attributes a) {
    int[] kernel = a.getInts("kernel_shape", null);
    if (kernel == null || x.size() != kernel.length + 2) {
      return null;
    }
    int spatial = kernel.length;
    int[] strides = a.getInts("strides", ones(spatial));
    int[] dilations = a.getInts("dilations", ones(spatial));
    int[] pads = a.getInts("pads", new int[2 * spatial]);
    String autoPad = a.getString("auto_pad", "NOTSET");
    boolean ceil = a.getInt("ceil_mode", 0) != 0;
    if (strides.length != spatial || dilations.length != spatial || pads.length != 2 * spatial) {
      return null;
    }
    List<Dim> out = new ArrayList<>(x.subList(0, 2));
    for (int i = 0; i < spatial; i++) {
      out.add(pooled(x.get(2 + i), (long) (kernel[i] - 1) * dilations[i] + 1, strides[i],
          autoPad.equals("VALID") ? 0 : pads[i], autoPad.equals("VALID") ? 0 : pads[i + spatial], autoPad, ceil));
    }
    return out;
  }

  private static Dim pooled(Dim d, long reach, long stride, long padBegin, long padEnd, String autoPad, boolean ceil) {
    if (d == null) {
      return null;
    }
    if (autoPad.startsWith("SAME")) {
      return d.plusThenDivide(stride - 1, stride);
    }
    if (!ceil) {
      return d.plusThenDivide(padBegin + padEnd - reach + stride, stride);
    }
    if (!d.isKnown()) {
      return null;
    }
    // As PoolGeometry: ceil, minus the last window when it would start inside the end padding.
    long o = Math.ceilDiv(d.a() + padBegin + padEnd - reach, stride) + 1;
    return Dim.known((o - 1) * stride >= d.a() + padBegin ? o - 1 : o);
  }

  /** numpy broadcasting; a dimension against 1 is itself, against a number k > 1 it is k (or the model fails). */
  private static List<Dim> broadcast(List<Dim> x, List<Dim> y) {
    if (y == null) {
      return null;
    }
    int rank = Math.max(x.size(), y.size());
    List<Dim> out = new ArrayList<>();
    for (int i = 0; i < rank; i++) {
      Dim p = i - (rank - x.size()) >= 0 ? x.get(i - (rank - x.size())) : Dim.known(1);
      Dim q = i - (rank - y.size()) >= 0 ? y.get(i - (rank - y.size())) : Dim.known(1);
      out.add(broadcast(p, q));
    }
    return out;
  }

  private static Dim broadcast(Dim p, Dim q) {
    if (p != null && p.equals(q)) {
      return p;
    }
    if (isOne(p)) {
      return q;
    }
    if (isOne(q)) {
      return p;
    }
    if (p != null && p.isKnown()) {
      return p;
    }
    return q != null && q.isKnown() ? q : null;
  }

  private static boolean isOne(Dim d) {
    return d != null && d.isKnown() && d.a() == 1;
  }

  private List<Dim> concat(GraphEditor g, Node n) {
    if (!n.attributes().has("axis") || n.inputs().isEmpty()) {
      return null;
    }
    List<List<Dim>> in = new ArrayList<>();
    for (String v : n.inputs()) {
      List<Dim> s = of(g, v);
      if (s == null || (!in.isEmpty() && s.size() != in.get(0).size())) {
        return null;
      }
      in.add(s);
    }
    int rank = in.get(0).size();
    int axis = n.attributes().getInt("axis", 0);
    axis = axis < 0 ? axis + rank : axis;
    if (axis < 0 || axis >= rank) {
      return null;
    }
    List<Dim> out = new ArrayList<>();
    for (int d = 0; d < rank; d++) {
      Dim o = null;
      if (d == axis) {
        long sum = 0;
        for (List<Dim> s : in) {
          if (s.get(d) == null || !s.get(d).isKnown()) {
            sum = -1;
            break;
          }
          sum += s.get(d).a();
        }
        o = sum < 0 ? null : Dim.known(sum);
      } else {
        // Concat requires the inputs to agree off the axis, so any one that is known is the answer.
        for (List<Dim> s : in) {
          o = o != null ? o : s.get(d);
        }
      }
      out.add(o);
    }
    return out;
  }

  private List<Dim> resize(GraphEditor g, Node n, List<Dim> x) {
    boolean old = n.opType().equals("Upsample") || g.opset() < 11;
    NdArray scales = g.constant(old ? n.input(1) : n.input(2));
    NdArray sizes = old ? null : g.constant(n.input(3));
    List<Dim> out = new ArrayList<>(x.subList(0, 2));
    if (sizes != null && sizes.size() == 4) {
      long[] sz = sizes.toLongs();
      out.add(Dim.known(sz[2]));
      out.add(Dim.known(sz[3]));
      return out;
    }
    if (scales == null || scales.size() != 4 || (!old && !n.input(3).isEmpty() && sizes == null)) {
      return null;
    }
    float[] sc = scales.toFloats();
    for (int d = 2; d < 4; d++) {
      Dim in = x.get(d);
      float s = sc[d];
      if (in == null) {
        out.add(null);
      } else if (in.isKnown()) {
        out.add(Dim.known((long) Math.floor(in.a() * (double) s)));
      } else if (s >= 1 && s == Math.rint(s)) {
        out.add(in.timesThenPlus((long) s, 0));
      } else {
        out.add(null);
      }
    }
    return out;
  }

  private static int[] ones(int n) {
    int[] r = new int[n];
    java.util.Arrays.fill(r, 1);
    return r;
  }
}
