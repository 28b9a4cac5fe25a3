package dev.vfuse.cli;

import dev.vfuse.VfuseException;
import dev.vfuse.demo.OcrDemo;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code vfuse demo [--out demo.png] [--backend reference|simd] [--threads T] [--no-fuse] [--repeat R]}: see {@link OcrDemo}. */
@Command(name = "demo", mixinStandardHelpOptions = true, versionProvider = VfuseCli.Version.class, sortOptions = false, usageHelpAutoWidth = true,
    description = {"Detect text lines and their direction with the real PaddleOCR models (PP-OCRv3 detector,"
        + " mobile v2.0 direction classifier) on an image drawn with Java2D, and write the image with the boxes:"
        + " green for upright text, red for text the classifier finds rotated by 180 degrees."})
final class DemoCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--out", paramLabel = "FILE.png", description = "Where to write the annotated image. Default: ${DEFAULT-VALUE}.")
  Path out = Path.of("vfuse-demo.png");

  @Mixin EngineOptions engine = new EngineOptions();

  @Option(names = "--repeat", paramLabel = "R", description = "After the first runs, run each model R more times and print the median.")
  int repeat;

  @Override
  public Integer call() throws IOException, VfuseException {
    if (repeat < 0) {
      throw new UsageException("--repeat must not be negative, got " + repeat);
    }
    OcrDemo.run(new OcrDemo.Options(engine.toModelOptions(), out, repeat), spec.commandLine().getOut());
    return 0;
  }
}
