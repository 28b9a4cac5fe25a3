package dev.vfuse.quant;

import dev.vfuse.ModelFormatException;
import dev.vfuse.exec.Program;
import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.Graph;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.Node;
import dev.vfuse.kernel.Activation;
import dev.vfuse.kernel.Kernels;
import dev.vfuse.ops.ActivationAttributes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs variants of one graph (the same nodes, in the same order, with other weights: float,
 * quantized, corrected) side by side on the same samples, node by node, and shows a
 * {@link Hook} the linear output (before residual add and activation) of every quantized layer in
 * every variant before the layer's epilogue runs, so that the hook can measure the layer or shift
 * its bias on the spot. Layer by layer in order, every sample reaches a layer before any passes it:
 * that is what empirical bias correction needs (each layer corrected on inputs that already carry
 * the corrections of the layers before it).
 *
 * <p>Variant 0 must be the float graph: its quantizable layers are the ones shown. Each such layer
 * is bound once per variant and input shape ({@link Program#bindReusable}), so its weights are
 * packed once, not once per sample. Values are dropped after their last reader, so memory is
 * about the live activations of one run times variants times samples.
 */
final class Lockstep {

  /** Sees each quantized layer. */
  interface Hook {
    /**
     * @param layer the layer's node in variant 0
     * @param inputs [variant][sample] the layer's input 0
     * @param linear [variant][sample] linear outputs; the hook may change them in place
     */
    void layer(Node layer, NdArray[][] inputs, NdArray[][] linear);
  }

  private Lockstep() {}

  /** Final graph outputs, [variant][sample][output]. */
  static NdArray[][][] run(List<Graph> variants, List<NdArray[]> samples, Kernels kernels, Hook hook)
      throws ModelFormatException {
    Graph first = variants.get(0);
    int v = variants.size();
    int s = samples.size();
    Map<String, Integer> lastUse = new HashMap<>();
    for (int i = 0; i < first.nodes().size(); i++) {
      for (String in : first.nodes().get(i).inputs()) {
        lastUse.put(in, i);
      }
    }
    first.outputs().forEach(o -> lastUse.put(o.name(), Integer.MAX_VALUE));
    List<List<Map<String, NdArray>>> values = new ArrayList<>();
    for (int a = 0; a < v; a++) {
      List<Map<String, NdArray>> perSample = new ArrayList<>();
      for (int b = 0; b < s; b++) {
        Map<String, NdArray> m = new HashMap<>();
        for (int i = 0; i < first.inputs().size(); i++) {
          m.put(first.inputs().get(i).name(), samples.get(b)[i]);
        }
        perSample.add(m);
      }
      values.add(perSample);
    }
    for (int i = 0; i < first.nodes().size(); i++) {
      Node n0 = first.nodes().get(i);
      if (WeightQuantizer.quantizable(first, n0)) {
        NdArray[][] linear = new NdArray[v][s];
        NdArray[][] inputs = new NdArray[v][s];
        for (int a = 0; a < v; a++) {
          Node n = linearPart(variants.get(a).nodes().get(i));
          Program.Reusable bound = null; // the weights packed once for all samples of one shape
          for (int b = 0; b < s; b++) {
            NdArray[] in = arguments(n, variants.get(a), values.get(a).get(b));
            if (bound == null || !bound.accepts(in[0])) {
              bound = Program.bindReusable(n, variants.get(a).opset(), in, kernels);
            }
            inputs[a][b] = in[0];
            linear[a][b] = bound.run(in, kernels)[0];
          }
        }
        hook.layer(n0, inputs, linear);
        for (int a = 0; a < v; a++) {
          Node n = variants.get(a).nodes().get(i);
          for (int b = 0; b < s; b++) {
            values.get(a).get(b).put(n.outputs().get(0), epilogue(n, linear[a][b], values.get(a).get(b)));
          }
        }
      } else {
        for (int a = 0; a < v; a++) {
          Node n = variants.get(a).nodes().get(i);
          for (int b = 0; b < s; b++) {
            NdArray[] out = eval(n, variants.get(a), values.get(a).get(b), kernels);
            for (int o = 0; o < n.outputs().size(); o++) {
              if (!n.outputs().get(o).isEmpty()) {
                values.get(a).get(b).put(n.outputs().get(o), out[o]);
              }
            }
          }
        }
      }
      for (String in : n0.inputs()) {
        if (lastUse.getOrDefault(in, -1) == i) {
          values.forEach(perSample -> perSample.forEach(m -> m.remove(in)));
        }
      }
    }
    NdArray[][][] outputs = new NdArray[v][s][first.outputs().size()];
    for (int a = 0; a < v; a++) {
      for (int b = 0; b < s; b++) {
        for (int o = 0; o < first.outputs().size(); o++) {
          String name = first.outputs().get(o).name();
          NdArray value = values.get(a).get(b).get(name);
          outputs[a][b][o] = value != null ? value : variants.get(a).constants().get(name);
        }
      }
    }
    return outputs;
  }

  private static NdArray[] eval(Node n, Graph g, Map<String, NdArray> values, Kernels kernels)
      throws ModelFormatException {
    return Program.evaluateNode(n, g.opset(), arguments(n, g, values), kernels);
  }

  /** n's inputs: computed values, else constants of g; null for omitted ones. */
  private static NdArray[] arguments(Node n, Graph g, Map<String, NdArray> values) {
    NdArray[] in = new NdArray[n.inputs().size()];
    for (int i = 0; i < in.length; i++) {
      String name = n.input(i);
      if (!name.isEmpty()) {
        in[i] = values.containsKey(name) ? values.get(name) : g.constants().get(name);
      }
    }
    return in;
  }

  /** The node without its residual input and activation: conv + bias + offsets. */
  static Node linearPart(Node n) {
    if (n.inputs().size() <= 3 && !n.attributes().has(ActivationAttributes.NAME)) {
      return n;
    }
    List<String> in = new ArrayList<>(n.inputs());
    if (in.size() > 3) {
      in.set(3, "");
    }
    Map<String, Object> a = n.attributes().toMap();
    a.remove(ActivationAttributes.NAME);
    a.remove(ActivationAttributes.PARAMS);
    return new Node(n.name(), n.opType(), n.domain(), in, n.outputs(), new Attributes(a));
  }

  /** activation(linear + residual), as the fused node would finish it. */
  private static NdArray epilogue(Node n, NdArray linear, Map<String, NdArray> values) {
    NdArray residual = n.inputs().size() > 3 && !n.input(3).isEmpty() ? values.get(n.input(3)) : null;
    Activation f = ActivationAttributes.read(n.attributes());
    if (residual == null && f == null) {
      return linear;
    }
    float[] y = linear.f;
    int size = linear.size();
    for (int i = 0; i < size; i++) {
      float v = residual == null ? y[i] : y[i] + residual.f[i];
      y[i] = f == null ? v : f.apply(v);
    }
    return linear;
  }
}
