package dev.vfuse.cli;

import dev.vfuse.Model;
import dev.vfuse.ValueInfo;
import dev.vfuse.VfuseException;
import dev.vfuse.fusion.FusionLog;
import dev.vfuse.fusion.FusionReport;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code vfuse inspect MODEL.onnx}: what the model is, section by section.
 *
 * <pre>
 * model      resnet18.onnx
 * producer   pytorch 1.13.1
 * opset      13
 * inputs
 *   input: FLOAT32 [N, 3, 224, 224]
 * outputs
 *   output: FLOAT32 [N, 1000]
 * ops        69 nodes, 9 types
 *   Conv 20
 *   Relu 17
 * parameters 11689512 (11.69 M)
 * fusion     20 fusions, 49 nodes after: {Add=8, Conv=20, …}
 *   + fold BatchNorm /bn1/BatchNormalization into Conv /conv1/Conv
 * </pre>
 *
 * <p>To add a section (the fusion plan, say), write a method {@code void x(Model, PrintWriter)} and
 * add it to {@link #sections()}.
 */
@Command(name = "inspect", mixinStandardHelpOptions = true, versionProvider = VfuseCli.Version.class, sortOptions = false, usageHelpAutoWidth = true,
    description = "Print a model's producer, opset, inputs, outputs, operator histogram and parameter count.")
final class InspectCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "MODEL.onnx", description = "The ONNX model.")
  Path model;

  @Mixin EngineOptions engine = new EngineOptions();

  /** A part of the report. */
  @FunctionalInterface
  interface Section {
    void print(Model model, PrintWriter out);
  }

  /** The sections, in print order. */
  List<Section> sections() {
    return List.of(this::header, this::values, this::ops, this::parameters, this::work, this::fusion, this::quantization);
  }

  @Override
  public Integer call() throws IOException, VfuseException {
    PrintWriter out = spec.commandLine().getOut();
    try (Model m = engine.load(model)) {
      for (Section s : sections()) {
        s.print(m, out);
      }
    }
    out.flush();
    return 0;
  }

  void header(Model m, PrintWriter out) {
    out.println("model      " + model);
    out.println("producer   " + (m.producer().isEmpty() ? "(not recorded)" : m.producer()));
    out.println("opset      " + m.opset());
  }

  void values(Model m, PrintWriter out) {
    out.println("inputs");
    for (ValueInfo v : m.inputs()) {
      out.println("  " + v);
    }
    out.println("outputs");
    for (ValueInfo v : m.outputs()) {
      out.println("  " + v);
    }
  }

  /** One {@code op count} line per op type, most frequent first, ties by name. */
  void ops(Model m, PrintWriter out) {
    List<Map.Entry<String, Integer>> entries = new ArrayList<>(m.opHistogram().entrySet());
    entries.sort(Map.Entry.<String, Integer>comparingByValue(Comparator.reverseOrder()).thenComparing(Map.Entry.comparingByKey()));
    int nodes = entries.stream().mapToInt(Map.Entry::getValue).sum();
    out.println("ops        " + nodes + " nodes, " + entries.size() + " types");
    for (Map.Entry<String, Integer> e : entries) {
      out.println("  " + e.getKey() + " " + e.getValue());
    }
  }

  /** The fusion plan: op counts after fusion, then one line per fusion and per refusal, then verification. */
  void fusion(Model m, PrintWriter out) {
    FusionReport r = m.fusionReport();
    if (!m.options().fuse()) {
      out.println("fusion     off (--no-fuse)");
      return;
    }
    int after = r.after().values().stream().mapToInt(Integer::intValue).sum();
    out.println("fusion     " + r.fusedCount() + " fusions, " + after + " nodes after: " + new java.util.TreeMap<>(r.after()));
    for (FusionLog.Entry e : r.entries()) {
      out.println("  " + (e.fused() ? "+ " : "- ") + e.message());
    }
    for (FusionReport.LayerCheck c : r.checks()) {
      out.println(String.format(Locale.ROOT, "  verified %s: max|err| %.3g (%.3g of its scale)", c.node(), c.maxAbsError(), c.maxRelError()));
    }
  }

  /** With --quantize: the summary and one line per int8 layer (range, scales, bias shift, correction). */
  void quantization(Model m, PrintWriter out) {
    m.quantizationReport().ifPresent(q -> {
      out.print("quantized  " + q.summary());
      out.print(q.table());
    });
  }

  void parameters(Model m, PrintWriter out) {
    long p = m.parameterCount();
    String human = p >= 1_000_000 ? String.format(Locale.ROOT, " (%.2f M)", p / 1e6)
        : p >= 1_000 ? String.format(Locale.ROOT, " (%.1f k)", p / 1e3) : "";
    out.println("parameters " + p + human);
  }

  /** Conv and matrix-product FLOPs per run, when every input dimension is fixed. */
  void work(Model m, PrintWriter out) {
    List<int[]> shapes = new java.util.ArrayList<>();
    for (ValueInfo v : m.inputs()) {
      if (v.dims().contains(-1)) {
        out.println("work       (input " + v.name() + " has dynamic dimensions)");
        return;
      }
      shapes.add(v.dims().stream().mapToInt(Integer::intValue).toArray());
    }
    try {
      out.println(String.format(Locale.ROOT, "work       %.3f GFLOP per run in convolutions and matrix products",
          m.flops(shapes) / 1e9));
    } catch (VfuseException e) {
      out.println("work       (" + e.getMessage() + ")");
    }
  }
}
