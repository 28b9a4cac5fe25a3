package dev.vfuse.quant;

import dev.vfuse.ElementType;
import dev.vfuse.fusion.GraphEditor;
import dev.vfuse.fusion.LayerInputStatistics;
import dev.vfuse.fusion.OutputStatistics;
import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.Graph;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.Node;
import dev.vfuse.kernel.Activation;
import dev.vfuse.ops.ActivationAttributes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Cross-layer equalization (Nagel et al. 2019, section 4.1) before int8 quantization: for a conv
 * L1 whose output feeds only a conv L2 through a positive-homogeneous activation f (none, ReLU,
 * LeakyReLU: f(x/s) = f(x)/s for s &gt; 0), channel i of L1's output is divided by s_i and L2's
 * input channel i multiplied by it, which leaves the float model unchanged:
 *
 * <pre>
 *   r1_i = max |W1[i, ·]|      r2_i = max |W2[·, i, ·]|      s_i = sqrt(r1_i / r2_i)
 *   W1[i, ·] /= s_i   b1_i /= s_i   (shift taps and BN statistics of L1 too)   W2[·, i, ·] *= s_i
 * </pre>
 *
 * after which both ranges are sqrt(r1_i·r2_i). Per-channel int8 already absorbs L1's output
 * scale; what gains is L2: its input channels, whose weight ranges can differ by orders of
 * magnitude after BatchNorms are folded, share one scale per output channel, and equalizing them
 * gives the small ones more of the 255 levels. A depthwise L2 has one input channel per output
 * channel and gains nothing, so it is skipped. Pairs are taken in graph order, so a chain is
 * equalized pair by pair with the weights of the previous step. Arithmetic in double, rounded once.
 */
public final class CrossLayerEqualization {
  private CrossLayerEqualization() {}

  /** The equalized graph and the number of pairs equalized. */
  public record Result(Graph graph, int pairs) {}

  public static Result apply(Graph g) {
    GraphEditor editor = new GraphEditor(g);
    List<Node> nodes = new ArrayList<>(g.nodes());
    Map<String, Integer> readers = new HashMap<>();
    Map<String, Integer> producer = new HashMap<>();
    for (int i = 0; i < nodes.size(); i++) {
      for (String in : nodes.get(i).inputs()) {
        readers.merge(in, 1, Integer::sum);
      }
      producer.put(nodes.get(i).outputs().get(0), i);
    }
    g.outputs().forEach(o -> readers.merge(o.name(), 1, Integer::sum));
    int pairs = 0;
    for (int j = 0; j < nodes.size(); j++) {
      Node l2 = nodes.get(j);
      Integer i = producer.get(l2.input(0));
      if (!isConv(l2) || i == null || !isConv(nodes.get(i)) || readers.getOrDefault(l2.input(0), 0) != 1) {
        continue;
      }
      Node l1 = nodes.get(i);
      NdArray w1 = floatWeight(editor, l1);
      NdArray w2 = floatWeight(editor, l2);
      if (w1 == null || w2 == null || w1.rank() != 4 || w2.rank() != 4 || !homogeneous(l1)) {
        continue;
      }
      int c = w1.shape[0];
      int groups = l2.attributes().getInt("group", 1);
      int cg = w2.shape[1];
      int k2 = w2.shape[0];
      if (cg == 1 || cg * groups != c || hasResidual(l1)) {
        continue;
      }
      double[] s = scales(w1, w2, groups);
      nodes.set(i, scaleOutputs(l1, w1, s, editor));
      nodes.set(j, scaleInputs(l2, w2, s, groups, editor));
      pairs++;
    }
    for (int i = 0; i < nodes.size(); i++) {
      if (nodes.get(i) != g.nodes().get(i)) {
        editor.replace(List.of(g.nodes().get(i)), nodes.get(i));
      }
    }
    return new Result(editor.build(), pairs);
  }

  private static boolean isConv(Node n) {
    return n.opType().equals("Conv");
  }

  private static boolean hasResidual(Node n) {
    return n.inputs().size() > 3 && !n.input(3).isEmpty();
  }

  private static boolean homogeneous(Node n) {
    Activation f = ActivationAttributes.read(n.attributes());
    return f == null || f instanceof Activation.Relu || f instanceof Activation.LeakyRelu;
  }

  private static NdArray floatWeight(GraphEditor constants, Node n) {
    NdArray w = constants.constant(n.input(1));
    if (w == null || w.type != ElementType.FLOAT32) {
      return null;
    }
    NdArray b = n.inputs().size() > 2 && !n.input(2).isEmpty() ? constants.constant(n.input(2)) : null;
    boolean biasOk = n.inputs().size() <= 2 || n.input(2).isEmpty() || (b != null && b.f != null);
    NdArray t = n.inputs().size() > 4 && !n.input(4).isEmpty() ? constants.constant(n.input(4)) : null;
    boolean tapsOk = n.inputs().size() <= 4 || n.input(4).isEmpty() || (t != null && t.f != null);
    return biasOk && tapsOk ? w : null;
  }

