package dev.vfuse.fusion;

import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.Node;
import dev.vfuse.ops.ActivationAttributes;
import dev.vfuse.ops.OpRegistry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parallel branches that read one tensor x and are summed become one convolution: the
 * re-parameterisation of RepVGG, ACNet and the parallel part of DBB, done on the exported graph.
 *
 * <p>The pattern is a tree of Add nodes, in any association and order, whose leaves are branches
 * of the same x:
 *
 * <ul>
 *   <li>a Conv on x (after Conv → BN folding a conv-BN branch is one Conv with bias), R×S of any
 *       shape: k×k, 1×1, 1×k / k×1 (ACNet); plain, or the vfuse Conv without activation or residual
 *       (its {@code shift_taps}, if any, are summed like the weights, see below);
 *   <li>an identity: the Add reads x itself — a 1×1 conv with K[i, i mod (C/g), centre] = 1;
 *   <li>an identity-BN (BatchNormalization on x) or vfuse.ScaleShift on x: per channel s_c·x + t_c,
 *       the identity scaled by s_i, with bias t_i.
 * </ul>
 *
 * Every branch is embedded into the merged kernel Rm×Sm (Rm = max R, Sm = max S) with zeros around
 * it, centred: branch tap (r, s) becomes tap (r + (Rm − R)/2, s + (Sm − S)/2), which reads the same
 * input position exactly when the merged pads are
 *
 * <pre>
 *   top' = top + dH·(Rm − R)/2   left' = left + dW·(Sm − S)/2   bottom' = bottom + dH·(Rm − R)/2   right' = right + dW·(Sm − S)/2
 * </pre>
 *
 * for every branch alike (an identity has R = S = 1 and pads 0) — "centre-aligned padding"; it
 * needs Rm − R and Sm − S even. Then every branch and the merged conv have the same output size and
 * read the same inputs (zeros included), so
 *
 * <pre>
 *   W = Σ_branches embed(W_b)      B = Σ_branches b_b      T = Σ_branches embed(T_b)
 * </pre>
 *
 * in double, rounded to float once. T are the shift taps of vfuse convs: the per-position offsets
 * they produce only depend on which taps read inside x, which embedding preserves; the merged node
 * is the vfuse Conv with T when some branch has taps, else a plain Conv.
 *
 * <p>Applies when: all leaves of the tree are branches of one x and at least one is a conv; every
 * intermediate value (branch outputs, partial sums) is read only inside the pattern and is not a
 * graph output; the convs have constant weights (and bias and taps), 2-D, one output count K, one
 * group count, one stride; along an axis where two convs have a kernel extent above 1 they have
 * one dilation (extent-1 axes do not dilate); pads are known (not SAME with stride above 1) and
 * centre-aligned; an identity needs stride 1 and C == K (and a BN of C channels); the merged values
 * fit in float. The merged Conv is named after the largest-kernel branch and takes the final Add's
 * output.
 */
public final class BranchMerge implements FusionPass {

  @Override
  public String name() {
    return "branch-merge";
  }

  /** Adds are visited last to first, so a tree is seen from its root before its partial sums. */
  @Override
  public void run(GraphEditor g, FusionLog log) {
    Set<Node> seen = new HashSet<>();
    for (Node add : g.nodes().reversed()) {
      if (isAdd(add) && g.contains(add) && !seen.contains(add)) {
        visit(g, add, seen, log, true);
      }
    }
  }

  private static boolean isAdd(Node n) {
    return n.opType().equals("Add") && n.domain().isEmpty() && n.inputs().size() == 2 && n.outputs().size() == 1;
  }

  private static boolean isConv(Node n) {
    return n.opType().equals("Conv") && (n.domain().isEmpty() || n.domain().equals(OpRegistry.VFUSE_DOMAIN));
  }

  /** The Adds of a tree, root first, and its leaves left to right, a value summed twice listed twice. */
  private record Tree(List<Node> adds, List<String> leaves) {}

  /** The tree under {@code add}: an input produced by an Add that nothing else reads is a partial sum, any other a leaf. */
  private static Tree tree(GraphEditor g, Node root) {
    Tree t = new Tree(new ArrayList<>(), new ArrayList<>());
    collect(g, root, t);
    return t;
  }

