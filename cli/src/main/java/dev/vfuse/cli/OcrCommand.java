package dev.vfuse.cli;

import com.google.gson.stream.JsonWriter;
import dev.vfuse.VfuseException;
import dev.vfuse.ocr.Ocr;
import dev.vfuse.ocr.Recognizer;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code vfuse ocr IMAGE... [--json] [--out FILE.png|DIR] [--rec v3|v4] [--backend …] [--threads T]}:
 * reads the text of PNG or JPEG images with {@link Ocr} (PaddleOCR det → cls → rec in pure Java).
 *
 * <p>Prints one line per text region in reading order, {@code x y w h score direction text}; with
 * several images, each image's lines follow a {@code # IMAGE} line. {@code --json} prints one JSON
 * document instead. All images are read before any model loads, so a bad file fails fast.
 */
@Command(name = "ocr", mixinStandardHelpOptions = true, versionProvider = VfuseCli.Version.class, sortOptions = false,
    usageHelpAutoWidth = true,
    description = {"Read the text of PNG or JPEG images with the PaddleOCR models in pure Java: PP-OCRv3 detection,"
        + " mobile v2.0 direction classification and PP-OCRv4 (or v3) recognition.",
        "Prints one line per text region in reading order: x y w h score direction text."},
    footer = {"", "Examples:", "  vfuse ocr page.png", "  vfuse ocr scan1.jpg scan2.png --json", "  vfuse ocr page.png --out boxes.png --rec v3"})
final class OcrCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(arity = "1..*", paramLabel = "IMAGE", description = "PNG or JPEG images.")
  List<Path> images = new ArrayList<>();

  @Option(names = "--json", description = "Print the regions as JSON: {\"images\": [{\"image\", \"width\", \"height\", \"regions\": [...]}]}.")
  boolean json;

  @Option(names = "--out", paramLabel = "FILE.png|DIR",
      description = "Write each image with its regions outlined and labelled: to FILE.png for one image, into the existing"
          + " directory DIR (as NAME.png) for any number.")
  Path out;

  @Option(names = "--rec", paramLabel = "v3|v4", description = "The recognizer: PP-OCRv4 or PP-OCRv3. Default: ${DEFAULT-VALUE}.")
  String rec = Recognizer.Version.V4.toString();

  @Mixin EngineOptions engine = new EngineOptions();

  private record Page(Path path, BufferedImage image) {}

  @Override
  public Integer call() throws IOException, VfuseException {
    Recognizer.Version version;
    try {
      version = Recognizer.Version.parse(rec);
    } catch (IllegalArgumentException e) {
      throw new UsageException("--rec: " + e.getMessage());
    }
    var options = engine.toModelOptions();
    List<Path> overlays = overlayPaths();
    List<Page> pages = new ArrayList<>();
    for (Path p : images) {
      pages.add(new Page(p, readImage(p)));
    }
    PrintWriter w = spec.commandLine().getOut();
    try (Ocr ocr = Ocr.load(version, options)) {
      List<List<Ocr.Region>> results = new ArrayList<>();
      for (int i = 0; i < pages.size(); i++) {
        Page page = pages.get(i);
        List<Ocr.Region> regions = ocr.read(page.image());
        results.add(regions);
        if (!json) {
          printText(w, page, regions);
        }
        if (overlays != null) {
          try (OutputStream os = Files.newOutputStream(overlays.get(i))) {
            ImageIO.write(Ocr.overlay(page.image(), regions), "png", os);
          }
        }
      }
      if (json) {
        printJson(w, pages, results);
      }
    }
    w.flush();
    return VfuseCli.EXIT_OK;
  }

  /** Where each image's overlay goes, or null without {@code --out}. */
  private List<Path> overlayPaths() throws IOException {
    if (out == null) {
      return null;
    }
    List<Path> paths = new ArrayList<>();
    if (Files.isDirectory(out)) {
      for (Path p : images) {
        String name = p.getFileName().toString();
        int dot = name.lastIndexOf('.');
        paths.add(out.resolve((dot > 0 ? name.substring(0, dot) : name) + ".png"));
      }
      if (paths.stream().distinct().count() < paths.size()) {
        throw new UsageException("--out " + out + ": two images have the same name, so their overlays would overwrite each other");
      }
      return paths;
    }
    if (images.size() > 1) {
      throw new UsageException("--out must be an existing directory when there are several images, got " + out);
    }
    Path parent = out.toAbsolutePath().getParent();
    if (parent != null && !Files.isDirectory(parent)) {
      throw new NoSuchFileException(out.toString(), null, "directory " + parent + " does not exist");
    }
    return List.of(out);
  }

  private static BufferedImage readImage(Path p) throws IOException {
    if (!Files.isRegularFile(p)) {
      throw new NoSuchFileException(p.toString(), null, "no such image file");
    }
    BufferedImage img = ImageIO.read(p.toFile());
    if (img == null) {
      throw new IOException(p + ": not a PNG or JPEG image (no image reader understands it)");
    }
    return img;
  }

  private void printText(PrintWriter w, Page page, List<Ocr.Region> regions) {
    if (images.size() > 1) {
      w.println("# " + page.path());
    }
    for (Ocr.Region r : regions) {
      w.printf(Locale.ROOT, "%d %d %d %d %.3f %d %s%n", r.x(), r.y(), r.w(), r.h(), r.score(), r.direction(), r.text());
    }
  }

  private static void printJson(PrintWriter w, List<Page> pages, List<List<Ocr.Region>> results) throws IOException {
    JsonWriter j = new JsonWriter(w);
    j.setIndent("  ");
    j.beginObject().name("images").beginArray();
    for (int i = 0; i < pages.size(); i++) {
      Page page = pages.get(i);
      j.beginObject().name("image").value(page.path().toString()).name("width").value(page.image().getWidth())
          .name("height").value(page.image().getHeight()).name("regions").beginArray();
      for (Ocr.Region r : results.get(i)) {
        j.beginObject().name("x").value(r.x()).name("y").value(r.y()).name("w").value(r.w()).name("h").value(r.h())
            .name("score").value(round3(r.score())).name("direction").value(r.direction()).name("text").value(r.text())
            .name("confidence").value(round3(r.confidence())).endObject();
      }
      j.endArray().endObject();
    }
    j.endArray().endObject();
    j.flush();
    w.println();
  }

  private static double round3(float v) {
    return Math.round(v * 1000.0) / 1000.0;
  }
}
