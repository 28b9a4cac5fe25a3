package dev.vfuse.ocr;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class CtcDecoderTest {

  /** Columns of one-hot-ish probabilities over the classes blank, a, b, space. */
  private static float[] columns(int... best) {
    float[] p = new float[best.length * 4];
    for (int t = 0; t < best.length; t++) {
      for (int k = 0; k < 4; k++) {
        p[t * 4 + k] = k == best[t] ? 0.7f : 0.1f;
      }
    }
    return p;
  }

  @Test
  void collapsesRepeatsAndDropsBlanks() {
    CtcDecoder d = CtcDecoder.ofKeys("a\nb");
    assertThat(d.classes()).isEqualTo(4);
    // a a _ a b b _ _ ␠ b  →  "aab b": a blank separates the two a's, repeats collapse.
    CtcDecoder.Decoded r = d.decode(columns(1, 1, 0, 1, 2, 2, 0, 0, 3, 2), 0, 10);
    assertThat(r.text()).isEqualTo("aab b");
    assertThat(r.confidence()).isEqualTo(0.7f);
    assertThat(d.decode(columns(0, 0), 0, 2)).isEqualTo(new CtcDecoder.Decoded("", 0f));
    assertThatThrownBy(() -> d.decode(new float[7], 0, 2)).isInstanceOf(IllegalArgumentException.class);
  }

  /** ppocr_keys_v1.txt has 6623 lines; with the space and the blank that is the recognizers' 6625 classes. */
  @Test
  void paddleKeysGiveTheRecognizersClassCount() throws Exception {
    try (InputStream in = getClass().getResourceAsStream("/" + Recognizer.KEYS)) {
      CtcDecoder d = CtcDecoder.ofKeys(new String(in.readAllBytes(), StandardCharsets.UTF_8));
      assertThat(d.classes()).isEqualTo(6625);
    }
  }
}
