package dev.vfuse.demo;

/**
 * Turns images into the NCHW float tensors the PaddleOCR models expect.
 *
 * <ul>
 *   <li>Detector: {@code (rgb / 255 − mean) / std} with the ImageNet mean (0.485, 0.456, 0.406)
 *       and std (0.229, 0.224, 0.225), at the image's own size (a multiple of 32).
 *   <li>Direction classifier: each crop resized to height 48 keeping its aspect ratio, width
 *       {@code min(192, ⌈48·w/h⌉)}, normalized {@code (x / 255 − 0.5) / 0.5}, right-padded with
 *       zeros to 48×192, as PaddleOCR's {@code resize_norm_img} does.
 *   <li>Recognizer: the crop resized to height 48 keeping its aspect ratio, width
 *       {@code ⌈48·w/h⌉}, normalized as for the classifier and right-padded with zeros to at least
 *       320 (PaddleOCR's {@code rec_image_shape} 3×48×320: a line narrower than 320/48 is padded,
 *       a wider one keeps its own width), rounded up to a multiple of 32 ({@link #recInputWidth}).
 * </ul>
 *
 * <p>PaddleOCR feeds OpenCV's BGR arrays; the channel order does not matter for the demo's black
 * text on white, and this class uses RGB as documented for the models.
 */
public final class Preprocess {
  public static final float[] DET_MEAN = {0.485f, 0.456f, 0.406f};
  public static final float[] DET_STD = {0.229f, 0.224f, 0.225f};
  public static final float[] CLS_MEAN = {0.5f, 0.5f, 0.5f};
  public static final float[] CLS_STD = {0.5f, 0.5f, 0.5f};
  public static final int CLS_HEIGHT = 48;
  public static final int CLS_WIDTH = 192;
  public static final int REC_HEIGHT = 48;
  public static final int REC_MIN_WIDTH = 320;
  public static final int REC_WIDTH_STEP = 32;

  private Preprocess() {}

  /** The detector input [1, 3, H, W] for {@code img}, flat. */
  public static float[] detInput(RgbImage img) {
    float[] out = new float[3 * img.height() * img.width()];
    normalizeInto(img, DET_MEAN, DET_STD, out, 0, img.width());
    return out;
  }

  /**
   * Writes {@code (channel / 255 − mean[c]) / std[c]} of {@code img} into three planes of {@code
   * dst} starting at {@code offset}, each plane {@code rowStride} floats wide and the image's height
   * tall; columns beyond the image's width are left untouched.
   */
  public static void normalizeInto(RgbImage img, float[] mean, float[] std, float[] dst, int offset, int rowStride) {
    int w = img.width();
    int h = img.height();
    int plane = h * rowStride;
    for (int c = 0; c < 3; c++) {
      float scale = 1f / (255f * std[c]);
      float shift = mean[c] / std[c];
      int shiftBits = 16 - 8 * c;
      for (int y = 0; y < h; y++) {
        int src = y * w;
        int out = offset + c * plane + y * rowStride;
        for (int x = 0; x < w; x++) {
          dst[out + x] = ((img.rgb()[src + x] >>> shiftBits) & 0xff) * scale - shift;
        }
      }
    }
  }

  /** The width a crop of size w×h gets at height 48: {@code min(192, ⌈48·w/h⌉)}, at least 1. */
  public static int clsWidth(int w, int h) {
    int rw = (int) Math.ceil(CLS_HEIGHT * (double) w / h);
    return Math.max(1, Math.min(CLS_WIDTH, rw));
  }

  /** The classifier input [N, 3, 48, 192] for the crops, flat, zero-padded on the right. */
  public static float[] clsInput(java.util.List<RgbImage> crops) {
    int per = 3 * CLS_HEIGHT * CLS_WIDTH;
    float[] out = new float[crops.size() * per];
    for (int i = 0; i < crops.size(); i++) {
      RgbImage c = crops.get(i);
      RgbImage resized = resizeBilinear(c, clsWidth(c.width(), c.height()), CLS_HEIGHT);
      normalizeInto(resized, CLS_MEAN, CLS_STD, out, i * per, CLS_WIDTH);
    }
    return out;
  }

