package dev.vfuse.serve;

import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.JsonWriter;
import com.google.gson.stream.MalformedJsonException;
import dev.vfuse.ElementType;
import dev.vfuse.Tensor;
import dev.vfuse.ValueInfo;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.StringWriter;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON bodies of the Open Inference Protocol v2 (KServe v2) that {@code vfuse serve} speaks,
 * read and written with Gson's streaming reader and writer: a tensor's data goes from the body's
 * number literals straight into a float or long array, with no tree in between.
 *
 * <p>Request: {@code {"id"?, "inputs": [{"name", "shape", "datatype", "data", "parameters"?}],
 * "outputs"?: [{"name"}], "parameters"?}}; {@code data} is flat row-major or nested as the shape.
 * Datatypes: {@code FP32} and {@code INT64}, the element types a vfuse model takes. Numbers are
 * parsed from their literal ({@link Float#parseFloat}), so a float printed by {@link Float#toString}
 * comes back with the same bits.
 */
final class V2Protocol {
  private V2Protocol() {}

  /** A parsed infer request: the tensors by input name, and the outputs asked for (empty: all). */
  record InferRequest(String id, Map<String, Tensor> inputs, List<String> requestedOutputs) {}

  /** The v2 datatype of an element type, e.g. {@code FP32}. */
  static String datatype(ElementType type) {
    return switch (type) {
      case FLOAT32 -> "FP32";
      case INT64 -> "INT64";
      case INT8 -> "INT8";
    };
  }

  /** Parses an infer request body; anything malformed is a 400 that says what and where. */
  static InferRequest parseInferRequest(byte[] body) throws HttpError {
    try (JsonReader in = reader(body)) {
      String id = null;
      Map<String, Tensor> inputs = null;
      List<String> outputs = List.of();
      in.beginObject();
      while (in.hasNext()) {
        String field = in.nextName();
        switch (field) {
          case "id" -> id = in.nextString();
          case "inputs" -> inputs = readInputs(in);
          case "outputs" -> outputs = readRequestedOutputs(in);
          default -> in.skipValue(); // "parameters" and extensions
        }
      }
      in.endObject();
      if (in.peek() != JsonToken.END_DOCUMENT) {
        throw HttpError.badRequest("malformed JSON: data after the request object at " + in.getPath());
      }
      if (inputs == null) {
        throw HttpError.badRequest("the request has no \"inputs\"");
      }
      return new InferRequest(id, inputs, outputs);
    } catch (MalformedJsonException | EOFException | IllegalStateException | NumberFormatException e) {
      throw HttpError.badRequest("malformed JSON: " + withoutTroubleshootingLink(e.getMessage()));
    } catch (IOException e) {
      throw HttpError.badRequest("unreadable body: " + e.getMessage());
    }
  }

  /** Gson appends "See https://…Troubleshooting.md…" on a line of its own; the first line says it all. */
  private static String withoutTroubleshootingLink(String message) {
    if (message == null) {
      return "unexpected end of input";
    }
    int link = message.indexOf("\nSee ");
    return link < 0 ? message : message.substring(0, link);
  }

  private static JsonReader reader(byte[] body) {
    Reader text = new InputStreamReader(new ByteArrayInputStream(body), StandardCharsets.UTF_8);
    JsonReader in = new JsonReader(text);
    in.setStrictness(Strictness.STRICT);
    return in;
  }

  private static Map<String, Tensor> readInputs(JsonReader in) throws IOException, HttpError {
    Map<String, Tensor> inputs = new LinkedHashMap<>();
    in.beginArray();
    while (in.hasNext()) {
      String path = in.getPath();
      String name = null;
      int[] shape = null;
      String datatype = null;
      NumberLiterals data = null;
      in.beginObject();
      while (in.hasNext()) {
        switch (in.nextName()) {
          case "name" -> name = in.nextString();
          case "shape" -> shape = readShape(in);
          case "datatype" -> datatype = in.nextString();
          case "data" -> {
            data = new NumberLiterals();
            readData(in, data);
          }
          default -> in.skipValue();
        }
      }
      in.endObject();
      if (name == null || shape == null || datatype == null || data == null) {
        throw HttpError.badRequest("input " + path + " needs \"name\", \"shape\", \"datatype\" and \"data\"");
      }
      if (inputs.put(name, tensor(name, shape, datatype, data)) != null) {
        throw HttpError.badRequest("input '" + name + "' is given twice");
      }
    }
    in.endArray();
    return inputs;
  }

  private static List<String> readRequestedOutputs(JsonReader in) throws IOException, HttpError {
    List<String> names = new ArrayList<>();
    in.beginArray();
    while (in.hasNext()) {
      in.beginObject();
      String name = null;
      while (in.hasNext()) {
        if (in.nextName().equals("name")) {
          name = in.nextString();
        } else {
          in.skipValue();
        }
      }
      in.endObject();
      if (name == null) {
        throw HttpError.badRequest("a requested output needs a \"name\"");
      }
      names.add(name);
    }
    in.endArray();
    return names;
  }

  private static int[] readShape(JsonReader in) throws IOException, HttpError {
    List<Integer> dims = new ArrayList<>();
    in.beginArray();
    while (in.hasNext()) {
      long d = in.nextLong();
      if (d < 0 || d > Integer.MAX_VALUE) {
        throw HttpError.badRequest("shape dimension " + d + " at " + in.getPath() + " is out of range");
      }
      dims.add((int) d);
    }
    in.endArray();
    return dims.stream().mapToInt(Integer::intValue).toArray();
  }

  /** Flat or nested arrays of numbers, in row-major order. */
  private static void readData(JsonReader in, NumberLiterals out) throws IOException, HttpError {
    in.beginArray();
    while (in.hasNext()) {
      JsonToken token = in.peek();
      if (token == JsonToken.BEGIN_ARRAY) {
        readData(in, out);
      } else if (token == JsonToken.NUMBER) {
        out.add(in.nextString());
      } else {
        throw HttpError.badRequest("data must hold numbers, found " + token + " at " + in.getPath());
      }
    }
    in.endArray();
  }

  private static Tensor tensor(String name, int[] shape, String datatype, NumberLiterals data) throws HttpError {
    long count = 1;
    for (int d : shape) {
      count *= d;
      if (count > Integer.MAX_VALUE) {
        throw HttpError.badRequest("input '" + name + "': shape " + java.util.Arrays.toString(shape) + " is too large");
      }
    }
    if (count != data.size()) {
      throw HttpError.badRequest("input '" + name + "': shape " + java.util.Arrays.toString(shape) + " needs " + count
          + " values, data has " + data.size());
    }
    try {
      return switch (datatype) {
        case "FP32" -> Tensor.ofFloats(shape, data.floats());
        case "INT64" -> Tensor.ofLongs(shape, data.longs());
        default -> throw HttpError.badRequest("input '" + name + "': datatype " + datatype
            + " is not supported; vfuse models take FP32 and INT64");
      };
    } catch (NumberFormatException e) {
      throw HttpError.badRequest("input '" + name + "': a value is not " + datatype + ": " + e.getMessage());
    }
  }

  /** Number literals as read, parsed once the datatype is known (it may come after the data). */
  private static final class NumberLiterals {
    private final StringBuilder text = new StringBuilder();
    private int[] ends = new int[64];
    private int count;

    void add(String literal) {
      text.append(literal);
      if (count == ends.length) {
        ends = java.util.Arrays.copyOf(ends, count * 2);
      }
      ends[count++] = text.length();
    }

    int size() {
      return count;
    }

    float[] floats() {
      float[] out = new float[count];
      int start = 0;
      for (int i = 0; i < count; i++) {
        int end = ends[i];
        out[i] = Float.parseFloat(text.substring(start, end));
        start = end;
      }
      return out;
    }

    long[] longs() {
      long[] out = new long[count];
      int start = 0;
      for (int i = 0; i < count; i++) {
        int end = ends[i];
        out[i] = Long.parseLong(text, start, end, 10);
        start = end;
      }
      return out;
    }
  }

  /** {@code {"model_name", "id"?, "outputs": [{"name", "datatype", "shape", "data"}]}}. */
  static byte[] inferResponse(String modelName, String id, Map<String, Tensor> outputs) {
    return json(out -> {
      out.beginObject();
      out.name("model_name").value(modelName);
      if (id != null) {
        out.name("id").value(id);
      }
      out.name("outputs").beginArray();
      for (Map.Entry<String, Tensor> e : outputs.entrySet()) {
        Tensor t = e.getValue();
        out.beginObject();
        out.name("name").value(e.getKey());
        out.name("datatype").value(datatype(t.elementType()));
        out.name("shape").beginArray();
        for (int d : t.shape()) {
          out.value(d);
        }
        out.endArray();
        out.name("data").beginArray();
        if (t.elementType() == ElementType.INT64) {
          for (long v : t.longs()) {
            out.value(v);
          }
        } else {
          for (float v : t.floats()) {
            out.value(v);
          }
        }
        out.endArray();
        out.endObject();
      }
      out.endArray();
      out.endObject();
    });
  }

  /** {@code GET /v2/models/NAME}: name, platform, and each input and output with datatype and shape (-1: dynamic). */
  static byte[] modelMetadata(String modelName, List<ValueInfo> inputs, List<ValueInfo> outputs) {
    return json(out -> {
      out.beginObject();
      out.name("name").value(modelName);
      out.name("versions").beginArray().endArray();
      out.name("platform").value("onnx");
      out.name("inputs");
      tensorMetadata(out, inputs);
      out.name("outputs");
      tensorMetadata(out, outputs);
      out.endObject();
    });
  }

  private static void tensorMetadata(JsonWriter out, List<ValueInfo> values) throws IOException {
    out.beginArray();
    for (ValueInfo v : values) {
      out.beginObject();
      out.name("name").value(v.name());
      out.name("datatype").value(datatype(v.elementType()));
      out.name("shape").beginArray();
      for (int d : v.dims()) {
        out.value(d);
      }
      out.endArray();
      out.endObject();
    }
    out.endArray();
  }

  /** {@code {"key": value}} with one string or boolean value. */
  static byte[] object(String key, Object value) {
    return json(out -> {
      out.beginObject().name(key);
      if (value instanceof Boolean b) {
        out.value(b);
      } else {
        out.value(String.valueOf(value));
      }
      out.endObject();
    });
  }

  /** {@code {"name", "version", "extensions"}} for {@code GET /v2}. */
  static byte[] serverMetadata(String version) {
    return json(out -> out.beginObject().name("name").value("vfuse").name("version").value(version)
        .name("extensions").beginArray().endArray().endObject());
  }

  static byte[] error(String message) {
    return object("error", message);
  }

  private interface JsonBody {
    void write(JsonWriter out) throws IOException;
  }

  private static byte[] json(JsonBody body) {
    StringWriter text = new StringWriter();
    try (JsonWriter out = new JsonWriter(text)) {
      // Outputs with NaN or infinities are written as NaN, Infinity (what Python's json reads), not refused.
      out.setStrictness(Strictness.LENIENT);
      body.write(out);
    } catch (IOException e) {
      throw new IllegalStateException("writing JSON to a string failed", e);
    }
    return text.toString().getBytes(StandardCharsets.UTF_8);
  }
}