  private static void collect(GraphEditor g, Node add, Tree t) {
    t.adds().add(add);
    for (String in : add.inputs()) {
      Node p = g.producer(in);
      if (p != null && isAdd(p) && g.soleConsumer(in) == add) {
        collect(g, p, t);
      } else {
        t.leaves().add(in);
      }
    }
  }

  /**
   * Merges the tree under {@code root} when all its leaves are branches of one x. Otherwise (only
   * some leaves are, or a branch cannot merge) the top tree is logged as kept and the partial sums
   * below it are tried in turn, quietly unless they merge: a sub-sum of branches is still exact.
   */
  private void visit(GraphEditor g, Node root, Set<Node> seen, FusionLog log, boolean top) {
    Tree t = tree(g, root);
    seen.addAll(t.adds());
    String x = sharedInput(g, t.leaves());
    if (x == null) {
      return;
    }
    String stranger = t.leaves().stream().filter(v -> !branchOf(g, v, x)).findFirst().orElse(null);
    String refusal;
    if (stranger == null) {
      refusal = merge(g, t, x, log);
    } else {
      Node p = g.producer(stranger);
      refusal = "it also adds " + stranger + (p == null ? "" : " (" + p.opType() + " " + p.name() + ")")
          + ", which is not a branch of " + x;
    }
    if (refusal == null) {
      return;
    }
    if (top) {
      log.kept(name(), "kept branches of Add " + root.name() + ": " + refusal, root.name());
    }
    for (String in : root.inputs()) {
      Node p = g.producer(in);
      if (p != null && t.adds().contains(p)) {
        visit(g, p, seen, log, false);
      }
    }
  }

  /** Whether leaf v is x itself or the output of a Conv, BN or ScaleShift reading x. */
  private static boolean branchOf(GraphEditor g, String v, String x) {
    if (v.equals(x)) {
      return true;
    }
    Node p = g.producer(v);
    return p != null && isBranchOp(p) && p.input(0).equals(x);
  }

  private static boolean isBranchOp(Node n) {
    return isConv(n) || (n.opType().equals("BatchNormalization") && n.domain().isEmpty())
        || (n.opType().equals("ScaleShift") && n.domain().equals(OpRegistry.VFUSE_DOMAIN));
  }

  /**
   * The tensor x of which the most leaves are branches, at least two with one conv among them; null
   * when there is none (a residual Add of conv(h) and x, a bias Add, …).
   */
  private static String sharedInput(GraphEditor g, List<String> leaves) {
    Map<String, int[]> counts = new LinkedHashMap<>();
    for (String v : leaves) {
      counts.computeIfAbsent(v, k -> new int[2])[0]++;
      Node p = g.producer(v);
      if (p != null && isBranchOp(p)) {
        int[] c = counts.computeIfAbsent(p.input(0), k -> new int[2]);
        c[0]++;
        c[1] += isConv(p) ? 1 : 0;
      }
    }
    String best = null;
    int bestCount = 1;
    for (var e : counts.entrySet()) {
      if (e.getValue()[1] > 0 && e.getValue()[0] > bestCount) {
        best = e.getKey();
        bestCount = e.getValue()[0];
      }
    }
    return best;
  }

  /** How a leaf reads: a branch, or why it is not one. */
  private sealed interface Leaf {}

  /** One summand of the pattern, with the window it embeds into the merged kernel. */
  private sealed interface Branch extends Leaf {
    /** "3×3 conv1", "identity", "identity-BN bn3", for the log. */
    String describe();

    /** "3×3 branch conv1", "the identity branch", for refusals. */
    String which();

    int r();

    int s();

    int[] pads();
  }

  /** A conv branch with its constants (bias and taps null when absent). */
  private record ConvBranch(Node conv, NdArray w, NdArray b, NdArray taps, ConvWindow win) implements Branch {
    @Override
    public String describe() {
      return win.kernel() + " " + conv.name();
    }

    @Override
    public String which() {
      return win.kernel() + " branch " + conv.name();
    }

    @Override
    public int r() {
      return win.r();
    }

    @Override
    public int s() {
      return win.s();
    }

    @Override
    public int[] pads() {
      return win.pads();
    }
  }

  /** x, or s·x + t per channel: a 1×1 unpadded branch; {@code node} null and scale, shift null for the plain identity. */
  private record Identity(Node node, double[] scale, double[] shift) implements Branch {
    @Override
    public String describe() {
      return node == null ? "identity" : "identity-" + (node.opType().equals("ScaleShift") ? "ScaleShift " : "BN ") + node.name();
    }

