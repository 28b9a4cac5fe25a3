package dev.vfuse.cli;

import dev.vfuse.MachineProbe;
import dev.vfuse.Model;
import dev.vfuse.Profile;
import dev.vfuse.Tensor;
import dev.vfuse.VfuseException;
import dev.vfuse.io.Npy;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code vfuse profile MODEL.onnx --input X.npy [--repeat R] [--warmup auto|N|Ss] [--threads T]
 * [--backend …] [--trace trace.json] [--plot roofline.png] [--csv layers.csv] [--probe-cache DIR]
 * [--reprobe] [--no-probe]}.
 *
 * <p>Warms the model up until its latency settles (as {@code run --repeat} does), times every step
 * of the planned (fused) graph over R runs ({@link Model#profile}), and prints a header (model, CPU,
 * JDK, backend and vector width, threads, the machine probe), the table slowest first with how
 * closely its rows add up to the median run, and writes the Chrome trace, the roofline and the CSV
 * when asked. The roofs come from {@link MachineProbe}, cached under {@code ~/.cache/vfuse}.
 */
@Command(name = "profile", mixinStandardHelpOptions = true, versionProvider = VfuseCli.Version.class, sortOptions = false,
    usageHelpAutoWidth = true,
    description = "Time every layer of the planned (fused) graph: table, Chrome trace, roofline, CSV.",
    footer = {"", "Examples:",
        "  vfuse profile resnet18.onnx --input image.npy",
        "  vfuse profile resnet18.onnx --input image.npy --threads 2 --trace trace.json --plot roofline.png --csv layers.csv",
        "", "The trace opens in https://ui.perfetto.dev or chrome://tracing."})
final class ProfileCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "MODEL.onnx", description = "The ONNX model.")
  Path model;

  @Option(names = "--input", required = true, paramLabel = "[NAME=]FILE.npy",
      description = "An input tensor; without NAME it binds to the model's only (remaining) input. Repeatable.")
  List<String> inputs = new ArrayList<>();

  @Mixin EngineOptions engine = new EngineOptions();

  @Option(names = "--repeat", paramLabel = "R", defaultValue = "20", description = "Profiled runs. Default: ${DEFAULT-VALUE}.")
  int repeat;

  @Option(names = "--warmup", paramLabel = "auto|N|Ss", defaultValue = "auto",
      description = "Runs before the profiled ones, as for 'vfuse run': auto (default, until the latency settles, at most 60 s), "
          + "N runs, or a duration such as 10s.")
  String warmup;

  @Option(names = "--trace", paramLabel = "FILE.json",
      description = "Write the runs as a Chrome trace (one event per step and run, one per thread that ran a split step's tasks).")
  Path trace;

  @Option(names = "--plot", paramLabel = "FILE.png", description = "Draw the roofline: the probe's roofs and every layer with counted FLOPs.")
  Path plot;

  @Option(names = "--csv", paramLabel = "FILE.csv", description = "Write the table's rows as CSV, in execution order.")
  Path csv;

  @Option(names = "--probe-cache", paramLabel = "DIR",
      description = "Where the machine probe's result is kept. Default: $XDG_CACHE_HOME/vfuse or ~/.cache/vfuse.")
  Path probeCache;

  @Option(names = "--reprobe", description = "Measure the machine again instead of reading the cached probe.")
  boolean reprobe;

  @Option(names = "--no-probe", description = "Skip the machine probe: no % of peak, no --plot.")
  boolean noProbe;

  @Override
  public Integer call() throws IOException, VfuseException {
    engine.toModelOptions(); // usage errors before the model is read
    if (repeat < 1) {
      throw new UsageException("--repeat must be at least 1, got " + repeat);
    }
    if (noProbe && plot != null) {
      throw new UsageException("--plot needs the machine probe; drop --no-probe");
    }
    WarmupOption warm = WarmupOption.parse(warmup);
    for (Path file : new Path[] {trace, plot, csv}) {
      Path parent = file == null ? null : file.toAbsolutePath().getParent();
      if (parent != null && !Files.isDirectory(parent)) {
        throw new UsageException(file + ": directory " + parent + " does not exist");
      }
    }
    PrintWriter out = spec.commandLine().getOut();
    try (Model m = engine.load(model)) {
      Map<String, Tensor> feed = new LinkedHashMap<>();
      for (Map.Entry<String, Path> e : Bindings.inputs(inputs, m.inputs(), Path.of("")).entrySet()) {
        feed.put(e.getKey(), Npy.read(e.getValue()));
      }
      MachineProbe probe = null;
      if (!noProbe) {
        probe = reprobe ? MachineProbe.measure() : MachineProbe.cached(probeCache != null ? probeCache : MachineProbe.defaultCacheDir());
      }
      dev.vfuse.Warmup w = m.warmUpAndTime(feed, warm.budget(), warm.runCount(), new long[0]);
      Profile profile = m.profile(feed, repeat);

      out.println("model   " + model + " (" + engine.describe() + ")");
      out.println("cpu     " + MachineProbe.cpuModel() + ", " + Runtime.getRuntime().availableProcessors() + " CPUs");
      out.println("jdk     " + System.getProperty("java.runtime.version") + " (" + System.getProperty("java.vendor") + ")");
      out.println("kernels " + profile.backend() + ", " + profile.threads() + " thread(s)");
      out.println("probe   " + (probe == null ? "skipped (--no-probe)" : probe));
      out.println(warm.describe(w).replaceFirst("^warmup ", "warmup  "));
      out.println();
      out.print(profile.table(probe));
      if (trace != null) {
        Files.writeString(trace, profile.toChromeTrace());
        out.println(String.format(Locale.ROOT, "trace   -> %s (%d runs; the steps fill %.1f%% of the runs; %d per-thread task spans)",
            trace, profile.runs(), 100 * profile.stepsShareOfRuns(), profile.spans().size()));
      }
      if (csv != null) {
        Files.writeString(csv, profile.toCsv(probe));
        out.println("csv     -> " + csv + " (" + profile.layers().size() + " rows)");
      }
      if (plot != null) {
        ImageIO.write(RooflinePlot.draw(profile, probe, "vfuse roofline: " + model.getFileName()), "png", plot.toFile());
        out.println("plot    -> " + plot + " (" + profile.layers().stream().filter(l -> l.flops() > 0).count() + " layers with counted FLOPs)");
      }
    }
    out.flush();
    return 0;
  }
}
