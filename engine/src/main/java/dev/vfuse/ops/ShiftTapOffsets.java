package dev.vfuse.ops;

import dev.vfuse.kernel.ConvGeometry;
import dev.vfuse.kernel.ConvTransposeGeometry;
import dev.vfuse.kernel.PositionOffsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The per-position offsets of a fused conv's shift taps T ([K, R, S] per output channel): the
 * convolution of an all-ones image with T, so output (p, q) of channel k sums T[k, r, s] over the
 * kernel rows r and columns s that read an input position. That sum depends on p only through the
 * set of in-range kernel rows, so output rows with the same set form one class of
 * {@link PositionOffsets} and the dense [K, P, Q] map is never built (48 MB of heap on PP-OCRv3 det
 * at 640² with int8 bias correction).
 *
 * <p>Each value adds T[k, r, s] in double over the in-range r, then s, both ascending, and rounds
 * to float once: the order in which the reference conv2d and convTranspose2d sum an all-ones image
 * (whose products w·1 are exact), so the values are bitwise those of that convolution.
 */
final class ShiftTapOffsets {
  private ShiftTapOffsets() {}

  /** The offsets of a Conv with shift taps [K, 1, R, S] (flat). */
  static PositionOffsets conv(float[] taps, ConvGeometry g) {
    return build(taps, g.k(), g.p(), new Axis(false, g.h(), g.r(), g.strideH(), g.padTop(), g.dilationH()),
        g.q(), new Axis(false, g.w(), g.s(), g.strideW(), g.padLeft(), g.dilationW()));
  }

  /** The offsets of a ConvTranspose with shift taps [1, K, R, S] (flat). */
  static PositionOffsets convTranspose(float[] taps, ConvTransposeGeometry g) {
    return build(taps, g.k(), g.p(), new Axis(true, g.h(), g.r(), g.strideH(), g.padTop(), g.dilationH()),
        g.q(), new Axis(true, g.w(), g.s(), g.strideW(), g.padLeft(), g.dilationW()));
  }

  /**
   * One spatial axis of a conv: input length, kernel taps along it, stride, leading pad, dilation.
   * A Conv output o reads input o·stride − pad + t·dilation with tap t; a ConvTranspose output o
   * receives input i through tap t when o = i·stride − pad + t·dilation.
   */
  private record Axis(boolean transposed, int size, int taps, int stride, int pad, int dilation) {

    /** The taps through which output {@code out} meets an input position in [0, size). */
    BitSet tapsReaching(int out) {
      BitSet reaching = new BitSet(taps);
      for (int t = 0; t < taps; t++) {
        if (transposed ? receivesInput(out, t) : readsInput(out, t)) {
          reaching.set(t);
        }
      }
      return reaching;
    }

    private boolean readsInput(int out, int t) {
      int in = out * stride - pad + t * dilation;
      return in >= 0 && in < size;
    }

    private boolean receivesInput(int out, int t) {
      int rest = out + pad - t * dilation;
      return rest >= 0 && rest % stride == 0 && rest / stride < size;
    }
  }

  private static PositionOffsets build(float[] taps, int channels, int height, Axis rows, int width, Axis columns) {
    int[] rowClass = new int[height];
    List<int[]> classRows = new ArrayList<>();
    Map<BitSet, Integer> classOf = new HashMap<>();
    for (int p = 0; p < height; p++) {
      BitSet reaching = rows.tapsReaching(p);
      Integer id = classOf.get(reaching);
      if (id == null) {
        id = classRows.size();
        classOf.put(reaching, id);
        classRows.add(reaching.stream().toArray());
      }
      rowClass[p] = id;
    }
    int[][] columnTaps = new int[width][];
    for (int q = 0; q < width; q++) {
      columnTaps[q] = columns.tapsReaching(q).stream().toArray();
    }
    int classes = classRows.size();
    int tapRows = rows.taps();
    int tapColumns = columns.taps();
    float[] values = new float[Math.multiplyExact(channels, classes * width)];
    for (int k = 0; k < channels; k++) {
      for (int c = 0; c < classes; c++) {
        int[] kernelRows = classRows.get(c);
        int out = (k * classes + c) * width;
        for (int q = 0; q < width; q++) {
          double sum = 0.0;
          for (int r : kernelRows) {
            int tapRow = (k * tapRows + r) * tapColumns;
            for (int s : columnTaps[q]) {
              sum += taps[tapRow + s];
            }
          }
          values[out + q] = (float) sum;
        }
      }
    }
    return new PositionOffsets(channels, height, width, classes, rowClass, values);
  }
}
