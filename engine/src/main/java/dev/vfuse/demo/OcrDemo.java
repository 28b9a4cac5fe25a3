package dev.vfuse.demo;

import dev.vfuse.Model;
import dev.vfuse.ModelOptions;
import dev.vfuse.Tensor;
import dev.vfuse.VfuseException;
import dev.vfuse.demo.DbPostProcess.TextBox;
import dev.vfuse.ocr.Ocr;
import dev.vfuse.ocr.Recognizer;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * Text detection, direction classification and recognition with the real PaddleOCR models, on an
 * image drawn by {@link TextImage}: the detector (PP-OCRv3 DBNet, [1, 3, H, W] → [1, 1, H, W]
 * probabilities) finds the lines, {@link DbPostProcess} turns its map into boxes, the direction
 * classifier (mobile v2.0, [N, 3, 48, 192] → [N, 2] softmax for 0° and 180°) tells which lines are
 * upside down, and the recognizer (PP-OCRv4, {@link Recognizer}) reads each line, turned upright.
 * Prints whether each line was read exactly as drawn, and writes the image with the boxes drawn on
 * it: green for 0°, red for 180°.
 */
public final class OcrDemo {

  /**
   * @param model how to load both models
   * @param png where to write the annotated image
   * @param repeat extra timed runs of each model after the first, for a steady-state median (0 = none)
   */
  public record Options(ModelOptions model, Path png, int repeat) {}

  /** A detected line, the classifier's verdict and the recognized text. */
  public record Detection(TextBox box, float p0, float p180, String text) {
    public boolean upsideDown() {
      return p180 > p0;
    }
  }

  /** Everything the demo found, for tests. */
  public record Result(TextImage.Rendered input, List<Detection> detections, double detMs, double clsMs, double recMs, Path png) {}

  private OcrDemo() {}

