package dev.vfuse.demo;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.List;

/** Outlined, labelled boxes drawn on a copy of an image: the demo's and {@code vfuse ocr --out}'s picture. */
public final class Overlay {
  /** Upright text. */
  public static final Color UPRIGHT = new Color(0, 170, 0);
  /** Text turned by 180°. */
  public static final Color TURNED = new Color(220, 0, 0);

  /** A box in image pixels, its outline colour and the label written on a filled strip above it (below it at the top edge). */
  public record Box(int x, int y, int w, int h, Color color, String label) {}

  private Overlay() {}

  /** A copy of {@code src} (as RGB) with every box drawn on it. */
  public static BufferedImage draw(BufferedImage src, List<Box> boxes) {
    BufferedImage img = new BufferedImage(src.getWidth(), src.getHeight(), BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    try {
      g.drawImage(src, 0, 0, null);
      g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.setStroke(new BasicStroke(2f));
      g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 12));
      FontMetrics fm = g.getFontMetrics();
      for (Box b : boxes) {
        g.setColor(b.color());
        g.drawRect(b.x() + 1, b.y() + 1, Math.max(1, b.w() - 2), Math.max(1, b.h() - 2));
        int lw = fm.stringWidth(b.label()) + 6;
        int lh = fm.getHeight();
        int lx = Math.max(0, Math.min(b.x(), img.getWidth() - lw));
        int ly = b.y() >= lh ? b.y() - lh : Math.min(b.y() + b.h(), img.getHeight() - lh);
        g.fillRect(lx, ly, lw, lh);
        g.setColor(Color.WHITE);
        g.drawString(b.label(), lx + 3, ly + fm.getAscent());
      }
    } finally {
      g.dispose();
    }
    return img;
  }
}
