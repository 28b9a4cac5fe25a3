package dev.vfuse.spark;

import dev.vfuse.io.Npy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;

/**
 * The job behind {@code vfuse batch}: each {@code NAME.npy} in a folder through the model, the
 * output written to {@code OUT/NAME.npy} (atomically, see {@link AtomicFiles}), with {@link
 * VfuseInference}'s machinery (one model per executor JVM, batches per partition). The files are
 * split into partitions of at most {@code batch} files, and at least as many partitions as the
 * cluster runs tasks at once (when there are enough files). On a cluster the input and output
 * folders must be on a file system every executor sees at the same path.
 *
 * <p>A file that cannot be read or run is reported (its name and error) and written nowhere; with
 * {@code failFast} it fails the job instead. Progress ({@code files done / total, rows/s}) is
 * printed as tasks finish, and a summary at the end.
 */
public final class BatchJob {
  /** What {@code vfuse batch} was asked to do. {@code master} null: local, one task per core. */
  public record Options(Path model, Path inputDir, Path outputDir, String master, InferenceOptions inference) {}

  /** A file's result: its name, and the error or null. */
  public record FileResult(String name, String error) {}

  /** What the job did. */
  public record Summary(int files, int written, List<FileResult> failed, double loadSeconds, double seconds,
      double rowsPerSecond, long modelLoads, String master) {}

  private BatchJob() {}