    @Override
    public String which() {
      return "the " + describe() + " branch";
    }

    @Override
    public int r() {
      return 1;
    }

    @Override
    public int s() {
      return 1;
    }

    @Override
    public int[] pads() {
      return new int[4];
    }
  }

  /** Why a leaf is no branch or the branches do not merge. */
  private record Refusal(String reason) implements Leaf, Checked {}

  /** The outcome of checking the branches against each other. */
  private sealed interface Checked {}

  /**
   * The merged conv's geometry: K outputs, C/g inputs per group, kernel Rm×Sm, dilations, the
   * stride shared by the convs and the centre-aligned pads; {@code ref} the largest-kernel conv.
   */
  private record Layout(ConvBranch ref, int k, int cPerGroup, int groups, int rm, int sm, int dh, int dw, int[] pads)
      implements Checked {}

  /** The merged constants in double, before the one rounding. */
  private record Sums(double[] w, double[] bias, double[] taps, boolean hasBias, boolean hasTaps) {}

  /** Reads leaf v of x as a branch, or returns why it cannot be one. */
  private static Leaf branch(GraphEditor g, String v, String x) {
    if (v.equals(x)) {
      return new Identity(null, null, null);
    }
    Node p = g.producer(v);
    if (isConv(p)) {
      return convBranch(g, p);
    }
    if (p.opType().equals("BatchNormalization")) {
      return switch (BatchNormParams.read(g, p)) {
        case BatchNormParams.Usable u -> new Identity(p, u.params().scale(), u.params().shift());
        case BatchNormParams.Refused r -> new Refusal("identity-BN " + p.name() + ": " + r.reason());
      };
    }
    NdArray scale = g.constant(p.input(1));
    NdArray shift = g.constant(p.input(2));
    if (scale == null || shift == null || scale.f == null || shift.f == null || scale.rank() != 1
        || shift.size() != scale.size()) {
      return new Refusal("ScaleShift " + p.name() + ": its scale and shift are not constant float vectors of one length");
    }
    double[] s = new double[scale.size()];
    double[] t = new double[scale.size()];
    for (int i = 0; i < s.length; i++) {
      s[i] = scale.f[i];
      t[i] = shift.f[i];
    }
    return new Identity(p, s, t);
  }

  private static Leaf convBranch(GraphEditor g, Node conv) {
    if (conv.attributes().has(ActivationAttributes.NAME) || !conv.input(3).isEmpty()) {
      return new Refusal("Conv " + conv.name() + " applies an activation or residual add (not a linear branch)");
    }
    NdArray w = g.constant(conv.input(1));
    NdArray b = g.constant(conv.input(2));
    NdArray taps = g.constant(conv.input(4));
    if (w == null || w.f == null || (!conv.input(2).isEmpty() && (b == null || b.f == null))
        || (!conv.input(4).isEmpty() && (taps == null || taps.f == null))) {
      return new Refusal("Conv " + conv.name() + ": its weight, bias or shift taps are not constants");
    }
    ConvWindow win = ConvWindow.of(conv, w);
    if (win == null) {
      return new Refusal("Conv " + conv.name() + " is not a 2-D convolution");
    }
    if (win.pads() == null) {
      return new Refusal("Conv " + conv.name() + ": " + win.unknownPads());
    }
    if (taps != null && !Arrays.equals(taps.shape, new int[] {w.shape[0], 1, win.r(), win.s()})) {
      return new Refusal("Conv " + conv.name() + ": its shift taps have shape " + Arrays.toString(taps.shape));
    }
    return new ConvBranch(conv, w, b, taps, win);
  }

