package dev.vfuse.serve;

import dev.vfuse.Tensor;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;

/** A loopback client for the server tests: JSON bodies written by hand, answers as text or bytes. */
final class ServeClient {
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private final String base;

  ServeClient(int port) {
    this.base = "http://127.0.0.1:" + port;
  }

  HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> post(String path, String json) throws IOException, InterruptedException {
    return http.send(request(path, "application/json", json.getBytes(StandardCharsets.UTF_8)),
        HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<byte[]> postBytes(String path, String contentType, byte[] body) throws IOException, InterruptedException {
    return http.send(request(path, contentType, body), HttpResponse.BodyHandlers.ofByteArray());
  }

  private HttpRequest request(String path, String contentType, byte[] body) {
    return HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60))
        .header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
  }

  /** {@code {"id": id, "inputs": [{"name", "shape", "datatype": "FP32", "data": [flat]}]}}, id omitted when null. */
  static String inferJson(String id, String input, Tensor t) {
    StringBuilder sb = new StringBuilder("{");
    if (id != null) {
      sb.append("\"id\":\"").append(id).append("\",");
    }
    sb.append("\"inputs\":[{\"name\":\"").append(input).append("\",\"shape\":").append(Arrays.toString(t.shape()))
        .append(",\"datatype\":\"FP32\",\"data\":[");
    float[] v = t.floats();
    for (int i = 0; i < v.length; i++) {
      sb.append(i > 0 ? "," : "").append(v[i]);
    }
    return sb.append("]}]}").toString();
  }

  /** A seeded tensor of values in [-2, 2). */
  static Tensor randomTensor(Random random, int... shape) {
    int n = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = random.nextFloat() * 4 - 2;
    }
    return Tensor.ofFloats(shape, v);
  }

  /** The floats of the "data" array of the first output in a v2 infer response. */
  static float[] firstOutputData(String responseJson) {
    int data = responseJson.indexOf("\"data\":[");
    if (data < 0) {
      throw new AssertionError("no data in " + responseJson);
    }
    int end = responseJson.indexOf(']', data);
    String[] parts = responseJson.substring(data + 8, end).split(",");
    float[] out = new float[parts.length];
    for (int i = 0; i < parts.length; i++) {
      out[i] = Float.parseFloat(parts[i]);
    }
    return out;
  }
}