  /** The {@code .npy} files in {@code dir}, by name. */
  public static List<Path> inputs(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().endsWith(".npy") && Files.isRegularFile(p)).sorted().toList();
    }
  }

  /**
   * A session for the job: under spark-submit (no {@code master} given, {@code spark.master} set)
   * exactly spark-submit's; with {@code master} that master; else local with one task per core.
   */
  public static SparkSession session(String master) {
    SparkSession.Builder b = SparkSession.builder().appName("vfuse batch");
    if (master == null && System.getProperty("spark.master") != null) {
      return b.getOrCreate(); // spark-submit's configuration, jars and all
    }
    String m = master != null ? master : "local[" + Runtime.getRuntime().availableProcessors() + "]";
    b.master(m);
    if (m.startsWith("local")) {
      // One JVM: no web UI, nothing bound beyond loopback.
      b.config("spark.ui.enabled", "false").config("spark.driver.bindAddress", "127.0.0.1")
          .config("spark.driver.host", "127.0.0.1");
    } else {
      // The executors need this jar (the engine and these classes: the shaded vfuse.jar when the
      // launcher runs it). SparkContext adds Spark's own JVM flags, --add-modules=jdk.incubator.vector
      // among them, to the executors' on Spark 4.2.
      var src = BatchJob.class.getProtectionDomain().getCodeSource();
      if (src != null && src.getLocation().getPath().endsWith(".jar")) {
        b.config("spark.jars", src.getLocation().toString());
      }
    }
    return b.getOrCreate();
  }

  /** Runs the job in {@code spark}, handing each progress line to {@code progress}. */
  public static Summary run(SparkSession spark, Options o, Consumer<String> progress) throws IOException {
    List<Path> files = inputs(o.inputDir());
    if (files.isEmpty()) {
      throw new IOException(o.inputDir() + ": no .npy files");
    }
    Files.createDirectories(o.outputDir());
    InferenceOptions inf = o.inference().withInput("path", InferenceOptions.InputFormat.NPY);
    String master = spark.sparkContext().master();
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    int slots = Math.max(1, jsc.defaultParallelism());
    int partitions = Math.min(files.size(), Math.max(slots, (files.size() + inf.batchSize() - 1) / inf.batchSize()));
    List<Row> rows = new ArrayList<>(files.size());
    for (Path f : files) {
      String name = f.getFileName().toString();
      rows.add(RowFactory.create(name, f.toAbsolutePath().toString()));
    }
    StructType in = DataTypes.createStructType(List.of(
        DataTypes.createStructField("name", DataTypes.StringType, false),
        DataTypes.createStructField("path", DataTypes.StringType, false)));
    StructType out = DataTypes.createStructType(List.of(
        DataTypes.createStructField("name", DataTypes.StringType, false),
        DataTypes.createStructField("error", DataTypes.StringType, true)));
    Dataset<Row> input = spark.createDataFrame(jsc.parallelize(rows, partitions), in);

    LongAccumulator done = spark.sparkContext().longAccumulator("vfuse files done");
    try (VfuseInference vfuse = VfuseInference.create(spark, o.model(), inf)) {
      ModelRef model = vfuse.model();
      long loadStart = System.nanoTime();
      if (master.startsWith("local")) {
        // The driver's JVM is the executor: load here, so that a bad model fails before any task
        // starts and the rate below counts inference only. The tasks then find it loaded.
        try {
          model.runner();
        } catch (dev.vfuse.VfuseException | IllegalArgumentException e) {
          throw new IOException(o.model() + ": " + e.getMessage(), e);
        }
      }
      long start = System.nanoTime();
      double loadSeconds = (start - loadStart) / 1e9;
      Progress ticker = new Progress(done, files.size(), start, progress);
      ticker.start();
      List<Row> results;
      try {
        results = input.mapPartitions(new Writer(model, o.outputDir().toAbsolutePath().toString(), done),
            Encoders.row(out)).collectAsList();
      } catch (Exception e) { // SparkException is checked in Java's eyes, and Scala throws it undeclared
        // Spark's job failure carries the task's error as text, with the driver's stack trace; with
        // --fail-fast the failing file's own message is what the user needs.
        String failed = failFastMessage(e);
        if (failed != null) {
          throw new IOException(failed, e);
        }
        if (e instanceof RuntimeException r) {
          throw r;
        }
        throw new IOException(e.getMessage(), e);
      } finally {
        ticker.finish();
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      List<FileResult> failed = new ArrayList<>();
      for (Row r : results) {
        if (!r.isNullAt(1)) {
          failed.add(new FileResult(r.getString(0), r.getString(1)));
        }
      }
      return new Summary(files.size(), files.size() - failed.size(), failed, loadSeconds, seconds, files.size() / seconds,
          vfuse.modelLoads(), master);
    }
  }

  /**
   * The message of the {@link InferenceFailedException} that failed a job, found as a cause (a
   * task in this JVM) or in the text Spark makes of a remote task's error; null if none did.
   */
  static String failFastMessage(Throwable e) {
    String marker = InferenceFailedException.class.getName() + ": ";
    for (Throwable c = e; c != null; c = c.getCause()) {
      if (c instanceof InferenceFailedException f) {
        return f.getMessage();
      }
      String m = c.getMessage();
      int at = m == null ? -1 : m.indexOf(marker);
      if (at >= 0) {
        String rest = m.substring(at + marker.length());
        int end = rest.indexOf('\n');
        return (end < 0 ? rest : rest.substring(0, end)).strip();
      }
    }
    return null;
  }

  /** Writes each scored row's output to {@code OUT/NAME}; yields (name, error). */
  private static final class Writer implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    private final ModelRef model;
    private final String outputDir;
    private final LongAccumulator done;

    Writer(ModelRef model, String outputDir, LongAccumulator done) {
      this.model = model;
      this.outputDir = outputDir;
      this.done = done;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
      Path dir = Path.of(outputDir);
      return PartitionBatches.map(rows, model, 1, -1, s -> {
        String name = s.row().getString(0);
        String error = s.outcome().error();
        if (error == null) {
          try {
            AtomicFiles.write(dir.resolve(name), Npy.toBytes(s.outcome().output()));
          } catch (IOException e) {
            if (model.options().failFast()) {
              throw new InferenceFailedException("'" + name + "': cannot write the output: " + e.getMessage());
            }
            error = "cannot write the output: " + e.getMessage();
          }
        }
        done.add(1);
        return RowFactory.create(name, error);
      });
    }
  }

  /** Prints {@code batch: D/N files, R rows/s} as the driver learns of finished tasks, at most once a second. */
  private static final class Progress extends Thread {
    private final LongAccumulator done;
    private final int total;
    private final long start;
    private final Consumer<String> out;
    private volatile boolean finished;
    private long printed = -1;

    Progress(LongAccumulator done, int total, long start, Consumer<String> out) {
      super("vfuse-batch-progress");
      setDaemon(true);
      this.done = done;
      this.total = total;
      this.start = start;
      this.out = out;
    }

    @Override
    public void run() {
      while (!finished) {
        tick();
        try {
          Thread.sleep(1000);
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    private synchronized void tick() {
      long d = done.value();
      if (d != printed && d > 0) {
        double s = (System.nanoTime() - start) / 1e9;
        out.accept(String.format(Locale.ROOT, "batch: %d/%d files, %.1f rows/s", d, total, d / s));
        printed = d;
      }
    }

    void finish() {
      finished = true;
      interrupt();
      tick();
    }
  }
}
