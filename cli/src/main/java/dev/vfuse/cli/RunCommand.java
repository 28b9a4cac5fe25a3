package dev.vfuse.cli;

import dev.vfuse.Model;
import dev.vfuse.Tensor;
import dev.vfuse.ValueInfo;
import dev.vfuse.VfuseException;
import dev.vfuse.io.Npy;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code vfuse run MODEL.onnx --input X.npy [--input NAME=X.npy ...] [--output Y.npy ...]
 * [--backend reference|simd] [--no-fuse] [--threads T] [--repeat R] [--report FILE.json] [--verify-fusion]
 * [--quantize int8 [--bias-correction none|analytical|empirical] [--rounding nearest|gptq] [--calibration DIR]
 * [--equalize]]}.
 *
 * <p>Loads the model, binds the inputs ({@link Bindings}), runs it once, or with {@code --repeat R}
 * warms it up ({@code --warmup}: by default until the latency settles, {@link dev.vfuse.Warmup})
 * and runs it R times timed, prints each output's name, shape and a summary, and writes the
 * outputs given a file. The timed form prints one line
 * {@code latency_ms backend=… threads=… fuse=… runs=R min=… median=… max=…}.
 */
@Command(name = "run", mixinStandardHelpOptions = true, versionProvider = VfuseCli.Version.class, sortOptions = false, usageHelpAutoWidth = true,
    description = "Run a model on .npy inputs and write its outputs as .npy files.",
    footer = {"", "Examples:",
        "  vfuse run resnet18.onnx --input image.npy --output logits.npy",
        "  vfuse run model.onnx --input a=a.npy --input b=b.npy --output sum=s.npy",
        "  vfuse run resnet18.onnx --input image.npy --backend simd --repeat 20",
        "  vfuse run resnet18.onnx --input image.npy --repeat 40 --warmup 5",
        "  vfuse run resnet18.onnx --input image.npy --quantize int8 --report r.json",
        "  vfuse run det.onnx --input page.npy --quantize int8 --bias-correction empirical --calibration pages/"})
