package dev.vfuse.simd;

/**
 * Packed weights stored as whole panels in arrays of at most {@link #CHUNK_BYTES}, rather than in
 * one array per layer.
 *
 * <p>Why: G1 stores an array of half a region or more as a humongous object in whole regions of
 * its own, and the rest of its last region stays empty. A loaded model's largest arrays are its
 * packed weights (resnet18: 9.4 MB for a 512-channel 3×3 layer, as many for a 256-channel layer's
 * Winograd weights). With one array per layer, resnet18 held 119 MB of heap (4 MB regions, the
 * default on a 6 GB heap) for 83 MB of arrays. No chunk of at most 256 KB is humongous, whatever
 * the region size (at least 1 MB). A panel is never split: a panel longer than a chunk gets a
 * chunk of its own.
 *
 * <p>Panel p of a layer lives in chunk {@code p / perChunk} at offset {@code (p % perChunk)·panelLength}.
 */
final class WeightChunks {
  static final int CHUNK_BYTES = 1 << 18;

  private WeightChunks() {}

  /** Panels of {@code panelLength} elements of {@code elementBytes} bytes per chunk: at least one. */
  static int perChunk(int panelLength, int elementBytes) {
    return Math.max(1, CHUNK_BYTES / Math.max(1, panelLength * elementBytes));
  }

  /** Zeroed float chunks for {@code panels} panels. */
  static float[][] floats(int panels, int perChunk, int panelLength) {
    float[][] chunks = new float[Math.ceilDiv(panels, perChunk)][];
    for (int i = 0; i < chunks.length; i++) {
      chunks[i] = new float[Math.multiplyExact(Math.min(perChunk, panels - i * perChunk), panelLength)];
    }
    return chunks;
  }

  /** Zeroed byte chunks for {@code panels} panels, each with {@code slack} bytes after its last panel. */
  static byte[][] bytes(int panels, int perChunk, int panelLength, int slack) {
    byte[][] chunks = new byte[Math.ceilDiv(panels, perChunk)][];
    for (int i = 0; i < chunks.length; i++) {
      chunks[i] = new byte[Math.addExact(Math.multiplyExact(Math.min(perChunk, panels - i * perChunk), panelLength), slack)];
    }
    return chunks;
  }
}
