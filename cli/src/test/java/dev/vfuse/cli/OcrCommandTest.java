package dev.vfuse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code vfuse ocr} in-process on rendered pages, with the real PaddleOCR models (a test dependency). */
class OcrCommandTest {
  @TempDir Path dir;

  record Run(int code, String out, String err) {}

  private static Run vfuse(String... args) {
    CommandLine cl = VfuseCli.commandLine(false);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    return new Run(cl.execute(args), out.toString(), err.toString());
  }

  /** Two lines, sans-serif bold and serif plain at different sizes; the second one upside down when {@code turned}. */
  private Path page(String name, String first, String second, boolean turned, String format) throws IOException {
    BufferedImage img = new BufferedImage(520, 180, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    try {
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, img.getWidth(), img.getHeight());
      g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.setColor(Color.BLACK);
      g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 34));
      g.drawString(first, 30, 60);
      g.setFont(new Font(Font.SERIF, Font.PLAIN, 30));
      if (turned) {
        var m = g.getFontMetrics();
        g.rotate(Math.PI, 30 + m.stringWidth(second) / 2.0, 140 - m.getAscent() / 2.0 + m.getDescent() / 2.0);
      }
      g.drawString(second, 30, 140);
    } finally {
      g.dispose();
    }
    Path p = dir.resolve(name);
    ImageIO.write(img, format, p.toFile());
    return p;
  }

  @Test
  void printsOneLinePerRegionInReadingOrder() throws IOException {
    Path png = page("receipt.png", "Receipt 4096", "Paid in full", true, "png");
    Path overlay = dir.resolve("boxes.png");
    Run r = vfuse("ocr", png.toString(), "--out", overlay.toString());
    assertThat(r.code()).as(r.err()).isZero();
    List<String> lines = r.out().lines().toList();
    assertThat(lines).hasSize(2);
    assertThat(lines.get(0)).matches("\\d+ \\d+ \\d+ \\d+ 0\\.\\d{3} 0 Receipt 4096");
    assertThat(lines.get(1)).matches("\\d+ \\d+ \\d+ \\d+ 0\\.\\d{3} 180 Paid in full");
    BufferedImage drawn = ImageIO.read(overlay.toFile());
    assertThat(drawn.getWidth()).isEqualTo(520);
    assertThat(drawn.getHeight()).isEqualTo(180);
  }

  @Test
  void jsonForSeveralImagesWithOverlaysInADirectory() throws IOException {
    Path a = page("a.png", "Room 12", "Open daily", false, "png");
    Path b = page("b.jpg", "Gate 7", "Flight 2031", false, "jpg");
    Path outDir = Files.createDirectory(dir.resolve("overlays"));
    Run r = vfuse("ocr", a.toString(), b.toString(), "--json", "--rec", "v3", "--out", outDir.toString());
    assertThat(r.code()).as(r.err()).isZero();
    var images = JsonParser.parseString(r.out()).getAsJsonObject().getAsJsonArray("images");
    assertThat(images).hasSize(2);
    assertThat(texts(images.get(0).getAsJsonObject())).containsExactly("Room 12", "Open daily");
    assertThat(texts(images.get(1).getAsJsonObject())).containsExactly("Gate 7", "Flight 2031");
    assertThat(images.get(1).getAsJsonObject().get("image").getAsString()).isEqualTo(b.toString());
    assertThat(ImageIO.read(outDir.resolve("a.png").toFile())).isNotNull();
    assertThat(ImageIO.read(outDir.resolve("b.png").toFile())).isNotNull();
  }

  private static List<String> texts(JsonObject image) {
    return image.getAsJsonArray("regions").asList().stream().map(e -> e.getAsJsonObject().get("text").getAsString()).toList();
  }

  @Test
  void badArgumentsAndFilesGiveOneLineErrors() throws IOException {
    Path notAnImage = Files.writeString(dir.resolve("notes.png"), "not an image");
    Path good = page("good.png", "A 1", "B 2", false, "png");
    assertError(vfuse("ocr", notAnImage.toString()), 1, "not a PNG or JPEG image");
    assertError(vfuse("ocr", dir.resolve("missing.png").toString()), 1, "missing.png");
    assertError(vfuse("ocr", good.toString(), "--rec", "v5"), 2, "expected v3 or v4");
    assertError(vfuse("ocr", good.toString(), notAnImage.toString(), "--out", dir.resolve("x.png").toString()), 2,
        "--out must be an existing directory");
    assertError(vfuse("ocr"), 2, "IMAGE");
  }

  private static void assertError(Run r, int code, String expected) {
    assertThat(r.code()).as("exit code; stderr: %s", r.err()).isEqualTo(code);
    assertThat(r.err().lines().toList()).as("stderr").hasSize(1);
    assertThat(r.err()).startsWith("vfuse: ").contains(expected);
  }
}
