package dev.vfuse.fusion;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.ElementType;
import dev.vfuse.ValueInfo;
import dev.vfuse.exec.Executor;
import dev.vfuse.exec.Program;
import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.Graph;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.Node;
import dev.vfuse.reference.ReferenceKernels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Builds small graphs directly in the IR, runs a pass on them, and compares the fused graph with
 * the unfused one on the reference backend. Seeded; failure messages carry the graph and the first
 * mismatching index.
 */
public final class FusionHarness {
  private final List<Node> nodes = new ArrayList<>();
  private final Map<String, NdArray> constants = new LinkedHashMap<>();
  private final List<ValueInfo> inputs = new ArrayList<>();
  private final List<ValueInfo> outputs = new ArrayList<>();
  private final SplittableRandom random;
  private int opset = 13;

  public FusionHarness(long seed) {
    random = new SplittableRandom(seed);
  }

  public SplittableRandom random() {
    return random;
  }

  public FusionHarness opset(int v) {
    opset = v;
    return this;
  }

  public FusionHarness input(String name, int... shape) {
    inputs.add(info(name, shape));
    return this;
  }

  public FusionHarness output(String name) {
    outputs.add(new ValueInfo(name, ElementType.FLOAT32, List.of(), List.of()));
    return this;
  }

  /** A constant of uniform random values in [lo, hi). */
  public String constant(String name, double lo, double hi, int... shape) {
    float[] v = new float[Arrays.stream(shape).reduce(1, (a, b) -> a * b)];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) random.nextDouble(lo, hi);
    }
    return constant(name, NdArray.ofFloats(shape, v));
  }

  public String constant(String name, NdArray value) {
    constants.put(name, value);
    return name;
  }

  /** Adds BN parameter constants name.gamma/beta/mean/var for c channels (γ of either sign) and a BatchNormalization node. */
  public FusionHarness batchNorm(String name, String in, String out, int c, float epsilon) {
    float[] gamma = new float[c];
    for (int i = 0; i < c; i++) {
      gamma[i] = (float) (random.nextDouble(0.5, 1.5) * (random.nextInt(5) == 0 ? -1 : 1));
    }
    constant(name + ".gamma", NdArray.ofFloats(new int[] {c}, gamma));
    constant(name + ".beta", -0.5, 0.5, c);
    constant(name + ".mean", -0.5, 0.5, c);
    constant(name + ".var", 0.3, 2.0, c);
    return node(name, "BatchNormalization", List.of(in, name + ".gamma", name + ".beta", name + ".mean", name + ".var"),
        List.of(out), Map.of("epsilon", epsilon));
  }

  /** Adds a node; attribute values are Long, Float, String, long[], float[] or NdArray (Integer is widened). */
  public FusionHarness node(String name, String opType, List<String> in, List<String> out, Map<String, Object> attributes) {
    Map<String, Object> a = new LinkedHashMap<>();
    attributes.forEach((k, v) -> a.put(k, v instanceof Integer i ? (Object) i.longValue() : v));
    nodes.add(new Node(name, opType, "", in, out, new Attributes(a)));
    return this;
  }

  /** Adds a node of the vfuse domain, as an earlier fusion pass would have left it. */
  public FusionHarness vfuseNode(String name, String opType, List<String> in, List<String> out, Map<String, Object> attributes) {
    node(name, opType, in, out, attributes);
    Node n = nodes.removeLast();
    nodes.add(new Node(n.name(), n.opType(), dev.vfuse.ops.OpRegistry.VFUSE_DOMAIN, n.inputs(), n.outputs(), n.attributes()));
    return this;
  }

  public Graph graph() {
    return new Graph(nodes, constants, inputs, outputs, opset);
  }

  /** Runs a graph on the reference backend. */
  public static float[] run(Graph g, NdArray input) throws Exception {
    Executor e = new Executor(Program.compile(g), new ReferenceKernels());
    return e.run(new NdArray[] {input})[0].toFloats();
  }

  public NdArray randomInput(int... shape) {
    float[] v = new float[Arrays.stream(shape).reduce(1, (a, b) -> a * b)];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) random.nextDouble(-2, 2);
    }
    return NdArray.ofFloats(shape, v);
  }

  /** What running a pass produced: the fused graph, its log, and the largest difference seen. */
  public record Outcome(Graph fused, List<FusionLog.Entry> entries, double maxAbsError, double scale) {
    public long fusedCount() {
      return entries.stream().filter(FusionLog.Entry::fused).count();
    }

    public int count(String opType) {
      return Collections.frequency(fused.nodes().stream().map(Node::opType).toList(), opType);
    }
  }

  /**
   * Runs {@code passes} on the graph and compares fused with unfused on {@code trials} random
   * inputs; fails when |fused − unfused| exceeds tolerance·(1 + |unfused|) anywhere.
   */
  public Outcome check(List<FusionPass> passes, double tolerance, int trials, int... inputShape) throws Exception {
    Graph g = graph();
    PassManager.Result r = new PassManager(passes).run(g);
    double worst = 0;
    double scale = 0;
    for (int t = 0; t < trials; t++) {
      NdArray x = randomInput(inputShape);
      float[] expected = run(g, x);
      float[] actual = run(r.graph(), x);
      assertThat(actual).as("output length").hasSize(expected.length);
      for (int i = 0; i < expected.length; i++) {
        double d = Math.abs((double) actual[i] - expected[i]);
        worst = Math.max(worst, d);
        scale = Math.max(scale, Math.abs(expected[i]));
        if (!(d <= tolerance * (1 + Math.abs(expected[i])))) {
          throw new AssertionError("fused differs from unfused at flat index " + i + ": " + actual[i] + " vs " + expected[i]
              + "\ninput shape " + Arrays.toString(inputShape) + "\nbefore: " + g.nodes() + "\nafter: " + r.graph().nodes()
              + "\nlog: " + r.report().entries());
        }
      }
    }
    return new Outcome(r.graph(), r.report().entries(), worst, scale);
  }

  private static ValueInfo info(String name, int[] shape) {
    List<Integer> dims = Arrays.stream(shape).boxed().toList();
    return new ValueInfo(name, ElementType.FLOAT32, dims, Collections.nCopies(shape.length, null));
  }
}
