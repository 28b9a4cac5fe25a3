package dev.vfuse.fusion;

import dev.vfuse.ElementType;
import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.Node;
import dev.vfuse.kernel.Activation;
import dev.vfuse.ops.ActivationAttributes;
import dev.vfuse.ops.ChannelBlockOps;
import dev.vfuse.ops.OpRegistry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Moves chains of mobile-network convolutions into the channel-blocked layout
 * ({@link dev.vfuse.kernel.ChannelBlocks}, block B = the backend's vector length), converted once at
 * the chain's edges, as ONNX Runtime's NCHWc transformer does. A layout change, not arithmetic:
 *
 * <pre>
 *   y = conv(x)   becomes   y_b = ConvBlocked(x or x_b);  y = FromChannelBlocks(y_b)
 * </pre>
 *
 * and a converted conv that reads y takes y_b itself, so the FromChannelBlocks in between is dead
 * and removed. The blocked kernels compute each output with the same reduction as the plain ones
 * (within the same float error bound); nothing is refolded.
 *
 * <p>Which convs, walking the graph in order (Conv or vfuse Conv, 2-D, constant float weights and
 * bias, no shift taps, an activation with a vector form: none, Relu, LeakyRelu, Clip, HardSigmoid,
 * HardSwish, not Sigmoid or Tanh):
 * <ul>
 *   <li>depthwise (group == C == K) whose input is already blocked: the layer this layout is for;
 *   <li>pointwise (1×1, stride 1, unpadded, one group) whose input is blocked, or whose output a
 *       depthwise conv reads (the expansion layer that starts a chain); but not one with a blocked
 *       input whose output widens (K > C) and is read by an operator that needs NCHW: converting
 *       its narrower input costs less (PP-OCR det's neck);
 *   <li>one group with at most {@value #STEM_CHANNELS} input channels and a plain input (the stem
 *       on the RGB image) when a depthwise or pointwise conv reads its output, or when only 2-D
 *       MaxPools read it (resnet's stem: the pool then runs on the blocks and the conversion
 *       moves behind it, to a quarter of the data);
 *   <li>one group, any geometry, either input layout, with an output plane known to have at most
 *       {@value #SMALL_PLANE} positions (resnet's 7×7 stage), or at most {@value #STRIDED_PLANE}
 *       at a stride above 1 (resnet's stride-2 convs onto 28² and 14²).
 * </ul>
 * A GlobalAveragePool of a blocked value reads the blocks itself (the mobilenets' head and their
 * squeeze-excitation blocks), a 2-D MaxPool (one output) pools them into blocks, and so does a Mul of a blocked value by a tensor proved (by
 * {@link SymbolicShapes}) to be [N, C, 1, 1] (squeeze-excitation's scale), with no conversion. A converted conv's residual must be blocked too; a residual that exists only plain is a reason
 * to keep the conv. Everything else (Winograd-sized 3×3 layers, grouped convs, Sigmoid epilogues)
 * keeps the plain layout and its kernels, and the log says why for each candidate that reads a
 * blocked value. Run after the fusion passes and weight quantization (int8 weights stay plain).
 */
public final class ChannelBlockedLayout implements FusionPass {
  /** Input channels up to which a one-group conv with a plain input (the stem) is converted. */
  static final int STEM_CHANNELS = 4;

  private final int block;

  /** The pass for channel block {@code block} (≥ 1; 0 means the backend has no blocked kernels). */
  public ChannelBlockedLayout(int block) {
    if (block < 1) {
      throw new IllegalArgumentException("channel block must be at least 1, got " + block);
    }
    this.block = block;
  }

  @Override
  public String name() {
    return "channel-blocked-layout";
  }

  /**
   * Output positions up to which a one-group conv of any other geometry is converted (resnet18's
   * 7×7 layers): the plain implicit GEMM computes and drops the padding columns of rows this short
   * (2 of every 9 at 7 wide), the blocked kernel none. Measured alone, 1 thread, 512 bits
   * ({@code ConvKernelBenchmark}, NCHW against blocked): 3×3 512 → 512 at 7² 1.67 → 1.27 ms,
   * 3×3 stride 2 256 → 512 onto 7² 0.94 → 0.61, 1×1 stride 2 256 → 512 0.116 → 0.089; at 14² the
   * 3×3 256 → 256 layer runs Winograd (1.14 ms against 1.61 blocked).
   */
  static final int SMALL_PLANE = 49;

  /**
   * Output positions up to which a strided one-group conv is converted, whatever reads it: the
   * plain implicit GEMM splits its input into stride phases on every run, the blocked kernel reads
   * taps at a stride. Measured alone, 1 thread, 512 bits: resnet18's 3×3 stride-2 64 → 128 onto
   * 28² 0.86–1.08 → 0.63 ms, 128 → 256 onto 14² 0.86 → 0.62. (The 7×7 stem onto 112² is the
   * stem rule's.)
   */
  static final int STRIDED_PLANE = 28 * 28;

  private record Conv(Node node, int groups, int c, int k, boolean pointwise, boolean depthwise, Activation activation,
      boolean smallPlane, boolean stridedPlane) {}

  @Override
  public void run(GraphEditor graph, FusionLog log) {
    List<Node> nodes = graph.nodes();
    SymbolicShapes shapes = SymbolicShapes.infer(graph);
    Map<String, Conv> candidates = new LinkedHashMap<>();
    for (Node n : nodes) {
      Conv conv = candidate(graph, shapes, n);
      if (conv != null) {
        candidates.put(n.outputs().get(0), conv);
      }
    }
    /* Values available blocked: plain name → blocked name. */
    Map<String, String> blocked = new HashMap<>();
    List<Node> rewritten = new ArrayList<>();
    Set<String> unblockedOutputs = new HashSet<>();
    Map<String, Integer> channels = new HashMap<>();
    for (Node n : nodes) {
      Conv conv = n.outputs().isEmpty() ? null : candidates.get(n.outputs().get(0));
      String x = n.input(0);
      boolean xBlocked = blocked.containsKey(x);
      if (xBlocked && n.domain().isEmpty() && n.opType().equals("GlobalAveragePool") && n.outputs().size() == 1) {
        rewritten.add(new Node(n.name(), ChannelBlockOps.GLOBAL_AVERAGE_POOL, OpRegistry.VFUSE_DOMAIN,
            List.of(blocked.get(x)), n.outputs(), new Attributes(Map.of(ChannelBlockOps.BLOCK, (long) block,
                ChannelBlockOps.CHANNELS, (long) (int) channels.get(x)))));
        log.fused(name(), "ran " + n.describe() + " on channel blocks of " + block, n.name());
        continue;
      }
      if (xBlocked && isPlanarMaxPool(n)) {
        String y = n.outputs().get(0);
        String yBlocked = graph.freshName(y + "/blocked");
        Map<String, Object> attributes = new HashMap<>(n.attributes().toMap());
        attributes.put(ChannelBlockOps.BLOCK, (long) block);
        attributes.put(ChannelBlockOps.CHANNELS, (long) (int) channels.get(x));
        rewritten.add(new Node(n.name(), ChannelBlockOps.MAX_POOL, OpRegistry.VFUSE_DOMAIN, List.of(blocked.get(x)),
            List.of(yBlocked), new Attributes(attributes)));
        convertBack(graph, n, yBlocked, channels.get(x), rewritten, blocked, channels, unblockedOutputs);
        log.fused(name(), "ran " + n.describe() + " on channel blocks of " + block, n.name());
        continue;
      }
      String scale = perChannelScale(graph, shapes, n, blocked, channels);
      if (scale != null) {
        String xb = n.input(0).equals(scale) ? n.input(1) : n.input(0);
        String y = n.outputs().get(0);
        String yBlocked = graph.freshName(y + "/blocked");
        Map<String, Object> attributes = Map.of(ChannelBlockOps.BLOCK, (long) block, ChannelBlockOps.CHANNELS,
            (long) (int) channels.get(xb));
        rewritten.add(new Node(n.name(), ChannelBlockOps.SCALE_CHANNELS, OpRegistry.VFUSE_DOMAIN,
            List.of(blocked.get(xb), scale), List.of(yBlocked), new Attributes(attributes)));
        convertBack(graph, n, yBlocked, channels.get(xb), rewritten, blocked, channels, unblockedOutputs);
        log.fused(name(), "ran " + n.describe() + " (a per-channel scale) on channel blocks of " + block, n.name());
        continue;
      }
      String reason = conv == null ? null : refusal(graph, conv, xBlocked, candidates);
      if (conv == null || reason != null) {
        if (reason != null && xBlocked) {
          log.kept(name(), "kept " + n.describe() + " in NCHW: " + reason, n.name());
        }
        rewritten.add(n);
        continue;
      }
      String residual = n.input(3);
      if (!residual.isEmpty() && !blocked.containsKey(residual)) {
        log.kept(name(), "kept " + n.describe() + " in NCHW: its residual " + residual + " is not blocked", n.name());
        rewritten.add(n);
        continue;
      }
      String y = n.outputs().get(0);
      String yBlocked = graph.freshName(y + "/blocked");
      Map<String, Object> attributes = new HashMap<>(n.attributes().toMap());
      attributes.put(ChannelBlockOps.BLOCK, (long) block);
      attributes.put(ChannelBlockOps.BLOCKED_INPUT, xBlocked ? 1L : 0L);
      List<String> inputs = new ArrayList<>(List.of(xBlocked ? blocked.get(x) : x, n.input(1), n.input(2)));
      if (!residual.isEmpty()) {
        inputs.add(blocked.get(residual));
      }
      rewritten.add(new Node(n.name(), ChannelBlockOps.CONV, OpRegistry.VFUSE_DOMAIN, inputs, List.of(yBlocked),
          new Attributes(attributes)));
      convertBack(graph, n, yBlocked, conv.k(), rewritten, blocked, channels, unblockedOutputs);
      log.fused(name(), "ran " + n.describe() + " on channel blocks of " + block + (xBlocked ? "" : " from an NCHW input")
          + (conv.depthwise() ? " (depthwise)" : conv.pointwise() ? " (pointwise)" : ""), n.name());
    }
    graph.setNodes(withoutDeadConversions(graph, rewritten, unblockedOutputs));
  }

  /**
   * After the blocked node that replaces n and writes yBlocked ({@code c} channels): the conversion
   * back to n's plain output (dropped at the end when nothing reads it), and yBlocked recorded as
   * the blocked form of that output for the nodes after n.
   */
  private void convertBack(GraphEditor graph, Node n, String yBlocked, int c, List<Node> rewritten,
      Map<String, String> blocked, Map<String, Integer> channels, Set<String> unblockedOutputs) {
    String y = n.outputs().get(0);
    rewritten.add(new Node(graph.freshName(n.name() + "/unblock"), ChannelBlockOps.FROM, OpRegistry.VFUSE_DOMAIN,
        List.of(yBlocked), List.of(y), new Attributes(Map.of(ChannelBlockOps.BLOCK, (long) block,
            ChannelBlockOps.CHANNELS, (long) c))));
    blocked.put(y, yBlocked);
    channels.put(y, c);
    unblockedOutputs.add(y);
  }

  /**
   * For Mul(x, s) or Mul(s, x) with x blocked and s provably [N, C, 1, 1] (the same N as x, C its
   * channels, s not blocked): the name of s; otherwise null.
   */
  private static String perChannelScale(GraphEditor graph, SymbolicShapes shapes, Node n, Map<String, String> blocked,
      Map<String, Integer> channels) {
    if (!n.domain().isEmpty() || !n.opType().equals("Mul") || n.inputs().size() != 2 || n.outputs().size() != 1) {
      return null;
    }
    for (int i = 0; i < 2; i++) {
      String x = n.input(i), s = n.input(1 - i);
      if (!blocked.containsKey(x) || blocked.containsKey(s)) {
        continue;
      }
      List<SymbolicShapes.Dim> xs = shapes.of(graph, x);
      List<SymbolicShapes.Dim> ss = shapes.of(graph, s);
      if (xs == null || ss == null || xs.size() != 4 || ss.size() != 4 || xs.get(0) == null
          || !xs.get(0).equals(ss.get(0))) {
        continue;
      }
      SymbolicShapes.Dim one = SymbolicShapes.Dim.known(1);
      if (SymbolicShapes.Dim.known(channels.get(x)).equals(ss.get(1)) && one.equals(ss.get(2)) && one.equals(ss.get(3))) {
        return s;
      }
    }
    return null;
  }

  /** The rewritten nodes without the FromChannelBlocks whose plain output no node reads and is no graph output. */
  private static List<Node> withoutDeadConversions(GraphEditor graph, List<Node> nodes, Set<String> plainOutputs) {
    Set<String> read = new HashSet<>();
    for (Node n : nodes) {
      if (!n.opType().equals(ChannelBlockOps.FROM)) {
        read.addAll(n.inputs());
      }
    }
    List<Node> live = new ArrayList<>(nodes.size());
    for (Node n : nodes) {
      boolean dead = n.opType().equals(ChannelBlockOps.FROM) && plainOutputs.contains(n.outputs().get(0))
          && !read.contains(n.outputs().get(0)) && !graph.isGraphOutput(n.outputs().get(0));
      if (!dead) {
        live.add(n);
      }
    }
    return live;
  }

  /** Why this candidate stays plain, or null to convert it. */
  private String refusal(GraphEditor graph, Conv conv, boolean xBlocked, Map<String, Conv> candidates) {
    if (conv.activation() instanceof Activation.Sigmoid || conv.activation() instanceof Activation.Tanh) {
      return "its " + conv.activation().getClass().getSimpleName() + " has no vector form in the blocked kernels' epilogue";
    }
    if (conv.depthwise()) {
      return xBlocked ? null : "its input is not blocked (a conversion in front would cost what the layout saves)";
    }
    if (conv.pointwise()) {
      if (xBlocked) {
        return conv.k() <= conv.c() || readOnlyByBlockedOps(graph, conv.node(), candidates) ? null
            : "its output leaves the blocked layout with more channels (" + conv.k() + ") than its input has ("
                + conv.c() + "), so its input is converted instead";
      }
      return readAsInputBy(graph, conv.node(), candidates, true) ? null
          : "its input is NCHW and no depthwise conv reads its output";
    }
    if (conv.groups() == 1 && (conv.smallPlane() || conv.stridedPlane())) {
      return null;
    }
    if (conv.groups() == 1 && conv.c() <= STEM_CHANNELS && !xBlocked) {
      return readAsInputBy(graph, conv.node(), candidates, false) || readOnlyByMaxPools(graph, conv.node()) ? null
          : "neither a depthwise or pointwise conv nor only max pools read its output";
    }
    return "a " + (conv.groups() == 1 ? "one-group" : conv.groups() + "-group") + " conv with " + conv.c()
        + " input channels" + (conv.groups() == 1 ? " and more than " + SMALL_PLANE + " output positions ("
            + STRIDED_PLANE + " when strided)" : "") + " keeps its NCHW kernel";
  }

  /**
   * Whether every reader of n's output can take the blocked value (a conv candidate, a
   * GlobalAveragePool, a Mul) and it is no graph output: then no conversion follows n.
   */
  private static boolean readOnlyByBlockedOps(GraphEditor graph, Node n, Map<String, Conv> candidates) {
    String y = n.outputs().get(0);
    if (graph.isGraphOutput(y)) {
      return false;
    }
    for (Node reader : graph.consumers(y)) {
      boolean conv = !reader.outputs().isEmpty() && candidates.containsKey(reader.outputs().get(0));
      boolean pooledOrScaled = reader.domain().isEmpty()
          && (reader.opType().equals("GlobalAveragePool") || reader.opType().equals("Mul"));
      if (!conv && !pooledOrScaled) {
        return false;
      }
    }
    return true;
  }

  /**
   * Whether n is an ONNX MaxPool with a 2-D window, no Indices output and the default storage
   * order: one the blocked pool computes as the plain one would.
   */
  private static boolean isPlanarMaxPool(Node n) {
    int[] kernel = n.attributes().getInts("kernel_shape", null);
    return n.domain().isEmpty() && n.opType().equals("MaxPool") && n.outputs().size() == 1 && kernel != null
        && kernel.length == 2 && n.attributes().getInt("storage_order", 0) == 0;
  }

  /** Whether n's output is no graph output and every node that reads it is a {@link #isPlanarMaxPool}. */
  private static boolean readOnlyByMaxPools(GraphEditor graph, Node n) {
    String y = n.outputs().get(0);
    List<Node> readers = graph.consumers(y);
    return !graph.isGraphOutput(y) && !readers.isEmpty() && readers.stream().allMatch(ChannelBlockedLayout::isPlanarMaxPool);
  }

  /** Whether a conv candidate that reads n's output as its input X is depthwise, or any blocked-capable one. */
  private static boolean readAsInputBy(GraphEditor graph, Node n, Map<String, Conv> candidates, boolean depthwiseOnly) {
    for (Node reader : graph.consumers(n.outputs().get(0))) {
      Conv c = reader.outputs().isEmpty() ? null : candidates.get(reader.outputs().get(0));
      if (c != null && (c.depthwise() || !depthwiseOnly && c.pointwise()) && reader.input(0).equals(n.outputs().get(0))) {
        return true;
      }
    }
    return false;
  }

  /** The conv facts of n when it could run blocked at all, else null. */
  private static Conv candidate(GraphEditor graph, SymbolicShapes shapes, Node n) {
    boolean plainConv = n.domain().isEmpty() && n.opType().equals("Conv");
    boolean fusedConv = n.domain().equals(OpRegistry.VFUSE_DOMAIN) && n.opType().equals("Conv");
    if (!plainConv && !fusedConv || n.outputs().size() != 1 || !n.input(4).isEmpty()) {
      return null;
    }
    NdArray w = graph.constant(n.input(1));
    String biasName = n.input(2);
    if (w == null || w.type != ElementType.FLOAT32 || w.shape.length != 4
        || !biasName.isEmpty() && (graph.constant(biasName) == null || graph.constant(biasName).type != ElementType.FLOAT32)) {
      return null;
    }
    Attributes a = n.attributes();
    if (!a.getString("auto_pad", "NOTSET").equals("NOTSET")) {
      return null;
    }
    Activation f = ActivationAttributes.read(a);
    int groups = a.getInt("group", 1);
    int k = w.shape[0];
    int c = w.shape[1] * groups;
    int[] strides = a.getInts("strides", new int[] {1, 1});
    int[] pads = a.getInts("pads", new int[] {0, 0, 0, 0});
    boolean unit = w.shape[2] == 1 && w.shape[3] == 1 && strides[0] == 1 && strides[1] == 1
        && java.util.Arrays.stream(pads).allMatch(p -> p == 0);
    boolean depthwise = groups > 1 && groups == c && groups == k;
    List<SymbolicShapes.Dim> y = shapes.of(graph, n.outputs().get(0));
    long plane = y != null && y.size() == 4 && y.get(2) != null && y.get(3) != null && y.get(2).isKnown()
        && y.get(3).isKnown() ? y.get(2).a() * y.get(3).a() : Long.MAX_VALUE;
    boolean strided = strides[0] > 1 || strides[1] > 1;
    return new Conv(n, groups, c, k, unit && groups == 1, depthwise, f, plane <= SMALL_PLANE,
        strided && plane <= STRIDED_PLANE);
  }
}
