package dev.vfuse.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vfuse.Model;
import dev.vfuse.ModelOptions;
import dev.vfuse.Tensor;
import dev.vfuse.demo.Preprocess;
import dev.vfuse.demo.RgbImage;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link VfuseInference} in local[2] on PP-OCR's direction classifier (a real CNN whose axis 0 is
 * dynamic, so batches are stacked): every output is bit-identical to {@code Model.run} on that
 * input alone, the model is loaded once in the JVM however many partitions and concurrent tasks
 * run, and a corrupted or missing input gets its own error row while the others are scored.
 */
class VfuseInferenceTest {
  @TempDir static Path dir;
  static SparkSession spark;
  static Path modelPath;
  static Model reference;

  @BeforeAll
  static void setUp() throws Exception {
    spark = SparkTests.spark();
    modelPath = SparkTests.clsModel(dir);
    reference = Model.load(modelPath, ModelOptions.defaults());
  }

  @AfterAll
  static void tearDown() {
    reference.close();
  }

  private static float[] single(Tensor input) throws Exception {
    return reference.run(Map.of(reference.inputs().get(0).name(), input)).get(reference.outputs().get(0).name()).floats();
  }

  private static StructType paths() {
    return DataTypes.createStructType(List.of(DataTypes.createStructField("path", DataTypes.StringType, true)));
  }

