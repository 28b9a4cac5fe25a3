package dev.vfuse.spark;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;

/**
 * vfuse inside Spark: a {@code Dataset<Row>} of inputs to the same rows with the model's output.
 *
 * <pre>{@code
 * try (VfuseInference vfuse = VfuseInference.create(spark, Path.of("resnet18.onnx"),
 *     InferenceOptions.defaults().withInput("path", InputFormat.NPY).withTopK(5))) {
 *   Dataset<Row> scored = vfuse.transform(spark.read().text("inputs.txt").withColumnRenamed("value", "path"));
 *   scored.select("path", "top_k", "error").write().parquet("scores");
 * }
 * }</pre>
 *
 * <p>The ONNX bytes are broadcast once; each executor JVM loads the model the first time one of
 * its tasks needs it and keeps it for every later task ({@code ExecutorModels}): one loaded model
 * per executor, shared by its concurrent tasks, closed when the executor stops. Each partition is
 * run in batches of {@link InferenceOptions#batchSize()} rows.
 *
 * <p>Columns added after the input's: {@code output} (array of float, the model output flattened,
 * null on error), {@code output_shape} (array of int, e.g. [1, 1000]), {@code argmax} (int) and
 * {@code top_k}, {@code top_k_scores} when asked for, and {@code error} (string: null, or what went
 * wrong with that row: an unreadable file, a wrong shape, ...). With {@link
 * InferenceOptions#failFast()} a bad row fails its task instead ({@link InferenceFailedException}).
 *
 * <p>The executors need the vfuse jars (engine, spark, their protobuf) on their class path and,
 * on a JDK where Spark's launcher does not add it, {@code --add-modules=jdk.incubator.vector}
 * (Spark 4.2's launcher does).
 */
public final class VfuseInference implements AutoCloseable {
  private final ModelRef model;
  private final LongAccumulator loads;

  private VfuseInference(ModelRef model, LongAccumulator loads) {
    this.model = model;
    this.loads = loads;
  }