  public static Result run(Options o, PrintWriter out) throws IOException, VfuseException {
    ModelOptions mo = o.model();
    Path parent = o.png().toAbsolutePath().getParent();
    if (parent != null && !Files.isDirectory(parent)) {
      throw new NoSuchFileException(o.png().toString(), null, "directory " + parent + " does not exist");
    }
    out.printf(Locale.ROOT, "vfuse demo: PaddleOCR text detection, direction classification and recognition (backend=%s threads=%d fuse=%s)%n",
        mo.backend().name().toLowerCase(Locale.ROOT), mo.threads(), mo.fuse() ? "on" : "off");

    TextImage.Rendered rendered = TextImage.render();
    RgbImage image = RgbImage.of(rendered.image());
    long upside = rendered.lines().stream().filter(TextImage.Line::upsideDown).count();
    out.printf(Locale.ROOT, "image    %dx%d, %d lines of black text in %s %d px, %d upside down%n",
        image.width(), image.height(), rendered.lines().size(), rendered.fontName(), TextImage.FONT_SIZE, upside);
    out.flush();

    try (Model det = load("det", DemoModels.DETECTOR, mo, out);
         Model cls = load("cls", DemoModels.CLASSIFIER, mo, out);
         Recognizer rec = loadRecognizer(mo, out)) {

      // Detection.
      Tensor detIn = Tensor.ofFloats(new int[] {1, 3, image.height(), image.width()}, Preprocess.detInput(image));
      long t0 = System.nanoTime();
      Tensor detOut = det.run(detIn);
      double detMs = (System.nanoTime() - t0) / 1e6;
      int[] ds = detOut.shape();
      if (ds.length != 4 || ds[0] != 1 || ds[1] != 1) {
        throw new VfuseException("detector output has shape " + Arrays.toString(ds) + ", expected [1, 1, H, W]");
      }
      int mh = ds[2];
      int mw = ds[3];
      DbPostProcess.Params params = DbPostProcess.Params.DEFAULT;
      List<TextBox> boxes = new ArrayList<>();
      for (TextBox b : DbPostProcess.boxes(detOut.floats(), mw, mh, params)) {
        boxes.add(DbPostProcess.scale(b, mw, mh, image.width(), image.height()));
      }
      out.printf(Locale.ROOT, "det      %s -> %s in %.1f ms (first run); %d boxes (threshold %.1f, box score >= %.1f, unclip %.1f)%n",
          Arrays.toString(detIn.shape()), Arrays.toString(ds), detMs, boxes.size(), params.threshold(), params.boxThreshold(),
          params.unclipRatio());
      out.flush();

      // Direction classification, all crops in one batch.
      List<Detection> detections = new ArrayList<>();
      double clsMs = 0;
      double recMs = 0;
      Tensor clsIn = null;
      if (!boxes.isEmpty()) {
        List<RgbImage> crops = new ArrayList<>();
        for (TextBox b : boxes) {
          crops.add(image.crop(b.x(), b.y(), b.w(), b.h()));
        }
        clsIn = Tensor.ofFloats(new int[] {boxes.size(), 3, Preprocess.CLS_HEIGHT, Preprocess.CLS_WIDTH}, Preprocess.clsInput(crops));
        t0 = System.nanoTime();
        Tensor clsOut = cls.run(clsIn);
        clsMs = (System.nanoTime() - t0) / 1e6;
        int[] cs = clsOut.shape();
        if (cs.length != 2 || cs[0] != boxes.size() || cs[1] != 2) {
          throw new VfuseException("classifier output has shape " + Arrays.toString(cs) + ", expected [" + boxes.size() + ", 2]");
        }
        out.printf(Locale.ROOT, "cls      %s -> %s in %.1f ms (first run)%n", Arrays.toString(clsIn.shape()), Arrays.toString(cs), clsMs);

        // Recognition: each line upright, at height 48 and its own width.
        float[] p = clsOut.floats();
        t0 = System.nanoTime();
        for (int i = 0; i < boxes.size(); i++) {
          TextBox b = boxes.get(i);
          RgbImage line = Ocr.lineCrop(image, b);
          boolean upsideDown = p[2 * i + 1] > p[2 * i];
          String text = rec.read(upsideDown ? Ocr.rotate180(line) : line).text();
          detections.add(new Detection(b, p[2 * i], p[2 * i + 1], text));
        }
        recMs = (System.nanoTime() - t0) / 1e6;
        out.printf(Locale.ROOT, "rec      %d lines at [1, 3, 48, W] in %.1f ms (first runs, one plan per width)%n", boxes.size(), recMs);
      } else {
        out.println("cls, rec skipped: no boxes");
      }

      out.println();
      out.println("  #    x    y    w    h  score   p(0)  p(180)  direction  read                    rendered line");
      int exact = 0;
      for (int i = 0; i < detections.size(); i++) {
        Detection d = detections.get(i);
        TextBox b = d.box();
        TextImage.Line drawn = bestLine(b, rendered.lines());
        boolean same = drawn != null && drawn.text().equals(d.text());
        exact += same ? 1 : 0;
        out.printf(Locale.ROOT, "%3d %4d %4d %4d %4d  %5.3f  %5.3f  %5.3f   %-9s  %-22s  %s%s%n", i + 1, b.x(), b.y(), b.w(), b.h(),
            b.score(), d.p0(), d.p180(), d.upsideDown() ? "180" : "0", "\"" + d.text() + "\"", matchingLine(b, rendered.lines()),
            drawn == null ? "" : same ? "  read exactly" : "  READ DIFFERENTLY");
      }
      out.printf(Locale.ROOT, "%nread     %d of %d drawn lines exactly%n%n", exact, rendered.lines().size());

      if (o.repeat() > 0) {
        double detMedian = medianMs(det, detIn, o.repeat());
        out.printf(Locale.ROOT, "timing   det median %.1f ms over %d runs", detMedian, o.repeat());
        if (clsIn != null) {
          out.printf(Locale.ROOT, ", cls median %.1f ms over %d runs", medianMs(cls, clsIn, o.repeat()), o.repeat());
        }
        out.println();
      }

      Path png = o.png().toAbsolutePath().normalize();
      BufferedImage annotated = annotate(rendered.image(), detections);
      try (OutputStream os = Files.newOutputStream(o.png())) {
        ImageIO.write(annotated, "png", os);
      }
      out.println("png      " + png);
      out.flush();
      return new Result(rendered, List.copyOf(detections), detMs, clsMs, recMs, png);
    }
  }

