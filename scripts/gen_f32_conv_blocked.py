#!/usr/bin/env python3
"""Writes simd/src/main/java/dev/vfuse/simd/F32ConvBlocked.java (one-group convolutions) and
F32DwConvBlocked.java (depthwise), the kernels of the channel-blocked layout (ChannelBlocks), with
their micro-kernels once per width (512, 256, 128 bits) from the templates below. Edit this
script, not the Java files, and rerun it:

    python3 scripts/gen_f32_conv_blocked.py            # writes the files
    python3 scripts/gen_f32_conv_blocked.py --check    # exit 1 with a diff if a file differs
"""
from genlib import SIMD, emit, expand

WIDTHS = "512, 256, 128"
NV = 3  # output-channel blocks (vectors) of a tile
WIDE_ROWS = {3: 8, 2: 12, 1: 16}  # positions of a wide tile of 3, 2, 1 blocks: 24, 24, 16 accumulators
MR = WIDE_ROWS[NV]
ROW7 = 7  # positions of the tile for rows 7, 14, 28, 56 or 112 wide: 21, 14, 7 accumulators
DW_Q = 4  # output positions of a depthwise interior step
DW_TILE = 8  # output positions of a 3x3 or 5x5 depthwise interior tile
PADDED_TILES = (8, 7)  # tile widths of the padded small-plane path: 7 divides every mobile-network plane
# Output planes at most this wide run from a padded copy, at stride 1 and 2. Measured alone (CPU
# time): 5×5 on 7² 43 → 12 µs, 3×3 on 14² 32 → 22, 3×3 on 56² 137 → 119; at stride 2 the copy of
# the four-times larger input costs more than the border saves beyond 14 (112² → 56²: 120 → 196).
SMALL_Q = 56
SMALL_Q_S2 = 14


def dw_tile(k, stride, t):
    """A k×k depthwise tile of t outputs at this stride: each input column loaded once per kernel
    row and used by every output whose taps reach it, each output's taps in (r, s) order."""
    out = ["  /** %d outputs of a %d×%d stride-%d row from input column col0 on (rows w wide), every tap inside the input. */\n"
           % (t, k, k, stride),
           "  private void dw%dx%ds%dx%d_$W(float[] x, int xPlane, int w, float[] y, int o, int block, int wBase, int h0,\n"
           % (k, k, stride, t),
           "      int rFirst, int rEnd, int col0, float[] residual) {\n",
           "    final VectorSpecies<Float> sp = S$W;\n",
           "    final int lanes = sp.length();\n",
           "    final int dh = g.dilationH();\n",
           "    final float[] wt = packed;\n"]
    for i in range(t):
        out.append("    FloatVector acc%d = FloatVector.zero(sp);\n" % i)
    out.append("    for (int r = rFirst; r < rEnd; r++) {\n")
    out.append("      int xr = xPlane + ((h0 + r * dh) * w + col0) * lanes;\n")
    out.append("      int wr = wBase + r * %d * lanes;\n" % k)
    for tap in range(k):
        out.append("      FloatVector w%d = FloatVector.fromArray(sp, wt, wr%s);\n"
                   % (tap, "" if tap == 0 else (" + lanes" if tap == 1 else " + %d * lanes" % tap)))
    out.append("      FloatVector xv;\n")
    columns = (t - 1) * stride + k
    for j in range(columns):
        out.append("      xv = FloatVector.fromArray(sp, x, xr%s);\n" % ("" if j == 0 else " + %d * lanes" % j))
        for tap in range(k):
            i, rem = divmod(j - tap, stride)
            if rem == 0 and 0 <= i < t:
                out.append("      acc%d = xv.fma(w%d, acc%d);\n" % (i, tap, i))
    out.append("    }\n")
    out.append(register_epilogue(t, "o", "lanes"))
    for i in range(t):
        out.append("    acc%d.intoArray(y, o%s);\n" % (i, "" if i == 0 else " + %d * lanes" % i))
    out.append("  }\n")
    return "".join(out)


def register_epilogue(count, base, stride, indent="    "):
    """The epilogue on accumulators acc0…acc{count−1} in registers, the same operations in the same
    order as F32ConvBlocked.epilogue (so the same bits): + bias vector bv, + residual at base + i·stride,
    then the activation, each kind one branch over all accumulators."""
    accs = ["acc%d" % i for i in range(count)]
    at = lambda i: base if i == 0 else "%s + %d * %s" % (base, i, stride)
    out = [indent + "final FloatVector bv = bias == null ? FloatVector.zero(sp) : FloatVector.fromArray(sp, bias, block * lanes);\n"]
    out += [indent + "%s = %s.add(bv);\n" % (a, a) for a in accs]
    out.append(indent + "if (residual != null) {\n")
    out += [indent + "  %s = %s.add(FloatVector.fromArray(sp, residual, %s));\n" % (a, a, at(i)) for i, a in enumerate(accs)]
    out.append(indent + "}\n")
    kinds = [
        ("RELU", ["final FloatVector zero = FloatVector.zero(sp);"], "%(a)s = zero.blend(%(a)s, %(a)s.compare(GT, 0f));"),
        ("LEAKY_RELU", [], "%(a)s = %(a)s.mul(actA).blend(%(a)s, %(a)s.compare(GE, 0f));"),
        ("CLIP", ["final FloatVector lo = FloatVector.broadcast(sp, actA), hi = FloatVector.broadcast(sp, actB);"],
         "%(a)s = %(a)s.blend(hi, %(a)s.compare(GT, actB)).blend(lo, %(a)s.compare(LT, actA));"),
        ("HARD_SIGMOID", ["final FloatVector zero = FloatVector.zero(sp), one = FloatVector.broadcast(sp, 1f);"],
         "t = %(a)s.mul(actA).add(actB); %(a)s = t.blend(one, t.compare(GT, 1f)).blend(zero, t.compare(LT, 0f));"),
        ("HARD_SWISH", ["final FloatVector zero = FloatVector.zero(sp), one = FloatVector.broadcast(sp, 1f);"],
         "t = %(a)s.mul(1f / 6f).add(0.5f); %(a)s = %(a)s.mul(t.blend(one, t.compare(GT, 1f)).blend(zero, t.compare(LT, 0f)));"),
    ]
    for n, (kind, setup, stmt) in enumerate(kinds):
        out.append(indent + ("if" if n == 0 else "} else if") + " (act == F32Epilogue.%s) {\n" % kind)
        out += [indent + "  " + line + "\n" for line in setup]
        if "t = " in stmt:
            out.append(indent + "  FloatVector t;\n")
        for a in accs:
            for piece in (stmt % {"a": a}).split("; "):
                out.append(indent + "  " + piece.rstrip(";") + ";\n")
    out.append(indent + "}\n")
    return "".join(out)


def dw_tile_dispatch():
    """The interior loop over DW_TILE-wide tiles for the kernels and strides that have one."""
    lines = ["    if (tileEnd > tileStart) {\n",
             "      for (; q < tileEnd; q += %d) {\n" % DW_TILE,
             "        int col0 = q * sw - pl;\n",
             "        int o = yo + q * lanes;\n"]
    first = True
    for k in (3, 5):
        for stride in (1, 2):
            cond = "s == %d && sw == %d" % (k, stride)
            lines.append("        %s (%s) {\n" % ("if" if first else "} else if", cond))
            lines.append("          dw%dx%ds%dx%d_$W(x, xPlane, w, y, o, block, wBase, h0, rFirst, rEnd, col0, residual);\n" % (k, k, stride, DW_TILE))
            first = False
    lines.append("        }\n")
    lines.append("      }\n")
    lines.append("    }\n")
    return "".join(lines)