  /** The width a crop of size w×h gets at height 48 for the recognizer: {@code ⌈48·w/h⌉}, at least 1. */
  public static int recWidth(int w, int h) {
    return Math.max(1, (int) Math.ceil(REC_HEIGHT * (double) w / h));
  }

  /**
   * The recognizer's input width for a crop of size w×h: its own width at height 48, at least
   * {@value #REC_MIN_WIDTH}, rounded up to a multiple of {@value #REC_WIDTH_STEP}. The model takes
   * any width; the rounding bounds the number of distinct input shapes a page of lines makes the
   * model plan (and keep planned, up to 32) to one per 32 pixels of width, at the cost of a few
   * more padded columns, which the recognizer reads as blanks.
   */
  public static int recInputWidth(int w, int h) {
    int own = Math.max(REC_MIN_WIDTH, recWidth(w, h));
    return (own + REC_WIDTH_STEP - 1) / REC_WIDTH_STEP * REC_WIDTH_STEP;
  }

  /** The recognizer input [1, 3, 48, {@link #recInputWidth}] for one crop, flat, zero-padded on the right. */
  public static float[] recInput(RgbImage crop) {
    int width = recInputWidth(crop.width(), crop.height());
    float[] out = new float[3 * REC_HEIGHT * width];
    RgbImage resized = resizeBilinear(crop, recWidth(crop.width(), crop.height()), REC_HEIGHT);
    normalizeInto(resized, CLS_MEAN, CLS_STD, out, 0, width);
    return out;
  }

  /**
   * Bilinear resize with pixel centres aligned as OpenCV's {@code INTER_LINEAR} does: destination
   * pixel x samples source {@code (x + 0.5)·sw/dw − 0.5}, clamped to the image; results rounded to
   * the nearest integer.
   */
  public static RgbImage resizeBilinear(RgbImage src, int dw, int dh) {
    int sw = src.width();
    int sh = src.height();
    if (dw == sw && dh == sh) {
      return src;
    }
    int[] x0 = new int[dw];
    int[] x1 = new int[dw];
    float[] fx = new float[dw];
    axis(sw, dw, x0, x1, fx);
    int[] y0 = new int[dh];
    int[] y1 = new int[dh];
    float[] fy = new float[dh];
    axis(sh, dh, y0, y1, fy);
    int[] s = src.rgb();
    int[] out = new int[dw * dh];
    for (int y = 0; y < dh; y++) {
      int r0 = y0[y] * sw;
      int r1 = y1[y] * sw;
      float wy = fy[y];
      for (int x = 0; x < dw; x++) {
        float wx = fx[x];
        int a = s[r0 + x0[x]];
        int b = s[r0 + x1[x]];
        int c = s[r1 + x0[x]];
        int d = s[r1 + x1[x]];
        int px = 0;
        for (int shift = 16; shift >= 0; shift -= 8) {
          float top = ((a >>> shift) & 0xff) * (1 - wx) + ((b >>> shift) & 0xff) * wx;
          float bottom = ((c >>> shift) & 0xff) * (1 - wx) + ((d >>> shift) & 0xff) * wx;
          int v = Math.round(top * (1 - wy) + bottom * wy);
          px |= Math.min(255, Math.max(0, v)) << shift;
        }
        out[y * dw + x] = px;
      }
    }
    return new RgbImage(dw, dh, out);
  }

  private static void axis(int srcLen, int dstLen, int[] lo, int[] hi, float[] frac) {
    double scale = (double) srcLen / dstLen;
    for (int i = 0; i < dstLen; i++) {
      double pos = (i + 0.5) * scale - 0.5;
      if (pos < 0) {
        pos = 0;
      }
      int l = (int) Math.floor(pos);
      if (l >= srcLen - 1) {
        lo[i] = hi[i] = srcLen - 1;
        frac[i] = 0;
      } else {
        lo[i] = l;
        hi[i] = l + 1;
        frac[i] = (float) (pos - l);
      }
    }
  }
}