  /** Merges the tree and logs, or returns why not (and changes nothing). */
  private String merge(GraphEditor g, Tree t, String x, FusionLog log) {
    List<Branch> branches = new ArrayList<>();
    for (String v : t.leaves()) {
      switch (branch(g, v, x)) {
        case Refusal r -> {
          return r.reason();
        }
        case Branch b -> branches.add(b);
      }
    }
    for (String v : new LinkedHashSet<>(t.leaves())) {
      if (!v.equals(x) && g.readers(v) != Collections.frequency(t.leaves(), v)) {
        return "the output of " + branches.get(t.leaves().indexOf(v)).describe()
            + " is also read outside the branches or is a graph output";
      }
    }
    Layout layout;
    switch (layout(branches)) {
      case Refusal r -> {
        return r.reason();
      }
      case Layout l -> layout = l;
    }
    Sums sums = sum(branches, layout);
    float[] w = FoldMath.round(sums.w());
    float[] bias = FoldMath.round(sums.bias());
    float[] taps = FoldMath.round(sums.taps());
    if (w == null || bias == null || taps == null) {
      return "the merged weights, bias or shift taps overflow float";
    }
    Layout l = layout;
    String name = l.ref().conv().name();
    List<String> inputs = new ArrayList<>(List.of(x,
        g.addConstant(name + ".weight_merged", NdArray.ofFloats(new int[] {l.k(), l.cPerGroup(), l.rm(), l.sm()}, w)),
        sums.hasBias() ? g.addConstant(name + ".bias_merged", NdArray.ofFloats(new int[] {l.k()}, bias)) : ""));
    if (sums.hasTaps()) {
      inputs.add("");
      inputs.add(g.addConstant(name + ".shift_taps_merged", NdArray.ofFloats(new int[] {l.k(), 1, l.rm(), l.sm()}, taps)));
    }
    Map<String, Object> attributes = new LinkedHashMap<>();
    attributes.put("kernel_shape", new long[] {l.rm(), l.sm()});
    attributes.put("strides", new long[] {l.ref().win().strideH(), l.ref().win().strideW()});
    attributes.put("pads", Arrays.stream(l.pads()).asLongStream().toArray());
    attributes.put("dilations", new long[] {l.dh(), l.dw()});
    attributes.put("group", (long) l.groups());
    Node root = t.adds().get(0);
    Node merged = new Node(name, "Conv", sums.hasTaps() ? OpRegistry.VFUSE_DOMAIN : "", inputs, root.outputs(),
        new Attributes(attributes));
    Set<Node> removed = new LinkedHashSet<>(t.adds());
    for (String v : t.leaves()) {
      if (!v.equals(x)) {
        removed.add(g.producer(v));
      }
    }
    g.replace(List.copyOf(removed), merged);
    StringBuilder kinds = new StringBuilder();
    branches.forEach(b -> kinds.append(kinds.isEmpty() ? "" : ", ").append(b.describe()));
    log.fused(name(), "merge " + branches.size() + " branches (" + kinds + ") of Add " + root.name() + " into Conv " + name,
        removed.stream().map(Node::name).toArray(String[]::new));
    return null;
  }

  /** Checks the branches against each other and returns the merged geometry, or why they do not merge. */
  private static Checked layout(List<Branch> branches) {
    List<ConvBranch> convs = branches.stream().filter(b -> b instanceof ConvBranch).map(b -> (ConvBranch) b).toList();
    ConvBranch ref = convs.get(0);
    for (ConvBranch c : convs) {
      if (c.r() * c.s() > ref.r() * ref.s()) {
        ref = c;
      }
    }
    ConvWindow rw = ref.win();
    int k = ref.w().shape[0];
    int groups = rw.groups();
    int c = ref.w().shape[1] * groups;
    int rm = 1;
    int sm = 1;
    int dh = 1;
    int dw = 1;
    for (ConvBranch b : convs) {
      ConvWindow w = b.win();
      if (b.w().shape[0] != k || b.w().shape[1] * w.groups() != c) {
        return new Refusal(b.which() + " maps " + b.w().shape[1] * w.groups() + " → " + b.w().shape[0] + " channels, "
            + ref.which() + " " + c + " → " + k);
      }
      if (w.groups() != groups) {
        return new Refusal(b.which() + " has group=" + w.groups() + ", " + ref.which() + " group=" + groups);
      }
      if (w.strideH() != rw.strideH() || w.strideW() != rw.strideW()) {
        return new Refusal(b.which() + " has stride " + w.strideH() + "×" + w.strideW() + ", " + ref.which() + " stride "
            + rw.strideH() + "×" + rw.strideW());
      }
      rm = Math.max(rm, w.r());
      sm = Math.max(sm, w.s());
      dh = w.r() > 1 ? w.dilationH() : dh;
      dw = w.s() > 1 ? w.dilationW() : dw;
    }
    for (ConvBranch b : convs) {
      if ((b.r() > 1 && b.win().dilationH() != dh) || (b.s() > 1 && b.win().dilationW() != dw)) {
        return new Refusal(b.which() + " has dilation " + b.win().dilationH() + "×" + b.win().dilationW()
            + ", another branch " + dh + "×" + dw);
      }
    }
    int[] pads = aligned(ref, rm, sm, dh, dw);
    for (Branch b : branches) {
      if ((rm - b.r()) % 2 != 0 || (sm - b.s()) % 2 != 0) {
        return new Refusal(b.which() + " cannot be centred in the " + rm + "×" + sm + " kernel");
      }
      if (!Arrays.equals(aligned(b, rm, sm, dh, dw), pads)) {
        return new Refusal(b.which() + " padding " + padText(b.pads()) + " is not centre-aligned with the " + ref.which()
            + " padding " + padText(ref.pads()));
      }
      if (b instanceof Identity id) {
        if (rw.strideH() != 1 || rw.strideW() != 1) {
          return new Refusal(id.which() + " needs stride 1, the convs have stride " + rw.strideH() + "×" + rw.strideW());
        }
        if (c != k) {
          return new Refusal(id.which() + " needs as many input as output channels, the convs map " + c + " → " + k);
        }
        if (id.scale() != null && id.scale().length != c) {
          return new Refusal(id.describe() + " has " + id.scale().length + " channels, x has " + c);
        }
      }
    }
    return new Layout(ref, k, c / groups, groups, rm, sm, dh, dw, pads);
  }