def dw_padded_dispatch():
    """Output rows from the zero-padded copy of their input rows: rows of tiles PADDED_TILES wide."""
    lines = ["  /**\n",
             "   * Output rows [p0, p1) of one block, in tiles of paddedTile, from its zero-padded input rows (paddedW wide)\n",
             "   * at xp[xOff …], the first of them padded row p0·strideH.\n",
             "   */\n",
             "  private void paddedRows$W(float[] xp, int xOff, float[] y, int yPlane, int block, float[] residual, int p0,\n",
             "      int p1) {\n",
             "    final int lanes = S$W.length();\n",
             "    final int s = g.s(), sw = g.strideW(), wBase = block * g.r() * s * lanes;\n",
             "    for (int p = p0; p < p1; p++) {\n",
             "      int h0 = (p - p0) * g.strideH();\n",
             "      for (int q = 0; q < g.q(); q += paddedTile) {\n",
             "        int o = yPlane + (p * g.q() + q) * lanes;\n"]
    first = True
    for t in PADDED_TILES:
        for k in (3, 5):
            for stride in (1, 2):
                cond = "paddedTile == %d && s == %d && sw == %d" % (t, k, stride)
                lines.append("        %s (%s) {\n" % ("if" if first else "} else if", cond))
                lines.append("          dw%dx%ds%dx%d_$W(xp, xOff, paddedW, y, o, block, wBase, h0, 0, g.r(), q * sw, residual);\n"
                             % (k, k, stride, t))
                first = False
    lines.append("        } else {\n")
    lines.append("          throw new IllegalStateException(\"no \" + paddedTile + \"-wide tile for \" + g);\n")
    lines.append("        }\n")
    lines.append("      }\n")
    lines.append("    }\n")
    lines.append("  }\n")
    return "".join(lines)


# Position strides a wide tile is specialized for: suffix → the stride's expression. With a
# constant stride C2 merges the range checks of the rows' broadcasts into one; with the field
# positionStride ("" copy: any stride) it checks each of them (16 a tap for 16 × 1, measured 23%
# of a 32 → 16 pointwise layer at 112²).
POSITION_STRIDES = {"": "positionStride", "b": "lanes", "s1": "1", "s2": "2"}


def tile_method(rows, vectors, stride=""):
    """The $for template of one GEMM micro-kernel: rows positions × vectors channel blocks, the
    positions POSITION_STRIDES[stride] apart in the input."""
    lines = []
    name = "tile$W_%dx%d%s" % (rows, vectors, stride)
    lines.append("  /** %d positions × %d output blocks: acc[i][v] += x(origin + tap + i·%s) · W[kb0 + v, tap]. */\n"
                 % (rows, vectors, {"": "stride", "b": "L", "s1": "1", "s2": "2"}[stride]))
    lines.append("  private void %s(float[] x, int xo, float[] y, int yo, int kb) {\n" % name)
    lines.append("    final VectorSpecies<Float> sp = S$W;\n")
    lines.append("    final int lanes = sp.length();\n")
    for v in range(vectors):
        lines.append("    final float[] w%d = packed[kb%s];\n" % (v, "" if v == 0 else " + %d" % v))
    lines.append("    final int[] off = tapOffsets;\n")
    lines.append("    final int ps = %s;\n" % POSITION_STRIDES[stride])
    for i in range(rows):
        lines.append("    FloatVector %s;\n" % ", ".join("acc%d%d = FloatVector.zero(sp)" % (i, v) for v in range(vectors)))
    lines.append("    for (int t = 0, wt = 0; t < taps; t++, wt += lanes) {\n")
    lines.append("      int xt = xo + off[t];\n")
    for v in range(vectors):
        lines.append("      FloatVector b%d = FloatVector.fromArray(sp, w%d, wt);\n" % (v, v))
    for i in range(rows):
        idx = "xt" if i == 0 else ("xt + ps" if i == 1 else "xt + %d * ps" % i)
        lines.append("      %s = FloatVector.broadcast(sp, x[%s]);\n" % ("FloatVector av" if i == 0 else "av", idx))
        for v in range(vectors):
            lines.append("      acc%d%d = av.fma(b%d, acc%d%d);\n" % (i, v, v, i, v))
    lines.append("    }\n")
    for i in range(rows):
        for v in range(vectors):
            lines.append("    acc%d%d.intoArray(y, yo + %s%s);\n" % (
                i, v, "%d * outBlockStride" % v if v else "0", " + %d * lanes" % i if i else ""))
    lines.append("  }\n")
    return "$for W in %s\n%s$endfor\n" % (WIDTHS, "".join(lines).replace("yo + 0 + ", "yo + ").replace("yo + 0)", "yo)")
                                              .replace("yo + 1 * outBlockStride", "yo + outBlockStride"))


def tile_switch(wide, stride="", row7=False):
    """The width switch: a wide tile (WIDE_ROWS[nv] positions), a ROW7 tile or a one-position tile of nv blocks."""
    name = ("tileRow7" if row7 else "tileWide" if wide else "tile1") + stride.upper()
    suffix = stride
    out = ["  private void %s(int nv, float[] x, int xo, float[] y, int yo, int kb) {\n" % name,
           "    switch (lanes * 32) {\n"]
    for w in (512, 256, 128):
        out.append("      case %d -> {\n" % w)
        out.append("        switch (nv) {\n")
        for v in range(NV, 0, -1):
            rows = ROW7 if row7 else WIDE_ROWS[v] if wide else 1
            out.append("          case %d -> tile%d_%dx%d%s(x, xo, y, yo, kb);\n" % (v, w, rows, v, suffix))
        out.append("          default -> throw new IllegalArgumentException(\"blocks per tile: \" + nv);\n")
        out.append("        }\n")
        out.append("      }\n")
    out.append("      default -> throw new IllegalStateException(\"unsupported species \" + species);\n")
    out.append("    }\n")
    out.append("  }\n")
    return "".join(out)


EPILOGUE = '''\
$for W in 512, 256, 128
  /**
   * y[o + i·L …) = activation(y + bias[kb] (+ residual)) for count positions of one block, in place:
   * the epilogue over a stored tile, one vector a position.
   */
  static void epilogue$W(float[] y, int o, int count, float[] bias, int kb, float[] residual, int act, float actA,
      float actB) {
    final VectorSpecies<Float> sp = S$W;
    final int lanes = sp.length();
    final FloatVector zero = FloatVector.zero(sp);
    final FloatVector one = FloatVector.broadcast(sp, 1f);
    final FloatVector lo = FloatVector.broadcast(sp, actA);
    final FloatVector hi = FloatVector.broadcast(sp, actB);
    final FloatVector bv = bias == null ? zero : FloatVector.fromArray(sp, bias, kb * lanes);
    for (int i = 0, end = o + count * lanes; o + i < end; i += lanes) {
      FloatVector v = FloatVector.fromArray(sp, y, o + i).add(bv);
      if (residual != null) {
        v = v.add(FloatVector.fromArray(sp, residual, o + i));
      }
      if (act == F32Epilogue.RELU) {
        v = zero.blend(v, v.compare(GT, 0f));
      } else if (act == F32Epilogue.LEAKY_RELU) {
        v = v.mul(actA).blend(v, v.compare(GE, 0f));
      } else if (act == F32Epilogue.CLIP) {
        v = v.blend(hi, v.compare(GT, actB)).blend(lo, v.compare(LT, actA));
      } else if (act == F32Epilogue.HARD_SIGMOID) {
        FloatVector t = v.mul(actA).add(actB);
        v = t.blend(one, t.compare(GT, 1f)).blend(zero, t.compare(LT, 0f));
      } else if (act == F32Epilogue.HARD_SWISH) {
        FloatVector t = v.mul(1f / 6f).add(0.5f);
        v = v.mul(t.blend(one, t.compare(GT, 1f)).blend(zero, t.compare(LT, 0f)));
      }
      v.intoArray(y, o + i);
    }
  }
$endfor
'''

