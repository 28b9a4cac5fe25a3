package dev.vfuse.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vfuse.Tensor;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Parsing and writing v2 bodies: exact float round trips, nesting, and seeded mutations of valid bodies. */
class V2ProtocolTest {
  private static final String VALID = "{\"id\":\"7\",\"inputs\":[{\"name\":\"x\",\"shape\":[2,2],\"datatype\":\"FP32\","
      + "\"data\":[1.5,-2,3e-3,4],\"parameters\":{\"binary_data\":false}},{\"name\":\"n\",\"shape\":[1],"
      + "\"datatype\":\"INT64\",\"data\":[9007199254740993]}],\"outputs\":[{\"name\":\"y\"}],\"parameters\":{}}";

  private static V2Protocol.InferRequest parse(String json) throws HttpError {
    return V2Protocol.parseInferRequest(json.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void parsesEveryFieldAndSkipsParameters() throws HttpError {
    V2Protocol.InferRequest r = parse(VALID);
    assertThat(r.id()).isEqualTo("7");
    assertThat(r.requestedOutputs()).containsExactly("y");
    assertThat(r.inputs().keySet()).containsExactly("x", "n");
    assertThat(r.inputs().get("x").shape()).containsExactly(2, 2);
    assertThat(r.inputs().get("x").floats()).containsExactly(1.5f, -2f, 3e-3f, 4f);
    assertThat(r.inputs().get("n").longs()).as("int64 beyond 2^53, parsed from the literal").containsExactly(9007199254740993L);
  }

  @Test
  void nestedDataIsReadRowMajor() throws HttpError {
    V2Protocol.InferRequest r = parse(VALID.replace("[1.5,-2,3e-3,4]", "[[1.5,-2],[3e-3,4]]"));
    assertThat(r.inputs().get("x").floats()).containsExactly(1.5f, -2f, 3e-3f, 4f);
  }

  /** Float.toString in, the same bits out, for edge values and seeded random bit patterns. */
  @Test
  void floatsRoundTripBitForBitThroughRequestAndResponse() throws HttpError {
    Random random = new Random(42);
    float[] values = new float[1000];
    float[] edges = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, Float.MAX_VALUE, -Float.MAX_VALUE,
        1e-45f, 3.4028235e38f, 0.1f, 1f / 3};
    System.arraycopy(edges, 0, values, 0, edges.length);
    for (int i = edges.length; i < values.length; i++) {
      float f;
      do {
        f = Float.intBitsToFloat(random.nextInt());
      } while (!Float.isFinite(f));
      values[i] = f;
    }
    Tensor t = Tensor.ofFloats(new int[] {values.length}, values);
    Tensor parsed = parse(ServeClient.inferJson(null, "x", t)).inputs().get("x");
    for (int i = 0; i < values.length; i++) {
      assertThat(Float.floatToRawIntBits(parsed.floats()[i])).as("value %d: %s", i, values[i])
          .isEqualTo(Float.floatToRawIntBits(values[i]));
    }
    Map<String, Tensor> outputs = new LinkedHashMap<>();
    outputs.put("y", t);
    String response = new String(V2Protocol.inferResponse("m", null, outputs), StandardCharsets.UTF_8);
    float[] back = ServeClient.firstOutputData(response);
    for (int i = 0; i < values.length; i++) {
      assertThat(Float.floatToRawIntBits(back[i])).as("response value %d", i).isEqualTo(Float.floatToRawIntBits(values[i]));
    }
  }

  @Test
  void deepNestingIsRefusedNotAStackOverflow() {
    String deep = "[".repeat(100_000) + "1" + "]".repeat(100_000);
    assertThatThrownBy(() -> parse(VALID.replace("[1.5,-2,3e-3,4]", deep)))
        .isInstanceOfSatisfying(HttpError.class, e -> assertThat(e.status).isEqualTo(400))
        .hasMessageContaining("malformed JSON").hasMessageContaining("Nesting limit");
  }

  @Test
  void invalidUtf8AndNonJsonAreRefused() {
    byte[] garbage = {(byte) 0xff, (byte) 0xfe, 0x7b, 0x00};
    assertThatThrownBy(() -> V2Protocol.parseInferRequest(garbage))
        .isInstanceOfSatisfying(HttpError.class, e -> assertThat(e.status).isEqualTo(400));
    for (String bad : new String[] {"", "null", "{", "{}x", "{\"inputs\":{}}", "{\"inputs\":[{\"name\":1}]}",
        "{\"inputs\":[{\"name\":\"x\",\"shape\":[-1],\"datatype\":\"FP32\",\"data\":[]}]}",
        "{\"inputs\":[{\"name\":\"x\",\"shape\":[2.5],\"datatype\":\"FP32\",\"data\":[1]}]}",
        "{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[NaN]}]}",
        "{'inputs':[]}", "{\"inputs\":[],}"}) {
      assertThatThrownBy(() -> parse(bad)).as(bad)
          .isInstanceOfSatisfying(HttpError.class, e -> assertThat(e.status).isEqualTo(400))
          .satisfies(e -> assertThat(e.getMessage()).isNotBlank());
    }
  }

  /**
   * Seeded mutations of a valid body (truncation, deletion, insertion of JSON punctuation, byte
   * changes): each either parses or is refused with 400; nothing else escapes.
   */
  @Test
  void mutatedBodiesParseOrGet400AndNothingElse() {
    Random random = new Random(2024);
    byte[] valid = VALID.getBytes(StandardCharsets.UTF_8);
    String punctuation = "{}[]:,\"\\-+.eE0123456789 tfn\u00e9";
    int parsed = 0;
    int refused = 0;
    for (int round = 0; round < 5000; round++) {
      StringBuilder s = new StringBuilder(new String(valid, StandardCharsets.UTF_8));
      int edits = 1 + random.nextInt(3);
      for (int e = 0; e < edits && s.length() > 0; e++) {
        int at = random.nextInt(s.length());
        switch (random.nextInt(4)) {
          case 0 -> s.setLength(at);
          case 1 -> s.deleteCharAt(at);
          case 2 -> s.insert(at, punctuation.charAt(random.nextInt(punctuation.length())));
          default -> s.setCharAt(at, (char) random.nextInt(128));
        }
      }
      try {
        parse(s.toString());
        parsed++;
      } catch (HttpError e) {
        assertThat(e.status).as(s.toString()).isEqualTo(400);
        assertThat(e.getMessage()).as(s.toString()).isNotBlank();
        refused++;
      }
    }
    assertThat(refused).as("most mutations break the body").isGreaterThan(parsed);
  }
}
