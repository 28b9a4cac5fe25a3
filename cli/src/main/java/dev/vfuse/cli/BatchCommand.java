package dev.vfuse.cli;

import dev.vfuse.spark.BatchJob;
import dev.vfuse.spark.InferenceOptions;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code vfuse batch MODEL.onnx --input-dir DIR --output-dir OUT [--master M] [--threads T]
 * [--batch B] [--fail-fast]}: every {@code NAME.npy} in DIR through the model in Apache Spark
 * ({@code dev.vfuse.spark.BatchJob}, the code an application runs through {@code VfuseInference}),
 * each output written to {@code OUT/NAME.npy}. Without {@code --master} Spark runs embedded, in
 * this JVM, one task per core; under spark-submit it runs where spark-submit says.
 *
 * <p>Spark is not in vfuse.jar (it is a few hundred MB): {@code ./vfuse batch} puts the Spark jars
 * the build resolved ({@code cli/target/spark-classpath.txt}) on the class path, and spark-submit
 * brings its own. Without Spark this command says so and exits with {@value VfuseCli#EXIT_USAGE}.
 */
@Command(name = "batch", mixinStandardHelpOptions = true, versionProvider = VfuseCli.Version.class, sortOptions = false,
    usageHelpAutoWidth = true,
    description = "Run every NAME.npy in a folder through a model in Apache Spark, writing OUT/NAME.npy.",
    footer = {"", "One model is loaded per executor JVM; files are run in batches of B per partition (stacked into",
        "one [B, ...] run when the model's axis 0 is dynamic). Outputs are written to a temporary file and",
        "renamed, so a retried task never leaves half a file. A file that cannot be read or run is listed at",
        "the end (exit code 1); --fail-fast fails the job on it instead.",
        "", "Examples:",
        "  vfuse batch resnet18.onnx --input-dir imgs/ --output-dir out/",
        "  vfuse batch resnet18.onnx --input-dir /shared/imgs --output-dir /shared/out --master spark://host:7077"})
final class BatchCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "MODEL.onnx", description = "The ONNX model (one input).")
  Path model;

  @Option(names = "--input-dir", required = true, paramLabel = "DIR", description = "The folder of NAME.npy inputs.")
  Path inputDir;

  @Option(names = "--output-dir", required = true, paramLabel = "OUT", description = "Where OUT/NAME.npy go (created).")
  Path outputDir;

  @Option(names = "--master", paramLabel = "local[N]|spark://HOST:PORT",
      description = "Spark master. Default: spark-submit's, else local with one task per core.")
  String master;

  @Option(names = "--threads", paramLabel = "T",
      description = "Intra-op threads of the model in each executor (its tasks share it). Default: ${DEFAULT-VALUE}.")
  int threads = 1;

  @Option(names = "--batch", paramLabel = "B", description = "Files per batch within a partition. Default: ${DEFAULT-VALUE}.")
  int batch = 8;

  @Option(names = "--backend", paramLabel = "reference|simd", description = "Kernel implementation. Default: ${DEFAULT-VALUE}.")
  String backend = "simd";

  @Option(names = "--no-fuse", description = "Do not run the load-time fusion passes.")
  boolean noFuse;

  @Option(names = "--fail-fast", description = "Fail the job on the first file that cannot be read or run.")
  boolean failFast;

  @Override
  public Integer call() throws Exception {
    InferenceOptions options;
    try {
      options = InferenceOptions.defaults().withBatchSize(batch).withThreads(threads).withBackend(backend)
          .withFuse(!noFuse).withFailFast(failFast);
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    if (!Files.isRegularFile(model)) {
      throw new UsageException(model + ": no such file");
    }
    if (!Files.isDirectory(inputDir)) {
      throw new UsageException("--input-dir " + inputDir + " is not a folder");
    }
    if (!sparkPresent()) {
      throw new UsageException("vfuse batch needs Apache Spark on the class path: run it through ./vfuse, which "
          + "adds the Spark jars the build resolved, or with spark-submit (see the README)");
    }
    return runJob(options);
  }

  private static boolean sparkPresent() {
    try {
      Class.forName("org.apache.spark.sql.SparkSession", false, BatchCommand.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException e) {
      return false;
    }
  }

  /** Spark's types appear only from here on, once they are known to be on the class path. */
  private int runJob(InferenceOptions options) throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (System.getProperty("log4j2.configurationFile") == null) {
      System.setProperty("log4j2.configurationFile", "classpath:dev/vfuse/spark/log4j2-batch.properties");
    }
    int files = BatchJob.inputs(inputDir).size();
    long t0 = System.nanoTime();
    var spark = BatchJob.session(master);
    try {
      out.printf(Locale.ROOT, "batch: %d files in %s, Spark %s %s (started in %.1f s), batch %d, threads %d%n", files,
          inputDir, spark.version(), spark.sparkContext().master(), (System.nanoTime() - t0) / 1e9, batch, threads);
      out.flush();
      BatchJob.Summary s = BatchJob.run(spark, new BatchJob.Options(model, inputDir, outputDir, master, options), line -> {
        out.println(line);
        out.flush();
      });
      out.printf(Locale.ROOT, "wrote %d of %d outputs to %s in %.2f s: %.1f rows/s (model loaded in %.2f s, %d load%s "
          + "across executors)%n", s.written(), s.files(), outputDir, s.seconds(), s.rowsPerSecond(), s.loadSeconds(),
          s.modelLoads(), s.modelLoads() == 1 ? "" : "s");
      out.flush();
      for (BatchJob.FileResult f : s.failed()) {
        err.println("vfuse: failed " + f.name() + ": " + f.error());
      }
      err.flush();
      return s.failed().isEmpty() ? VfuseCli.EXIT_OK : VfuseCli.EXIT_ERROR;
    } finally {
      spark.stop();
    }
  }
}