GLOBAL_POOL = '''\
$for W in 512, 256, 128
  private static void globalAvgPool$W(int n, int c, int plane, float[] x, float[] y) {
    final VectorSpecies<Float> sp = S$W;
    final int lanes = sp.length();
    final int blocks = ChannelBlocks.blocks(c, lanes);
    for (int image = 0; image < n; image++) {
      for (int kb = 0; kb < blocks; kb++) {
        int base = (image * blocks + kb) * plane * lanes;
        FloatVector acc0 = FloatVector.zero(sp), acc1 = FloatVector.zero(sp);
        int j = 0;
        for (; j + 2 <= plane; j += 2) {
          acc0 = acc0.add(FloatVector.fromArray(sp, x, base + j * lanes));
          acc1 = acc1.add(FloatVector.fromArray(sp, x, base + (j + 1) * lanes));
        }
        if (j < plane) {
          acc0 = acc0.add(FloatVector.fromArray(sp, x, base + j * lanes));
        }
        FloatVector mean = acc0.add(acc1).div((float) plane);
        int first = kb * lanes;
        mean.intoArray(y, image * c + first, sp.indexInRange(first, c));
      }
    }
  }

  /** Lane i of a gather over one block's positions: i·L, the offset of position i's lane 0. */
  private static final int[] BLOCK_STRIDES$W = strides(S$W.length());
  private static final FloatVector INTERLEAVE_LOW$W = F32Conv3x3Winograd.interleaved(S$W, 0);
  private static final FloatVector INTERLEAVE_HIGH$W = F32Conv3x3Winograd.interleaved(S$W, S$W.length() / 2);

  /**
   * y[out + lane·plane + i] = x[in + i·L + lane] for i, lane in [0, L): L blocked positions
   * (vectors of L channels) loaded, transposed by log₂L rounds in which output pair (2k, 2k + 1)
   * interleaves the low and the high halves of inputs k and k + L/2, and stored as L runs of the
   * channels' planes.
   */
  private static void transposeSquare$W(float[] x, int in, float[] y, int out, int plane) {
    final VectorSpecies<Float> sp = S$W;
    final int lanes = sp.length();
$TRANSPOSE
  }

  /** Units [from, to) of {@link #fromBlocks}: unit u is chunk u % chunks of block u / chunks. */
  private static void fromBlocks$W(int c, int plane, float[] x, float[] y, int from, int to) {
    final VectorSpecies<Float> sp = S$W;
    final int lanes = sp.length();
    final int blocks = ChannelBlocks.blocks(c, lanes);
    final int chunks = Math.ceilDiv(plane, UNBLOCK_POSITIONS);
    for (int u = from; u < to; u++) {
      int block = u / chunks;
      int image = block / blocks;
      int kb = block % blocks;
      int j0 = (u % chunks) * UNBLOCK_POSITIONS;
      int j1 = Math.min(plane, j0 + UNBLOCK_POSITIONS);
      int in = block * plane * lanes;
      int last = Math.min(lanes, c - kb * lanes);
      int square = j0;
      if (last == lanes) {
        // Whole blocks: L positions × L channels at a time, transposed in registers.
        int out = (image * c + kb * lanes) * plane;
        for (; square + lanes <= j1; square += lanes) {
          transposeSquare$W(x, in + square * lanes, y, out + square, plane);
        }
      }
      for (int lane = 0; lane < last; lane++) {
        int out = (image * c + kb * lanes + lane) * plane;
        int j = square;
        for (; j + lanes <= j1; j += lanes) {
          FloatVector.fromArray(sp, x, in + j * lanes + lane, BLOCK_STRIDES$W, 0).intoArray(y, out + j);
        }
        for (; j < j1; j++) {
          y[out + j] = x[in + j * lanes + lane];
        }
      }
    }
  }

  private static void toBlocks$W(int n, int c, int plane, float[] x, float[] y) {
    final VectorSpecies<Float> sp = S$W;
    final int lanes = sp.length();
    final int blocks = ChannelBlocks.blocks(c, lanes);
    final int[] planes = new int[lanes];
    for (int i = 0; i < lanes; i++) {
      planes[i] = i * plane;
    }
    for (int image = 0; image < n; image++) {
      for (int kb = 0; kb < blocks; kb++) {
        int in = (image * c + kb * lanes) * plane;
        int out = (image * blocks + kb) * plane * lanes;
        int last = Math.min(lanes, c - kb * lanes);
        if (last == lanes) {
          for (int j = 0; j < plane; j++) {
            FloatVector.fromArray(sp, x, in + j, planes, 0).intoArray(y, out + j * lanes);
          }
        } else {
          for (int j = 0; j < plane; j++) {
            for (int lane = 0; lane < lanes; lane++) {
              y[out + j * lanes + lane] = lane < last ? x[in + lane * plane + j] : 0f;
            }
          }
        }
      }
    }
  }

  private static void scaleChannels$W(int n, int c, int plane, float[] x, float[] s, float[] y) {
    final VectorSpecies<Float> sp = S$W;
    final int lanes = sp.length();
    final int blocks = ChannelBlocks.blocks(c, lanes);
    for (int image = 0; image < n; image++) {
      for (int kb = 0; kb < blocks; kb++) {
        int first = kb * lanes;
        FloatVector scale = FloatVector.fromArray(sp, s, image * c + first, sp.indexInRange(first, c));
        for (int o = (image * blocks + kb) * plane * lanes, end = o + plane * lanes; o < end; o += lanes) {
          FloatVector.fromArray(sp, x, o).mul(scale).intoArray(y, o);
        }
      }
    }
  }
$endfor
'''

GLOBAL_POOL_SWITCH = '''\
  /**
   * GlobalAveragePool of a blocked tensor into plain [N, C]: per block, the positions' vectors
   * summed in two float accumulators (even and odd positions), then divided by the plane. Within
   * plane·2⁻²³·Σ|x|/plane of the reference's double sum.
   */
  static void globalAvgPool(VectorSpecies<Float> sp, int n, int c, int plane, float[] x, float[] y) {
    switch (sp.vectorBitSize()) {
      case 512 -> globalAvgPool512(n, c, plane, x, y);
      case 256 -> globalAvgPool256(n, c, plane, x, y);
      case 128 -> globalAvgPool128(n, c, plane, x, y);
      default -> throw new IllegalArgumentException("unsupported species " + sp);
    }
  }

  /**
   * {@code Kernels.fromChannelBlocks} at block L: a whole block's L positions at a time are L
   * vectors of L channels, transposed in registers ({@code transposeSquare}) into L runs of the
   * channels' planes; a partial last block and the positions past the last whole square are
   * gathered from the blocked array at stride L, one gather a vector (a strided scalar loop cost
   * 2–3 ns an element on PP-OCR det's 160×160 planes). The transposes replaced the gathers for
   * whole squares: resnet18's conversions of 128 × 28² and 256 × 14² took 53–71 and 30–39 µs with
   * gathers, 20–24 and 12–14 µs transposed (`vfuse profile`, alternating builds). The positions go
   * in chunks of {@value #UNBLOCK_POSITIONS}, whose blocked floats stay in L1 (a whole 160×160
   * block is 1.6 MB); the chunks are split over {@code parallel}'s threads. Copies only: the
   * reference's bits.
   */
  static void fromBlocks(VectorSpecies<Float> sp, int n, int c, int plane, float[] x, float[] y, Parallel parallel) {
    int bits = sp.vectorBitSize();
    if (bits != 128 && bits != 256 && bits != 512) {
      throw new IllegalArgumentException("unsupported species " + sp);
    }
    int units = n * ChannelBlocks.blocks(c, sp.length()) * Math.ceilDiv(plane, UNBLOCK_POSITIONS);
    ParallelRanges.forEach(parallel, units, 1, (from, to) -> {
      switch (bits) {
        case 512 -> fromBlocks512(c, plane, x, y, from, to);
        case 256 -> fromBlocks256(c, plane, x, y, from, to);
        default -> fromBlocks128(c, plane, x, y, from, to);
      }
    });
  }

  /** Positions of one unit of {@link #fromBlocks}: 256 positions of a 16-lane block are 16 KB. */
  private static final int UNBLOCK_POSITIONS = 256;

  /** {0, L, 2L, …, (L − 1)·L}. */
  private static int[] strides(int lanes) {
    int[] offsets = new int[lanes];
    for (int i = 0; i < lanes; i++) {
      offsets[i] = i * lanes;
    }
    return offsets;
  }

  /** {@code Kernels.toChannelBlocks} at block L: each position's L channels gathered from their planes. */
  static void toBlocks(VectorSpecies<Float> sp, int n, int c, int plane, float[] x, float[] y) {
    switch (sp.vectorBitSize()) {
      case 512 -> toBlocks512(n, c, plane, x, y);
      case 256 -> toBlocks256(n, c, plane, x, y);
      case 128 -> toBlocks128(n, c, plane, x, y);
      default -> throw new IllegalArgumentException("unsupported species " + sp);
    }
  }

  /** y = x · s[n, c] on blocked x and y, s plain [N, C]: one vector multiply a position and block. */
  static void scaleChannels(VectorSpecies<Float> sp, int n, int c, int plane, float[] x, float[] s, float[] y) {
    switch (sp.vectorBitSize()) {
      case 512 -> scaleChannels512(n, c, plane, x, s, y);
      case 256 -> scaleChannels256(n, c, plane, x, s, y);
      case 128 -> scaleChannels128(n, c, plane, x, s, y);
      default -> throw new IllegalArgumentException("unsupported species " + sp);
    }
  }
'''

