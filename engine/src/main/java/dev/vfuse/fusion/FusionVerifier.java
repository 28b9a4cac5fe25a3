package dev.vfuse.fusion;

import dev.vfuse.ElementType;
import dev.vfuse.VfuseException;
import dev.vfuse.ValueInfo;
import dev.vfuse.exec.Executor;
import dev.vfuse.exec.Program;
import dev.vfuse.ir.Graph;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.Node;
import dev.vfuse.kernel.Kernels;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Checks each fused node against the nodes it replaced, one layer at a time: the unfused graph runs
 * on probe inputs with every intermediate value kept, then each fused node is evaluated on the
 * unfused values of its own inputs and compared with the unfused value of its output. Errors do
 * not accumulate across layers, so each number is the fusion's own.
 *
 * <p>Probe inputs are random over the whole input, so every border and corner position of every
 * padded layer is exercised; dynamic dimensions are probed at {@value #PROBE_SIZE} (batch 1).
 */
public final class FusionVerifier {
  static final int PROBE_SIZE = 64;
  private static final int PROBES = 2;

  private FusionVerifier() {}

  public static List<FusionReport.LayerCheck> verify(Graph unfused, Graph fused, List<FusionLog.Entry> entries, Kernels kernels)
      throws VfuseException {
    Set<Node> original = new java.util.HashSet<>(unfused.nodes());
    List<Node> fusedNodes = fused.nodes().stream().filter(n -> !original.contains(n)).toList();
    if (fusedNodes.isEmpty()) {
      return List.of();
    }
    List<ValueInfo> everything = new ArrayList<>();
    for (Node n : unfused.nodes()) {
      for (String o : n.outputs()) {
        if (!o.isEmpty()) {
          everything.add(new ValueInfo(o, ElementType.FLOAT32, List.of(), List.of()));
        }
      }
    }
    Graph capturing = new Graph(unfused.nodes(), unfused.constants(), unfused.inputs(), everything, unfused.opset());
    Executor executor = new Executor(Program.compile(capturing), kernels);
    Map<String, double[]> worst = new HashMap<>();
    SplittableRandom random = new SplittableRandom(20261122L);
    for (int probe = 0; probe < PROBES; probe++) {
      NdArray[] inputs = probeInputs(unfused.inputs(), random);
      NdArray[] values = executor.run(inputs);
      Map<String, NdArray> byName = new HashMap<>(unfused.constants());
      byName.putAll(fused.constants());
      for (int i = 0; i < inputs.length; i++) {
        byName.put(unfused.inputs().get(i).name(), inputs[i]);
      }
      for (int i = 0; i < values.length; i++) {
        byName.put(everything.get(i).name(), values[i]);
      }
      for (Node n : fusedNodes) {
        NdArray expected = byName.get(n.outputs().get(0));
        NdArray[] in = new NdArray[n.inputs().size()];
        boolean available = expected != null;
        for (int i = 0; i < in.length && available; i++) {
          String name = n.inputs().get(i);
          in[i] = name.isEmpty() ? null : byName.get(name);
          available = name.isEmpty() || in[i] != null;
        }
        if (!available) {
          continue;
        }
        NdArray actual = Program.evaluateNode(n, fused.opset(), in, kernels)[0];
        double[] w = worst.computeIfAbsent(n.name(), k -> new double[2]);
        float[] a = actual.toFloats();
        float[] e = expected.toFloats();
        for (int i = 0; i < e.length; i++) {
          double d = Math.abs((double) a[i] - e[i]);
          w[0] = Math.max(w[0], d);
          w[1] = Math.max(w[1], Math.abs(e[i]));
        }
      }
    }
    List<FusionReport.LayerCheck> checks = new ArrayList<>();
    for (Node n : fusedNodes) {
      double[] w = worst.get(n.name());
      if (w != null) {
        checks.add(new FusionReport.LayerCheck(n.name(), replaced(n, entries), w[0], w[1] == 0 ? w[0] : w[0] / w[1]));
      }
    }
    return checks;
  }

  /** The original nodes folded into {@code n}: those named by the fusions that name it. */
  private static List<String> replaced(Node n, List<FusionLog.Entry> entries) {
    Set<String> names = new LinkedHashSet<>();
    for (FusionLog.Entry e : entries) {
      if (e.fused() && e.nodes().contains(n.name())) {
        names.addAll(e.nodes());
      }
    }
    return List.copyOf(names);
  }

  private static NdArray[] probeInputs(List<ValueInfo> inputs, SplittableRandom random) {
    NdArray[] out = new NdArray[inputs.size()];
    for (int i = 0; i < out.length; i++) {
      ValueInfo v = inputs.get(i);
      int[] shape = new int[v.rank()];
      for (int d = 0; d < shape.length; d++) {
        int dim = v.dims().get(d);
        shape[d] = dim >= 0 ? dim : (d == 0 ? 1 : PROBE_SIZE);
      }
      NdArray a = NdArray.allocate(v.elementType(), shape);
      for (int e = 0; e < a.size(); e++) {
        if (a.f != null) {
          a.f[e] = (float) random.nextDouble(-2, 2);
        }
      }
      out[i] = a;
    }
    return out;
  }
}
