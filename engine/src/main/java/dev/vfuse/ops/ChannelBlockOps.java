package dev.vfuse.ops;

import dev.vfuse.ElementType;
import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.ShapeException;
import dev.vfuse.ir.Shapes;
import dev.vfuse.kernel.Activation;
import dev.vfuse.kernel.ChannelBlocks;
import dev.vfuse.kernel.ConvGeometry;
import dev.vfuse.kernel.Kernels;
import dev.vfuse.kernel.PreparedConv;

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
 *   <li>{@code ScaleChannelsBlocked} ({@code channel_block}, {@code channels}): blocked x times a
 *       plain [N, C, 1, 1] scale → blocked, as Mul (squeeze-excitation's last step).
 * </ul>
 */
public final class ChannelBlockOps {
  public static final String TO = "ToChannelBlocks";
  public static final String FROM = "FromChannelBlocks";
  public static final String CONV = "ConvBlocked";
  public static final String GLOBAL_AVERAGE_POOL = "GlobalAveragePoolBlocked";
  public static final String SCALE_CHANNELS = "ScaleChannelsBlocked";
  public static final String BLOCK = "channel_block";
  public static final String CHANNELS = "channels";
  public static final String BLOCKED_INPUT = "blocked_input";

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
      case GLOBAL_AVERAGE_POOL -> in -> {
        Inputs.count(in, 1, 1);
        int channels = a.getInt(CHANNELS, 0);
        int[] s = blockedShape(in[0], channels, block, "input");
        int plane = s[2] * s[3];
        return Bound.single(ElementType.FLOAT32, new int[] {s[0], channels, 1, 1},
            (i, o, k, ws) -> k.globalAvgPoolBlocked(s[0], channels, plane, block, i[0].f, o[0].f));
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
      boolean hasResidual = residual != null;
      long flops = g.flops();
      long bytes = PreparedConvs.convBytes(in[0], w, outShape);
      int[] consumed = b == null ? new int[] {1} : new int[] {1, 2};
      return Bound.withScratch(outShape, prepared.scratchPerWorker(), (i, o, k, ws) -> prepared.run(i[0].f,
          hasResidual ? i[3].f : null, o[0].f, ws.scratch(), PreparedConvs.threadsFor(flops, bytes, ws)))
          .withPreparedInputs(consumed).withKernel(prepared);
    }
  }
}
