package dev.vfuse.demo;

import java.awt.image.BufferedImage;
import java.util.Objects;

/**
 * An 8-bit RGB image as packed {@code 0xRRGGBB} ints in row-major order: the pure-array form the
 * preprocessing works on, so it can be tested without Java2D.
 *
 * @param width W
 * @param height H
 * @param rgb H×W pixels, {@code rgb[y * width + x]}
 */
public record RgbImage(int width, int height, int[] rgb) {

  public RgbImage {
    Objects.requireNonNull(rgb, "rgb");
    if (width < 1 || height < 1 || (long) width * height != rgb.length) {
      throw new IllegalArgumentException("image " + width + "x" + height + " needs " + (long) width * height + " pixels, got " + rgb.length);
    }
  }

  public static RgbImage of(BufferedImage img) {
    int w = img.getWidth();
    int h = img.getHeight();
    return new RgbImage(w, h, img.getRGB(0, 0, w, h, null, 0, w));
  }

  /** Channel {@code c} (0 = R, 1 = G, 2 = B) of pixel (x, y), 0 to 255. */
  public int channel(int x, int y, int c) {
    return (rgb[y * width + x] >>> (16 - 8 * c)) & 0xff;
  }

  /** The sub-image [x, x + w) × [y, y + h), which must lie inside this one. */
  public RgbImage crop(int x, int y, int w, int h) {
    if (x < 0 || y < 0 || w < 1 || h < 1 || x + w > width || y + h > height) {
      throw new IllegalArgumentException("crop " + x + "," + y + " " + w + "x" + h + " outside " + width + "x" + height);
    }
    int[] out = new int[w * h];
    for (int r = 0; r < h; r++) {
      System.arraycopy(rgb, (y + r) * width + x, out, r * w, w);
    }
    return new RgbImage(w, h, out);
  }
}
