package dev.vfuse.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.vfuse.Tensor;
import dev.vfuse.io.Npy;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code vfuse profile} on mobilenet_v2 (the torch fixture) on two threads: the header, the table
 * and its sum line, the Chrome trace (parsed as JSON: one complete event per step and run whose
 * durations fill each run within 5%, task events on more than one thread), the CSV's columns and
 * rows, the roofline PNG, and the probe's cache file. No speed is asserted.
 */
class ProfileCommandTest {
  @TempDir Path dir;

  private static Path fixture(String name) {
    String root = System.getenv("VFUSE_FIXTURES");
    Path model = root == null ? null : Path.of(root, name, "model.onnx");
    boolean present = model != null && Files.isRegularFile(model);
    if (!present && System.getenv("CI") != null) {
      throw new IllegalStateException("fixture " + name + " missing under " + root + ": scripts/fixtures.sh must run before the tests in CI");
    }
    assumeTrue(present, "torch fixture " + name + " not generated (scripts/fixtures.sh)");
    return model;
  }

  @Test
  void profilesMobilenetIntoTableTraceCsvAndRoofline() throws Exception {
    Path model = fixture("mobilenet_v2_op13");
    float[] x = new float[3 * 224 * 224];
    SplittableRandom random = new SplittableRandom(14);
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) random.nextDouble(-1, 1);
    }
    Path input = dir.resolve("x.npy");
    Npy.write(input, Tensor.ofFloats(new int[] {1, 3, 224, 224}, x));
    Path trace = dir.resolve("trace.json");
    Path csv = dir.resolve("layers.csv");
    Path png = dir.resolve("roofline.png");
    Path cache = dir.resolve("cache");
    int runs = 3;

    CommandLine cl = VfuseCli.commandLine(false);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute("profile", model.toString(), "--input", input.toString(), "--threads", "2", "--warmup", "2",
        "--repeat", Integer.toString(runs), "--trace", trace.toString(), "--csv", csv.toString(), "--plot", png.toString(),
        "--probe-cache", cache.toString());
    String text = out.toString();
    assertThat(code).as("stderr: %s", err).isZero();
    assertThat(text).contains("cpu ", "jdk ", "kernels simd(", "2 thread(s)", "probe ", "GFLOP/s peak", "GB/s (triad",
        "node", "kernel", "vec", "median us", "%peak", "FLOP/B", "F32ConvBlocked");

    // CSV: the columns, one row per step in execution order
    List<String> lines = Files.readAllLines(csv);
    assertThat(lines.get(0)).isEqualTo("node,op,fused,kernel,vector_bits,input_shapes,output_shape,median_us,share,flops,"
        + "gflops_per_s,peak_percent,bytes,flops_per_byte");
    List<String[]> rows = new ArrayList<>();
    for (String line : lines.subList(1, lines.size())) {
      String[] cells = line.split(",", -1);
      assertThat(cells).as(line).hasSize(14);
      rows.add(cells);
    }
    assertThat(rows).hasSizeGreaterThan(40); // 52 convs; the first blocks run as chains, one row each
    assertThat(rows.get(rows.size() - 1)[1]).isEqualTo("Gemm");
    double rowsMicros = 0;
    for (String[] row : rows) {
      rowsMicros += Double.parseDouble(row[7]);
      assertThat(Long.parseLong(row[12])).as(row[0]).isPositive();
      if (Long.parseLong(row[9]) > 0) {
        assertThat(Double.parseDouble(row[11])).as(row[0]).isPositive();
      }
    }

    // the table's sum line: the rows' total, the median run, and by how much they differ
    Matcher sum = Pattern.compile("rows add up to ([0-9.]+) us, the median run is ([0-9.]+) us over (\\d+) runs: ([0-9.]+)% of it \\(([-+][0-9.]+)%\\)")
        .matcher(text);
    assertThat(sum.find()).as(text).isTrue();
    assertThat(Double.parseDouble(sum.group(1))).isCloseTo(rowsMicros, org.assertj.core.data.Offset.offset(0.01 * rows.size() + 0.1));
    assertThat(Integer.parseInt(sum.group(3))).isEqualTo(runs);
    double ratio = Double.parseDouble(sum.group(1)) / Double.parseDouble(sum.group(2));
    assertThat(Double.parseDouble(sum.group(4))).isCloseTo(100 * ratio, org.assertj.core.data.Offset.offset(0.2));

    // the trace: JSON, complete events, one per step and run, filling each run within 5%
    JsonObject root = JsonParser.parseString(Files.readString(trace)).getAsJsonObject();
    JsonArray events = root.getAsJsonArray("traceEvents");
    Map<Integer, Double> runDuration = new HashMap<>();
    Map<Integer, Double> stepDurations = new HashMap<>();
    Map<Integer, Integer> stepCount = new HashMap<>();
    Set<Integer> taskTids = new HashSet<>();
    Set<Integer> namedTids = new HashSet<>();
    for (JsonElement e : events) {
      JsonObject ev = e.getAsJsonObject();
      String ph = ev.get("ph").getAsString();
      if (ph.equals("M")) {
        if (ev.get("name").getAsString().equals("thread_name")) {
          namedTids.add(ev.get("tid").getAsInt());
        }
        continue;
      }
      assertThat(ph).isEqualTo("X");
      assertThat(ev.has("tid") && ev.has("pid") && ev.has("ts") && ev.has("dur") && ev.has("name")).as(ev.toString()).isTrue();
      assertThat(ev.get("dur").getAsDouble()).isNotNegative();
      int run = ev.getAsJsonObject("args").get("run").getAsInt();
      switch (ev.get("cat").getAsString()) {
        case "run" -> runDuration.put(run, ev.get("dur").getAsDouble());
        case "step" -> {
          stepDurations.merge(run, ev.get("dur").getAsDouble(), Double::sum);
          stepCount.merge(run, 1, Integer::sum);
        }
        case "tasks" -> taskTids.add(ev.get("tid").getAsInt());
        default -> throw new AssertionError("unexpected category in " + ev);
      }
    }
    assertThat(runDuration).hasSize(runs);
    for (int r = 0; r < runs; r++) {
      assertThat(stepCount.get(r)).as("step events of run %d", r).isEqualTo(rows.size());
      assertThat(stepDurations.get(r) / runDuration.get(r)).as("steps' share of run %d", r).isBetween(0.95, 1.0 + 1e-9);
    }
    assertThat(taskTids).as("threads with task events").hasSizeGreaterThanOrEqualTo(2);
    assertThat(namedTids).containsAll(taskTids);

    // the roofline
    BufferedImage image = ImageIO.read(png.toFile());
    assertThat(image).isNotNull();
    assertThat(image.getWidth()).isEqualTo(RooflinePlot.WIDTH);
    assertThat(image.getHeight()).isEqualTo(RooflinePlot.HEIGHT);
    Set<Integer> colors = new HashSet<>();
    for (int y = 0; y < image.getHeight(); y += 7) {
      for (int xx = 0; xx < image.getWidth(); xx += 7) {
        colors.add(image.getRGB(xx, y));
      }
    }
    assertThat(colors).as("distinct colours in the plot").hasSizeGreaterThan(10);

    // the probe's cache: one file, read by the next profile
    try (var files = Files.list(cache)) {
      assertThat(files.toList()).hasSize(1);
    }
    assertThat(text).contains("measured now");
  }

  @Test
  void usageErrors() throws Exception {
    CommandLine cl = VfuseCli.commandLine(false);
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(new StringWriter(), true));
    cl.setErr(new PrintWriter(err, true));
    Path relu = TinyModels.relu(dir);
    assertThat(cl.execute("profile", relu.toString(), "--input", "x.npy", "--repeat", "0")).isEqualTo(2);
    assertThat(err.toString()).contains("--repeat must be at least 1");
    assertThat(cl.execute("profile", relu.toString(), "--input", "x.npy", "--no-probe", "--plot", "r.png")).isEqualTo(2);
    assertThat(err.toString()).contains("--plot needs the machine probe");
  }
}
