package dev.vfuse.io;

import dev.vfuse.ElementType;
import dev.vfuse.Tensor;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes NumPy {@code .npy} files, C order only.
 *
 * <p>Read: format versions 1.0, 2.0 and 3.0; dtype {@code <f4} gives a FLOAT32 tensor, {@code <i8}
 * an INT64 tensor, and {@code <f8} a FLOAT32 tensor whose values are rounded to the nearest float
 * (values beyond the float range become infinite). Everything else (Fortran order, big-endian or
 * other dtypes, structured arrays, a truncated file, a shape that disagrees with the number of data
 * bytes, rank above 8) fails with an {@link NpyFormatException} whose one-line message names the
 * file and the problem.
 *
 * <p>Write: format version 1.0, FLOAT32 as {@code <f4} and INT64 as {@code <i8}, the header padded
 * to a multiple of 64 bytes as NumPy does, so {@code numpy.load} reads the file back.
 *
 * <p>Layout of a file: the magic {@code \x93NUMPY}, major and minor version bytes, the header
 * length (uint16 little-endian for 1.0, uint32 for 2.0 and 3.0), the header (a Python dict literal
 * such as {@code {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }}, Latin-1 for 1.0 and
 * 2.0, UTF-8 for 3.0, padded with spaces and ended by a newline), then the raw data.
 */
public final class Npy {
  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final int MAX_RANK = 8;
  private static final int HEADER_ALIGN = 64;

  private Npy() {}

