package dev.vfuse.ops;

import dev.vfuse.ElementType;
import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.ShapeException;
import dev.vfuse.ir.Shapes;
import dev.vfuse.kernel.Activation;
import dev.vfuse.kernel.ChannelBlocks;
import dev.vfuse.kernel.ConvGeometry;
import dev.vfuse.kernel.BandedConv;
import dev.vfuse.kernel.ConvChain;
import dev.vfuse.kernel.Kernels;
import dev.vfuse.kernel.PoolGeometry;
import dev.vfuse.kernel.PreparedConv;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The operators of the channel-blocked layout ({@link ChannelBlocks}), created only by the layout
 * pass ({@code dev.vfuse.fusion.ChannelBlockedLayout}), in domain {@code vfuse}. A blocked tensor
 * travels as a 5-D value [N, ⌈C/B⌉, H, W, B].
 *
 * <ul>
 *   <li>{@code ToChannelBlocks} (attribute {@code channel_block}): [N, C, H, W] → blocked.
 *   <li>{@code FromChannelBlocks} ({@code channel_block}, {@code channels} = C): blocked → [N, C, H, W].
 *   <li>{@code ConvBlocked}: inputs X, W, optional B and residual; the Conv attributes, the fused
 *       activation ({@link ActivationAttributes}), {@code channel_block} and {@code blocked_input}
 *       (1 when X is blocked). y = activation(conv(X, W) + B + residual), blocked; see
 *       {@link Kernels#prepareBlockedConv}.
 *   <li>{@code GlobalAveragePoolBlocked} ({@code channel_block}, {@code channels}): blocked →
 *       [N, C, 1, 1], as GlobalAveragePool on the plain tensor.
 *   <li>{@code MaxPoolBlocked} ({@code channel_block}, {@code channels}, and MaxPool's 2-D
 *       attributes): blocked → blocked, as MaxPool on the plain tensor.
 *   <li>{@code ScaleChannelsBlocked} ({@code channel_block}, {@code channels}): blocked x times a
 *       plain [N, C, 1, 1] scale → blocked, as Mul (squeeze-excitation's last step).
 *   <li>{@code ConvBlockedChain} ({@code channel_block}, {@code stages} = S, and each stage's
 *       ConvBlocked attributes under {@link #stageAttribute}): inputs X, then W, B, residual of each
 *       stage ("" where absent); outputs the last stage's y, then stages 1 … S − 1's. Stage s
 *       reads the previous stage's output; made by {@code dev.vfuse.fusion.BlockedConvChains}.
 * </ul>
 */
public final class ChannelBlockOps {
  public static final String TO = "ToChannelBlocks";
  public static final String FROM = "FromChannelBlocks";
  public static final String CONV = "ConvBlocked";
  public static final String GLOBAL_AVERAGE_POOL = "GlobalAveragePoolBlocked";
  public static final String MAX_POOL = "MaxPoolBlocked";
  public static final String SCALE_CHANNELS = "ScaleChannelsBlocked";
  public static final String BLOCK = "channel_block";
  public static final String CHANNELS = "channels";
  public static final String BLOCKED_INPUT = "blocked_input";
  public static final String CONV_CHAIN = "ConvBlockedChain";
  /** ConvBlockedChain: its number of stages; each stage's own attributes are {@link #stageAttribute}. */
  public static final String STAGES = "stages";

  private ChannelBlockOps() {}

  static Op create(String opType, Attributes a) {
    int block = a.getInt(BLOCK, 0);
    if (block < 1) {
      throw new ShapeException(opType + " needs a positive " + BLOCK + ", got " + block);
    }
    return switch (opType) {
      case TO -> in -> {
        Inputs.count(in, 1, 1);
        int[] x = Window.nchw(in[0], 2, "input");
        int plane = x[2] * x[3];
        return Bound.single(ElementType.FLOAT32, ChannelBlocks.shape(x[0], x[1], x[2], x[3], block),
            (i, o, k, ws) -> k.toChannelBlocks(x[0], x[1], plane, block, i[0].f, o[0].f));
      };
      case FROM -> in -> {
        Inputs.count(in, 1, 1);
        int channels = a.getInt(CHANNELS, 0);
        int[] s = blockedShape(in[0], channels, block, "input");
        int plane = s[2] * s[3];
        long bytes = 8L * s[0] * channels * plane;
        return Bound.single(ElementType.FLOAT32, new int[] {s[0], channels, s[2], s[3]},
            (i, o, k, ws) -> k.fromChannelBlocks(s[0], channels, plane, block, i[0].f, o[0].f,
                PreparedConvs.threadsForBytes(bytes, ws)));
      };
      case CONV -> new Conv(a, block);
      case CONV_CHAIN -> new Chain(a, block);
      case GLOBAL_AVERAGE_POOL -> in -> {
        Inputs.count(in, 1, 1);
        int channels = a.getInt(CHANNELS, 0);
        int[] s = blockedShape(in[0], channels, block, "input");
        int plane = s[2] * s[3];
        return Bound.single(ElementType.FLOAT32, new int[] {s[0], channels, 1, 1},
            (i, o, k, ws) -> k.globalAvgPoolBlocked(s[0], channels, plane, block, i[0].f, o[0].f));
      };
      case MAX_POOL -> in -> {
        Inputs.count(in, 1, 1);
        int channels = a.getInt(CHANNELS, 0);
        int[] s = blockedShape(in[0], channels, block, "input X");
        PoolGeometry g = PoolOp.geometry(a, new int[] {s[0], channels, s[2], s[3]});
        long bytes = (long) Float.BYTES * s[0] * s[1] * block * ((long) g.h() * g.w() + (long) g.p() * g.q());
        return Bound.single(ElementType.FLOAT32, ChannelBlocks.shape(g.n(), channels, g.p(), g.q(), block),
            (i, o, k, ws) -> k.maxPool2dBlocked(g, block, i[0].f, o[0].f, PreparedConvs.threadsForBytes(bytes, ws)));
      };
      case SCALE_CHANNELS -> in -> {
        Inputs.count(in, 2, 2);
        int channels = a.getInt(CHANNELS, 0);
        int[] s = blockedShape(in[0], channels, block, "input X");
        in[1].requireFloat("scale");
        if (!java.util.Arrays.equals(in[1].shape(), new int[] {s[0], channels, 1, 1})) {
          throw new ShapeException("scale must have shape [" + s[0] + ", " + channels + ", 1, 1], got "
              + Shapes.str(in[1].shape()));
        }
        int plane = s[2] * s[3];
        return Bound.single(ElementType.FLOAT32, s,
            (i, o, k, ws) -> k.scaleChannelsBlocked(s[0], channels, plane, block, i[0].f, i[1].f, o[0].f));
      };
      default -> throw new IllegalArgumentException("not a channel-block operator: " + opType);
    };
  }

  /** The [N, ⌈C/B⌉, H, W, B] shape of a blocked value of {@code channels} channels, checked. */
  private static int[] blockedShape(Value v, int channels, int block, String what) {
    v.requireFloat(what);
    int[] s = v.shape();
    if (s.length != 5 || s[4] != block || channels < 1 || s[1] != ChannelBlocks.blocks(channels, block)) {
      throw new ShapeException(what + " must be blocked [N, ⌈" + channels + "/" + block + "⌉, H, W, " + block + "], got "
          + Shapes.str(s));
    }
    return s;
  }

  /** ConvBlocked: the Conv attributes read by {@link ConvOp}, on the plain shape the blocked input stands for. */
  private static final class Conv implements Op {
    private final ConvOp conv;
    private final Activation activation;
    private final int block;
    private final boolean blockedInput;

    Conv(Attributes a, int block) {
      this.conv = new ConvOp(a);
      this.activation = ActivationAttributes.read(a);
      this.block = block;
      this.blockedInput = a.getInt(BLOCKED_INPUT, 0) != 0;
    }

    @Override
    public Bound bind(Value[] in) {
      return bind(in, null);
    }

    @Override
    public Bound bind(Value[] in, Kernels kernels) {
      Prepared p = prepare(in, kernels);
      boolean hasResidual = in.length > 3 && in[3] != null;
      PreparedConv prepared = p.conv();
      int[] consumed = in.length > 2 && in[2] != null ? new int[] {1, 2} : new int[] {1};
      return Bound.withScratch(p.outShape(), prepared.scratchPerWorker(), (i, o, k, ws) -> prepared.run(i[0].f,
          hasResidual ? i[3].f : null, o[0].f, ws.scratch(), PreparedConvs.threadsFor(p.flops(), p.bytes(), ws)))
          .withPreparedInputs(consumed).withKernel(prepared);
    }

    /** Checks the inputs [X, W, B?, residual?] and prepares the backend's kernel for them. */
    Prepared prepare(Value[] in, Kernels kernels) {
      Inputs.count(in, 2, 4);
      Value x = in[0];
      Value w = in[1];
      if (w.rank() != 4 || !w.isKnown() || w.type() != ElementType.FLOAT32) {
        throw new ShapeException("ConvBlocked needs a constant float 2-D weight, got " + Shapes.str(w.shape()));
      }
      Value plainX = x;
      if (blockedInput) {
        int channels = w.dim(1) * conv.groups();
        int[] s = blockedShape(x, channels, block, "input X");
        plainX = Value.of(ElementType.FLOAT32, new int[] {s[0], channels, s[2], s[3]});
      }
      Value[] plain = in.clone();
      plain[0] = plainX;
      ConvGeometry g = conv.geometry(java.util.Arrays.copyOf(plain, Math.min(3, plain.length)));
      int[] outShape = ChannelBlocks.shape(g.n(), g.k(), g.p(), g.q(), block);
      Value residual = Inputs.optional(in, 3);
      if (residual != null) {
        residual.requireFloat("residual");
        if (!java.util.Arrays.equals(residual.shape(), outShape)) {
          throw new ShapeException("residual has shape " + Shapes.str(residual.shape()) + ", the output " + Shapes.str(outShape));
        }
      }
      Value b = Inputs.optional(in, 2);
      if (b != null && !b.isKnown()) {
        throw new ShapeException("ConvBlocked needs a constant bias");
      }
      Kernels backend = kernels != null ? kernels : new dev.vfuse.reference.ReferenceKernels();
      PreparedConv prepared = backend.prepareBlockedConv(g, blockedInput, block, w.constant().f,
          b == null ? null : b.constant().f, activation);
      return new Prepared(prepared, outShape, g.flops(), PreparedConvs.convBytes(in[0], w, outShape));
    }
  }

  /** A blocked conv prepared for its input shape: the kernel, the blocked output shape, its work. */
  record Prepared(PreparedConv conv, int[] outShape, long flops, long bytes) {}

  /**
   * ConvBlockedChain: stage s reads X (s = 0) or stage s − 1's output, with its inputs W, B, R at
   * 1 + 3s …; outputs y (the last stage's), then each earlier stage's. Run band by band when every
   * stage's kernel computes bands and {@link ConvChain#pays} says so, else stage after stage.
   */
  private static final class Chain implements Op {
    private final Conv[] stages;
    private final int block;

    Chain(Attributes a, int block) {
      int count = a.getInt(STAGES, 0);
      if (count < 2) {
        throw new ShapeException("ConvBlockedChain needs at least 2 stages, got " + count);
      }
      this.block = block;
      this.stages = new Conv[count];
      for (int s = 0; s < count; s++) {
        String prefix = stageAttribute(s, "");
        Map<String, Object> own = new HashMap<>();
        for (Map.Entry<String, Object> e : a.toMap().entrySet()) {
          if (e.getKey().startsWith(prefix)) {
            own.put(e.getKey().substring(prefix.length()), e.getValue());
          }
        }
        stages[s] = new Conv(new Attributes(own), block);
      }
    }

    @Override
    public Bound bind(Value[] in) {
      return bind(in, null);
    }

    @Override
    public Bound bind(Value[] in, Kernels kernels) {
      int count = stages.length;
      if (in.length != 1 + 3 * count || in[0] == null) {
        throw new ShapeException("ConvBlockedChain of " + count + " stages expects " + (1 + 3 * count) + " inputs, found "
            + in.length);
      }
      Prepared[] prepared = new Prepared[count];
      Value x = in[0];
      long flops = 0, bytes = 0;
      int scratch = 0;
      List<Integer> consumed = new ArrayList<>();
      boolean[] hasResidual = new boolean[count];
      for (int s = 0; s < count; s++) {
        Value[] own = {x, in[1 + 3 * s], in[2 + 3 * s], in[3 + 3 * s]};
        prepared[s] = stages[s].prepare(own, kernels);
        flops += prepared[s].flops();
        bytes += prepared[s].bytes();
        scratch = Math.max(scratch, prepared[s].conv().scratchPerWorker());
        consumed.add(1 + 3 * s);
        if (own[2] != null) {
          consumed.add(2 + 3 * s);
        }
        hasResidual[s] = own[3] != null;
        x = Value.of(ElementType.FLOAT32, prepared[s].outShape());
      }
      ConvChain chain = banded(prepared);
      long work = flops, streamed = bytes;
      ElementType[] types = new ElementType[count];
      int[][] shapes = new int[count][];
      Arrays.fill(types, ElementType.FLOAT32);
      shapes[0] = prepared[count - 1].outShape();
      for (int s = 0; s < count - 1; s++) {
        shapes[s + 1] = prepared[s].outShape();
      }
      Bound.Compute compute = (i, o, k, ws) -> {
        float[][] residuals = new float[count][];
        for (int s = 0; s < count; s++) {
          residuals[s] = hasResidual[s] ? i[3 + 3 * s].f : null;
        }
        if (chain != null) {
          float[][] intermediates = new float[count - 1][];
          for (int s = 0; s < count - 1; s++) {
            intermediates[s] = o[s + 1].f;
          }
          chain.run(i[0].f, residuals, intermediates, o[0].f, ws.scratch(), PreparedConvs.threadsFor(work, streamed, ws));
          return;
        }
        float[] from = i[0].f;
        for (int s = 0; s < count; s++) {
          float[] to = s == count - 1 ? o[0].f : o[s + 1].f;
          prepared[s].conv().run(from, residuals[s], to, ws.scratch(),
              PreparedConvs.threadsFor(prepared[s].flops(), prepared[s].bytes(), ws));
          from = to;
        }
      };
      int perWorker = chain == null ? scratch : Math.max(scratch, chain.scratchPerWorker());
      return new Bound(types, shapes, compute, null, perWorker, consumed.stream().mapToInt(Integer::intValue).toArray(),
          kernelNames(prepared, chain != null));
    }

    /** The band-by-band schedule, or null when a stage cannot run bands or the bands do not pay. */
    private ConvChain banded(Prepared[] prepared) {
      List<BandedConv> banded = new ArrayList<>();
      for (Prepared p : prepared) {
        if (!(p.conv() instanceof BandedConv b)) {
          return null;
        }
        banded.add(b);
      }
      ConvChain chain = new ConvChain(banded, block);
      return chain.pays() ? chain : null;
    }

    private static String kernelNames(Prepared[] prepared, boolean banded) {
      StringBuilder names = new StringBuilder(banded ? "ConvChain(" : "sequence(");
      for (int s = 0; s < prepared.length; s++) {
        names.append(s == 0 ? "" : "+").append(prepared[s].conv().getClass().getSimpleName());
      }
      return names.append(')').toString();
    }
  }

  /** The attribute of stage s of a ConvBlockedChain that stands for the stage's own attribute {@code name}. */
  public static String stageAttribute(int stage, String name) {
    return "stage" + stage + "." + name;
  }
}