EPILOGUE_SWITCH = '''\
  /** The epilogue of one block's run of positions, on this kernel's width. */
  static void epilogue(int lanes, float[] y, int o, int count, float[] bias, int kb, float[] residual, int act,
      float actA, float actB) {
    switch (lanes) {
      case 16 -> epilogue512(y, o, count, bias, kb, residual, act, actA, actB);
      case 8 -> epilogue256(y, o, count, bias, kb, residual, act, actA, actB);
      case 4 -> epilogue128(y, o, count, bias, kb, residual, act, actA, actB);
      default -> throw new IllegalStateException("unsupported vector length " + lanes);
    }
  }
'''

GEMM_HEAD = '''\
// GENERATED by scripts/gen_f32_conv_blocked.py from one template per micro-kernel; edit the script, not this file.
package dev.vfuse.simd;

import static jdk.incubator.vector.VectorOperators.GE;
import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.LT;

import dev.vfuse.kernel.Activation;
import dev.vfuse.kernel.BandedConv;
import dev.vfuse.kernel.ChannelBlocks;
import dev.vfuse.kernel.ConvGeometry;
import dev.vfuse.kernel.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * f32 convolution with one group on the channel-blocked layout ({@link ChannelBlocks}, block B =
 * the vector length L): a GEMM whose vectors run along output channels.
 *
 * <pre>
 *   acc[j, kb] += x(n, c, tap position of j) · W[kb·L … kb·L+L), c, r, s]     over taps t = (c, r, s)
 *   y[n, kb, j, ·] = activation(acc + bias[kb] + residual[n, kb, j, ·])
 * </pre>
 *
 * <p>Why: the output vector of one position holds L channels, so it is written as it is in the
 * blocked layout, and the input enters one value at a time (a broadcast), so it may lie in either
 * layout. A depthwise convolution that follows ({@link F32DwConvBlocked}) then reads whole vectors
 * of channels. For the mobilenets' pointwise layers that means no lanes wasted on 7×7 or 14×14
 * planes, and no transposition between them and the depthwise layers.
 *
 * <p>Two forms. Pointwise (1×1, stride 1, unpadded): the plane is one row of H·W positions, read in
 * place, blocked (position stride L) or plain (stride 1). Any other geometry (the stem's 3×3
 * stride-2 convolution on the RGB image, resnet's 7×7 layers on a blocked input): each task, a few
 * output rows and a group of output blocks, first copies the input rows they read into a
 * zero-padded band in its worker's scratch (plain or blocked, as the input), so that every tap is
 * in range, and each output row is a row of positions at stride strideW. A 7×7 plane is one chunk
 * of rows; on two threads its blocks are split instead ({@link #rowGroupBlocks}). The band is padded where it is
 * used, while it is in L1, and no pass over the whole image runs before the tasks (against that
 * copy, `vfuse profile`: mobilenet_v3_small's 3 → 16 stem at 224² 91–95 → 85–89 µs on 1 thread
 * and 62–67 → 47–49 µs on 2; PP-OCRv3 det's 3 → 8 stem at 640² 1040 → 950 and 640 → 500 µs).
 *
 * <p>Tiles: 8 positions × 3 output blocks (24 accumulators; per tap 3 weight loads and 8
 * broadcasts for 24 FMAs), then 1 position at a time; the last blocks of K take tiles of 12
 * positions × 2 blocks or 16 × 1, so that a K of 24 or 16 still keeps 16–24 FMAs in flight; in the
 * general form four blocks left over go as two tiles of 2, not 3 + 1, whose 1-block tile is short
 * of loads per FMA and, on 7-wide rows, of accumulators (resnet18's 7×7 stem, 4 blocks, alone at
 * 512 bits: 1.32, 1.48 → 1.24, 1.28 ms). Rows
 * 7, 14, 28 or 56 wide take tiles of 7 positions ({@link #rowTile}), no one-position remainder:
 * resnet18's 3×3 512 → 512 at 7², 1 thread, 1.67 ms on the plain implicit GEMM (which computes
 * and drops 2 of every 9 columns there) against 1.21–1.27 ms here. Each
 * wide tile has copies for the position strides that occur (L for a blocked input, 1, 2; the
 * suffix names it, {@code tileWide} takes any): with the stride a constant, C2 checks the range of
 * a tap's broadcasts once instead of once a row (a 32 → 16 pointwise layer at 112²: 120 → 93 µs;
 * mobilenet_v2's 3 → 32 stride-2 stem: 155 → 143 µs). Weights are packed at load as
 * [⌈K/L⌉][C·R·S][L], zero past K, one array a block. The accumulators are stored and the epilogue runs over the
 * stored run of positions while it is in L1.
 *
 * <p>Precision: one float FMA chain per output over its taps in (c, r, s) order from zero, then the
 * bias and residual adds: within (C·R·S + 2)·2⁻²³·Σ|terms| of the reference. The order does not
 * depend on the task split.
 *
 * <p>Per-width copies of each micro-kernel (methods suffixed 512, 256, 128, each on a
 * {@code static final} species) are GENERATED by {@code scripts/gen_f32_conv_blocked.py}.
 */
final class F32ConvBlocked implements BandedConv {
  private static final VectorSpecies<Float> S128 = FloatVector.SPECIES_128;
  private static final VectorSpecies<Float> S256 = FloatVector.SPECIES_256;
  private static final VectorSpecies<Float> S512 = FloatVector.SPECIES_512;

  /** Positions of a wide tile of 3 blocks; fewer blocks take more positions (see {@link #wideRows}). */
  static final int MR = %(MR)d;
  /**
   * Output rows of one task of the general form at least: its band repeats (R − strideH) input
   * rows of the next task's, a 50%% overhead for a 3×3 stride-2 stem at one row a task, 12%% at 4.
   */
  static final int BAND_ROWS = 4;
  /** Output blocks of a tile. */
  static final int NV = %(NV)d;
  /** Positions of the tile for rows whose width is a multiple of 7 (see {@link #rowTile}). */
  static final int ROW7 = %(ROW7)d;
  /** Positions of one task of a pointwise convolution. */
  static final int CHUNK = 12 * MR;
  /**
   * Output blocks of one task of a pointwise convolution (a multiple of NV): a 7×7 plane is one
   * chunk of positions, so the blocks are what two threads split there.
   */
  static final int GROUP_BLOCKS = 4 * NV;

  private final VectorSpecies<Float> species;
  private final int lanes;
  private final ConvGeometry g;
  private final boolean pointwise;
  private final boolean blockedInput;
  private final int kBlocks, taps, outPlane, outBlockStride;
  /**
   * [⌈K/L⌉][taps·L], zero past K: one array a block, so that a large layer's weights (9.4 MB for
   * 3×3 512 → 512) are not one array G1 must place in humongous regions.
   */
  private final float[][] packed;
  /** Padded to ⌈K/L⌉·L, or null. */
  private final float[] bias;
  private final int act;
  private final float actA, actB;
  /** Offset of each tap (c, r, s) from a tile's origin in the input it reads. */
  private final int[] tapOffsets;
  /** Distance in the input between the tap of one position and that of the next. */
  private final int positionStride;
  /**
   * The general form's zero-padded band (0 for pointwise): bandH padded rows of paddedW, the rows
   * that rowsPerTask output rows read, per input channel.
   */
  private final int rowsPerTask, bandH, paddedW;

  F32ConvBlocked(VectorSpecies<Float> species, ConvGeometry g, boolean blockedInput, float[] weight, float[] bias,
      Activation activation) {
    if (g.groups() != 1 || F32Epilogue.kind(activation) == F32Epilogue.NONE && activation != null) {
      throw new IllegalArgumentException("F32ConvBlocked takes one group and a vector activation: " + g);
    }
    this.species = species;
    this.lanes = species.length();
    this.g = g;
    this.pointwise = g.r() == 1 && g.s() == 1 && g.strideH() == 1 && g.strideW() == 1 && !g.hasPadding();
    this.blockedInput = blockedInput;
    int c = g.c(), k = g.k(), rs = g.r() * g.s();
    this.kBlocks = ChannelBlocks.blocks(k, lanes);
    this.taps = c * rs;
    this.outPlane = g.p() * g.q();
    this.outBlockStride = outPlane * lanes;
    this.packed = new float[kBlocks][Math.multiplyExact(taps, lanes)];
    for (int kk = 0; kk < k; kk++) {
      for (int t = 0; t < taps; t++) {
        packed[kk / lanes][t * lanes + kk %% lanes] = weight[kk * taps + t];
      }
    }
    this.bias = bias == null ? null : java.util.Arrays.copyOf(bias, kBlocks * lanes);
    this.act = F32Epilogue.kind(activation);
    this.actA = F32Epilogue.parameterA(activation);
    this.actB = F32Epilogue.parameterB(activation);
    this.tapOffsets = new int[taps];
    int plane = g.h() * g.w();
    if (pointwise) {
      rowsPerTask = 0;
      bandH = 0;
      paddedW = 0;
      positionStride = blockedInput ? lanes : 1;
      for (int cc = 0; cc < c; cc++) {
        tapOffsets[cc] = blockedInput ? (cc / lanes) * plane * lanes + cc %% lanes : cc * plane;
      }
    } else {
      rowsPerTask = Math.min(g.p(), Math.max(BAND_ROWS, CHUNK / g.q()));
      bandH = (rowsPerTask - 1) * g.strideH() + (g.r() - 1) * g.dilationH() + 1;
      paddedW = g.w() + g.padLeft() + g.padRight();
      int unit = blockedInput ? lanes : 1;
      positionStride = g.strideW() * unit;
      for (int cc = 0, t = 0; cc < c; cc++) {
        int channel = blockedInput ? (cc / lanes) * bandH * paddedW * lanes + cc %% lanes : cc * bandH * paddedW;
        for (int r = 0; r < g.r(); r++) {
          for (int s = 0; s < g.s(); s++, t++) {
            tapOffsets[t] = channel + (r * g.dilationH() * paddedW + s * g.dilationW()) * unit;
          }
        }
      }
    }
  }

  @Override
  public int scratchPerWorker() {
    int channels = blockedInput ? ChannelBlocks.blocks(g.c(), lanes) * lanes : g.c();
    return pointwise ? 0 : Math.multiplyExact(channels, bandH * paddedW);
  }

  @Override
  public void run(float[] x, float[] residual, float[] y, float[] scratch, Parallel parallel) {
    if (pointwise) {
      int chunks = Math.ceilDiv(outPlane, CHUNK);
      int groupBlocks = groupBlocks(g.n() * chunks, kBlocks, parallel.threads());
      int groups = Math.ceilDiv(kBlocks, groupBlocks);
      parallel.forEach(g.n() * chunks * groups, (task, worker) -> {
        int j0 = task / groups %% chunks * CHUNK;
        pointwisePositions(x, residual, y, task / (chunks * groups), j0, Math.min(outPlane, j0 + CHUNK),
            task %% groups * groupBlocks, groupBlocks);
      });
      return;
    }
    int chunks = Math.ceilDiv(g.p(), rowsPerTask);
    int groupBlocks = rowGroupBlocks(g.n() * chunks, kBlocks, parallel.threads());
    int groups = Math.ceilDiv(kBlocks, groupBlocks);
    int band = scratchPerWorker();
    parallel.forEach(g.n() * chunks * groups, (task, worker) -> {
      int image = task / (chunks * groups), p0 = task / groups %% chunks * rowsPerTask, kb0 = task %% groups * groupBlocks;
      padBand(x, image, p0 * g.strideH(), scratch, worker * band);
      rows(scratch, worker * band, residual, y, image, p0, Math.min(g.p(), p0 + rowsPerTask), kb0,
          Math.min(kBlocks, kb0 + groupBlocks));
    });
  }

  @Override
  public ConvGeometry geometry() {
    return g;
  }

  @Override
  public void runRows(float[] x, float[] residual, float[] y, float[] scratch, int scratchOffset, int image, int p0, int p1) {
    if (pointwise) {
      pointwisePositions(x, residual, y, image, p0 * g.q(), p1 * g.q(), 0, kBlocks);
      return;
    }
    for (int p = p0; p < p1; p += rowsPerTask) {
      padBand(x, image, p * g.strideH(), scratch, scratchOffset);
      rows(scratch, scratchOffset, residual, y, image, p, Math.min(p1, p + rowsPerTask), 0, kBlocks);
    }
  }

  /**
   * Output blocks of one pointwise task: {@link #GROUP_BLOCKS}, or fewer, still a multiple of NV,
   * when the position chunks and groups would give the threads fewer than about 4 tasks each.
   * mobilenet_v2's 7×7 project layers (10 blocks, one chunk) were one task and ran on one of two
   * threads. Every block is still computed by one tile of the same width, so the bits do not change.
   */
  static int groupBlocks(int chunkTasks, int kBlocks, int threads) {
    if (threads == 1 || (long) chunkTasks * Math.ceilDiv(kBlocks, GROUP_BLOCKS) >= 4L * threads) {
      return GROUP_BLOCKS;
    }
    int groupsWanted = Math.ceilDiv(4 * threads, chunkTasks);
    return Math.clamp(NV * (long) Math.ceilDiv(kBlocks, groupsWanted * NV), NV, GROUP_BLOCKS);
  }

  /**
   * Output blocks of one task of the general form: all of them, unless the row chunks give the
   * threads fewer than 2 tasks each; then about a 2·threads-th, so that two threads share a 7×7
   * plane (one chunk of rows). Each task pads its own band, so the band is copied once a group.
   * Every block is still computed by a tile of the same positions, so the bits do not change.
   */
  static int rowGroupBlocks(int chunkTasks, int kBlocks, int threads) {
    if (threads == 1 || chunkTasks >= 2L * threads) {
      return kBlocks;
    }
    return Math.ceilDiv(kBlocks, Math.ceilDiv(2 * threads, chunkTasks));
  }

  /**
   * Positions of the tile of nv blocks along an output row q wide: the wide tile ({@link #wideRows}),
   * or {@value #ROW7} when q is a multiple of {@value #ROW7} and not of the wide tile, so that the
   * 7, 14, 28, 56 and 112 wide rows of the ImageNet networks take no one-position tiles.
   */
  static int rowTile(int nv, int q) {
    int wide = wideRows(nv);
    return q %% wide != 0 && q %% ROW7 == 0 ? ROW7 : wide;
  }

  /** Positions of the wide tile of nv blocks: 8 × 3, 12 × 2, 16 × 1 accumulators. */
  static int wideRows(int nv) {
    return switch (nv) {
      case 3 -> %(R3)d;
      case 2 -> %(R2)d;
      case 1 -> %(R1)d;
      default -> throw new IllegalArgumentException("blocks per tile: " + nv);
    };
  }

  /** Positions [j0, j1) of one image, output blocks [kbFirst, kbFirst + groupBlocks), pointwise. */
  private void pointwisePositions(float[] x, float[] residual, float[] y, int image, int j0, int j1, int kbFirst,
      int groupBlocks) {
    int inImage = blockedInput ? ChannelBlocks.size(1, g.c(), g.h() * g.w(), lanes) : g.c() * g.h() * g.w();
    int xBase = image * inImage;
    int yBase = image * kBlocks * outBlockStride;
    for (int kb = kbFirst, kbEnd = Math.min(kBlocks, kbFirst + groupBlocks); kb < kbEnd; kb += NV) {
      int nv = Math.min(NV, kbEnd - kb);
      int yo = yBase + kb * outBlockStride;
      int j = j0;
      for (int mr = wideRows(nv); j + mr <= j1; j += mr) {
        if (blockedInput) {
          tileWideB(nv, x, xBase + j * positionStride, y, yo + j * lanes, kb);
        } else {
          tileWideS1(nv, x, xBase + j * positionStride, y, yo + j * lanes, kb);
        }
      }
      for (; j < j1; j++) {
        tile1(nv, x, xBase + j * positionStride, y, yo + j * lanes, kb);
      }
      for (int v = 0; v < nv; v++) {
        epilogue(lanes, y, yo + v * outBlockStride + j0 * lanes, j1 - j0, bias, kb + v, residual, act, actA, actB);
      }
    }
  }

  /**
   * Output rows [p0, p1) and blocks [kbFirst, kbEnd) of one image from the padded band at xBase whose
   * first row is p0's first tap row.
   */
  private void rows(float[] padded, int xBase, float[] residual, float[] y, int image, int p0, int p1, int kbFirst,
      int kbEnd) {
    int q = g.q();
    int rowStride = g.strideH() * paddedW * (blockedInput ? lanes : 1);
    int yBase = image * kBlocks * outBlockStride;
    for (int kb = kbFirst, nv; kb < kbEnd; kb += nv) {
      nv = kbEnd - kb == 4 ? 2 : Math.min(NV, kbEnd - kb);
      int mr = rowTile(nv, q);
      for (int p = p0; p < p1; p++) {
        int xRow = xBase + (p - p0) * rowStride;
        int yo = yBase + kb * outBlockStride + p * q * lanes;
        int qq = 0;
        for (; qq + mr <= q; qq += mr) {
          int xo = xRow + qq * positionStride, o = yo + qq * lanes;
          if (mr == ROW7) {
            if (positionStride == 1) {
              tileRow7S1(nv, padded, xo, y, o, kb);
            } else if (positionStride == 2) {
              tileRow7S2(nv, padded, xo, y, o, kb);
            } else if (positionStride == lanes) {
              tileRow7B(nv, padded, xo, y, o, kb);
            } else {
              tileRow7(nv, padded, xo, y, o, kb);
            }
          } else if (positionStride == 1) {
            tileWideS1(nv, padded, xo, y, o, kb);
          } else if (positionStride == 2) {
            tileWideS2(nv, padded, xo, y, o, kb);
          } else if (positionStride == lanes) {
            tileWideB(nv, padded, xo, y, o, kb);
          } else {
            tileWide(nv, padded, xo, y, o, kb);
          }
        }
        for (; qq < q; qq++) {
          tile1(nv, padded, xRow + qq * positionStride, y, yo + qq * lanes, kb);
        }
        for (int v = 0; v < nv; v++) {
          epilogue(lanes, y, yo + v * outBlockStride, q, bias, kb + v, residual, act, actA, actB);
        }
      }
    }
  }

  /**
   * Writes the band of padded rows [r0, r0 + bandH) of every input channel (every channel block of
   * a blocked input, L floats a position) of one image at band[at …]: zero above, below and beside
   * the input, the input's row inside; rows past the padded image (the last task's) are zero too
   * and never read.
   */
  private void padBand(float[] x, int image, int r0, float[] band, int at) {
    int unit = blockedInput ? lanes : 1;
    int planes = blockedInput ? ChannelBlocks.blocks(g.c(), lanes) : g.c();
    int h = g.h(), top = g.padTop(), w = g.w() * unit, left = g.padLeft() * unit, rowFloats = paddedW * unit;
    for (int cc = 0; cc < planes; cc++) {
      int plane = (image * planes + cc) * h;
      for (int i = 0; i < bandH; i++) {
        int dst = at + (cc * bandH + i) * rowFloats;
        int row = r0 + i - top;
        if (row < 0 || row >= h) {
          java.util.Arrays.fill(band, dst, dst + rowFloats, 0f);
          continue;
        }
        java.util.Arrays.fill(band, dst, dst + left, 0f);
        System.arraycopy(x, (plane + row) * w, band, dst + left, w);
        java.util.Arrays.fill(band, dst + left + w, dst + rowFloats, 0f);
      }
    }
  }

'''