final class RunCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "MODEL.onnx", description = "The ONNX model.")
  Path model;

  @Option(names = "--input", required = true, paramLabel = "[NAME=]FILE.npy",
      description = "An input tensor; without NAME it binds to the model's only (remaining) input. Repeatable.")
  List<String> inputs = new ArrayList<>();

  @Option(names = "--output", paramLabel = "[NAME=]FILE.npy",
      description = "Where to write an output; without NAME, the first output. Repeatable. Outputs are always summarized on stdout.")
  List<String> outputs = new ArrayList<>();

  @Mixin EngineOptions engine = new EngineOptions();

  @Option(names = "--report", paramLabel = "FILE.json",
      description = "Write the fusion report (op counts before and after, fusions, refusals, verification) as JSON; "
          + "with --quantize, {\"fusion\": …, \"quantization\": …}, the quantization errors measured on this run's inputs.")
  Path report;

  @Option(names = "--repeat", paramLabel = "R",
      description = "Warm up (see --warmup), then R timed runs, and print a latency_ms line.")
  Integer repeat;

  @Option(names = "--warmup", paramLabel = "auto|N|Ss", defaultValue = "auto",
      description = "With --repeat: runs before the timed ones. auto (default): until the latency settles "
          + "(the JIT finished no compilation for 1 s and the last 5 runs' median is within 5%% of the 5 before), at most 60 s; "
          + "N: exactly N runs; a duration such as 10s: until it settles, at most that long.")
  String warmup;

  private static final java.time.Duration AUTO_WARMUP_BUDGET = java.time.Duration.ofSeconds(60);

  @Override
  public Integer call() throws IOException, VfuseException {
    engine.toModelOptions(); // usage errors before the model is read
    if (repeat != null && repeat < 1) {
      throw new UsageException("--repeat must be at least 1, got " + repeat);
    }
    Integer warmupRuns = null;
    java.time.Duration warmupBudget = AUTO_WARMUP_BUDGET;
    if (warmup.matches("\\d+")) {
      warmupRuns = Integer.parseInt(warmup);
    } else if (warmup.matches("\\d+(\\.\\d+)?s")) {
      warmupBudget = java.time.Duration.ofMillis(Math.round(Double.parseDouble(warmup.substring(0, warmup.length() - 1)) * 1000));
    } else if (!warmup.equals("auto")) {
      throw new UsageException("--warmup takes auto, a run count or a duration in seconds such as 10s; got '" + warmup + "'");
    }
    PrintWriter out = spec.commandLine().getOut();
    Path cwd = Path.of("");

    if (engine.quantize != null && report != null) {
      // The report measures int8 against float on this run's inputs, so they are read first.
      List<ValueInfo> declared;
      try {
        declared = dev.vfuse.onnx.OnnxImporter.read(java.nio.file.Files.readAllBytes(model)).graph().inputs();
      } catch (VfuseException e) {
        throw new VfuseException(null, model + ": " + e.getMessage(), e);
      }
      Map<String, Tensor> sample = new LinkedHashMap<>();
      for (Map.Entry<String, Path> e : Bindings.inputs(inputs, declared, cwd).entrySet()) {
        sample.put(e.getKey(), Npy.read(e.getValue()));
      }
      engine.evaluation = List.of(sample);
    }
    long t0 = System.nanoTime();
    try (Model m = engine.load(model)) {
      long loadNanos = System.nanoTime() - t0;
      out.println("model " + model + " loaded in " + Summaries.ms(loadNanos) + " ms (" + engine.describe() + ")");
      m.quantizationReport().ifPresent(q -> out.print(q.summary()));
      if (report != null) {
        String fusion = m.fusionReport().toJson();
        String json = m.quantizationReport().map(q -> "{\n\"fusion\": " + fusion.strip() + ",\n\"quantization\": "
            + q.toJson().strip() + "\n}\n").orElse(fusion);
        java.nio.file.Files.writeString(report, json);
        out.println("report -> " + report + " (" + m.fusionReport().fusedCount() + " fusions"
            + m.quantizationReport().map(q -> ", " + q.layers().size() + " int8 layers").orElse("") + ")");
      }

      Map<String, Path> inFiles = Bindings.inputs(inputs, m.inputs(), cwd);
      Map<String, Path> outFiles = Bindings.outputs(outputs, m.outputs(), cwd);
      Map<String, Tensor> feed = new LinkedHashMap<>();
      for (Map.Entry<String, Path> e : inFiles.entrySet()) {
        Tensor t = Npy.read(e.getValue());
        feed.put(e.getKey(), t);
        out.println("input  " + e.getKey() + " " + Summaries.tensor(t) + " <- " + e.getValue());
      }
      out.flush();

      Map<String, Tensor> results = null;
      if (repeat == null) {
        long start = System.nanoTime();
        results = m.run(feed);
        out.println("ran in " + Summaries.ms(System.nanoTime() - start) + " ms");
      } else {
        long[] nanos = new long[repeat];
        dev.vfuse.Warmup w = m.warmUpAndTime(feed, warmupBudget, warmupRuns == null ? -1 : warmupRuns, nanos);
        out.println(warmupRuns != null
            ? "warmup " + warmupRuns + " runs in " + Summaries.ms(w.elapsed().toNanos()) + " ms"
            : "warmup " + w);
        results = m.run(feed);
        long median = Summaries.median(nanos);
        out.println("latency_ms " + engine.describe() + " runs=" + repeat + " min=" + Summaries.ms(nanos[0])
            + " median=" + Summaries.ms(median) + " max=" + Summaries.ms(nanos[nanos.length - 1]));
      }

      for (ValueInfo v : m.outputs()) {
        Tensor t = results.get(v.name());
        if (t == null) {
          throw new VfuseException("the model returned no value for output '" + v.name() + "'");
        }
        Path file = outFiles.get(v.name());
        if (file != null) {
          Npy.write(file, t);
        }
        out.println("output " + v.name() + " " + Summaries.tensor(t) + (file != null ? " -> " + file : ""));
      }
    }
    out.flush();
    return 0;
  }
}
