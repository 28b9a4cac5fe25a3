package dev.vfuse.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vfuse.ElementType;
import dev.vfuse.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class NpyTest {
  @TempDir Path dir;

  // ---- round trips ------------------------------------------------------------------------

  @ParameterizedTest
  @ValueSource(strings = {"", "0", "1", "7", "2,3", "1,3,4,5", "2,0,3", "1,1,1,1,1,1,1,2"})
  void floatRoundTrip(String dims) throws IOException {
    int[] shape = dims.isEmpty() ? new int[0] : Arrays.stream(dims.split(",")).mapToInt(Integer::parseInt).toArray();
    int n = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
    Random rnd = new Random(42 + n);
    float[] data = new float[n];
    for (int i = 0; i < n; i++) {
      data[i] = (float) rnd.nextGaussian();
    }
    if (n > 2) {
      data[0] = Float.NaN;
      data[1] = Float.NEGATIVE_INFINITY;
      data[2] = -0.0f;
    }
    Path file = dir.resolve("t.npy");
    Npy.write(file, Tensor.ofFloats(shape, data));
    Tensor back = Npy.read(file);
    assertThat(back.elementType()).isEqualTo(ElementType.FLOAT32);
    assertThat(back.shape()).as("shape %s", dims).isEqualTo(shape);
    for (int i = 0; i < n; i++) {
      assertThat(Float.floatToRawIntBits(back.getFloat(i))).as("index %d of shape %s", i, dims)
          .isEqualTo(Float.floatToRawIntBits(data[i]));
    }
  }

  @Test
  void longRoundTrip() throws IOException {
    long[] data = {Long.MIN_VALUE, -1, 0, 1, 1L << 40, Long.MAX_VALUE};
    Path file = dir.resolve("l.npy");
    Npy.write(file, Tensor.ofLongs(new int[] {2, 3}, data));
    Tensor back = Npy.read(file);
    assertThat(back.elementType()).isEqualTo(ElementType.INT64);
    assertThat(back.shape()).containsExactly(2, 3);
    assertThat(back.longs()).containsExactly(data);
  }

  @Test
  void writtenHeaderMatchesNumpyLayout() {
    byte[] bytes = Npy.toBytes(Tensor.ofFloats(new int[] {2, 3}, new float[6]));
    assertThat(Arrays.copyOf(bytes, 8)).containsExactly(0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0);
    int headerLen = (bytes[8] & 0xff) | (bytes[9] & 0xff) << 8;
    assertThat((10 + headerLen) % 64).isZero();
    String header = new String(bytes, 10, headerLen, StandardCharsets.ISO_8859_1);
    assertThat(header).startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }").endsWith("\n");
    assertThat(bytes.length).isEqualTo(10 + headerLen + 6 * 4);
    assertThat(Npy.shapeString(new int[] {})).isEqualTo("()");
    assertThat(Npy.shapeString(new int[] {5})).isEqualTo("(5,)");
  }

  // ---- hand-made headers, as NumPy and other writers produce them -----------------------------

  @Test
  void readsHandMadeVersion1Header() throws IOException {
    float[] data = {1.5f, -2f, 3.25f, 0f, 7f, 8f};
    byte[] file = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", f4(data));
    Tensor t = Npy.read(file, "hand.npy");
    assertThat(t.shape()).containsExactly(3, 2);
    assertThat(t.floats()).containsExactly(data);
  }

  @Test
  void readsVersion2And3HeadersWithOddSpacingAndQuotes() throws IOException {
    byte[] v2 = npy(2, "{\"shape\":(4,),\"descr\":\"<i8\",\"fortran_order\":False}", i8(new long[] {1, 2, 3, -4}));
    Tensor t2 = Npy.read(v2, "v2.npy");
    assertThat(t2.elementType()).isEqualTo(ElementType.INT64);
    assertThat(t2.longs()).containsExactly(1, 2, 3, -4);

    byte[] v3 = npy(3, "{ 'descr' : '<f4' , 'fortran_order' : False , 'shape' : ( 1 , 2L ) }", f4(new float[] {9f, 10f}));
    Tensor t3 = Npy.read(v3, "v3.npy");
    assertThat(t3.shape()).containsExactly(1, 2);
    assertThat(t3.floats()).containsExactly(9f, 10f);
  }

  @Test
  void readsScalar() throws IOException {
    Tensor t = Npy.read(npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", f4(new float[] {4f})), "s.npy");
    assertThat(t.rank()).isZero();
    assertThat(t.floats()).containsExactly(4f);
  }

  @Test
  void convertsFloat64ToFloat32() throws IOException {
    double[] d = {0.1, -1e300, 1e-50, 3.0};
    ByteBuffer b = ByteBuffer.allocate(d.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (double v : d) {
      b.putDouble(v);
    }
    Tensor t = Npy.read(npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", b.array()), "d.npy");
    assertThat(t.elementType()).isEqualTo(ElementType.FLOAT32);
    assertThat(t.floats()).containsExactly(0.1f, Float.NEGATIVE_INFINITY, 0f, 3f);
  }

  // ---- errors: one line, names the file, says what is wrong -------------------------------------

  @Test
  void rejectsFortranOrder() {
    byte[] file = npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", f4(new float[4]));
    assertError(file, "f.npy", "Fortran");
  }

  @Test
  void rejectsBigEndian() {
    byte[] file = npy(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", new byte[8]);
    assertError(file, "be.npy", "big-endian dtype '>f4'");
  }

  @Test
  void rejectsOtherDtypes() {
    for (String descr : new String[] {"<i4", "|u1", "<f2", "|b1", "<c8", "<U3"}) {
      byte[] file = npy(1, "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (1,), }", new byte[16]);
      assertError(file, "dt.npy", "dtype '" + descr + "' is not supported");
    }
  }

  @Test
  void rejectsStructuredDtype() {
    byte[] file = npy(1, "{'descr': [('a', '<f4'), ('b', '<i8')], 'fortran_order': False, 'shape': (1,), }", new byte[12]);
    assertError(file, "rec.npy", "structured dtype");
  }

  @Test
  void rejectsTruncatedData() {
    byte[] full = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", f4(new float[6]));
    byte[] cut = Arrays.copyOf(full, full.length - 3);
    assertError(cut, "cut.npy", "truncated: shape (2, 3) <f4 needs 24 data bytes but the file has 21");
  }

  @Test
  void rejectsTruncatedHeader() {
    byte[] full = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", f4(new float[6]));
    assertError(Arrays.copyOf(full, 30), "head.npy", "truncated: header of");
    assertError(Arrays.copyOf(full, 9), "head.npy", "truncated");
    assertError(Arrays.copyOf(full, 4), "head.npy", "not a NumPy .npy file");
  }

  @Test
  void rejectsShapeThatDisagreesWithData() {
    byte[] file = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", f4(new float[3]));
    assertError(file, "long.npy", "shape (2,) <f4 needs 8 data bytes but the file has 12 (shape disagrees with data length)");
  }

  @Test
  void rejectsGarbage() {
    assertError("hello world, not numpy".getBytes(StandardCharsets.US_ASCII), "junk.npy", "not a NumPy .npy file");
    assertError(npy(9, "{}", new byte[0]), "ver.npy", "unsupported .npy format version 9.0");
    assertError(npy(1, "{'descr': '<f4', 'shape': (1,), }", new byte[4]), "nokey.npy", "no 'fortran_order' key");
    assertError(npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,", new byte[4]), "open.npy", "malformed header");
    assertError(npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", new byte[4]), "neg.npy", "dimension 0 of shape is -1");
    assertError(npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }", new byte[4]), "rank.npy",
        "rank 9 exceeds");
    assertError(npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (65536, 65536), }", new byte[4]), "big.npy",
        "more than");
  }

  @Test
  void missingFileNamesTheFile() {
    Path missing = dir.resolve("nope.npy");
    assertThatThrownBy(() -> Npy.read(missing))
        .isInstanceOf(NoSuchFileException.class)
        .hasMessage(missing + ": no such file");
  }

  @Test
  void fileErrorsNameThePathAsGiven() throws IOException {
    Path file = dir.resolve("bad.npy");
    Files.write(file, npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", new byte[4]));
    assertThatThrownBy(() -> Npy.read(file)).isInstanceOf(NpyFormatException.class).hasMessageStartingWith(file + ": ");
  }

  private static void assertError(byte[] file, String name, String expected) {
    assertThatThrownBy(() -> Npy.read(file, name))
        .isInstanceOf(NpyFormatException.class)
        .hasMessageStartingWith(name + ": ")
        .hasMessageContaining(expected)
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
  }

  /** A .npy file with the given version and header text, padded like NumPy's own writer. */
  private static byte[] npy(int major, String dict, byte[] data) {
    int lenBytes = major == 1 ? 2 : 4;
    StringBuilder h = new StringBuilder(dict);
    while ((8 + lenBytes + h.length() + 1) % 64 != 0) {
      h.append(' ');
    }
    h.append('\n');
    byte[] text = h.toString().getBytes(major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
    for (int i = 0; i < lenBytes; i++) {
      out.write(text.length >>> (8 * i));
    }
    out.writeBytes(text);
    out.writeBytes(data);
    return out.toByteArray();
  }

  private static byte[] f4(float[] v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(v);
    return b.array();
  }

  private static byte[] i8(long[] v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    b.asLongBuffer().put(v);
    return b.array();
  }
}
