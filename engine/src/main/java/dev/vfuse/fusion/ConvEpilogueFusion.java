package dev.vfuse.fusion;

import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.Node;
import dev.vfuse.kernel.Activation;
import dev.vfuse.ops.ActivationAttributes;
import dev.vfuse.ops.OpRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What follows a Conv or ConvTranspose (plain or vfuse) moves into its epilogue: a residual Add,
 * then an activation, giving a vfuse-domain node with the same attributes and inputs plus
 *
 * <pre>
 *   input 3 residual r           Add(conv(x), r) or Add(r, conv(x))
 *   activation / activation_params   f in Relu, LeakyRelu, Clip (Relu6 = Clip(0, 6)), Sigmoid,
 *                                    HardSigmoid, HardSwish, Tanh, and HardSwish spelled
 *                                    x·HardSigmoid(x) or x·Clip(x + 3, 0, 6)/6 ({@link ActivationPatterns})
 *   y = f(conv(x) + bias + offsets + r)        (the order of {@code ConvEpilogue})
 * </pre>
 *
 * The epilogue does in one pass the same float operations as the nodes it replaces, so the result
 * is bit-identical, except for the PaddlePaddle HardSwish spelling, whose x·clip(x+3, 0, 6)/6
 * rounds differently from HardSwish's x·clamp(x/6 + 1/2, 0, 1): a few ulp of max(|x|, 1).
 *
 * <p>Conditions, checked for each candidate and logged as fused or kept with the reason:
 * <ul>
 *   <li>every value inside the pattern (the conv output, the Add output before an activation, the
 *       parts of a spelled-out HardSwish) is read only inside it and is not a graph output;
 *   <li>an activation only into a conv without one; a residual only into a conv with neither a
 *       residual nor an activation (the residual is added before the activation);
 *   <li>the residual r is a graph input, a constant, or produced before the conv, so the fused node
 *       reads only what existed where the conv stood; when both operands are convs the later one
 *       takes the Add (the earlier one's output is then computed first);
 *   <li>r has the conv output's shape for every input the model accepts, proved by
 *       {@link SymbolicShapes}: an Add that broadcasts either operand is not a residual.
 * </ul>
 * Nothing else is fused across. Run last: the convs must not change after their epilogue is set
 * (the BatchNorm folds refuse a conv that carries an activation or residual).
 */
public final class ConvEpilogueFusion implements FusionPass {

  @Override
  public String name() {
    return "conv-epilogue";
  }

  @Override
  public void run(GraphEditor g, FusionLog log) {
    SymbolicShapes shapes = SymbolicShapes.infer(g);
    for (Node n : g.nodes()) {
      Node conv = n;
      while (conv != null && isConv(conv) && g.contains(conv)) {
        conv = extend(g, conv, shapes, log);
      }
    }
  }

  static boolean isConv(Node n) {
    return (n.opType().equals("Conv") || n.opType().equals("ConvTranspose"))
        && (n.domain().isEmpty() || n.domain().equals(OpRegistry.VFUSE_DOMAIN));
  }

  /** A residual Add found on the conv output x: Add(x, other) or Add(other, x). */
  private record Residual(Node add, String other) {}

  /** Fuses the one epilogue step that follows the conv and returns the fused node, or null when nothing more is fused. */
  private Node extend(GraphEditor g, Node conv, SymbolicShapes shapes, FusionLog log) {
    String x = conv.outputs().get(0);
    List<Node> order = g.nodes();
    List<ActivationPatterns.Match> activations = ActivationPatterns.on(g, x);
    List<Residual> residuals = new ArrayList<>();
    List<Node> others = new ArrayList<>();
    for (Node r : g.consumers(x)) {
      if (activations.stream().anyMatch(m -> m.nodes().contains(r))) {
        continue;
      }
      String other = r.domain().isEmpty() && r.opType().equals("Add") && r.inputs().size() == 2
          ? ActivationPatterns.operandOtherThan(r, x) : "";
      Node otherProducer = other.isEmpty() ? null : g.producer(other);
      if (other.isEmpty() || (otherProducer != null && isConv(otherProducer) && order.indexOf(otherProducer) > order.indexOf(conv))) {
        others.add(r); // not an Add of x with another value, or the later conv operand takes it
      } else {
        residuals.add(new Residual(r, other));
      }
    }
    int candidates = activations.size() + residuals.size();
    if (candidates == 0) {
      return null;
    }
    if (candidates > 1 || !others.isEmpty() || g.isGraphOutput(x)) {
      for (ActivationPatterns.Match m : activations) {
        log.kept(name(), kept(m.label(), conv) + shared(g, x, m.nodes()), names(conv, m.nodes()));
      }
      for (Residual r : residuals) {
        log.kept(name(), kept("Add " + r.add().name(), conv) + shared(g, x, List.of(r.add())), conv.name(), r.add().name());
      }
      return null;
    }
    if (!activations.isEmpty()) {
      return fuseActivation(g, conv, activations.get(0), log);
    }
    return fuseResidual(g, conv, residuals.get(0), shapes, order, log);
  }

  private Node fuseActivation(GraphEditor g, Node conv, ActivationPatterns.Match m, FusionLog log) {
    String refusal = activationRefusal(g, conv, m);
    if (refusal != null) {
      log.kept(name(), kept(m.label(), conv) + refusal, names(conv, m.nodes()));
      return null;
    }
    List<Node> removed = new ArrayList<>(List.of(conv));
    removed.addAll(m.nodes());
    Node fused = rebuilt(conv, conv.inputs(), m.output(), m.activation());
    g.replace(removed, fused);
    log.fused(name(), "fuse " + m.label() + " into " + conv.opType() + " " + conv.name(), names(conv, m.nodes()));
    return fused;
  }

  private static String activationRefusal(GraphEditor g, Node conv, ActivationPatterns.Match m) {
    if (conv.attributes().has(ActivationAttributes.NAME)) {
      return "the " + conv.opType() + " already applies " + conv.attributes().getString(ActivationAttributes.NAME, "");
    }
    if (m.refusal() != null) {
      return m.refusal();
    }
    if (!readOnlyBy(g, conv.outputs().get(0), m.nodes())) {
      return "it reads " + conv.outputs().get(0) + " more than once";
    }
    for (String v : m.inner()) {
      if (!readOnlyBy(g, v, m.nodes())) {
        return "its intermediate " + v + (g.isGraphOutput(v) ? " is a graph output" : " is also read outside the pattern");
      }
    }
    return null;
  }

  private Node fuseResidual(GraphEditor g, Node conv, Residual r, SymbolicShapes shapes, List<Node> order, FusionLog log) {
    String x = conv.outputs().get(0);
    String refusal = null;
    Node producer = g.producer(r.other());
    if (!conv.input(3).isEmpty()) {
      refusal = "the " + conv.opType() + " already adds residual " + conv.input(3);
    } else if (conv.attributes().has(ActivationAttributes.NAME)) {
      refusal = "the " + conv.opType() + " already applies " + conv.attributes().getString(ActivationAttributes.NAME, "")
          + ", and a residual must be added before the activation";
    } else if (!readOnlyBy(g, x, List.of(r.add()))) {
      refusal = "it reads " + x + " twice";
    } else if (producer != null && order.indexOf(producer) > order.indexOf(conv)) {
      refusal = "the other operand " + r.other() + " is computed after the " + conv.opType();
    } else if (!shapes.provablySame(g, x, r.other())) {
      refusal = "the operand shapes " + SymbolicShapes.str(shapes.of(g, x)) + " and " + SymbolicShapes.str(shapes.of(g, r.other()))
          + " are not provably equal (an Add that may broadcast is not a residual)";
    }
    if (refusal != null) {
      log.kept(name(), kept("Add " + r.add().name(), conv) + refusal, conv.name(), r.add().name());
      return null;
    }
    List<String> inputs = new ArrayList<>(conv.inputs());
    while (inputs.size() < 4) {
      inputs.add("");
    }
    inputs.set(3, r.other());
    Node fused = rebuilt(conv, inputs, r.add().outputs().get(0), null);
    g.replace(List.of(conv, r.add()), fused);
    log.fused(name(), "fuse residual Add " + r.add().name() + " (+ " + r.other() + ") into " + conv.opType() + " " + conv.name(),
        conv.name(), r.add().name());
    return fused;
  }

  /** The conv as a vfuse node with other inputs, output and (when not null) an activation. */
  private static Node rebuilt(Node conv, List<String> inputs, String output, Activation f) {
    Map<String, Object> attributes = conv.attributes().toMap();
    if (f != null) {
      ActivationAttributes.put(f, attributes);
    }
    return new Node(conv.name(), conv.opType(), OpRegistry.VFUSE_DOMAIN, inputs, List.of(output), new Attributes(attributes));
  }

  /** Whether every read of v (and no graph output) is by one of {@code nodes}. */
  private static boolean readOnlyBy(GraphEditor g, String v, List<Node> nodes) {
    long inside = nodes.stream().flatMap(n -> n.inputs().stream()).filter(v::equals).count();
    return g.readers(v) == inside;
  }

  private static String kept(String what, Node conv) {
    return "kept " + what + " after " + conv.opType() + " " + conv.name() + ": ";
  }

  /** Why a candidate on x cannot be fused: the readers of x other than its own nodes. */
  private static String shared(GraphEditor g, String x, List<Node> own) {
    List<String> elsewhere = g.consumers(x).stream().filter(n -> !own.contains(n)).map(n -> n.opType() + " " + n.name()).toList();
    String out = g.isGraphOutput(x) ? "its output " + x + " is a graph output" : "";
    if (!elsewhere.isEmpty()) {
      out += (out.isEmpty() ? "its output " + x + " is" : " and is") + " also read by " + String.join(", ", elsewhere);
    }
    return out;
  }

  private static String[] names(Node conv, List<Node> nodes) {
    List<String> all = new ArrayList<>(List.of(conv.name()));
    nodes.forEach(n -> all.add(n.name()));
    return all.toArray(String[]::new);
  }
}