  /** Reads a .npy file; messages name the file as {@code path} was given. */
  public static Tensor read(Path path) throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(path);
    } catch (NoSuchFileException e) {
      throw new NoSuchFileException(path.toString(), null, "no such file");
    } catch (AccessDeniedException e) {
      throw new AccessDeniedException(path.toString(), null, "permission denied");
    } catch (FileSystemException e) {
      throw e;
    } catch (IOException e) {
      throw new IOException(path + ": " + e.getMessage(), e);
    } catch (OutOfMemoryError e) {
      throw new NpyFormatException(path.toString(), "file too large to read (" + Files.size(path) + " bytes)");
    }
    return read(bytes, path.toString());
  }

  /** Parses the bytes of a .npy file; {@code source} names it in error messages. */
  public static Tensor read(byte[] bytes, String source) throws NpyFormatException {
    if (bytes.length < MAGIC.length + 2 || !Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
      throw new NpyFormatException(source, "not a NumPy .npy file (missing \\x93NUMPY magic)");
    }
    int major = bytes[6] & 0xff;
    int minor = bytes[7] & 0xff;
    int lengthBytes;
    switch (major) {
      case 1 -> lengthBytes = 2;
      case 2, 3 -> lengthBytes = 4;
      default -> throw new NpyFormatException(source, "unsupported .npy format version " + major + "." + minor + " (expected 1.0, 2.0 or 3.0)");
    }
    int headerStart = 8 + lengthBytes;
    if (bytes.length < headerStart) {
      throw new NpyFormatException(source, "truncated: the file ends inside the header length");
    }
    long headerLength = 0;
    for (int i = 0; i < lengthBytes; i++) {
      headerLength |= (long) (bytes[8 + i] & 0xff) << (8 * i);
    }
    if (headerStart + headerLength > bytes.length) {
      throw new NpyFormatException(source, "truncated: header of " + headerLength + " bytes but only " + (bytes.length - headerStart) + " bytes follow");
    }
    int dataStart = (int) (headerStart + headerLength);
    String header = new String(bytes, headerStart, (int) headerLength,
        major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);

    Header h = parseHeader(header, source);
    long count = 1;
    for (int d : h.shape) {
      count *= d;
      if (count > Integer.MAX_VALUE) {
        throw new NpyFormatException(source, "shape " + shapeString(h.shape) + " has more than " + Integer.MAX_VALUE + " elements");
      }
    }
    long expected = count * h.dtype.bytes;
    long actual = bytes.length - dataStart;
    if (actual < expected) {
      throw new NpyFormatException(source, "truncated: shape " + shapeString(h.shape) + " " + h.dtype.descr + " needs " + expected
          + " data bytes but the file has " + actual);
    }
    if (actual > expected) {
      throw new NpyFormatException(source, "shape " + shapeString(h.shape) + " " + h.dtype.descr + " needs " + expected
          + " data bytes but the file has " + actual + " (shape disagrees with data length)");
    }
    ByteBuffer data = ByteBuffer.wrap(bytes, dataStart, (int) expected).slice().order(ByteOrder.LITTLE_ENDIAN);
    int n = (int) count;
    return switch (h.dtype) {
      case F4 -> {
        float[] f = new float[n];
        data.asFloatBuffer().get(f);
        yield Tensor.ofFloats(h.shape, f);
      }
      case F8 -> {
        double[] d = new double[n];
        data.asDoubleBuffer().get(d);
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
          f[i] = (float) d[i];
        }
        yield Tensor.ofFloats(h.shape, f);
      }
      case I8 -> {
        long[] l = new long[n];
        data.asLongBuffer().get(l);
        yield Tensor.ofLongs(h.shape, l);
      }
    };
  }

  /** Writes {@code tensor} as a version 1.0 .npy file, replacing {@code path} if it exists. */
  public static void write(Path path, Tensor tensor) throws IOException {
    byte[] bytes = toBytes(tensor);
    try (OutputStream out = Files.newOutputStream(path)) {
      out.write(bytes);
    }
  }

  /** The bytes of a version 1.0 .npy file holding {@code tensor}. */
  public static byte[] toBytes(Tensor tensor) {
    Dtype dtype = tensor.elementType() == ElementType.INT64 ? Dtype.I8 : Dtype.F4;
    byte[] header = headerBytes(dtype, tensor.shape());
    long dataBytes = (long) tensor.size() * dtype.bytes;
    if (header.length + dataBytes > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("tensor " + tensor + " is too large for a single .npy byte array");
    }
    ByteBuffer buf = ByteBuffer.allocate(header.length + (int) dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    buf.put(header);
    if (dtype == Dtype.F4) {
      buf.asFloatBuffer().put(tensor.floats());
    } else {
      buf.asLongBuffer().put(tensor.longs());
    }
    return buf.array();
  }

  /** Magic, version 1.0, length and the padded header dict, a multiple of 64 bytes in all. */
  static byte[] headerBytes(Dtype dtype, int[] shape) {
    StringBuilder dict = new StringBuilder("{'descr': '").append(dtype.descr)
        .append("', 'fortran_order': False, 'shape': ").append(shapeString(shape)).append(", }");
    int unpadded = MAGIC.length + 2 + 2 + dict.length() + 1;
    int padded = (unpadded + HEADER_ALIGN - 1) / HEADER_ALIGN * HEADER_ALIGN;
    dict.append(" ".repeat(padded - unpadded)).append('\n');
    byte[] text = dict.toString().getBytes(StandardCharsets.ISO_8859_1);
    byte[] out = new byte[padded];
    System.arraycopy(MAGIC, 0, out, 0, MAGIC.length);
    out[6] = 1;
    out[7] = 0;
    out[8] = (byte) (text.length & 0xff);
    out[9] = (byte) (text.length >>> 8);
    System.arraycopy(text, 0, out, 10, text.length);
    return out;
  }

  /** A shape as a Python tuple: {@code ()}, {@code (5,)}, {@code (2, 3)}. */
  static String shapeString(int[] shape) {
    if (shape.length == 1) {
      return "(" + shape[0] + ",)";
    }
    StringBuilder sb = new StringBuilder("(");
    for (int i = 0; i < shape.length; i++) {
      sb.append(i > 0 ? ", " : "").append(shape[i]);
    }
    return sb.append(')').toString();
  }

  /** The dtypes vfuse reads, all little-endian. */
  enum Dtype {
    F4("<f4", 4), F8("<f8", 8), I8("<i8", 8);

    final String descr;
    final int bytes;

    Dtype(String descr, int bytes) {
      this.descr = descr;
      this.bytes = bytes;
    }
  }

  private record Header(Dtype dtype, int[] shape) {}

  private static Header parseHeader(String header, String source) throws NpyFormatException {
    Map<String, Object> dict;
    try {
      Object parsed = new DictParser(header.strip()).parseWhole();
      if (!(parsed instanceof Map<?, ?> m)) {
        throw new NpyFormatException(source, "malformed header: expected a dict, got '" + oneLine(header) + "'");
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> typed = (Map<String, Object>) m;
      dict = typed;
    } catch (IllegalArgumentException e) {
      throw new NpyFormatException(source, "malformed header (" + e.getMessage() + "): '" + oneLine(header) + "'");
    }
    for (String key : List.of("descr", "fortran_order", "shape")) {
      if (!dict.containsKey(key)) {
        throw new NpyFormatException(source, "malformed header: no '" + key + "' key in '" + oneLine(header) + "'");
      }
    }
    Object descr = dict.get("descr");
    if (!(descr instanceof String d)) {
      throw new NpyFormatException(source, "structured dtype " + descr + " is not supported; save a plain float32 or int64 array");
    }
    Dtype dtype = switch (d) {
      case "<f4" -> Dtype.F4;
      case "<f8" -> Dtype.F8;
      case "<i8" -> Dtype.I8;
      default -> {
        if (d.startsWith(">")) {
          throw new NpyFormatException(source, "big-endian dtype '" + d + "' is not supported; save with '<" + d.substring(1) + "'");
        }
        throw new NpyFormatException(source, "dtype '" + d + "' is not supported (expected '<f4' float32, '<f8' float64 or '<i8' int64)");
      }
    };
    Object fortran = dict.get("fortran_order");
    if (!(fortran instanceof Boolean f)) {
      throw new NpyFormatException(source, "malformed header: fortran_order is " + fortran + ", expected True or False");
    }
    if (f) {
      throw new NpyFormatException(source, "Fortran-order arrays are not supported; save a C-order array (numpy.ascontiguousarray)");
    }
    Object shapeObj = dict.get("shape");
    if (!(shapeObj instanceof List<?> dims)) {
      throw new NpyFormatException(source, "malformed header: shape is " + shapeObj + ", expected a tuple");
    }
    if (dims.size() > MAX_RANK) {
      throw new NpyFormatException(source, "rank " + dims.size() + " exceeds the maximum of " + MAX_RANK);
    }
    int[] shape = new int[dims.size()];
    for (int i = 0; i < shape.length; i++) {
      if (!(dims.get(i) instanceof Long v) || v < 0 || v > Integer.MAX_VALUE) {
        throw new NpyFormatException(source, "malformed header: dimension " + i + " of shape is " + dims.get(i));
      }
      shape[i] = (int) (long) v;
    }
    return new Header(dtype, shape);
  }

  private static String oneLine(String s) {
    String t = s.strip().replace('\n', ' ').replace('\r', ' ');
    return t.length() > 120 ? t.substring(0, 117) + "..." : t;
  }

  /**
   * Parses the Python literal subset NumPy writes: dicts, tuples and lists, quoted strings, ints
   * (with an optional legacy {@code L} suffix), True, False and None. Throws
   * IllegalArgumentException on anything else.
   */
  private static final class DictParser {
    private final String s;
    private int pos;

    DictParser(String s) {
      this.s = s;
    }

    Object parseWhole() {
      Object v = value();
      skipSpace();
      if (pos != s.length()) {
        throw error("unexpected text after the dict");
      }
      return v;
    }

    private Object value() {
      skipSpace();
      if (pos >= s.length()) {
        throw error("unexpected end");
      }
      char c = s.charAt(pos);
      return switch (c) {
        case '{' -> dict();
        case '(' -> sequence('(', ')');
        case '[' -> sequence('[', ']');
        case '\'', '"' -> string();
        default -> {
          if (c == '-' || Character.isDigit(c)) {
            yield integer();
          }
          yield word();
        }
      };
    }

    private Map<String, Object> dict() {
      Map<String, Object> m = new LinkedHashMap<>();
      pos++;
      while (true) {
        skipSpace();
        if (peek() == '}') {
          pos++;
          return m;
        }
        Object key = value();
        if (!(key instanceof String k)) {
          throw error("dict key is not a string");
        }
        skipSpace();
        expect(':');
        m.put(k, value());
        skipSpace();
        if (peek() == ',') {
          pos++;
        } else if (peek() != '}') {
          throw error("expected ',' or '}'");
        }
      }
    }

    private List<Object> sequence(char open, char close) {
      List<Object> items = new ArrayList<>();
      pos++;
      while (true) {
        skipSpace();
        if (peek() == close) {
          pos++;
          return items;
        }
        items.add(value());
        skipSpace();
        if (peek() == ',') {
          pos++;
        } else if (peek() != close) {
          throw error("expected ',' or '" + close + "'");
        }
      }
    }

    private String string() {
      char quote = s.charAt(pos++);
      int end = s.indexOf(quote, pos);
      if (end < 0) {
        throw error("unterminated string");
      }
      String v = s.substring(pos, end);
      pos = end + 1;
      return v;
    }

    private Long integer() {
      int start = pos;
      if (peek() == '-') {
        pos++;
      }
      while (pos < s.length() && Character.isDigit(s.charAt(pos))) {
        pos++;
      }
      String digits = s.substring(start, pos);
      if (pos < s.length() && (s.charAt(pos) == 'L' || s.charAt(pos) == 'l')) {
        pos++;
      }
      try {
        return Long.parseLong(digits);
      } catch (NumberFormatException e) {
        throw error("bad integer '" + digits + "'");
      }
    }

    private Object word() {
      int start = pos;
      while (pos < s.length() && Character.isLetter(s.charAt(pos))) {
        pos++;
      }
      String w = s.substring(start, pos);
      return switch (w) {
        case "True" -> Boolean.TRUE;
        case "False" -> Boolean.FALSE;
        case "None" -> "None";
        default -> throw error(w.isEmpty() ? "unexpected character '" + s.charAt(start) + "'" : "unexpected word '" + w + "'");
      };
    }

    private void expect(char c) {
      if (peek() != c) {
        throw error("expected '" + c + "'");
      }
      pos++;
    }

    private char peek() {
      return pos < s.length() ? s.charAt(pos) : '\0';
    }

    private void skipSpace() {
      while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
        pos++;
      }
    }

    private IllegalArgumentException error(String what) {
      return new IllegalArgumentException(what + " at offset " + pos);
    }
  }
}
