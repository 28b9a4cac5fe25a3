package dev.vfuse.cli;

import dev.vfuse.MachineProbe;
import dev.vfuse.Profile;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Locale;

/**
 * A roofline chart of a {@link Profile}, drawn with Java2D: log-log axes (FLOPs per byte moved
 * against GFLOP/s), the memory roof (bandwidth × intensity) and the compute roof (the probe's
 * single-core peak times the model's threads), and each layer that does counted work (convolutions
 * and matrix products) as a point whose area grows with its share of the run, labelled with its
 * node name.
 */
final class RooflinePlot {
  static final int WIDTH = 1400;
  static final int HEIGHT = 900;
  private static final int LEFT = 90;
  private static final int RIGHT = 40;
  private static final int TOP = 60;
  private static final int BOTTOM = 70;

  private RooflinePlot() {}

  static BufferedImage draw(Profile profile, MachineProbe probe, String title) {
    double peak = probe.peakGflops() * profile.threads();
    double bandwidth = probe.bandwidthGBs();
    List<Profile.Layer> points = profile.layers().stream().filter(l -> l.flops() > 0 && l.bytes() > 0 && l.medianNanos() > 0).toList();
    double xMin = 0.1;
    double xMax = 1000;
    double yMin = 0.1;
    double yMax = peak * 2;
    for (Profile.Layer l : points) {
      xMin = Math.min(xMin, l.flopsPerByte() / 2);
      xMax = Math.max(xMax, l.flopsPerByte() * 2);
      yMin = Math.min(yMin, l.gflopsPerSecond() / 2);
    }
    xMin = Math.pow(10, Math.floor(Math.log10(xMin)));
    xMax = Math.pow(10, Math.ceil(Math.log10(xMax)));
    yMin = Math.pow(10, Math.floor(Math.log10(yMin)));
    yMax = Math.pow(10, Math.ceil(Math.log10(yMax)));
    Axes axes = new Axes(xMin, xMax, yMin, yMax);

    BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, WIDTH, HEIGHT);

      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
      for (int e = (int) Math.round(Math.log10(xMin)); e <= Math.round(Math.log10(xMax)); e++) {
        double x = axes.x(Math.pow(10, e));
        g.setColor(new Color(225, 225, 225));
        g.draw(new Line2D.Double(x, TOP, x, HEIGHT - BOTTOM));
        g.setColor(Color.DARK_GRAY);
        g.drawString(tick(e), (float) x - 10, HEIGHT - BOTTOM + 18);
      }
      for (int e = (int) Math.round(Math.log10(yMin)); e <= Math.round(Math.log10(yMax)); e++) {
        double y = axes.y(Math.pow(10, e));
        g.setColor(new Color(225, 225, 225));
        g.draw(new Line2D.Double(LEFT, y, WIDTH - RIGHT, y));
        g.setColor(Color.DARK_GRAY);
        g.drawString(tick(e), LEFT - 45, (float) y + 4);
      }
      g.setColor(Color.BLACK);
      g.drawRect(LEFT, TOP, WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
      g.drawString("arithmetic intensity (FLOP per byte moved, compulsory traffic)", WIDTH / 2f - 200, HEIGHT - 25);
      g.rotate(-Math.PI / 2);
      g.drawString("GFLOP/s", -HEIGHT / 2f - 30, 30);
      g.rotate(Math.PI / 2);
      g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
      g.drawString(title, LEFT, 30);
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
      g.drawString(String.format(Locale.ROOT, "%s · %d thread(s) · compute roof %.0f GFLOP/s · memory roof %.1f GB/s · ridge %.1f FLOP/B",
          profile.backend(), profile.threads(), peak, bandwidth, peak / bandwidth), LEFT, 50);

      // the roofs: min(peak, bandwidth · intensity)
      double ridge = peak / bandwidth;
      g.setStroke(new BasicStroke(2.5f));
      g.setColor(new Color(30, 90, 200));
      g.draw(new Line2D.Double(axes.x(xMin), axes.y(Math.max(yMin, bandwidth * xMin)), axes.x(Math.min(ridge, xMax)),
          axes.y(Math.min(peak, bandwidth * Math.min(ridge, xMax)))));
      g.setColor(new Color(200, 60, 30));
      if (ridge < xMax) {
        g.draw(new Line2D.Double(axes.x(Math.max(ridge, xMin)), axes.y(peak), axes.x(xMax), axes.y(peak)));
      }
      g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 12));
      g.drawString(String.format(Locale.ROOT, "peak %.0f GFLOP/s (FMA probe × %d)", peak, profile.threads()),
          (float) axes.x(Math.max(ridge, xMin)) + 10, (float) axes.y(peak) - 6);
      g.setColor(new Color(30, 90, 200));
      double labelX = Math.max(xMin * 3, Math.min(ridge / 30, xMax));
      g.drawString(String.format(Locale.ROOT, "%.1f GB/s (triad)", bandwidth), (float) axes.x(labelX),
          (float) axes.y(Math.max(yMin, bandwidth * labelX)) - 10);

      // the layers
      g.setStroke(new BasicStroke(1f));
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
      FontMetrics fm = g.getFontMetrics();
      for (Profile.Layer l : points) {
        double share = (double) l.medianNanos() / profile.medianRunNanos();
        double r = 3 + 25 * Math.sqrt(share);
        double x = axes.x(l.flopsPerByte());
        double y = axes.y(l.gflopsPerSecond());
        g.setColor(new Color(20, 150, 70, 120));
        g.fill(new Ellipse2D.Double(x - r, y - r, 2 * r, 2 * r));
        g.setColor(new Color(10, 90, 40));
        g.draw(new Ellipse2D.Double(x - r, y - r, 2 * r, 2 * r));
        g.setColor(Color.BLACK);
        String label = l.node();
        g.drawString(label, (float) (x + r + 2), (float) (y + fm.getAscent() / 2.0 - 1));
      }
    } finally {
      g.dispose();
    }
    return image;
  }

  private static String tick(int exponent) {
    double v = Math.pow(10, exponent);
    return exponent >= 0 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%." + -exponent + "f", v);
  }

  /** Log-log mapping of the plot area. */
  private record Axes(double xMin, double xMax, double yMin, double yMax) {
    double x(double v) {
      return LEFT + (WIDTH - LEFT - RIGHT) * (Math.log10(v) - Math.log10(xMin)) / (Math.log10(xMax) - Math.log10(xMin));
    }

    double y(double v) {
      return HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * (Math.log10(v) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin));
    }
  }
}
