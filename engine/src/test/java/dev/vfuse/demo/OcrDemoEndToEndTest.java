package dev.vfuse.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.Backend;
import dev.vfuse.ModelOptions;
import dev.vfuse.demo.OcrDemo.Detection;
import dev.vfuse.demo.OcrDemo.Result;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The whole demo with the real PaddleOCR models (a test dependency, so on the class path): every
 * rendered line is found by exactly one box, the classifier says which one is upside down, and
 * the recognizer reads each line exactly as it was drawn.
 */
class OcrDemoEndToEndTest {
  @TempDir Path dir;

  @ParameterizedTest
  @EnumSource(Backend.class)
  void findsEveryLineAndTheUpsideDownOne(Backend backend) throws Exception {
    StringWriter text = new StringWriter();
    Path png = dir.resolve("demo.png");
    Result r = OcrDemo.run(new OcrDemo.Options(ModelOptions.defaults().withBackend(backend), png, 0), new PrintWriter(text, true));
    String out = text.toString();

    assertThat(r.detections()).as(out).hasSameSizeAs(r.input().lines());
    for (int i = 0; i < r.detections().size(); i++) {
      Detection d = r.detections().get(i);
      TextImage.Line line = r.input().lines().get(i);
      assertThat(OcrDemo.matchingLine(d.box(), r.input().lines())).as("box %d: %s\n%s", i, d, out).contains(line.text());
      assertThat(d.box().score()).as("box %d score\n%s", i, out).isGreaterThan(0.8f);
      assertThat(d.upsideDown()).as("box %d direction: %s\n%s", i, d, out).isEqualTo(line.upsideDown());
      assertThat(d.text()).as("box %d text\n%s", i, out).isEqualTo(line.text());
      assertThat(Math.max(d.p0(), d.p180())).as("box %d confidence\n%s", i, out).isGreaterThan(0.9f);
      assertThat(d.p0() + d.p180()).isCloseTo(1f, org.assertj.core.api.Assertions.within(1e-3f));
      // The box covers the ink of its line.
      java.awt.Rectangle box = new java.awt.Rectangle(d.box().x(), d.box().y(), d.box().w(), d.box().h());
      java.awt.Rectangle ink = line.ink();
      assertThat(box.intersection(ink).width * box.intersection(ink).height)
          .as("box %d covers most of the ink of %s\n%s", i, line, out)
          .isGreaterThan((int) (0.9 * ink.width * ink.height));
    }
    assertThat(out).contains("read     " + r.input().lines().size() + " of " + r.input().lines().size() + " drawn lines exactly");
    assertThat(out).contains("png      " + png.toAbsolutePath());
    assertThat(Files.exists(png)).isTrue();
    BufferedImage written = ImageIO.read(png.toFile());
    assertThat(written.getWidth()).isEqualTo(TextImage.WIDTH);
    assertThat(written.getHeight()).isEqualTo(TextImage.HEIGHT);
  }
}