DW_HEAD = '''\
// GENERATED by scripts/gen_f32_conv_blocked.py from one template per micro-kernel; edit the script, not this file.
package dev.vfuse.simd;

import static jdk.incubator.vector.VectorOperators.GE;
import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.LT;

import dev.vfuse.kernel.Activation;
import dev.vfuse.kernel.BandedConv;
import dev.vfuse.kernel.ChannelBlocks;
import dev.vfuse.kernel.ConvGeometry;
import dev.vfuse.kernel.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * f32 depthwise convolution (groups == C == K, any kernel, stride, padding, dilation) on the
 * channel-blocked layout ({@link ChannelBlocks}, block B = the vector length L): each vector holds L
 * channels of one position, and every tap is one vector FMA.
 *
 * <pre>
 *   y[n, cb, p, q, ·] = activation(Σ_{r,s} W[cb, r, s, ·] · x[n, cb, p·sh − pt + r·dh, q·sw − pl + s·dw, ·]
 *                                  + bias[cb, ·] + residual[n, cb, p, q, ·])
 * </pre>
 *
 * <p>Why: on the plain layout a depthwise convolution runs along a row of one channel; a 7×7 or
 * 14×14 plane fills a third to a half of a 16-lane vector and each stride-2 row must be
 * deinterleaved first (the band copy that was most of {@link F32DwConv}'s stride-2 time). Here
 * the lanes are channels: no lane is wasted while C is a multiple of L, a stride is an address
 * step, and padding is a range of taps skipped.
 *
 * <p>Each output row takes the kernel rows that land inside the input, works out which columns
 * have all their taps inside (the interior) and does the border columns one at a time with their
 * taps checked. A 3×3 or 5×5 kernel at stride 1 or 2 takes the interior %(DW_TILE)d positions a step
 * with each input vector loaded once for the outputs that share it (3×3 stride 1: 10 loads and 3
 * weights for 24 FMAs a kernel row, against 24 + 3); other kernels %(DW_Q)d positions a step, then
 * one at a time. The accumulators are stored and the
 * epilogue runs over the row while it is in L1. Output planes at most %(SMALL_Q)d wide at stride 1
 * (%(SMALL_Q_S2)d at stride 2) whose width is a multiple of 7 or 8 run instead from a zero-padded
 * copy of each block's plane, whole rows in 7- or 8-wide tiles with the epilogue in registers: on
 * the 7² and 14² stages the checked border columns were most of the work (5×5 on 7²: 43 → 12 µs).
 *
 * <p>Precision: one float FMA chain per output over its in-range taps in (r, s) order from zero,
 * then bias and residual adds: within (R·S + 2)·2⁻²³·Σ|terms| of the reference.
 *
 * <p>Per-width copies (methods suffixed 512, 256, 128, each on a {@code static final} species) are
 * GENERATED by {@code scripts/gen_f32_conv_blocked.py}.
 */
final class F32DwConvBlocked implements BandedConv {
  private static final VectorSpecies<Float> S128 = FloatVector.SPECIES_128;
  private static final VectorSpecies<Float> S256 = FloatVector.SPECIES_256;
  private static final VectorSpecies<Float> S512 = FloatVector.SPECIES_512;

  /** Output rows of one task. */
  static final int ROWS_PER_TASK = 4;

  private final VectorSpecies<Float> species;
  private final int lanes;
  private final ConvGeometry g;
  private final int blocks, plane, outPlane;
  /** [⌈C/L⌉][R·S][L], zero past C. */
  private final float[] packed;
  private final float[] bias;
  private final int act;
  private final float actA, actB;
  /** The output columns whose taps all lie inside the input: [qInteriorStart, qInteriorEnd). */
  private final int qInteriorStart, qInteriorEnd;
  /**
   * The columns the %(DW_TILE)d-wide tiles cover, [tileStart, tileEnd) (empty for kernels without a
   * tile): their epilogue is applied in registers; the row's other columns take it afterwards.
   */
  private final int tileStart, tileEnd;
  /**
   * Small planes (q ≤ %(SMALL_Q)d at stride 1, ≤ %(SMALL_Q_S2)d at stride 2, a multiple of 8 or 7, a tiled kernel): the tile width with which
   * whole rows run from a zero-padded copy of the block's input plane, or 0. There the border
   * columns, one at a time with their taps checked, would be a third to all of each row (a 5×5
   * kernel on a 7×7 plane has no interior column at all); the padded taps add 0·w, which leaves
   * the sum as it is (weights are finite, checked at load).
   */
  private final int paddedTile;
  /** The padded copy's rows and columns (0 unless paddedTile). */
  private final int paddedH, paddedW;

  F32DwConvBlocked(VectorSpecies<Float> species, ConvGeometry g, float[] weight, float[] bias, Activation activation) {
    if (g.groups() != g.c() || g.groups() != g.k() || F32Epilogue.kind(activation) == F32Epilogue.NONE && activation != null) {
      throw new IllegalArgumentException("F32DwConvBlocked takes a depthwise conv and a vector activation: " + g);
    }
    this.species = species;
    this.lanes = species.length();
    this.g = g;
    this.blocks = ChannelBlocks.blocks(g.c(), lanes);
    this.plane = g.h() * g.w();
    this.outPlane = g.p() * g.q();
    int rs = g.r() * g.s();
    this.packed = new float[Math.multiplyExact(blocks * rs, lanes)];
    for (int ch = 0; ch < g.c(); ch++) {
      for (int t = 0; t < rs; t++) {
        packed[((ch / lanes) * rs + t) * lanes + ch %% lanes] = weight[ch * rs + t];
      }
    }
    this.bias = bias == null ? null : java.util.Arrays.copyOf(bias, blocks * lanes);
    this.act = F32Epilogue.kind(activation);
    this.actA = F32Epilogue.parameterA(activation);
    this.actB = F32Epilogue.parameterB(activation);
    int start = Math.min(g.q(), Math.ceilDiv(g.padLeft(), g.strideW()));
    int lastTap = g.w() - 1 + g.padLeft() - (g.s() - 1) * g.dilationW();
    int end = lastTap < 0 ? 0 : Math.min(g.q(), lastTap / g.strideW() + 1);
    this.qInteriorStart = start;
    this.qInteriorEnd = Math.max(start, end);
    boolean tiled = g.dilationW() == 1 && g.strideW() <= 2 && (g.s() == 3 || g.s() == 5);
    this.tileStart = qInteriorStart;
    this.tileEnd = tiled ? qInteriorStart + (qInteriorEnd - qInteriorStart) / %(DW_TILE)d * %(DW_TILE)d : qInteriorStart;
    boolean small = tiled && g.q() <= (g.strideW() == 1 ? %(SMALL_Q)d : %(SMALL_Q_S2)d) && (g.q() %% 8 == 0 || g.q() %% 7 == 0);
    this.paddedTile = !small ? 0 : g.q() %% 8 == 0 ? 8 : 7;
    this.paddedH = small ? g.h() + g.padTop() + g.padBottom() : 0;
    this.paddedW = small ? g.w() + g.padLeft() + g.padRight() : 0;
  }

  @Override
  public int scratchPerWorker() {
    return Math.multiplyExact(paddedH * paddedW, lanes);
  }

  @Override
  public void run(float[] x, float[] residual, float[] y, float[] scratch, Parallel parallel) {
    if (paddedTile > 0) {
      int size = scratchPerWorker();
      parallel.forEach(g.n() * blocks, (task, worker) -> {
        int xp = worker * size;
        padRows(x, task * plane * lanes, scratch, xp, 0, paddedH);
        paddedRows(scratch, xp, y, task * outPlane * lanes, task %% blocks, residual, 0, g.p());
      });
      return;
    }
    int chunks = Math.ceilDiv(g.p(), ROWS_PER_TASK);
    int perImage = blocks * chunks;
    parallel.forEach(g.n() * perImage, (task, worker) -> {
      int image = task / perImage, rest = task %% perImage;
      int block = rest / chunks, p0 = rest %% chunks * ROWS_PER_TASK;
      rows(x, (image * blocks + block) * plane * lanes, y, (image * blocks + block) * outPlane * lanes, block, residual, p0,
          Math.min(g.p(), p0 + ROWS_PER_TASK));
    });
  }

  @Override
  public ConvGeometry geometry() {
    return g;
  }

  @Override
  public void runRows(float[] x, float[] residual, float[] y, float[] scratch, int scratchOffset, int image, int p0, int p1) {
    for (int block = 0; block < blocks; block++) {
      int xPlane = (image * blocks + block) * plane * lanes;
      int yPlane = (image * blocks + block) * outPlane * lanes;
      if (paddedTile > 0) {
        int r0 = p0 * g.strideH();
        padRows(x, xPlane, scratch, scratchOffset, r0, (p1 - 1 - p0) * g.strideH() + (g.r() - 1) * g.dilationH() + 1);
        paddedRows(scratch, scratchOffset, y, yPlane, block, residual, p0, p1);
      } else {
        rows(x, xPlane, y, yPlane, block, residual, p0, p1);
      }
    }
  }

  /** Output rows [p0, p1) of one block on the row path, epilogue included. */
  private void rows(float[] x, int xPlane, float[] y, int yPlane, int block, float[] residual, int p0, int p1) {
    for (int p = p0; p < p1; p++) {
      int yo = yPlane + p * g.q() * lanes;
      row(x, xPlane, y, yo, block, p, residual);
      F32ConvBlocked.epilogue(lanes, y, yo, tileStart, bias, block, residual, act, actA, actB);
      F32ConvBlocked.epilogue(lanes, y, yo + tileEnd * lanes, g.q() - tileEnd, bias, block, residual, act, actA, actB);
    }
  }

  /**
   * Rows [r0, r0 + count) of one block's zero-padded input plane (paddedW wide; the input's rows
   * and columns inside, zero around) at scratch[xp …].
   */
  private void padRows(float[] x, int xPlane, float[] scratch, int xp, int r0, int count) {
    java.util.Arrays.fill(scratch, xp, xp + count * paddedW * lanes, 0f);
    for (int h = Math.max(0, r0 - g.padTop()), hEnd = Math.min(g.h(), r0 + count - g.padTop()); h < hEnd; h++) {
      System.arraycopy(x, xPlane + h * g.w() * lanes, scratch, xp + ((h + g.padTop() - r0) * paddedW + g.padLeft()) * lanes,
          g.w() * lanes);
    }
  }

  private void paddedRows(float[] scratch, int xp, float[] y, int yPlane, int block, float[] residual, int p0, int p1) {
    switch (lanes) {
      case 16 -> paddedRows512(scratch, xp, y, yPlane, block, residual, p0, p1);
      case 8 -> paddedRows256(scratch, xp, y, yPlane, block, residual, p0, p1);
      case 4 -> paddedRows128(scratch, xp, y, yPlane, block, residual, p0, p1);
      default -> throw new IllegalStateException("unsupported species " + species);
    }
  }

  private void row(float[] x, int xPlane, float[] y, int yo, int block, int p, float[] residual) {
    int h0 = p * g.strideH() - g.padTop();
    int rFirst = h0 >= 0 ? 0 : Math.ceilDiv(-h0, g.dilationH());
    int rEnd = Math.min(g.r(), h0 >= g.h() ? 0 : (g.h() - 1 - h0) / g.dilationH() + 1);
    switch (lanes) {
      case 16 -> row512(x, xPlane, y, yo, block, h0, rFirst, rEnd, residual);
      case 8 -> row256(x, xPlane, y, yo, block, h0, rFirst, rEnd, residual);
      case 4 -> row128(x, xPlane, y, yo, block, h0, rFirst, rEnd, residual);
      default -> throw new IllegalStateException("unsupported species " + species);
    }
  }

$for W in 512, 256, 128
  private void row$W(float[] x, int xPlane, float[] y, int yo, int block, int h0, int rFirst, int rEnd,
      float[] residual) {
    final VectorSpecies<Float> sp = S$W;
    final int lanes = sp.length();
    final int w = g.w(), s = g.s(), sw = g.strideW(), dh = g.dilationH(), dw = g.dilationW(), pl = g.padLeft();
    final int wBase = block * g.r() * s * lanes;
    final float[] wt = packed;
    int q = 0;
    for (; q < qInteriorStart; q++) {
      border$W(x, xPlane, y, yo, wBase, h0, rFirst, rEnd, q);
    }
$DWDISPATCH    for (; q + %(DW_Q)d <= qInteriorEnd; q += %(DW_Q)d) {
      FloatVector acc0 = FloatVector.zero(sp), acc1 = FloatVector.zero(sp), acc2 = FloatVector.zero(sp),
          acc3 = FloatVector.zero(sp);
      final int step = sw * lanes;
      for (int r = rFirst; r < rEnd; r++) {
        int xr = xPlane + ((h0 + r * dh) * w + q * sw - pl) * lanes;
        int wr = wBase + r * s * lanes;
        for (int t = 0; t < s; t++) {
          FloatVector wv = FloatVector.fromArray(sp, wt, wr + t * lanes);
          int xo = xr + t * dw * lanes;
          acc0 = FloatVector.fromArray(sp, x, xo).fma(wv, acc0);
          acc1 = FloatVector.fromArray(sp, x, xo + step).fma(wv, acc1);
          acc2 = FloatVector.fromArray(sp, x, xo + 2 * step).fma(wv, acc2);
          acc3 = FloatVector.fromArray(sp, x, xo + 3 * step).fma(wv, acc3);
        }
      }
      int o = yo + q * lanes;
      acc0.intoArray(y, o);
      acc1.intoArray(y, o + lanes);
      acc2.intoArray(y, o + 2 * lanes);
      acc3.intoArray(y, o + 3 * lanes);
    }
    for (; q < qInteriorEnd; q++) {
      FloatVector acc = FloatVector.zero(sp);
      for (int r = rFirst; r < rEnd; r++) {
        int xr = xPlane + ((h0 + r * dh) * w + q * sw - pl) * lanes;
        int wr = wBase + r * s * lanes;
        for (int t = 0; t < s; t++) {
          acc = FloatVector.fromArray(sp, x, xr + t * dw * lanes).fma(FloatVector.fromArray(sp, wt, wr + t * lanes), acc);
        }
      }
      acc.intoArray(y, yo + q * lanes);
    }
    for (; q < g.q(); q++) {
      border$W(x, xPlane, y, yo, wBase, h0, rFirst, rEnd, q);
    }
  }

$DW3X3
  /** One output position with its taps checked against the input's columns. */
  private void border$W(float[] x, int xPlane, float[] y, int yo, int wBase, int h0, int rFirst, int rEnd, int q) {
    final VectorSpecies<Float> sp = S$W;
    final int lanes = sp.length();
    final int w = g.w(), s = g.s();
    final int w0 = q * g.strideW() - g.padLeft();
    FloatVector acc = FloatVector.zero(sp);
    for (int r = rFirst; r < rEnd; r++) {
      int xr = xPlane + (h0 + r * g.dilationH()) * w * lanes;
      int wr = wBase + r * s * lanes;
      for (int t = 0; t < s; t++) {
        int col = w0 + t * g.dilationW();
        if (col >= 0 && col < w) {
          acc = FloatVector.fromArray(sp, x, xr + col * lanes).fma(FloatVector.fromArray(sp, packed, wr + t * lanes), acc);
        }
      }
    }
    acc.intoArray(y, yo + q * lanes);
  }
$endfor
}
'''