  private static Model load(String role, String resource, ModelOptions mo, PrintWriter out) throws IOException, VfuseException {
    DemoModels.Loaded bytes = DemoModels.read(resource);
    long t0 = System.nanoTime();
    Model m;
    try {
      m = Model.load(bytes.bytes(), mo);
    } catch (VfuseException e) {
      throw new VfuseException(null, resource + ": " + e.getMessage(), e);
    }
    double ms = (System.nanoTime() - t0) / 1e6;
    out.printf(Locale.ROOT, "%-8s %s loaded in %.1f ms, %d parameters (%s)%n", role, resource.substring(resource.lastIndexOf('/') + 1),
        ms, m.parameterCount(), bytes.source());
    out.flush();
    return m;
  }

  private static Recognizer loadRecognizer(ModelOptions mo, PrintWriter out) throws IOException, VfuseException {
    Recognizer.Version version = Recognizer.Version.V4;
    long t0 = System.nanoTime();
    Recognizer rec;
    try {
      rec = Recognizer.load(version, mo);
    } catch (VfuseException e) {
      throw new VfuseException(null, version.resource() + ": " + e.getMessage(), e);
    }
    double ms = (System.nanoTime() - t0) / 1e6;
    String resource = version.resource();
    out.printf(Locale.ROOT, "%-8s %s loaded in %.1f ms, %d parameters%n", "rec", resource.substring(resource.lastIndexOf('/') + 1), ms,
        rec.model().parameterCount());
    out.flush();
    return rec;
  }

  private static double medianMs(Model m, Tensor in, int runs) throws VfuseException {
    double[] ms = new double[runs];
    for (int i = 0; i < runs; i++) {
      long t0 = System.nanoTime();
      m.run(in);
      ms[i] = (System.nanoTime() - t0) / 1e6;
    }
    Arrays.sort(ms);
    return runs % 2 == 1 ? ms[runs / 2] : (ms[runs / 2 - 1] + ms[runs / 2]) / 2;
  }

  /** The rendered line the box overlaps most (intersection over union ≥ 0.3), quoted, or "-". */
  static String matchingLine(TextBox b, List<TextImage.Line> lines) {
    TextImage.Line l = bestLine(b, lines);
    return l == null ? "-" : "\"" + l.text() + "\"" + (l.upsideDown() ? " (drawn upside down)" : "");
  }

  /** The rendered line the box overlaps most with intersection over union ≥ 0.3, or null. */
  static TextImage.Line bestLine(TextBox b, List<TextImage.Line> lines) {
    Rectangle r = new Rectangle(b.x(), b.y(), b.w(), b.h());
    TextImage.Line best = null;
    double bestIou = 0.3;
    for (TextImage.Line l : lines) {
      Rectangle i = r.intersection(l.ink());
      if (i.isEmpty()) {
        continue;
      }
      double inter = (double) i.width * i.height;
      double iou = inter / ((double) r.width * r.height + (double) l.ink().width * l.ink().height - inter);
      if (iou >= bestIou) {
        bestIou = iou;
        best = l;
      }
    }
    return best;
  }

  /** A copy of the image with each box outlined, green for 0° and red for 180°, and its label. */
  static BufferedImage annotate(BufferedImage src, List<Detection> detections) {
    List<Overlay.Box> boxes = new ArrayList<>();
    for (Detection d : detections) {
      TextBox b = d.box();
      String label = String.format(Locale.ROOT, "%s\u00b0 p=%.2f score=%.2f", d.upsideDown() ? "180" : "0",
          Math.max(d.p0(), d.p180()), b.score());
      boxes.add(new Overlay.Box(b.x(), b.y(), b.w(), b.h(), d.upsideDown() ? Overlay.TURNED : Overlay.UPRIGHT, label));
    }
    return Overlay.draw(src, boxes);
  }
}
