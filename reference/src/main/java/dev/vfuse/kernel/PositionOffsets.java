package dev.vfuse.kernel;

import java.util.Objects;

/**
 * A per-position bias [K, P, Q] stored as its distinct rows: the offsets of a convolution vary
 * only with which kernel rows reach the input, so all output rows that see the same taps (the
 * interior, and each border row) share one row of values per channel. A 640×640 map of a 3×3
 * pad-1 conv keeps 3 rows a channel instead of 640.
 *
 * <pre>
 *   offset(k, p, q) = rows[(k · classes + rowClass[p]) · width + q]
 * </pre>
 *
 * with rowClass.length == height, every rowClass[p] in [0, classes), and
 * rows.length == channels · classes · width. The arrays are kept, not copied.
 *
 * @param channels K
 * @param height P, the output rows
 * @param width Q, the output columns
 * @param classes how many distinct rows each channel stores
 * @param rowClass the stored row of each output row
 * @param rows the stored rows, [channels, classes, width]
 */
public record PositionOffsets(int channels, int height, int width, int classes, int[] rowClass, float[] rows) {

  public PositionOffsets {
    Objects.requireNonNull(rowClass, "rowClass");
    Objects.requireNonNull(rows, "rows");
    Checks.nonNegative("channels", channels, "height", height, "width", width, "classes", classes);
    if (rowClass.length != height) {
      throw new IllegalArgumentException("rowClass has " + rowClass.length + " entries for " + height + " rows");
    }
    if (rows.length != (long) channels * classes * width) {
      throw new IllegalArgumentException("rows has " + rows.length + " floats, [channels, classes, width] = ["
          + channels + ", " + classes + ", " + width + "] needs " + (long) channels * classes * width);
    }
    for (int p = 0; p < height; p++) {
      if (rowClass[p] < 0 || rowClass[p] >= classes) {
        throw new IllegalArgumentException("rowClass[" + p + "] = " + rowClass[p] + " is outside [0, " + classes + ")");
      }
    }
  }

  /** offset(k, p, q). */
  public float at(int k, int p, int q) {
    return rows[rowBase(k, p) + q];
  }

  /** The index in {@link #rows} of offset(k, p, 0); row p of channel k continues for {@link #width} floats. */
  public int rowBase(int k, int p) {
    return (k * classes + rowClass[p]) * width;
  }

  /**
   * The row classes of a dense map [channels, height, width]: rows p and p' share a class when
   * their floats are bitwise equal in every channel, so {@link #at} returns every dense value
   * exactly. Classes are numbered in the order their first row appears.
   */
  public static PositionOffsets compress(int channels, int height, int width, float[] dense) {
    if (dense.length != (long) channels * height * width) {
      throw new IllegalArgumentException("dense map has " + dense.length + " floats, [" + channels + ", " + height
          + ", " + width + "] needs " + (long) channels * height * width);
    }
    int[] rowClass = new int[height];
    int[] firstRowOfClass = new int[height];
    int classes = 0;
    for (int p = 0; p < height; p++) {
      int c = 0;
      while (c < classes && !sameRows(dense, channels, height, width, firstRowOfClass[c], p)) {
        c++;
      }
      if (c == classes) {
        firstRowOfClass[classes++] = p;
      }
      rowClass[p] = c;
    }
    float[] rows = new float[channels * classes * width];
    for (int k = 0; k < channels; k++) {
      for (int c = 0; c < classes; c++) {
        System.arraycopy(dense, (k * height + firstRowOfClass[c]) * width, rows, (k * classes + c) * width, width);
      }
    }
    return new PositionOffsets(channels, height, width, classes, rowClass, rows);
  }

  /** True when rows a and b of the dense map hold the same bits in every channel. */
  private static boolean sameRows(float[] dense, int channels, int height, int width, int a, int b) {
    for (int k = 0; k < channels; k++) {
      int rowA = (k * height + a) * width;
      int rowB = (k * height + b) * width;
      for (int q = 0; q < width; q++) {
        if (Float.floatToRawIntBits(dense[rowA + q]) != Float.floatToRawIntBits(dense[rowB + q])) {
          return false;
        }
      }
    }
    return true;
  }

  /** Bytes of the two arrays. */
  public long bytes() {
    return 4L * rows.length + 4L * rowClass.length;
  }
}
