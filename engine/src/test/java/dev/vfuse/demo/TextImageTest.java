package dev.vfuse.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.demo.DbPostProcess.TextBox;
import dev.vfuse.demo.OcrDemo.Detection;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The rendered input and the annotated output, without running a model. */
class TextImageTest {

  @Test
  void rendersLinesOfInkInsideAnImageTheDetectorAccepts() {
    TextImage.Rendered r = TextImage.render();
    BufferedImage img = r.image();
    assertThat(img.getWidth() % 32).isZero();
    assertThat(img.getHeight() % 32).isZero();
    assertThat(r.lines()).hasSizeGreaterThanOrEqualTo(3);
    assertThat(r.lines()).filteredOn(TextImage.Line::upsideDown).hasSize(1);
    Rectangle bounds = new Rectangle(0, 0, img.getWidth(), img.getHeight());
    RgbImage rgb = RgbImage.of(img);
    for (TextImage.Line line : r.lines()) {
      Rectangle ink = line.ink();
      assertThat(bounds.contains(ink)).as("%s inside the image", line).isTrue();
      assertThat(ink.height).as("%s height", line).isBetween(20, 60);
      int dark = 0;
      for (int y = ink.y; y < ink.y + ink.height; y++) {
        for (int x = ink.x; x < ink.x + ink.width; x++) {
          dark += rgb.channel(x, y, 1) < 128 ? 1 : 0;
        }
      }
      assertThat(dark).as("dark pixels in %s", line).isGreaterThan(ink.width * ink.height / 8);
    }
    for (int i = 0; i < r.lines().size(); i++) {
      for (int j = i + 1; j < r.lines().size(); j++) {
        assertThat(r.lines().get(i).ink().intersects(r.lines().get(j).ink())).as("lines %d and %d overlap", i, j).isFalse();
      }
    }
    // Nothing dark outside the lines: the background is white.
    for (int y = 0; y < img.getHeight(); y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        final int px = x;
        final int py = y;
        if (r.lines().stream().noneMatch(l -> l.ink().contains(px, py))) {
          assertThat(rgb.channel(x, y, 0)).as("background at %d,%d", x, y).isGreaterThan(200);
        }
      }
    }
  }

  @Test
  void upsideDownLineIsTheRotatedGlyphs() {
    TextImage.Rendered r = TextImage.render();
    TextImage.Line flipped = r.lines().stream().filter(TextImage.Line::upsideDown).findFirst().orElseThrow();
    Rectangle ink = flipped.ink();
    // Draw the same text upright with its ink on the same rectangle (a 180 degree turn about the
    // rectangle's centre maps the rectangle onto itself).
    BufferedImage upright = new BufferedImage(r.image().getWidth(), r.image().getHeight(), BufferedImage.TYPE_INT_RGB);
    java.awt.Graphics2D g = upright.createGraphics();
    g.setColor(java.awt.Color.WHITE);
    g.fillRect(0, 0, upright.getWidth(), upright.getHeight());
    TextImage.configure(g);
    java.awt.font.FontRenderContext frc = g.getFontRenderContext();
    java.awt.font.GlyphVector gv = TextImage.font().createGlyphVector(frc, flipped.text());
    Rectangle b = gv.getPixelBounds(frc, 0, 0);
    g.drawGlyphVector(gv, ink.x - b.x, ink.y - b.y);
    g.dispose();

    RgbImage f = RgbImage.of(r.image());
    RgbImage u = RgbImage.of(upright);
    int sameMismatch = 0;
    int rotatedMismatch = 0;
    for (int y = ink.y; y < ink.y + ink.height; y++) {
      for (int x = ink.x; x < ink.x + ink.width; x++) {
        boolean dark = f.channel(x, y, 0) < 128;
        sameMismatch += dark != (u.channel(x, y, 0) < 128) ? 1 : 0;
        int rx = 2 * ink.x + ink.width - 1 - x;
        int ry = 2 * ink.y + ink.height - 1 - y;
        rotatedMismatch += dark != (u.channel(rx, ry, 0) < 128) ? 1 : 0;
      }
    }
    assertThat(rotatedMismatch).as("pixels differing from the upright text turned by 180 degrees (vs. not turned: %d)", sameMismatch)
        .isLessThan(sameMismatch / 4);
  }

  @Test
  void matchingLineFindsTheRenderedText() {
    List<TextImage.Line> lines = List.of(
        new TextImage.Line("top", new Rectangle(10, 10, 100, 30), false),
        new TextImage.Line("bottom", new Rectangle(10, 100, 100, 30), true));
    assertThat(OcrDemo.matchingLine(new TextBox(5, 5, 110, 40, 1f), lines)).isEqualTo("\"top\"");
    assertThat(OcrDemo.matchingLine(new TextBox(8, 95, 105, 40, 1f), lines)).isEqualTo("\"bottom\" (drawn upside down)");
    assertThat(OcrDemo.matchingLine(new TextBox(200, 200, 10, 10, 1f), lines)).isEqualTo("-");
  }

  @Test
  void annotateDrawsGreenAndRedBoxes() {
    BufferedImage white = new BufferedImage(200, 100, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 100; y++) {
      for (int x = 0; x < 200; x++) {
        white.setRGB(x, y, 0xffffff);
      }
    }
    BufferedImage out = OcrDemo.annotate(white, List.of(
        new Detection(new TextBox(10, 40, 60, 30, 0.9f), 0.95f, 0.05f, "a"),
        new Detection(new TextBox(100, 40, 60, 30, 0.9f), 0.1f, 0.9f, "b")));
    int left = out.getRGB(10 + 1, 40 + 15) & 0xffffff;
    int right = out.getRGB(100 + 1, 40 + 15) & 0xffffff;
    assertThat((left >> 8) & 0xff).as("green channel of the 0 degree box").isGreaterThan(150);
    assertThat((left >> 16) & 0xff).isLessThan(50);
    assertThat((right >> 16) & 0xff).as("red channel of the 180 degree box").isGreaterThan(200);
    assertThat((right >> 8) & 0xff).isLessThan(50);
    assertThat(out.getRGB(40, 55) & 0xffffff).as("inside the box untouched").isEqualTo(0xffffff);
  }
}
