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
 *       the identity scaled by s_i, with bias t_i;
 *   <li>an AveragePool R×S on x (DBB's average branch), optionally followed by a BN or ScaleShift
 *       (s_i, t_i; s = 1, t = 0 without): the depthwise conv W[i, i mod (C/g), r, s] = s_i/(R·S)
 *       with bias t_i, for the group count g of the convs;
 *   <li>a 1×1 Conv (W1, b1, group g1) → AveragePool R×S, optionally → BN or ScaleShift (DBB's 1×1 →
 *       average branch): the conv with group g1, W[k, c, r, s] = s_k·W1[k, c]/(R·S) and bias t_k,
 *       plus b1 exactly: an unpadded pool averages b1 over R·S taps, bias s_k·b1[k] + t_k; a padded
 *       one (count_include_pad = 1) averages b1 only over the taps inside x, the shift taps
 *       T[k, 0, r, s] = s_k·b1[k]/(R·S) (a 1×1 conv's own shift taps are a bias: every tap reads inside).
 * </ul>
 *
 * A pool is that conv exactly when every window divides by R·S: 2-D, ceil_mode = 0, dilations 1, and
 * either no padding or count_include_pad = 1 (then every window lies inside the padded input); the
 * pool's stride and pads are the branch's. A constant-0 Pad of the two spatial axes right before the
 * pool (how torch exports count_include_pad = True) is the same: its pads add to the pool's, its
 * zeros count in the divisor.
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
 * centre-aligned; an identity needs stride 1 and C == K (and a BN of C channels); a pool on x needs
 * C == K, a pool on a 1×1 conv a 1×1 with stride 1, no padding and no activation or residual; every
 * link of a pool branch (1×1 output, pool output) is read only by the next; a pool's R×S fits inside
 * the kernel extents of the conv branches, so that the merged conv costs no more than the largest conv
 * branch alone (a pool wider than every conv would widen the merged kernel: more work than the
 * branches); the merged values fit in float. The merged Conv is named after the largest-kernel conv
 * branch and takes the final Add's output.
 *
 * <p>The merged conv carries the statistics of the sum ({@link BranchSumStatistics}: the mean
 * exact, the spread assuming uncorrelated branches, with the fully correlated bound) when every
 * branch has its own, else the reason it has none ({@link OutputStatistics#whyMissing}).
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

  /** Whether leaf v is x itself or the output of a branch reading x. */
  private static boolean branchOf(GraphEditor g, String v, String x) {
    Path p = path(g, v);
    return v.equals(x) || (p != null && p.x().equals(x));
  }

  private static boolean isAffine(Node n) {
    return (n.opType().equals("BatchNormalization") && n.domain().isEmpty())
        || (n.opType().equals("ScaleShift") && n.domain().equals(OpRegistry.VFUSE_DOMAIN));
  }

  private static boolean isAvgPool(Node n) {
    return n.opType().equals("AveragePool") && n.domain().isEmpty() && n.outputs().size() == 1;
  }

  /**
   * How a branch leaf reaches the tensor x it reads, its nodes from the Add down (null when absent):
   * a Conv; an affine node (BN, ScaleShift) as identity; or an AveragePool, after an optional affine
   * node, on an optional Pad and then an optional Conv, each link read only by the next (else the
   * link is x).
   */
  private record Path(Node affine, Node pool, Node pad, Node conv, String x) {
    /** A plain conv branch, the kind a merge needs at least one of. */
    boolean plainConv() {
      return conv != null && pool == null;
    }
  }

  /** The path of leaf v, or null when v is not the output of a branch. */
  private static Path path(GraphEditor g, String v) {
    Node p = g.producer(v);
    if (p == null) {
      return null;
    }
    if (isConv(p)) {
      return new Path(null, null, null, p, p.input(0));
    }
    Node affine = null;
    if (isAffine(p)) {
      Node q = g.producer(p.input(0));
      if (q == null || !isAvgPool(q) || g.soleConsumer(p.input(0)) != p) {
        return new Path(p, null, null, null, p.input(0));
      }
      affine = p;
      p = q;
    }
    if (!isAvgPool(p)) {
      return null;
    }
    Node reader = p;
    String in = p.input(0);
    Node pad = g.producer(in);
    if (pad != null && pad.opType().equals("Pad") && pad.domain().isEmpty() && g.soleConsumer(in) == p) {
      reader = pad;
      in = pad.input(0);
    } else {
      pad = null;
    }
    Node conv = g.producer(in);
    if (conv != null && isConv(conv) && g.soleConsumer(in) == reader) {
      return new Path(affine, p, pad, conv, conv.input(0));
    }
    return new Path(affine, p, pad, null, in);
  }

  /**
   * The tensor x of which the most leaves are branches, at least two with one conv among them; null
   * when there is none (a residual Add of conv(h) and x, a bias Add, …).
   */
  private static String sharedInput(GraphEditor g, List<String> leaves) {
    Map<String, int[]> counts = new LinkedHashMap<>();
    for (String v : leaves) {
      counts.computeIfAbsent(v, k -> new int[2])[0]++;
      Path p = path(g, v);
      if (p != null) {
        int[] c = counts.computeIfAbsent(p.x(), k -> new int[2]);
        c[0]++;
        c[1] += p.plainConv() ? 1 : 0;
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

    /** The nodes the merged conv replaces, from the Add down. */
    List<Node> nodes();
  }

  /**
   * A conv branch: a Conv, or a 1×1 Conv → AveragePool [→ affine] ({@code pool} set) read as the
   * conv it is; weight [K, C/g, R, S], bias [K] and shift taps [K, 1, R, S] in double (bias and taps
   * null when absent), its window and the nodes it replaces.
   */
  private record ConvBranch(Node conv, Node pool, String label, int k, int cPerGroup, double[] w, double[] b, double[] taps,
      ConvWindow win, List<Node> nodes) implements Branch {
    @Override
    public String describe() {
      return label;
    }

    @Override
    public String which() {
      return win.kernel() + (pool == null ? " branch " + conv.name() : " AveragePool branch " + pool.name());
    }

    /** Input channels C. */
    int c() {
      return cPerGroup * win.groups();
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

    @Override
    public List<Node> nodes() {
      return node == null ? List.of() : List.of(node);
    }
  }

  /**
   * An AveragePool on x (through a zero Pad when {@code pad} is set), then s·y + t per channel when
   * {@code affine} is set ({@code scale}, {@code shift} null without): a depthwise R×S branch with the
   * pool's window, the Pad's pads included.
   */
  private record PoolBranch(Node pool, Node pad, Node affine, double[] scale, double[] shift, ConvWindow win, List<Node> nodes)
      implements Branch {
    @Override
    public String describe() {
      return (pad == null ? "" : "Pad " + pad.name() + " → ") + win.kernel() + " AveragePool " + pool.name()
          + (affine == null ? "" : " → " + affineLabel(affine));
    }

    @Override
    public String which() {
      return win.kernel() + " AveragePool branch " + pool.name();
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

  /** A per-channel affine node read as s·x + t. */
  private record Affine(Node node, double[] scale, double[] shift) implements AffineReading {}

  private sealed interface AffineReading {}

  private static String affineLabel(Node n) {
    return (n.opType().equals("ScaleShift") ? "ScaleShift " : "BN ") + n.name();
  }

  /** Why a leaf is no branch or the branches do not merge. */
  private record Refusal(String reason) implements Leaf, Checked, AffineReading {}

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
    Path p = path(g, v);
    if (p.plainConv()) {
      return convBranch(g, p.conv());
    }
    if (p.pool() != null) {
      return poolBranch(g, p);
    }
    return switch (affine(g, p.affine(), "identity-")) {
      case Affine a -> new Identity(a.node(), a.scale(), a.shift());
      case Refusal r -> r;
    };
  }

  /** The BN's or ScaleShift's s and t, or why they are not usable; {@code prefix} starts the refusal ("identity-"). */
  private static AffineReading affine(GraphEditor g, Node p, String prefix) {
    if (p.opType().equals("BatchNormalization")) {
      return switch (BatchNormParams.read(g, p)) {
        case BatchNormParams.Usable u -> new Affine(p, u.params().scale(), u.params().shift());
        case BatchNormParams.Refused r -> new Refusal(prefix + "BN " + p.name() + ": " + r.reason());
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
    return new Affine(p, s, t);
  }

  /**
   * An AveragePool branch: on x, or on a 1×1 conv read as one R×S conv (see the class comment),
   * or why not. Its divisor must be R·S everywhere.
   */
  private static Leaf poolBranch(GraphEditor g, Path p) {
    Node pool = p.pool();
    ConvWindow win = ConvWindow.ofPool(pool);
    if (win == null) {
      return new Refusal("AveragePool " + pool.name() + " is not a 2-D pool");
    }
    if (win.pads() == null) {
      return new Refusal("AveragePool " + pool.name() + ": " + win.unknownPads());
    }
    if (pool.attributes().getInt("ceil_mode", 0) != 0) {
      return new Refusal("AveragePool " + pool.name() + " has ceil_mode=1: a window past the pads divides by fewer than "
          + win.r() * win.s());
    }
    if (win.dilationH() != 1 || win.dilationW() != 1) {
      return new Refusal("AveragePool " + pool.name() + " has dilations " + win.dilationH() + "×" + win.dilationW());
    }
    if (pool.attributes().getInt("count_include_pad", 0) == 0 && !win.unpadded()) {
      return new Refusal("AveragePool " + pool.name() + " has pads " + padText(win.pads())
          + " with count_include_pad=0: a border window divides by fewer than " + win.r() * win.s());
    }
    if (p.pad() != null) {
      int[] extra = zeroPad(g, p.pad());
      if (extra == null) {
        return new Refusal("Pad " + p.pad().name() + " before AveragePool " + pool.name()
            + " is not a constant-0 padding of the two spatial axes");
      }
      int[] pads = win.pads().clone();
      for (int i = 0; i < 4; i++) {
        pads[i] += extra[i];
      }
      win = new ConvWindow(win.r(), win.s(), win.strideH(), win.strideW(), 1, 1, 1, pads, win.autoPad());
    }
    Affine affine = null;
    if (p.affine() != null) {
      switch (affine(g, p.affine(), "")) {
        case Affine a -> affine = a;
        case Refusal r -> {
          return r;
        }
      }
    }
    List<Node> nodes = new ArrayList<>();
    for (Node n : new Node[] {p.affine(), pool, p.pad(), p.conv()}) {
      if (n != null) {
        nodes.add(n);
      }
    }
    if (p.conv() == null) {
      return affine == null ? new PoolBranch(pool, p.pad(), null, null, null, win, nodes)
          : new PoolBranch(pool, p.pad(), affine.node(), affine.scale(), affine.shift(), win, nodes);
    }
    return pooledConv(g, p, affine, win, nodes);
  }

  /**
   * The [top, left, bottom, right] pads of a Pad node that pads a 4-D tensor's two spatial axes with
   * zeros (mode constant, value 0, pads known and non-negative); null for any other Pad.
   */
  private static int[] zeroPad(GraphEditor g, Node pad) {
    long[] pads;
    double value;
    if (g.opset() < 11) {
      pads = pad.attributes().getLongs("pads");
      value = pad.attributes().getFloat("value", 0f);
    } else {
      NdArray pa = g.constant(pad.input(1));
      NdArray va = g.constant(pad.input(2));
      if (pa == null || pa.l == null || (!pad.input(2).isEmpty() && (va == null || va.f == null || va.size() != 1))
          || !pad.input(3).isEmpty()) {
        return null;
      }
      pads = pa.l;
      value = va == null ? 0.0 : va.f[0];
    }
    if (!pad.attributes().getString("mode", "constant").equals("constant") || value != 0 || pads == null || pads.length != 8
        || pads[0] != 0 || pads[1] != 0 || pads[4] != 0 || pads[5] != 0) {
      return null;
    }
    int[] out = new int[4];
    int[] spatial = {2, 3, 6, 7};
    for (int i = 0; i < 4; i++) {
      long v = pads[spatial[i]];
      if (v < 0 || v > Integer.MAX_VALUE) {
        return null;
      }
      out[i] = (int) v;
    }
    return out;
  }

  /** 1×1 conv → AveragePool [→ affine] as one conv with the pool's window, or why not. */
  private static Leaf pooledConv(GraphEditor g, Path p, Affine affine, ConvWindow pw, List<Node> nodes) {
    Node conv = p.conv();
    Node pool = p.pool();
    Leaf read = convBranch(g, conv);
    if (read instanceof Refusal r) {
      return r;
    }
    ConvBranch cb = (ConvBranch) read;
    ConvWindow cw = cb.win();
    if (cw.r() != 1 || cw.s() != 1 || cw.strideH() != 1 || cw.strideW() != 1 || !cw.unpadded()) {
      return new Refusal("the " + cw.kernel() + " Conv " + conv.name() + " before AveragePool " + pool.name()
          + " is not a 1×1 conv with stride 1 and no padding");
    }
    int k = cb.k();
    if (affine != null && affine.scale().length != k) {
      return new Refusal(affineLabel(affine.node()) + " has " + affine.scale().length + " channels, Conv " + conv.name()
          + " gives " + k);
    }
    int area = pw.r() * pw.s();
    double[] w = new double[cb.w().length * area];
    for (int kc = 0; kc < cb.w().length; kc++) {
      double v = cb.w()[kc] * (affine == null ? 1.0 : affine.scale()[kc / cb.cPerGroup()]) / area;
      Arrays.fill(w, kc * area, (kc + 1) * area, v);
    }
    boolean hasB1 = cb.b() != null || cb.taps() != null;
    double[] bias = hasB1 || affine != null ? new double[k] : null;
    double[] taps = hasB1 && !pw.unpadded() ? new double[k * area] : null;
    for (int ki = 0; ki < k; ki++) {
      double s = affine == null ? 1.0 : affine.scale()[ki];
      double t = affine == null ? 0.0 : affine.shift()[ki];
      double b1 = (cb.b() == null ? 0.0 : cb.b()[ki]) + (cb.taps() == null ? 0.0 : cb.taps()[ki]);
      if (taps != null) {
        Arrays.fill(taps, ki * area, (ki + 1) * area, s * b1 / area);
        bias[ki] = t;
      } else if (bias != null) {
        bias[ki] = s * b1 + t;
      }
    }
    ConvWindow win = new ConvWindow(pw.r(), pw.s(), pw.strideH(), pw.strideW(), 1, 1, cw.groups(), pw.pads(), pw.autoPad());
    String label = "1×1 " + conv.name() + " → " + (p.pad() == null ? "" : "Pad " + p.pad().name() + " → ") + pw.kernel()
        + " AveragePool " + pool.name()
        + (affine == null ? "" : " → " + affineLabel(affine.node()));
    return new ConvBranch(conv, pool, label, k, cb.cPerGroup(), w, bias, taps, win, nodes);
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
    return new ConvBranch(conv, null, win.kernel() + " " + conv.name(), w.shape[0], w.shape[1], doubles(w), doubles(b),
        doubles(taps), win, List.of(conv));
  }

  private static double[] doubles(NdArray a) {
    if (a == null) {
      return null;
    }
    double[] d = new double[a.f.length];
    for (int i = 0; i < d.length; i++) {
      d[i] = a.f[i];
    }
    return d;
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
    float[] w = g.fold().round(sums.w());
    float[] bias = g.fold().round(sums.bias());
    float[] taps = g.fold().round(sums.taps());
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
    Attributes withStatistics = switch (statistics(g, branches, l.k())) {
      case BranchSumStatistics.Sum sum -> OutputStatistics.recordSum(new Attributes(attributes), sum);
      case String missing -> OutputStatistics.recordMissing(new Attributes(attributes), missing);
      default -> throw new IllegalStateException();
    };
    Node merged = new Node(name, "Conv", sums.hasTaps() ? OpRegistry.VFUSE_DOMAIN : "", inputs, root.outputs(),
        withStatistics);
    Set<Node> removed = new LinkedHashSet<>(t.adds());
    branches.forEach(b -> removed.addAll(b.nodes()));
    g.replace(List.copyOf(removed), merged);
    StringBuilder kinds = new StringBuilder();
    branches.forEach(b -> kinds.append(kinds.isEmpty() ? "" : ", ").append(b.describe()));
    log.fused(name(), "merge " + branches.size() + " branches (" + kinds + ") of Add " + root.name() + " into Conv " + name,
        removed.stream().map(Node::name).toArray(String[]::new));
    return null;
  }

  /**
   * The statistics of the merged sum ({@link BranchSumStatistics}), or why there are none (a
   * String): every branch needs its own, a conv's from the BN folded into it, an identity-BN's or
   * pool-BN's from that BN (β, |γ|); a plain identity, pool or ScaleShift branch has none.
   */
  private static Object statistics(GraphEditor g, List<Branch> branches, int k) {
    List<BranchSumStatistics.Branch> known = new ArrayList<>();
    for (Branch b : branches) {
      Node bn = switch (b) {
        case ConvBranch cb -> cb.pool() == null ? null : affineAfterPool(cb);
        case Identity id -> id.node();
        case PoolBranch pb -> pb.affine();
      };
      if (b instanceof ConvBranch cb && cb.pool() == null) {
        float[] mean = OutputStatistics.mean(cb.conv());
        float[] std = OutputStatistics.std(cb.conv());
        if (mean == null || mean.length != k) {
          return "the " + b.which() + " has no statistics (no BatchNorm was folded into it)";
        }
        known.add(new BranchSumStatistics.Branch(doubles(mean), doubles(std)));
        continue;
      }
      if (bn == null || !bn.opType().equals("BatchNormalization")) {
        return "the " + b.which() + " ends in no BatchNorm, so its statistics are unknown";
      }
      NdArray gamma = g.constant(bn.input(1));
      NdArray beta = g.constant(bn.input(2));
      if (gamma.size() != k) {
        return "BN " + bn.name() + " has " + gamma.size() + " channels, the merged conv " + k;
      }
      double[] std = new double[k];
      for (int i = 0; i < k; i++) {
        std[i] = Math.abs((double) gamma.f[i]);
      }
      known.add(new BranchSumStatistics.Branch(doubles(beta.f), std));
    }
    return BranchSumStatistics.of(known, k);
  }

  /** The BN after a 1×1 conv → AveragePool branch's pool, or null. */
  private static Node affineAfterPool(ConvBranch cb) {
    for (Node n : cb.nodes()) {
      if (isAffine(n)) {
        return n;
      }
    }
    return null;
  }

  private static double[] doubles(float[] a) {
    double[] d = new double[a.length];
    for (int i = 0; i < d.length; i++) {
      d[i] = a[i];
    }
    return d;
  }

  /** Checks the branches against each other and returns the merged geometry, or why they do not merge. */
  private static Checked layout(List<Branch> branches) {
    List<ConvBranch> convs = branches.stream().filter(b -> b instanceof ConvBranch).map(b -> (ConvBranch) b).toList();
    List<ConvBranch> plain = convs.stream().filter(b -> b.pool() == null).toList();
    ConvBranch ref = plain.get(0);
    int plainR = 1;
    int plainS = 1;
    for (ConvBranch c : plain) {
      if (c.r() * c.s() > ref.r() * ref.s()) {
        ref = c;
      }
      plainR = Math.max(plainR, c.r());
      plainS = Math.max(plainS, c.s());
    }
    ConvWindow rw = ref.win();
    int k = ref.k();
    int groups = rw.groups();
    int c = ref.c();
    int rm = 1;
    int sm = 1;
    int dh = 1;
    int dw = 1;
    for (ConvBranch b : convs) {
      ConvWindow w = b.win();
      if (b.k() != k || b.c() != c) {
        return new Refusal(b.which() + " maps " + b.c() + " → " + b.k() + " channels, " + ref.which() + " " + c + " → " + k);
      }
      if (w.groups() != groups) {
        return new Refusal(b.which() + " has group=" + w.groups() + ", " + ref.which() + " group=" + groups);
      }
      rm = Math.max(rm, w.r());
      sm = Math.max(sm, w.s());
      dh = w.r() > 1 ? w.dilationH() : dh;
      dw = w.s() > 1 ? w.dilationW() : dw;
    }
    for (Branch b : branches) {
      if (b instanceof Identity) {
        continue;
      }
      ConvWindow w = b instanceof ConvBranch cb ? cb.win() : ((PoolBranch) b).win();
      if (w.strideH() != rw.strideH() || w.strideW() != rw.strideW()) {
        return new Refusal(b.which() + " has stride " + w.strideH() + "×" + w.strideW() + ", " + ref.which() + " stride "
            + rw.strideH() + "×" + rw.strideW());
      }
      if ((b.r() > 1 && w.dilationH() != dh) || (b.s() > 1 && w.dilationW() != dw)) {
        return new Refusal(b.which() + " has dilation " + w.dilationH() + "×" + w.dilationW() + ", another branch " + dh + "×" + dw);
      }
      if (!(b instanceof ConvBranch cb && cb.pool() == null) && (b.r() > plainR || b.s() > plainS)) {
        return new Refusal(b.which() + " is wider than the conv kernels (" + plainR + "×" + plainS
            + "): the merged conv would cost more than the branches");
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
      if (b instanceof Identity && (rw.strideH() != 1 || rw.strideW() != 1)) {
        return new Refusal(b.which() + " needs stride 1, the convs have stride " + rw.strideH() + "×" + rw.strideW());
      }
      double[] scale = switch (b) {
        case Identity id -> id.scale();
        case PoolBranch pb -> pb.scale();
        case ConvBranch cb -> null;
      };
      if (!(b instanceof ConvBranch) && c != k) {
        return new Refusal(b.which() + " needs as many input as output channels, the convs map " + c + " → " + k);
      }
      if (scale != null && scale.length != c) {
        return new Refusal(b.describe() + " has " + scale.length + " channels, x has " + c);
      }
    }
    return new Layout(ref, k, c / groups, groups, rm, sm, dh, dw, pads);
  }

  /**
   * W, B and T summed over the branches in double: a conv's tap (r, s) lands on (r + (Rm − R)/2,
   * s + (Sm − S)/2); an identity puts s_i (or 1) on K[i, i mod (C/g), centre], a pool s_i/(R·S) (or
   * 1/(R·S)) on its R×S taps of K[i, i mod (C/g)], embedded like a conv's.
   */
  private static Sums sum(List<Branch> branches, Layout l) {
    int taps = l.rm() * l.sm();
    double[] w = new double[l.k() * l.cPerGroup() * taps];
    double[] bias = new double[l.k()];
    double[] shiftTaps = new double[l.k() * taps];
    boolean hasBias = false;
    boolean hasTaps = false;
    for (Branch b : branches) {
      int r = b.r();
      int s = b.s();
      int offset = (l.rm() - r) / 2 * l.sm() + (l.sm() - s) / 2;
      switch (b) {
        case ConvBranch cb -> {
          for (int kc = 0; kc < l.k() * l.cPerGroup(); kc++) {
            embed(cb.w(), kc, r, s, w, offset, l.sm(), taps);
          }
          if (cb.b() != null) {
            hasBias = true;
            for (int ki = 0; ki < l.k(); ki++) {
              bias[ki] += cb.b()[ki];
            }
          }
          if (cb.taps() != null) {
            hasTaps = true;
            for (int ki = 0; ki < l.k(); ki++) {
              embed(cb.taps(), ki, r, s, shiftTaps, offset, l.sm(), taps);
            }
          }
        }
        case Identity id -> hasBias |= diagonal(w, bias, l, offset, 1, 1, id.scale(), id.shift());
        case PoolBranch pb -> hasBias |= diagonal(w, bias, l, offset, r, s, pb.scale(), pb.shift());
      }
    }
    return new Sums(w, bias, shiftTaps, hasBias, hasTaps);
  }

  /**
   * Adds s_i/(R·S) (1/(R·S) when scale is null) on the R×S taps at {@code offset} of K[i, i mod (C/g)]
   * and t_i to the bias; returns whether there was a shift.
   */
  private static boolean diagonal(double[] w, double[] bias, Layout l, int offset, int r, int s, double[] scale, double[] shift) {
    int taps = l.rm() * l.sm();
    for (int i = 0; i < l.k(); i++) {
      double v = (scale == null ? 1.0 : scale[i]) / (r * s);
      int block = i * l.cPerGroup() + i % l.cPerGroup();
      for (int ri = 0; ri < r; ri++) {
        for (int si = 0; si < s; si++) {
          w[block * taps + offset + ri * l.sm() + si] += v;
        }
      }
      bias[i] += shift == null ? 0.0 : shift[i];
    }
    return shift != null;
  }

  /** Adds the R×S block {@code block} of {@code src} into block {@code block} of the Rm×Sm {@code dst} at {@code offset}. */
  private static void embed(double[] src, int block, int r, int s, double[] dst, int offset, int sm, int taps) {
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