  /** Broadcasts {@code onnx} (the model file's bytes) to run with {@code options}; nothing is loaded yet. */
  public static VfuseInference create(SparkSession spark, byte[] onnx, InferenceOptions options) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    LongAccumulator loads = spark.sparkContext().longAccumulator("vfuse model loads");
    return new VfuseInference(new ModelRef(jsc.broadcast(onnx.clone()), ModelRef.digest(onnx), options, loads), loads);
  }

  public static VfuseInference create(SparkSession spark, Path onnx, InferenceOptions options) throws IOException {
    return create(spark, Files.readAllBytes(onnx), options);
  }

  ModelRef model() {
    return model;
  }

  public InferenceOptions options() {
    return model.options();
  }

  /**
   * How many times the model was loaded by the tasks of this instance's jobs so far, cluster-wide
   * (a Spark accumulator, merged on the driver as tasks finish): once per executor JVM that ran one
   * of its tasks, unless an executor was lost and replaced.
   */
  public long modelLoads() {
    return loads.value();
  }

  /** The schema {@link #transform} gives {@code input}: its columns, then the output columns. */
  public StructType outputSchema(StructType input) {
    Columns c = columns(input, model.options());
    return c.schema;
  }

  /** {@code input} with the output columns; lazy, like any Dataset transformation. */
  public Dataset<Row> transform(Dataset<Row> input) {
    InferenceOptions o = model.options();
    Columns c = columns(input.schema(), o);
    return input.mapPartitions(new Scorer(model, c.input, c.shape, input.schema().size()), Encoders.row(c.schema));
  }

  /** Destroys the broadcast and closes the model in the driver's JVM (the executors' close as they stop). */
  @Override
  public void close() {
    model.release();
  }

  /** The input column's index, the shape column's (or -1), and the output schema. */
  private record Columns(int input, int shape, StructType schema) {}

  private static Columns columns(StructType in, InferenceOptions o) {
    int input = index(in, o.inputColumn());
    DataType t = in.fields()[input].dataType();
    int shape = -1;
    switch (o.inputFormat()) {
      case NPY, IMAGE -> {
        if (!t.equals(DataTypes.StringType) && !t.equals(DataTypes.BinaryType)) {
          throw new IllegalArgumentException("column '" + o.inputColumn() + "' must hold paths (string) or file bytes "
              + "(binary) for " + o.inputFormat() + " input; it is " + t.simpleString());
        }
      }
      case FLOATS -> {
        if (!(t instanceof ArrayType a && a.elementType() instanceof NumericType)) {
          throw new IllegalArgumentException("column '" + o.inputColumn() + "' must be an array of numbers; it is "
              + t.simpleString());
        }
        shape = index(in, o.shapeColumn());
        DataType s = in.fields()[shape].dataType();
        if (!(s instanceof ArrayType sa && sa.elementType() instanceof NumericType)) {
          throw new IllegalArgumentException("shape column '" + o.shapeColumn() + "' must be an array of int; it is "
              + s.simpleString());
        }
      }
    }
    List<StructField> fields = new ArrayList<>(Arrays.asList(in.fields()));
    fields.add(DataTypes.createStructField("output", DataTypes.createArrayType(DataTypes.FloatType, false), true));
    fields.add(DataTypes.createStructField("output_shape", DataTypes.createArrayType(DataTypes.IntegerType, false), true));
    if (o.argmax()) {
      fields.add(DataTypes.createStructField("argmax", DataTypes.IntegerType, true));
    }
    if (o.topK() > 0) {
      fields.add(DataTypes.createStructField("top_k", DataTypes.createArrayType(DataTypes.IntegerType, false), true));
      fields.add(DataTypes.createStructField("top_k_scores", DataTypes.createArrayType(DataTypes.FloatType, false), true));
    }
    fields.add(DataTypes.createStructField("error", DataTypes.StringType, true));
    for (int i = in.size(); i < fields.size(); i++) {
      String name = fields.get(i).name();
      if (Arrays.asList(in.fieldNames()).contains(name)) {
        throw new IllegalArgumentException("the input already has a column '" + name + "', which the output adds; "
            + "rename it first");
      }
    }
    return new Columns(input, shape, DataTypes.createStructType(fields));
  }

  private static int index(StructType in, String name) {
    for (int i = 0; i < in.size(); i++) {
      if (in.fields()[i].name().equals(name)) {
        return i;
      }
    }
    throw new IllegalArgumentException("no column '" + name + "' in " + in.simpleString());
  }

  /** The partition function: rows in, rows with outputs out, a batch at a time. */
  private static final class Scorer implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    private final ModelRef model;
    private final int column;
    private final int shapeColumn;
    private final int width;

    Scorer(ModelRef model, int column, int shapeColumn, int width) {
      this.model = model;
      this.column = column;
      this.shapeColumn = shapeColumn;
      this.width = width;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
      InferenceOptions o = model.options();
      return PartitionBatches.map(rows, model, column, shapeColumn, s -> {
        List<Object> values = new ArrayList<>(width + 6);
        for (int i = 0; i < width; i++) {
          values.add(s.row().get(i));
        }
        var out = s.outcome().output();
        if (out == null) {
          values.add(null);
          values.add(null);
          if (o.argmax()) {
            values.add(null);
          }
          if (o.topK() > 0) {
            values.add(null);
            values.add(null);
          }
        } else {
          float[] f = BatchRunner.floats(out);
          values.add(f);
          values.add(out.shape());
          if (o.argmax()) {
            values.add(TopK.argmax(f));
          }
          if (o.topK() > 0) {
            int[] idx = TopK.indices(f, o.topK());
            float[] scores = new float[idx.length];
            for (int i = 0; i < idx.length; i++) {
              scores[i] = f[idx[i]];
            }
            values.add(idx);
            values.add(scores);
          }
        }
        values.add(s.outcome().error());
        return RowFactory.create(values.toArray());
      });
    }
  }
}
