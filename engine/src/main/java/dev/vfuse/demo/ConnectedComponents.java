package dev.vfuse.demo;

import java.util.ArrayList;
import java.util.List;

/**
 * 8-connected component labelling of a binary mask: a pixel joins every set neighbour it touches
 * by an edge or a corner. Components are numbered 1, 2, … in the raster order of their first
 * (top-most, then left-most) pixel; 0 is background. Iterative flood fill, so large components
 * cannot overflow the stack.
 */
public final class ConnectedComponents {
  private ConnectedComponents() {}

  /**
   * One component: its label, its bounding box (inclusive pixel coordinates) and its pixel count.
   */
  public record Component(int label, int minX, int minY, int maxX, int maxY, int pixels) {
    public int width() {
      return maxX - minX + 1;
    }

    public int height() {
      return maxY - minY + 1;
    }
  }

  /**
   * The labelling of a mask.
   *
   * @param labels per pixel, the component label or 0
   * @param components in label order: {@code components.get(k - 1).label() == k}
   */
  public record Labeling(int width, int height, int[] labels, List<Component> components) {}

  /** Labels the set pixels of {@code mask}, an H×W row-major array. */
  public static Labeling label(boolean[] mask, int width, int height) {
    if ((long) width * height != mask.length) {
      throw new IllegalArgumentException("mask of " + mask.length + " pixels is not " + width + "x" + height);
    }
    int[] labels = new int[mask.length];
    List<Component> components = new ArrayList<>();
    int[] stack = new int[Math.max(16, mask.length)];
    for (int start = 0; start < mask.length; start++) {
      if (!mask[start] || labels[start] != 0) {
        continue;
      }
      int label = components.size() + 1;
      int minX = Integer.MAX_VALUE;
      int minY = Integer.MAX_VALUE;
      int maxX = -1;
      int maxY = -1;
      int count = 0;
      int top = 0;
      stack[top++] = start;
      labels[start] = label;
      while (top > 0) {
        int p = stack[--top];
        int x = p % width;
        int y = p / width;
        count++;
        minX = Math.min(minX, x);
        maxX = Math.max(maxX, x);
        minY = Math.min(minY, y);
        maxY = Math.max(maxY, y);
        for (int dy = -1; dy <= 1; dy++) {
          int ny = y + dy;
          if (ny < 0 || ny >= height) {
            continue;
          }
          for (int dx = -1; dx <= 1; dx++) {
            int nx = x + dx;
            if (nx < 0 || nx >= width) {
              continue;
            }
            int q = ny * width + nx;
            if (mask[q] && labels[q] == 0) {
              labels[q] = label; // marked when pushed, so each pixel is pushed once
              stack[top++] = q;
            }
          }
        }
      }
      components.add(new Component(label, minX, minY, maxX, maxY, count));
    }
    return new Labeling(width, height, labels, List.copyOf(components));
  }
}