  /** s_i = sqrt(r1_i / r2_i); 1 where either range is 0. */
  private static double[] scales(NdArray w1, NdArray w2, int groups) {
    int c = w1.shape[0];
    int per1 = w1.size() / c;
    int k2 = w2.shape[0];
    int cg = w2.shape[1];
    int taps = w2.shape[2] * w2.shape[3];
    int kg = k2 / groups;
    double[] r1 = new double[c];
    double[] r2 = new double[c];
    for (int i = 0; i < w1.size(); i++) {
      r1[i / per1] = Math.max(r1[i / per1], Math.abs(w1.f[i]));
    }
    for (int i = 0; i < w2.size(); i++) {
      int k = i / (cg * taps);
      int in = (k / kg) * cg + (i / taps) % cg;
      r2[in] = Math.max(r2[in], Math.abs(w2.f[i]));
    }
    double[] s = new double[c];
    for (int i = 0; i < c; i++) {
      s[i] = r1[i] > 0 && r2[i] > 0 ? Math.sqrt(r1[i] / r2[i]) : 1;
    }
    return s;
  }

  private static Node scaleOutputs(Node n, NdArray w, double[] s, GraphEditor editor) {
    List<String> inputs = new ArrayList<>(n.inputs());
    inputs.set(1, editor.addConstant(n.name() + ".weight_cle", divideRows(w, s)));
    if (inputs.size() > 2 && !inputs.get(2).isEmpty()) {
      inputs.set(2, editor.addConstant(n.name() + ".bias_cle", divideRows(editor.constant(inputs.get(2)), s)));
    }
    if (inputs.size() > 4 && !inputs.get(4).isEmpty()) {
      inputs.set(4, editor.addConstant(n.name() + ".shift_taps_cle", divideRows(editor.constant(inputs.get(4)), s)));
    }
    Attributes a = n.attributes();
    float[] mean = OutputStatistics.mean(n);
    if (mean != null) {
      float[] std = OutputStatistics.std(n);
      Map<String, Object> m = a.toMap();
      float[] m2 = new float[mean.length];
      float[] s2 = new float[std.length];
      for (int i = 0; i < mean.length; i++) {
        m2[i] = (float) (mean[i] / s[i]);
        s2[i] = (float) (std[i] / s[i]);
      }
      m.put(OutputStatistics.MEAN, m2);
      m.put(OutputStatistics.STD, s2);
      float[] bound = OutputStatistics.stdBound(n);
      if (bound != null) {
        m.put(OutputStatistics.STD_BOUND, divide(bound, s));
      }
      a = new Attributes(m);
    }
    return new Node(n.name(), n.opType(), n.domain(), inputs, n.outputs(), a);
  }

  private static Node scaleInputs(Node n, NdArray w, double[] s, int groups, GraphEditor editor) {
    int cg = w.shape[1];
    int taps = w.shape[2] * w.shape[3];
    int kg = w.shape[0] / groups;
    float[] out = new float[w.size()];
    for (int i = 0; i < out.length; i++) {
      int k = i / (cg * taps);
      int in = (k / kg) * cg + (i / taps) % cg;
      out[i] = (float) (w.f[i] * s[in]);
    }
    List<String> inputs = new ArrayList<>(n.inputs());
    inputs.set(1, editor.addConstant(n.name() + ".weight_cle_in", NdArray.ofFloats(w.shape.clone(), out)));
    Attributes a = n.attributes();
    float[] mean = LayerInputStatistics.mean(n);
    if (mean != null && mean.length == s.length) {
      // the input it reads is now x_c / s_c: so are its recorded mean and spread
      Map<String, Object> m = a.toMap();
      m.put(LayerInputStatistics.MEAN, divide(mean, s));
      m.put(LayerInputStatistics.STD, divide(LayerInputStatistics.std(n), s));
      a = new Attributes(m);
    }
    return new Node(n.name(), n.opType(), n.domain(), inputs, n.outputs(), a);
  }

  /** v_i / s_i. */
  private static float[] divide(float[] v, double[] s) {
    float[] out = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = (float) (v[i] / s[i]);
    }
    return out;
  }

  /** a[i, ·] / s_i along axis 0. */
  private static NdArray divideRows(NdArray a, double[] s) {
    int per = a.size() / s.length;
    float[] out = new float[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) (a.f[i] / s[i / per]);
    }
    return NdArray.ofFloats(a.shape.clone(), out);
  }
}
