package dev.vfuse.ocr;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.Backend;
import dev.vfuse.ModelOptions;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The whole pipeline (det → cls → rec → CTC) reads back a rendered page exactly: lines of English
 * words and digits in two fonts (the logical sans-serif and serif) and three sizes, one of them
 * upside down, in reading order.
 */
class OcrTest {
  private record Line(String text, Font font, int x, int baseline, boolean upsideDown) {}

  private static final List<Line> PAGE = List.of(
      new Line("Invoice 2026", new Font(Font.SANS_SERIF, Font.BOLD, 36), 40, 70, false),
      new Line("Order 738215 shipped", new Font(Font.SERIF, Font.PLAIN, 28), 40, 140, false),
      new Line("Total 49 EUR", new Font(Font.SANS_SERIF, Font.PLAIN, 30), 40, 210, false),
      new Line("Thank you", new Font(Font.SERIF, Font.BOLD, 32), 60, 285, true));

  private static BufferedImage page() {
    System.setProperty("java.awt.headless", "true");
    BufferedImage img = new BufferedImage(640, 320, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    try {
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, img.getWidth(), img.getHeight());
      g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.setColor(new Color(15, 15, 25));
      for (Line l : PAGE) {
        g.setFont(l.font());
        var saved = g.getTransform();
        if (l.upsideDown()) {
          var m = g.getFontMetrics();
          g.rotate(Math.PI, l.x() + m.stringWidth(l.text()) / 2.0, l.baseline() - m.getAscent() / 2.0 + m.getDescent() / 2.0);
        }
        g.drawString(l.text(), l.x(), l.baseline());
        g.setTransform(saved);
      }
    } finally {
      g.dispose();
    }
    return img;
  }

  @Test
  void readsARenderedPageExactly() throws Exception {
    try (Ocr ocr = Ocr.load(ModelOptions.defaults().withBackend(Backend.SIMD))) {
      List<Ocr.Region> regions = ocr.read(page());
      regions.forEach(r -> System.out.printf("%4d %4d %4d %4d %.3f %3d %.3f '%s'%n", r.x(), r.y(), r.w(), r.h(), r.score(),
          r.direction(), r.confidence(), r.text()));
      assertThat(regions).extracting(Ocr.Region::text).containsExactly(PAGE.stream().map(Line::text).toArray(String[]::new));
      assertThat(regions).extracting(Ocr.Region::direction).containsExactly(0, 0, 0, 180);
    }
  }
}
