package dev.vfuse.demo;

import dev.vfuse.demo.ConnectedComponents.Component;
import dev.vfuse.demo.ConnectedComponents.Labeling;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * DBNet post-processing with axis-aligned boxes: from the detector's probability map to text
 * boxes.
 *
 * <ol>
 *   <li>Threshold the map: a pixel is text when {@code p > threshold} (0.3).
 *   <li>Label the 8-connected components; drop those under {@code minPixels} (10) pixels.
 *   <li>Score = mean probability over the component's pixels; keep {@code score ≥ boxThreshold} (0.6).
 *   <li>The network predicts shrunk text kernels, so grow each box by the DB "unclip" distance
 *       {@code d = A·r / L} with A = w·h, L = 2(w + h) and r = {@code unclipRatio} (1.5) on every
 *       side, then clip to the image.
 * </ol>
 *
 * <p>Boxes come out in reading order ({@link #readingOrder}).
 */
public final class DbPostProcess {

  /** The DB thresholds; {@link #DEFAULT} is PaddleOCR's. */
  public record Params(float threshold, float boxThreshold, int minPixels, float unclipRatio) {
    public static final Params DEFAULT = new Params(0.3f, 0.6f, 10, 1.5f);
  }

  /** An axis-aligned box in pixels: [x, x + w) × [y, y + h), and its score. */
  public record TextBox(int x, int y, int w, int h, float score) {}

  private DbPostProcess() {}

  /** The text boxes of an H×W probability map, in the map's own pixel coordinates. */
  public static List<TextBox> boxes(float[] prob, int width, int height, Params params) {
    if ((long) width * height != prob.length) {
      throw new IllegalArgumentException("map of " + prob.length + " values is not " + width + "x" + height);
    }
    boolean[] mask = new boolean[prob.length];
    for (int i = 0; i < prob.length; i++) {
      mask[i] = prob[i] > params.threshold();
    }
    Labeling labeling = ConnectedComponents.label(mask, width, height);
    double[] sums = new double[labeling.components().size() + 1];
    int[] labels = labeling.labels();
    for (int i = 0; i < labels.length; i++) {
      sums[labels[i]] += prob[i];
    }
    List<TextBox> out = new ArrayList<>();
    for (Component c : labeling.components()) {
      if (c.pixels() < params.minPixels()) {
        continue;
      }
      float score = (float) (sums[c.label()] / c.pixels());
      if (score < params.boxThreshold()) {
        continue;
      }
      out.add(unclip(c.minX(), c.minY(), c.width(), c.height(), score, params.unclipRatio(), width, height));
    }
    return readingOrder(out);
  }

  /**
   * Sorts boxes top to bottom, then left to right, treating boxes whose tops differ by less than
   * 10 px as one row, as PaddleOCR's {@code sorted_boxes} does.
   */
  public static List<TextBox> readingOrder(List<TextBox> boxes) {
    List<TextBox> b = new ArrayList<>(boxes);
    b.sort(Comparator.comparingInt(TextBox::y).thenComparingInt(TextBox::x));
    for (int i = 0; i < b.size() - 1; i++) {
      for (int j = i; j >= 0; j--) {
        TextBox next = b.get(j + 1);
        TextBox cur = b.get(j);
        if (Math.abs(next.y() - cur.y()) < 10 && next.x() < cur.x()) {
          b.set(j, next);
          b.set(j + 1, cur);
        } else {
          break;
        }
      }
    }
    return b;
  }

  /**
   * Grows the box [x, x + w) × [y, y + h) by {@code d = w·h·ratio / (2(w + h))} on every side,
   * rounding outwards, and clips it to the image.
   */
  public static TextBox unclip(int x, int y, int w, int h, float score, float ratio, int imageWidth, int imageHeight) {
    double d = unclipDistance(w, h, ratio);
    int x0 = Math.max(0, (int) Math.floor(x - d));
    int y0 = Math.max(0, (int) Math.floor(y - d));
    int x1 = Math.min(imageWidth, (int) Math.ceil(x + w + d));
    int y1 = Math.min(imageHeight, (int) Math.ceil(y + h + d));
    return new TextBox(x0, y0, x1 - x0, y1 - y0, score);
  }

  /** The DB unclip distance of a w×h rectangle: area·ratio / perimeter. */
  public static double unclipDistance(int w, int h, float ratio) {
    return (double) w * h * ratio / (2.0 * (w + h));
  }

  /** Scales a box from a map of size mw×mh to an image of size iw×ih, clipped to the image. */
  public static TextBox scale(TextBox b, int mw, int mh, int iw, int ih) {
    if (mw == iw && mh == ih) {
      return b;
    }
    double sx = (double) iw / mw;
    double sy = (double) ih / mh;
    int x0 = Math.max(0, (int) Math.floor(b.x() * sx));
    int y0 = Math.max(0, (int) Math.floor(b.y() * sy));
    int x1 = Math.min(iw, (int) Math.ceil((b.x() + b.w()) * sx));
    int y1 = Math.min(ih, (int) Math.ceil((b.y() + b.h()) * sy));
    return new TextBox(x0, y0, x1 - x0, y1 - y0, b.score());
  }
}
