package dev.vfuse.spark;

import dev.vfuse.Tensor;
import dev.vfuse.demo.Preprocess;
import dev.vfuse.demo.RgbImage;
import dev.vfuse.io.Npy;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Row;

/**
 * Turns one row's input cell into a tensor, as {@link InferenceOptions#inputFormat()} says: a
 * {@code .npy} path or bytes, an image path or bytes (with the PP-OCR preprocessing), or a float
 * array with its shape. A path may be a plain path or a {@code file:} URI (what Spark's {@code
 * binaryFile} source puts in its {@code path} column). Any problem is an {@link IOException} or
 * {@link IllegalArgumentException} whose message says what is wrong with that row.
 */
final class Inputs {
  private Inputs() {}

  static Tensor decode(Row row, int column, int shapeColumn, InferenceOptions o) throws IOException {
    if (row.isNullAt(column)) {
      throw new IllegalArgumentException("input column '" + o.inputColumn() + "' is null");
    }
    Object cell = row.get(column);
    return switch (o.inputFormat()) {
      case NPY -> cell instanceof byte[] b ? Npy.read(b, "row bytes") : Npy.read(path(cell));
      case IMAGE -> preprocess(image(cell), o.image());
      case FLOATS -> floats(row, column, shapeColumn, o);
    };
  }

  /** A path cell as a local path: plain, or a {@code file:} URI. */
  static Path path(Object cell) {
    String s = cell.toString();
    return s.startsWith("file:") ? Path.of(URI.create(s)) : Path.of(s);
  }

  private static RgbImage image(Object cell) throws IOException {
    BufferedImage img;
    String source;
    if (cell instanceof byte[] b) {
      img = ImageIO.read(new ByteArrayInputStream(b));
      source = "row bytes";
    } else {
      Path p = path(cell);
      source = p.toString();
      try (var in = Files.newInputStream(p)) {
        img = ImageIO.read(in);
      }
    }
    if (img == null) {
      throw new IOException(source + ": not an image ImageIO can read");
    }
    return RgbImage.of(img);
  }

  static Tensor preprocess(RgbImage img, InferenceOptions.ImagePreprocess how) {
    return switch (how) {
      case DET -> Tensor.ofFloats(new int[] {1, 3, img.height(), img.width()}, Preprocess.detInput(img));
      case CLS -> Tensor.ofFloats(new int[] {1, 3, Preprocess.CLS_HEIGHT, Preprocess.CLS_WIDTH},
          Preprocess.clsInput(List.of(img)));
      case REC -> Tensor.ofFloats(new int[] {1, 3, Preprocess.REC_HEIGHT,
          Preprocess.recInputWidth(img.width(), img.height())}, Preprocess.recInput(img));
    };
  }

  private static Tensor floats(Row row, int column, int shapeColumn, InferenceOptions o) {
    if (row.isNullAt(shapeColumn)) {
      throw new IllegalArgumentException("shape column '" + o.shapeColumn() + "' is null");
    }
    List<Object> values = row.getList(column);
    List<Object> dims = row.getList(shapeColumn);
    int[] shape = new int[dims.size()];
    long count = 1;
    for (int i = 0; i < shape.length; i++) {
      Object d = dims.get(i);
      if (d == null || ((Number) d).longValue() < 0 || ((Number) d).longValue() > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("shape " + dims + " has a null, negative or too large dimension");
      }
      shape[i] = ((Number) d).intValue();
      count *= shape[i];
    }
    if (count != values.size()) {
      throw new IllegalArgumentException("shape " + dims + " holds " + count + " values, the row has " + values.size());
    }
    float[] data = new float[values.size()];
    for (int i = 0; i < data.length; i++) {
      Object v = values.get(i);
      if (v == null) {
        throw new IllegalArgumentException("input value " + i + " is null");
      }
      data[i] = ((Number) v).floatValue();
    }
    return Tensor.ofFloats(shape, data);
  }
}