  /**
   * W, B and T summed over the branches in double: a conv's tap (r, s) lands on (r + (Rm − R)/2,
   * s + (Sm − S)/2); an identity puts s_i (or 1) on K[i, i mod (C/g), centre].
   */
  private static Sums sum(List<Branch> branches, Layout l) {
    int taps = l.rm() * l.sm();
    double[] w = new double[l.k() * l.cPerGroup() * taps];
    double[] bias = new double[l.k()];
    double[] shiftTaps = new double[l.k() * taps];
    boolean hasBias = false;
    boolean hasTaps = false;
    for (Branch b : branches) {
      switch (b) {
        case ConvBranch cb -> {
          int r = cb.r();
          int s = cb.s();
          int offset = (l.rm() - r) / 2 * l.sm() + (l.sm() - s) / 2;
          for (int kc = 0; kc < l.k() * l.cPerGroup(); kc++) {
            embed(cb.w().f, kc, r, s, w, offset, l.sm(), taps);
          }
          if (cb.b() != null) {
            hasBias = true;
            for (int ki = 0; ki < l.k(); ki++) {
              bias[ki] += cb.b().f[ki];
            }
          }
          if (cb.taps() != null) {
            hasTaps = true;
            for (int ki = 0; ki < l.k(); ki++) {
              embed(cb.taps().f, ki, r, s, shiftTaps, offset, l.sm(), taps);
            }
          }
        }
        case Identity id -> {
          int centre = (l.rm() - 1) / 2 * l.sm() + (l.sm() - 1) / 2;
          for (int i = 0; i < l.k(); i++) {
            w[(i * l.cPerGroup() + i % l.cPerGroup()) * taps + centre] += id.scale() == null ? 1.0 : id.scale()[i];
            bias[i] += id.shift() == null ? 0.0 : id.shift()[i];
          }
          hasBias |= id.shift() != null;
        }
      }
    }
    return new Sums(w, bias, shiftTaps, hasBias, hasTaps);
  }

  /** Adds the R×S block {@code block} of {@code src} into block {@code block} of the Rm×Sm {@code dst} at {@code offset}. */
  private static void embed(float[] src, int block, int r, int s, double[] dst, int offset, int sm, int taps) {
    for (int ri = 0; ri < r; ri++) {
      for (int si = 0; si < s; si++) {
        dst[block * taps + offset + ri * sm + si] += src[(block * r + ri) * s + si];
      }
    }
  }

  /** The merged pads that embed branch b (R×S with its pads) centred into Rm×Sm. */
  private static int[] aligned(Branch b, int rm, int sm, int dh, int dw) {
    int dr = dh * ((rm - b.r()) / 2);
    int ds = dw * ((sm - b.s()) / 2);
    int[] p = b.pads();
    return new int[] {p[0] + dr, p[1] + ds, p[2] + dr, p[3] + ds};
  }

  private static String padText(int[] p) {
    return p[0] == p[1] && p[1] == p[2] && p[2] == p[3] ? String.valueOf(p[0]) : Arrays.toString(p);
  }
}
