package dev.vfuse.models;

import dev.vfuse.Tensor;
import dev.vfuse.demo.Preprocess;
import dev.vfuse.demo.RgbImage;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Seeded synthetic document images for the PaddleOCR models: lines of text in several sizes and
 * shades on tinted paper, some upside down; the detector's input is the page, the classifier's a
 * line crop. Calibration and evaluation use disjoint seeds.
 */
final class TextSamples {
  private static final String[] WORDS = {"vfuse", "quantized", "weights", "int8", "bias", "correction", "Java",
      "invoice", "total", "2026", "model", "layer", "kernel", "vector", "ONNX", "batch", "norm", "fold", "text",
      "detect", "receipt", "amount", "date", "Paddle", "OCR", "price", "12.50", "EUR", "street", "north"};

  private TextSamples() {}

  /** A page [1, 3, h, w] for the detector. */
  static Tensor page(long seed, int w, int h) {
    return Tensor.ofFloats(new int[] {1, 3, h, w}, Preprocess.detInput(RgbImage.of(render(seed, w, h, null))));
  }

  /** n line crops [n, 3, 48, 192] for the classifier; about a third are upside down. */
  static Tensor lines(long seed, int n) {
    List<RgbImage> crops = new ArrayList<>();
    SplittableRandom r = new SplittableRandom(seed);
    for (int i = 0; i < n; i++) {
      int w = 160 + r.nextInt(240);
      int h = 36 + r.nextInt(20);
      crops.add(RgbImage.of(render(r.nextLong(), w, h, r.nextInt(3) == 0)));
    }
    return Tensor.ofFloats(new int[] {n, 3, Preprocess.CLS_HEIGHT, Preprocess.CLS_WIDTH}, Preprocess.clsInput(crops));
  }

  /** Lines of words; {@code oneLineUpsideDown} null for a page of several lines. */
  private static BufferedImage render(long seed, int w, int h, Boolean oneLineUpsideDown) {
    System.setProperty("java.awt.headless", "true");
    SplittableRandom r = new SplittableRandom(seed);
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    try {
      int paper = 215 + r.nextInt(40);
      g.setColor(new Color(paper, paper - r.nextInt(15), paper - r.nextInt(25)));
      g.fillRect(0, 0, w, h);
      g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      int lines = oneLineUpsideDown == null ? 2 + r.nextInt(4) : 1;
      for (int i = 0; i < lines; i++) {
        int size = oneLineUpsideDown == null ? 18 + r.nextInt(26) : (int) (h * 0.7);
        g.setFont(new Font(Font.SANS_SERIF, r.nextBoolean() ? Font.BOLD : Font.PLAIN, size));
        int ink = r.nextInt(90);
        g.setColor(new Color(ink, ink, ink + r.nextInt(40)));
        StringBuilder text = new StringBuilder();
        for (int k = 0, words = 2 + r.nextInt(4); k < words; k++) {
          text.append(k == 0 ? "" : " ").append(WORDS[r.nextInt(WORDS.length)]);
        }
        int x = oneLineUpsideDown == null ? r.nextInt(Math.max(1, w / 3)) : 4;
        int baseline = oneLineUpsideDown == null ? (i + 1) * h / (lines + 1) + size / 3 : (int) (h * 0.78);
        boolean flip = oneLineUpsideDown == null ? r.nextInt(5) == 0 : oneLineUpsideDown;
        AffineTransform saved = g.getTransform();
        if (flip) {
          g.rotate(Math.PI, x + g.getFontMetrics().stringWidth(text.toString()) / 2.0, baseline - size / 3.0);
        }
        g.drawString(text.toString(), x, baseline);
        g.setTransform(saved);
      }
    } finally {
      g.dispose();
    }
    return img;
  }
}