  @Test
  void npyPathsGiveTheOutputsOfSingleRunsWithOneLoadAndAnErrorRowPerBadFile() throws Exception {
    Map<String, Tensor> inputs = new HashMap<>();
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      Tensor t = SparkTests.clsInput(i);
      Path p = SparkTests.writeNpy(dir, "in" + i + ".npy", t);
      inputs.put(p.toString(), t);
      rows.add(RowFactory.create(p.toString()));
      if (i == 5) {
        rows.add(RowFactory.create(SparkTests.corruptNpy(dir, "corrupt.npy").toString()));
      }
      if (i == 6) {
        rows.add(RowFactory.create(dir.resolve("missing.npy").toString()));
      }
    }
    Dataset<Row> df = spark.createDataFrame(rows, paths()).repartition(4);
    InferenceOptions o = InferenceOptions.defaults().withInput("path", InferenceOptions.InputFormat.NPY)
        .withBatchSize(3).withArgmax(true).withTopK(2);
    try (VfuseInference vfuse = VfuseInference.create(spark, modelPath, o)) {
      List<Row> out = vfuse.transform(df).collectAsList();
      assertThat(out).hasSize(10);
      int ok = 0;
      for (Row r : out) {
        String path = r.getString(r.fieldIndex("path"));
        String error = r.getString(r.fieldIndex("error"));
        if (path.endsWith("corrupt.npy") || path.endsWith("missing.npy")) {
          assertThat(error).as(path).isNotNull().contains(path.endsWith("corrupt.npy") ? "corrupt.npy" : "missing.npy");
          assertThat(r.isNullAt(r.fieldIndex("output"))).isTrue();
          continue;
        }
        assertThat(error).as(path).isNull();
        float[] expected = single(inputs.get(path));
        float[] got = floats(r.getList(r.fieldIndex("output")));
        assertThat(got).as(path).containsExactly(expected);
        assertThat(r.<Integer>getList(r.fieldIndex("output_shape"))).containsExactly(1, 2);
        int argmax = expected[1] > expected[0] ? 1 : 0;
        assertThat(r.getInt(r.fieldIndex("argmax"))).isEqualTo(argmax);
        assertThat(r.<Integer>getList(r.fieldIndex("top_k"))).containsExactly(argmax, 1 - argmax);
        ok++;
      }
      assertThat(ok).isEqualTo(8);
      // 4 partitions on 2 cores, 2 tasks at a time, batches of 3: one load in this JVM.
      assertThat(vfuse.modelLoads()).isEqualTo(1);
      assertThat(ExecutorModels.loads(vfuse.model().key())).isEqualTo(1);
      // A second job, of another instance with the same model and options, finds it loaded.
      try (VfuseInference again = VfuseInference.create(spark, modelPath, o)) {
        assertThat(again.transform(df.limit(2)).collectAsList()).hasSize(2);
        assertThat(again.modelLoads()).isZero();
      }
      assertThat(ExecutorModels.loads(vfuse.model().key())).isEqualTo(1);
    }
  }

  @Test
  void floatArraysWithShapesAndImagesMatchSingleRuns() throws Exception {
    StructType schema = DataTypes.createStructType(List.of(
        DataTypes.createStructField("x", DataTypes.createArrayType(DataTypes.FloatType), true),
        DataTypes.createStructField("shape", DataTypes.createArrayType(DataTypes.IntegerType), true)));
    List<Row> rows = new ArrayList<>();
    List<Tensor> tensors = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      Tensor t = SparkTests.clsInput(100 + i);
      tensors.add(t);
      float[] f = t.floats();
      List<Float> boxed = new ArrayList<>(f.length);
      for (float v : f) {
        boxed.add(v);
      }
      rows.add(RowFactory.create(boxed, List.of(1, 3, 48, 192)));
    }
    rows.add(RowFactory.create(List.of(1f, 2f, 3f), List.of(1, 3, 48, 192))); // shape disagrees with the data
    InferenceOptions o = InferenceOptions.defaults().withFloats("x", "shape").withBatchSize(4);
    try (VfuseInference vfuse = VfuseInference.create(spark, modelPath, o)) {
      List<Row> out = vfuse.transform(spark.createDataFrame(rows, schema).coalesce(1)).collectAsList();
      for (int i = 0; i < 5; i++) {
        assertThat(out.get(i).isNullAt(out.get(i).fieldIndex("error"))).isTrue();
        assertThat(floats(out.get(i).getList(out.get(i).fieldIndex("output")))).containsExactly(single(tensors.get(i)));
      }
      assertThat(out.get(5).getString(out.get(5).fieldIndex("error"))).contains("holds 27648 values, the row has 3");
    }

    // Images: the demo's classifier preprocessing, on text drawn upright.
    List<Row> images = new ArrayList<>();
    List<Tensor> expected = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      BufferedImage img = new BufferedImage(160 + 40 * i, 40, BufferedImage.TYPE_INT_RGB);
      Graphics2D g = img.createGraphics();
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, img.getWidth(), img.getHeight());
      g.setColor(Color.BLACK);
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 24));
      g.drawString("line " + i, 5, 30);
      g.dispose();
      Path p = dir.resolve("img" + i + ".png");
      ImageIO.write(img, "png", p.toFile());
      images.add(RowFactory.create(p.toUri().toString())); // a file: URI, as Spark's binaryFile source gives
      expected.add(Tensor.ofFloats(new int[] {1, 3, 48, 192}, Preprocess.clsInput(List.of(RgbImage.of(ImageIO.read(p.toFile()))))));
    }
    images.add(RowFactory.create(dir.resolve("in0.npy").toString())); // not an image
    InferenceOptions io = InferenceOptions.defaults().withImages("path", InferenceOptions.ImagePreprocess.CLS);
    try (VfuseInference vfuse = VfuseInference.create(spark, modelPath, io)) {
      SparkTests.writeNpy(dir, "in0.npy", SparkTests.clsInput(0));
      List<Row> out = vfuse.transform(spark.createDataFrame(images, paths()).coalesce(1)).collectAsList();
      for (int i = 0; i < 3; i++) {
        assertThat(out.get(i).isNullAt(out.get(i).fieldIndex("error"))).as(out.get(i).toString()).isTrue();
        assertThat(floats(out.get(i).getList(out.get(i).fieldIndex("output")))).containsExactly(single(expected.get(i)));
      }
      assertThat(out.get(3).getString(out.get(3).fieldIndex("error"))).contains("not an image");
    }
  }

  @Test
  void failFastFailsTheJobNamingTheFile() throws Exception {
    Path good = SparkTests.writeNpy(dir, "good.npy", SparkTests.clsInput(7));
    Path bad = SparkTests.corruptNpy(dir, "bad.npy");
    Dataset<Row> df = spark.createDataFrame(List.of(RowFactory.create(good.toString()), RowFactory.create(bad.toString())),
        paths());
    InferenceOptions o = InferenceOptions.defaults().withInput("path", InferenceOptions.InputFormat.NPY).withFailFast(true);
    try (VfuseInference vfuse = VfuseInference.create(spark, modelPath, o)) {
      assertThatThrownBy(() -> vfuse.transform(df).collectAsList())
          .hasStackTraceContaining(InferenceFailedException.class.getName())
          .hasStackTraceContaining("bad.npy");
    }
  }

  @Test
  void badColumnsFailAtTransformWithTheReason() throws Exception {
    try (VfuseInference vfuse = VfuseInference.create(spark, modelPath, InferenceOptions.defaults())) {
      Dataset<Row> df = spark.createDataFrame(List.of(RowFactory.create("x")), paths());
      assertThatThrownBy(() -> vfuse.transform(df)).hasMessageContaining("no column 'input'");
      Dataset<Row> taken = spark.createDataFrame(List.of(RowFactory.create("x")), paths()).withColumnRenamed("path", "input")
          .withColumn("error", org.apache.spark.sql.functions.lit("x"));
      assertThatThrownBy(() -> vfuse.transform(taken)).hasMessageContaining("already has a column 'error'");
    }
  }

  static float[] floats(List<Object> values) {
    float[] f = new float[values.size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = ((Number) values.get(i)).floatValue();
    }
    return f;
  }
}
