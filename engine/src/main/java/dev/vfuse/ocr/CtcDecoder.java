package dev.vfuse.ocr;

import java.util.List;

/**
 * Greedy CTC decoding of a recognizer's output [T, C] (per-column class probabilities): the most
 * probable class of each column, repeats collapsed, blanks dropped. Class 0 is the blank and class
 * i ≥ 1 the character {@code characters.get(i − 1)}, as PaddleOCR's {@code CTCLabelDecode} reads
 * {@code ppocr_keys_v1.txt} with {@code use_space_char}: the file's 6623 lines, then a space,
 * 6624 characters and the blank, the 6625 classes of the PP-OCR v3 and v4 recognizers.
 */
public final class CtcDecoder {
  private final List<String> characters;

  /** @param characters the characters of classes 1..N, in class order */
  public CtcDecoder(List<String> characters) {
    this.characters = List.copyOf(characters);
  }

  /** The PaddleOCR dictionary: the key file's lines (without line ends), then the space. */
  public static CtcDecoder ofKeys(String keyFile) {
    List<String> lines = new java.util.ArrayList<>(keyFile.lines().toList());
    lines.add(" ");
    return new CtcDecoder(lines);
  }

  /** The number of classes this decoder reads: the characters and the blank. */
  public int classes() {
    return characters.size() + 1;
  }

  /** A decoded line: the text and its confidence, the mean of the kept columns' probabilities (0 for no text). */
  public record Decoded(String text, float confidence) {}

  /**
   * Decodes columns {@code [0, steps)} of {@code probs}, read as [steps, classes] from {@code offset}.
   *
   * @throws IllegalArgumentException when the array is too short
   */
  public Decoded decode(float[] probs, int offset, int steps) {
    int c = classes();
    if (offset < 0 || (long) offset + (long) steps * c > probs.length) {
      throw new IllegalArgumentException(steps + " steps of " + c + " classes from " + offset + " exceed " + probs.length + " values");
    }
    StringBuilder text = new StringBuilder();
    double sum = 0;
    int kept = 0;
    int previous = 0;
    for (int t = 0; t < steps; t++) {
      int base = offset + t * c;
      int best = 0;
      float bestP = probs[base];
      for (int k = 1; k < c; k++) {
        if (probs[base + k] > bestP) {
          bestP = probs[base + k];
          best = k;
        }
      }
      if (best != 0 && best != previous) {
        text.append(characters.get(best - 1));
        sum += bestP;
        kept++;
      }
      previous = best;
    }
    return new Decoded(text.toString(), kept == 0 ? 0f : (float) (sum / kept));
  }
}
