package dev.vfuse.models;

import dev.vfuse.Tensor;
import dev.vfuse.demo.Preprocess;
import dev.vfuse.demo.RgbImage;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;

/**
 * Text lines for the recognizers: dark text drawn with Java2D on a light background, 48 pixels
 * tall and as wide as asked, normalized as PaddleOCR's rec preprocessing does ((x/255 − 0.5)/0.5
 * on RGB, NCHW).
 */
final class TextLines {
  static final int HEIGHT = 48;

  private TextLines() {}

  /** One line [1, 3, 48, width] showing {@code text} from the left edge, in the logical sans-serif at 30 px. */
  static Tensor line(String text, int width) {
    System.setProperty("java.awt.headless", "true");
    BufferedImage img = new BufferedImage(width, HEIGHT, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    try {
      g.setColor(new Color(240, 238, 230));
      g.fillRect(0, 0, width, HEIGHT);
      g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 30));
      g.setColor(new Color(20, 20, 30));
      g.drawString(text, 4, 35);
    } finally {
      g.dispose();
    }
    float[] x = new float[3 * HEIGHT * width];
    Preprocess.normalizeInto(RgbImage.of(img), Preprocess.CLS_MEAN, Preprocess.CLS_STD, x, 0, width);
    return Tensor.ofFloats(new int[] {1, 3, HEIGHT, width}, x);
  }
}
