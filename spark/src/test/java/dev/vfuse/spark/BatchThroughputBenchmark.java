package dev.vfuse.spark;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.Model;
import dev.vfuse.ModelOptions;
import dev.vfuse.Tensor;
import dev.vfuse.io.Npy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * What Spark costs on one machine: rows per second of a plain loop over {@code Model.run} (1 and 2
 * threads sharing one model) against {@link VfuseInference} in {@code local[1]} and {@code
 * local[2]}, on the same .npy files, each reading its inputs from disk, in one JVM after the model
 * has warmed up (every number is steady state; the Spark ones are the second job of each session).
 * Off unless asked for, with the model to use (resnet18 in docs/BENCHMARKS.md):
 *
 * <pre>
 * mvn -pl spark -am test -Dsurefire.failIfNoSpecifiedTests=false -Dtest=BatchThroughputBenchmark \
 *     -Dvfuse.spark.benchmark=target/fixtures/resnet18_op13/model.onnx
 * </pre>
 */
@EnabledIfSystemProperty(named = "vfuse.spark.benchmark", matches = ".+")
class BatchThroughputBenchmark {
  static final int N = Integer.getInteger("vfuse.spark.benchmark.rows", 128);

  @TempDir Path dir;

  @Test
  void rowsPerSecond() throws Exception {
    Path modelPath = Path.of(System.getProperty("vfuse.spark.benchmark"));
    List<Path> files = new ArrayList<>();
    List<Row> rows = new ArrayList<>();
    try (Model model = Model.load(modelPath, ModelOptions.defaults())) {
      int[] shape = model.inputs().get(0).dims().stream().mapToInt(d -> d < 0 ? 1 : d).toArray();
      int size = 1;
      for (int d : shape) {
        size *= d;
      }
      for (int i = 0; i < N; i++) {
        Random r = new Random(i);
        float[] x = new float[size];
        for (int j = 0; j < size; j++) {
          x[j] = (float) r.nextGaussian();
        }
        Path p = dir.resolve(String.format("x%03d.npy", i));
        Npy.write(p, Tensor.ofFloats(shape, x));
        files.add(p);
        rows.add(RowFactory.create(p.toString()));
      }
      var w = model.warmUp(java.util.Map.of(model.inputs().get(0).name(), Npy.read(files.get(0))), Duration.ofSeconds(30));
      System.out.println("warm-up: " + w);
      report("plain loop, 1 thread", N, time(() -> loop(model, files, 1)));
      report("plain loop, 2 threads", N, time(() -> loop(model, files, 2)));
    }
    var schema = DataTypes.createStructType(List.of(DataTypes.createStructField("path", DataTypes.StringType, false)));
    for (int cores = 1; cores <= 2; cores++) {
      SparkSession.getActiveSession().foreach(s -> {
        s.stop();
        return null;
      });
      SparkSession spark = SparkSession.builder().master("local[" + cores + "]").config("spark.ui.enabled", "false")
          .config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.host", "127.0.0.1").getOrCreate();
      var df = spark.createDataFrame(rows, schema).repartition(Math.max(cores, N / 8));
      InferenceOptions o = InferenceOptions.defaults().withInput("path", InferenceOptions.InputFormat.NPY).withArgmax(true);
      try (VfuseInference vfuse = VfuseInference.create(spark, modelPath, o)) {
        double first = time(() -> assertThat(vfuse.transform(df).select("argmax", "error").collectAsList()).hasSize(N));
        double second = time(() -> assertThat(vfuse.transform(df).select("argmax", "error").collectAsList()).hasSize(N));
        report("Spark local[" + cores + "], batch 8 (first job " + String.format(Locale.ROOT, "%.2f s", first) + ")", N, second);
      }
      spark.stop();
    }
  }

  private static void loop(Model model, List<Path> files, int threads) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> fs = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int first = t;
        fs.add(pool.submit(() -> {
          for (int i = first; i < files.size(); i += threads) {
            model.run(Npy.read(files.get(i)));
          }
          return null;
        }));
      }
      for (Future<?> f : fs) {
        f.get();
      }
    } finally {
      pool.shutdown();
    }
  }

  interface Body {
    void run() throws Exception;
  }

  private static double time(Body b) throws Exception {
    long t0 = System.nanoTime();
    b.run();
    return (System.nanoTime() - t0) / 1e9;
  }

  private static void report(String what, int rows, double seconds) {
    System.out.printf(Locale.ROOT, "BENCH | %-45s | %4d rows | %7.2f s | %7.1f rows/s |%n", what, rows, seconds, rows / seconds);
  }
}