def transpose_square(width):
    """transposeSquare's body for L = width / 32 lanes: L loads, log2(L) rounds of interleaving
    permutes (outputs 2k and 2k + 1 from inputs k and k + L/2), L stores."""
    lanes = width // 32
    lines = ["    FloatVector r0_%d = FloatVector.fromArray(sp, x, in%s);" % (i, "" if i == 0 else " + %d * lanes" % i)
             for i in range(lanes)]
    rounds = lanes.bit_length() - 1
    for r in range(rounds):
        for k in range(lanes // 2):
            a, b = "r%d_%d" % (r, k), "r%d_%d" % (r, k + lanes // 2)
            lines.append("    FloatVector r%d_%d = INTERLEAVE_LOW%d.selectFrom(%s, %s);" % (r + 1, 2 * k, width, a, b))
            lines.append("    FloatVector r%d_%d = INTERLEAVE_HIGH%d.selectFrom(%s, %s);" % (r + 1, 2 * k + 1, width, a, b))
    lines += ["    r%d_%d.intoArray(y, out%s);" % (rounds, i, "" if i == 0 else " + %d * plane" % i) for i in range(lanes)]
    return "\n".join(lines)


def gemm_source():
    params = {"MR": MR, "NV": NV, "ROW7": ROW7, "R3": WIDE_ROWS[3], "R2": WIDE_ROWS[2], "R1": WIDE_ROWS[1]}
    body = [GEMM_HEAD % params]
    for stride in POSITION_STRIDES:
        body += [tile_switch(True, stride), "\n"]
    for stride in POSITION_STRIDES:
        body += [tile_switch(True, stride, row7=True), "\n"]
    body += [tile_switch(False), "\n", EPILOGUE_SWITCH, "\n", GLOBAL_POOL_SWITCH, "\n"]
    for v in range(NV, 0, -1):
        for stride in POSITION_STRIDES:
            body.append(expand(tile_method(WIDE_ROWS[v], v, stride)))
            body.append("\n")
            body.append(expand(tile_method(ROW7, v, stride)))
            body.append("\n")
        body.append(expand(tile_method(1, v)))
        body.append("\n")
    body.append(expand(EPILOGUE))
    body.append("\n")
    body.append(expand(GLOBAL_POOL, TRANSPOSE={w: transpose_square(w) for w in (512, 256, 128)}))
    body.append("}\n")
    return "".join(body)


def dw_source():
    tiles = "\n".join(dw_tile(k, stride, t) for t in PADDED_TILES for k in (3, 5) for stride in (1, 2))
    return expand(DW_HEAD % {"DW_Q": DW_Q, "DW_TILE": DW_TILE, "SMALL_Q": SMALL_Q, "SMALL_Q_S2": SMALL_Q_S2}, DW3X3=tiles + "\n" + dw_padded_dispatch(),
                  DWDISPATCH=dw_tile_dispatch())


emit({SIMD / "F32ConvBlocked.java": gemm_source(), SIMD / "F32DwConvBlocked.java": dw_source()})
