package dev.vfuse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.Tensor;
import dev.vfuse.io.Npy;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The CLI in-process: argument parsing, exit codes, one-line errors, and real runs of tiny models. */
class VfuseCliTest {
  private static final float[] X = {-1f, 2f, -3f, 4f, 0f, -0.5f, 0.25f, 7f};

  @TempDir Path dir;
  private Path relu;
  private Path xFile;

  /** What one invocation printed and returned. */
  record Run(int code, String out, String err) {
    List<String> errLines() {
      return err.lines().toList();
    }
  }

  @BeforeEach
  void setUp() throws IOException {
    relu = TinyModels.relu(dir);
    xFile = dir.resolve("x.npy");
    Npy.write(xFile, Tensor.ofFloats(TinyModels.SHAPE, X));
  }

  private static Run vfuse(String... args) {
    return vfuseWith(false, args);
  }

  private static Run vfuseWith(boolean debug, String... args) {
    CommandLine cl = VfuseCli.commandLine(debug);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  /** Exit code, and exactly one stderr line starting "vfuse: " and containing {@code expected}. */
  private static void assertOneLineError(Run r, int code, String expected) {
    assertThat(r.code()).as("exit code; stderr: %s", r.err()).isEqualTo(code);
    assertThat(r.errLines()).as("stderr").hasSize(1);
    assertThat(r.errLines().get(0)).startsWith("vfuse: ").contains(expected);
  }

  // ---- help, version, usage errors --------------------------------------------------------------

  @Test
  void helpListsTheCommands() {
    Run r = vfuse("--help");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("run", "inspect", "demo", "serve", "--verbose");
    Run sub = vfuse("run", "--help");
    assertThat(sub.code()).isZero();
    assertThat(sub.out()).contains("--input", "--output", "--backend", "--no-fuse", "--threads", "--repeat");
    assertThat(vfuse("help", "inspect").out()).contains("MODEL.onnx");
  }

  @Test
  void versionPrintsTheVersionAndTheJvm() {
    Run r = vfuse("--version");
    assertThat(r.code()).isZero();
    assertThat(r.out()).startsWith("vfuse ").contains("Java ", "Vector API");
  }

  @Test
  void noCommandIsAUsageError() {
    assertOneLineError(vfuse(), 2, "missing command");
  }

  @Test
  void unknownCommandSuggestsOne() {
    assertOneLineError(vfuse("rnu"), 2, "did you mean run");
  }

  @Test
  void runWithoutInputIsAUsageError() {
    assertOneLineError(vfuse("run", relu.toString()), 2, "Missing required option: '--input");
  }

  @Test
  void badOptionValuesAreUsageErrors() {
    assertOneLineError(vfuse("run", relu.toString(), "--input", xFile.toString(), "--backend", "gpu"), 2, "unknown backend 'gpu'");
    assertOneLineError(vfuse("run", relu.toString(), "--input", xFile.toString(), "--threads", "0"), 2, "--threads must be at least 1");
    assertOneLineError(vfuse("run", relu.toString(), "--input", xFile.toString(), "--threads", "two"), 2, "'two' is not an int");
    assertOneLineError(vfuse("run", relu.toString(), "--input", xFile.toString(), "--repeat", "0"), 2, "--repeat must be at least 1");
    assertOneLineError(vfuse("run", relu.toString(), "--input", xFile.toString(), "--frobnicate"), 2, "Unknown option: '--frobnicate'");
  }

  // ---- model and input errors -------------------------------------------------------------------

  @Test
  void missingModelFileNamesIt() {
    Path missing = dir.resolve("missing.onnx");
    assertOneLineError(vfuse("run", missing.toString(), "--input", xFile.toString()), 1, missing + ": no such file");
  }

  @Test
  void garbageModelIsAModelError() throws IOException {
    Path junk = dir.resolve("junk.onnx");
    Files.writeString(junk, "this is not a protobuf at all, just text\n");
    Run r = vfuse("run", junk.toString(), "--input", xFile.toString());
    assertThat(r.code()).as(r.err()).isEqualTo(1);
    assertThat(r.errLines()).hasSize(1);
    assertThat(r.errLines().get(0)).startsWith("vfuse: ").doesNotContain("internal error");
  }

  @Test
  void missingInputFileNamesIt() {
    Path missing = dir.resolve("nope.npy");
    assertOneLineError(vfuse("run", relu.toString(), "--input", missing.toString()), 1, missing + ": no such file");
  }

  @Test
  void badNpyNamesTheFile() throws IOException {
    Path bad = dir.resolve("bad.npy");
    Files.writeString(bad, "not numpy");
    assertOneLineError(vfuse("run", relu.toString(), "--input", bad.toString()), 1, bad + ": not a NumPy .npy file");
  }

  @Test
  void wrongInputShapeIsAnInputError() throws IOException {
    Path wrong = dir.resolve("wrong.npy");
    Npy.write(wrong, Tensor.ofFloats(new int[] {1, 2, 4}, new float[8]));
    Run r = vfuse("run", relu.toString(), "--input", wrong.toString());
    assertThat(r.code()).as(r.err()).isEqualTo(1);
    assertThat(r.errLines()).hasSize(1);
    assertThat(r.errLines().get(0)).startsWith("vfuse: ").contains("x").doesNotContain("internal error");
  }

  @Test
  void unknownInputNameIsAUsageError() {
    assertOneLineError(vfuse("run", relu.toString(), "--input", "foo=" + xFile), 2, "unknown input 'foo'");
  }

  @Test
  void unwritableOutputNamesTheFile() {
    Path out = dir.resolve("no/such/dir/y.npy");
    assertOneLineError(vfuse("run", relu.toString(), "--input", xFile.toString(), "--output", out.toString()), 1, out + ": no such file");
  }

  @Test
  void verboseAndDebugPrintTheStackTrace() {
    Path missing = dir.resolve("missing.onnx");
    for (String[] args : List.of(
        new String[] {"-v", "run", missing.toString(), "--input", xFile.toString()},
        new String[] {"run", missing.toString(), "--input", xFile.toString(), "--verbose"})) {
      Run r = vfuse(args);
      assertThat(r.code()).isEqualTo(1);
      assertThat(r.errLines().get(0)).isEqualTo("vfuse: " + missing + ": no such file");
      assertThat(r.errLines().size()).as("stack trace for %s", Arrays.toString(args)).isGreaterThan(3);
      assertThat(r.err()).contains("\tat ");
    }
    Run debug = vfuseWith(true, "run", missing.toString(), "--input", xFile.toString());
    assertThat(debug.code()).isEqualTo(1);
    assertThat(debug.err()).contains("\tat ");
  }

  @Test
  void demoArgumentErrors() {
    assertOneLineError(vfuse("demo", "--repeat", "-1"), 2, "--repeat must not be negative");
    Path png = dir.resolve("missing-dir/demo.png");
    assertOneLineError(vfuse("demo", "--out", png.toString()), 1, png + ": directory " + dir.resolve("missing-dir") + " does not exist");
    assertOneLineError(vfuse("demo", "extra"), 2, "Unmatched argument");
  }

  @Test
  void serveArgumentErrorsComeBeforeAnythingListens() throws IOException {
    assertThat(vfuse("serve", "--help").out()).contains("--port", "--max-batch", "--max-queue", "--max-body-mib", "--workers",
        "--threads", "/v2/models/NAME/infer");
    assertOneLineError(vfuse("serve", relu.toString(), "--max-queue", "0"), 2, "max queue must be at least 1, got 0");
    assertOneLineError(vfuse("serve", relu.toString(), "--port", "70000"), 2, "port must be 0..65535, got 70000");
    assertOneLineError(vfuse("serve", relu.toString(), "--name", "a/b"), 2, "contain no '/'");
    assertOneLineError(vfuse("serve", relu.toString(), "--threads", "0"), 2, "--threads must be at least 1");
    Path missing = dir.resolve("missing.onnx");
    assertOneLineError(vfuse("serve", missing.toString(), "--port", "0"), 1, missing + ": no such file");
    try (java.net.ServerSocket taken = new java.net.ServerSocket(0)) {
      assertOneLineError(vfuse("serve", relu.toString(), "--port", String.valueOf(taken.getLocalPort())), 1,
          "cannot listen on port " + taken.getLocalPort());
    }
    assertThat(ServeCommand.defaultName(Path.of("models/mobilenet_v2.onnx"))).isEqualTo("mobilenet_v2");
  }

  @Test
  void modelErrorsNameTheModelFile() throws IOException {
    Path junk = dir.resolve("junk.onnx");
    Files.write(junk, new byte[] {0, 0, 0, 0});
    assertOneLineError(vfuse("inspect", junk.toString()), 1, "vfuse: " + junk + ": ");
  }

  // ---- real runs ----------------------------------------------------------------------------------

  @Test
  void runWritesTheOutput() throws IOException {
    Path y = dir.resolve("y.npy");
    Run r = vfuse("run", relu.toString(), "--input", xFile.toString(), "--output", y.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).isEmpty();
    assertThat(r.out()).contains("output y FLOAT32 [1, 2, 2, 2] min=0 max=7", "-> " + y);
    Tensor out = Npy.read(y);
    assertThat(out.shape()).containsExactly(TinyModels.SHAPE);
    assertThat(out.floats()).containsExactly(0f, 2f, 0f, 4f, 0f, 0f, 0.25f, 7f);
  }

  @Test
  void namedInputAndOutputOnEveryBackend() throws IOException {
    for (String backend : List.of("reference", "simd", "SIMD")) {
      Path y = dir.resolve("y-" + backend + ".npy");
      Run r = vfuse("run", relu.toString(), "--input", "x=" + xFile, "--output", "y=" + y, "--backend", backend, "--no-fuse",
          "--threads", "2");
      assertThat(r.code()).as(r.err()).isZero();
      assertThat(Npy.read(y).floats()).containsExactly(0f, 2f, 0f, 4f, 0f, 0f, 0.25f, 7f);
    }
  }

  @Test
  void quantizeWritesTheReportWithBothParts() throws IOException {
    Path model = TinyModels.convBnConv(dir);
    Path report = dir.resolve("r.json");
    Run r = vfuse("run", model.toString(), "--input", xFile.toString(), "--quantize", "int8", "--report", report.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("weights=int8 rounding=nearest bias-correction=analytical", "int8 weights: 2 layers",
        "output error vs float on 1 input(s)", "2 int8 layers");
    String json = Files.readString(report);
    assertThat(json).startsWith("{\n\"fusion\": {").contains("\"quantization\": {", "\"bias_correction\": \"analytical\"",
        "\"name\": \"conv1\"", "\"correction\": \"analytical, exact at borders\"");
    assertThat(json).contains("\"name\": \"conv0\"", "input statistics unknown: it is the model input x");
  }

  @Test
  void empiricalCorrectionReadsTheCalibrationFolder() throws IOException {
    Path model = TinyModels.convBnConv(dir);
    Path cal = Files.createDirectories(dir.resolve("cal"));
    for (int i = 0; i < 3; i++) {
      float[] v = X.clone();
      v[i] += 1;
      Npy.write(cal.resolve("s" + i + ".npy"), Tensor.ofFloats(TinyModels.SHAPE, v));
    }
    Run r = vfuse("run", model.toString(), "--input", xFile.toString(), "--quantize", "int8", "--bias-correction",
        "empirical", "--calibration", cal.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("bias correction empirical on 2 of them");

    Path report = dir.resolve("gptq.json");
    Run g = vfuse("run", model.toString(), "--input", xFile.toString(), "--quantize", "int8", "--rounding", "gptq",
        "--calibration", cal.toString(), "--report", report.toString());
    assertThat(g.code()).as(g.err()).isZero();
    assertThat(g.out()).contains("weights=int8 rounding=gptq bias-correction=analytical", "rounding gptq on ");
    assertThat(Files.readString(report)).contains("\"rounding\": \"gptq\"", "\"name\": \"conv1\"");
  }

  @Test
  void quantizationUsageErrors() throws IOException {
    Path model = TinyModels.convBnConv(dir);
    assertOneLineError(vfuse("run", model.toString(), "--input", xFile.toString(), "--quantize", "int4"), 2,
        "--quantize supports int8, got int4");
    assertOneLineError(vfuse("run", model.toString(), "--input", xFile.toString(), "--quantize", "int8",
        "--bias-correction", "magic"), 2, "--bias-correction must be none, analytical or empirical");
    assertOneLineError(vfuse("run", model.toString(), "--input", xFile.toString(), "--quantize", "int8",
        "--bias-correction", "empirical"), 2, "--bias-correction empirical needs --calibration DIR");
    assertOneLineError(vfuse("run", model.toString(), "--input", xFile.toString(), "--quantize", "int8",
        "--rounding", "stochastic"), 2, "--rounding must be nearest or gptq, got stochastic");
    assertOneLineError(vfuse("run", model.toString(), "--input", xFile.toString(), "--quantize", "int8",
        "--rounding", "gptq"), 2, "--rounding gptq needs --calibration DIR");
    assertOneLineError(vfuse("run", model.toString(), "--input", xFile.toString(), "--quantize", "int8",
        "--bias-correction", "empirical", "--calibration", dir.resolve("nowhere").toString()), 2, "is not a folder");
    Path empty = Files.createDirectories(dir.resolve("empty"));
    assertOneLineError(vfuse("run", model.toString(), "--input", xFile.toString(), "--quantize", "int8",
        "--bias-correction", "empirical", "--calibration", empty.toString()), 2, "holds no .npy files");
  }

  @Test
  void inspectQuantizedPrintsTheLayers() throws IOException {
    Run r = vfuse("inspect", TinyModels.convBnConv(dir).toString(), "--quantize", "int8", "--bias-correction", "none");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("quantized  int8 weights: 2 layers", "bias correction none on 0 of them");
    assertThat(r.out().lines().filter(l -> l.startsWith("conv0 ") || l.startsWith("conv1 ")).count()).isEqualTo(2);
  }

  @Test
  void repeatPrintsOneLatencyLine() {
    Run r = vfuse("run", relu.toString(), "--input", xFile.toString(), "--repeat", "5", "--backend", "simd");
    assertThat(r.code()).as(r.err()).isZero();
    List<String> latency = r.out().lines().filter(l -> l.startsWith("latency_ms")).toList();
    assertThat(latency).hasSize(1);
    assertThat(latency.get(0)).matches(Pattern.compile(
        "latency_ms backend=simd threads=1 fuse=on runs=5 min=\\d+\\.\\d{3} median=\\d+\\.\\d{3} max=\\d+\\.\\d{3}"));
  }

  @Test
  void repeatWarmsUpUntilSettledOrByCountOrWithinADuration() {
    Run auto = vfuse("run", relu.toString(), "--input", xFile.toString(), "--repeat", "3");
    assertThat(auto.code()).as(auto.err()).isZero();
    assertThat(auto.out()).containsPattern(Pattern.compile(
        "(?m)^warmup \\d+ runs in \\d+ ms, last median \\d+\\.\\d\\d ms, (settled|budget spent before the latency settled)$"));
    Run counted = vfuse("run", relu.toString(), "--input", xFile.toString(), "--repeat", "3", "--warmup", "7");
    assertThat(counted.code()).as(counted.err()).isZero();
    assertThat(counted.out()).containsPattern(Pattern.compile("(?m)^warmup 7 runs in \\d+\\.\\d{3} ms$"));
    Run timed = vfuse("run", relu.toString(), "--input", xFile.toString(), "--repeat", "3", "--warmup", "0.5s");
    assertThat(timed.code()).as(timed.err()).isZero();
    assertThat(timed.out()).contains("warmup ").contains("latency_ms ");
    assertOneLineError(vfuse("run", relu.toString(), "--input", xFile.toString(), "--repeat", "3", "--warmup", "soon"), 2,
        "--warmup takes auto, a run count or a duration in seconds such as 10s; got 'soon'");
  }

  @Test
  void twoInputsNeedNames() throws IOException {
    Path model = TinyModels.addRelu(dir);
    Path b = dir.resolve("b.npy");
    Npy.write(b, Tensor.ofFloats(TinyModels.SHAPE, new float[] {1, 1, 1, 1, 1, 1, 1, 1}));

    assertOneLineError(vfuse("run", model.toString(), "--input", xFile.toString()), 2, "2 model inputs are not given (a, b)");
    assertOneLineError(vfuse("run", model.toString(), "--input", xFile.toString(), "--input", b.toString()), 2,
        "2 --input files have no name");
    assertOneLineError(vfuse("run", model.toString(), "--input", "a=" + xFile), 2, "no --input for model input b: FLOAT32 [1, 2, 2, 2]");

    // One named, one unnamed: the unnamed one is b. An unnamed output is the first output, sum.
    Path sum = dir.resolve("sum.npy");
    Path reluOut = dir.resolve("relu.npy");
    Run r = vfuse("run", model.toString(), "--input", "a=" + xFile, "--input", b.toString(), "--output", sum.toString(),
        "--output", "relu=" + reluOut);
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(Npy.read(sum).floats()).containsExactly(0f, 3f, -2f, 5f, 1f, 0.5f, 1.25f, 8f);
    assertThat(Npy.read(reluOut).floats()).containsExactly(0f, 2f, 0f, 4f, 0f, 0f, 0.25f, 7f);
    assertThat(r.out()).contains("output sum FLOAT32", "output relu FLOAT32");
  }

  @Test
  void inspectPrintsTheModel() throws IOException {
    Path model = TinyModels.addRelu(dir);
    Run r = vfuse("inspect", model.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("producer   vfuse-test 1.0", "opset      13", "  a: FLOAT32 [1, 2, 2, 2]",
        "  relu: FLOAT32 [1, 2, 2, 2]", "ops        2 nodes, 2 types", "  Add 1", "  Relu 1", "parameters 0");
    assertThat(r.out().indexOf("inputs")).isLessThan(r.out().indexOf("outputs"));
  }
}
