package dev.vfuse.spark;

import java.util.PriorityQueue;

/** Argmax and top-k over a flat output, in {@link Float#compare} order (NaN above everything); ties go to the lower index. */
final class TopK {
  private TopK() {}

  static int argmax(float[] v) {
    int best = 0;
    for (int i = 1; i < v.length; i++) {
      if (Float.compare(v[i], v[best]) > 0) {
        best = i;
      }
    }
    return v.length == 0 ? -1 : best;
  }

  /** The indices of the {@code min(k, v.length)} largest values, largest first. */
  static int[] indices(float[] v, int k) {
    int n = Math.min(k, v.length);
    // A min-heap of the best n so far; the worst (smallest value, then highest index) on top.
    PriorityQueue<Integer> heap = new PriorityQueue<>(n + 1, (a, b) -> {
      int c = Float.compare(v[a], v[b]);
      return c != 0 ? c : Integer.compare(b, a);
    });
    for (int i = 0; i < v.length; i++) {
      heap.add(i);
      if (heap.size() > n) {
        heap.poll();
      }
    }
    int[] out = new int[n];
    for (int i = n - 1; i >= 0; i--) {
      out[i] = heap.poll();
    }
    return out;
  }
}
