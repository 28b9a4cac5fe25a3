package dev.vfuse.demo;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.RenderingHints;
import java.awt.font.FontRenderContext;
import java.awt.font.GlyphVector;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/**
 * The demo's input: black text on white, drawn with Java2D in a bold logical sans-serif font, one
 * line upside down. 640×256 pixels, both multiples of 32 as the detector needs.
 */
public final class TextImage {
  public static final int WIDTH = 640;
  public static final int HEIGHT = 256;
  public static final int FONT_SIZE = 38;

  /** A line of text and the pixels its ink covers. */
  public record Line(String text, Rectangle ink, boolean upsideDown) {}

  /** The image and where its lines are. */
  public record Rendered(BufferedImage image, List<Line> lines, String fontName) {}

  private record Spec(String text, int x, int baseline, boolean upsideDown) {}

  private static final List<Spec> LINES = List.of(
      new Spec("vfuse runs PaddleOCR", 36, 62, false),
      new Spec("in pure Java", 36, 138, false),
      new Spec("upside down text", 250, 222, true));

  private TextImage() {}

  /** The font of the text: the logical sans-serif, bold, {@value #FONT_SIZE} px. */
  static Font font() {
    return new Font(Font.SANS_SERIF, Font.BOLD, FONT_SIZE);
  }

  /** Anti-aliased black text in {@link #font()}. */
  static void configure(Graphics2D g) {
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_FRACTIONALMETRICS, RenderingHints.VALUE_FRACTIONALMETRICS_ON);
    g.setFont(font());
    g.setColor(Color.BLACK);
  }

  public static Rendered render() {
    System.setProperty("java.awt.headless", "true");
    BufferedImage img = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    try {
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, WIDTH, HEIGHT);
      Font font = font();
      configure(g);
      FontRenderContext frc = g.getFontRenderContext();
      List<Line> lines = new ArrayList<>();
      for (Spec s : LINES) {
        GlyphVector gv = font.createGlyphVector(frc, s.text);
        Rectangle ink = gv.getPixelBounds(frc, s.x, s.baseline);
        if (s.upsideDown) {
          // Rotate by 180° about the centre of the ink, so the line stays where it was laid out.
          double cx = ink.getCenterX();
          double cy = ink.getCenterY();
          AffineTransform saved = g.getTransform();
          g.rotate(Math.PI, cx, cy);
          g.drawGlyphVector(gv, s.x, s.baseline);
          g.setTransform(saved);
          ink = AffineTransform.getRotateInstance(Math.PI, cx, cy).createTransformedShape(ink).getBounds();
        } else {
          g.drawGlyphVector(gv, s.x, s.baseline);
        }
        lines.add(new Line(s.text, ink.intersection(new Rectangle(0, 0, WIDTH, HEIGHT)), s.upsideDown));
      }
      return new Rendered(img, List.copyOf(lines), font.getFamily() + (font.isBold() ? " bold" : ""));
    } finally {
      g.dispose();
    }
  }
}
