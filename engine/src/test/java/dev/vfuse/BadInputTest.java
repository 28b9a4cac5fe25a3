package dev.vfuse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.vfuse.ops.OnnxModelBuilder;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every kind of bad input gets a documented, checked exception whose message names what is wrong
 * (and the node, when one node is at fault), never an index or null-pointer exception and never a
 * silent result.
 */
class BadInputTest {

  /** Conv 2→3 channels, 3×3, pad 1, on x [1, 2, 5, 5]. */
  private static OnnxModelBuilder conv() {
    float[] w = new float[3 * 2 * 3 * 3];
    Arrays.fill(w, 0.1f);
    return new OnnxModelBuilder(13)
        .input("x", 1, 2, 5, 5)
        .initializer("w", new int[] {3, 2, 3, 3}, w)
        .node("Conv", "x", "w").out("y").ints("pads", 1, 1, 1, 1).end()
        .output("y");
  }

  private static Model load(byte[] bytes) throws VfuseException {
    return Model.load(bytes, ModelOptions.defaults());
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 10, 100, 200})
  void truncatedFileIsAFormatError(int keep) {
    byte[] full = conv().build();
    byte[] cut = Arrays.copyOf(full, Math.min(keep, full.length - 1));
    assertThatThrownBy(() -> load(cut)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("ONNX");
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4, 5})
  void randomBytesAreAFormatError(long seed) {
    byte[] noise = new byte[4096];
    new SplittableRandom(seed).nextBytes(noise);
    assertThatThrownBy(() -> load(noise)).isInstanceOf(ModelFormatException.class);
  }

  /** A fixed-shape model is planned once, at load, and then holds only its packed weights: no other shape. */
  @Test
  void fixedShapeModelCountsWorkAtItsOwnShapeOnly() throws VfuseException {
    try (Model model = load(conv().build())) {
      assertThat(model.flops(java.util.List.<int[]>of(new int[] {1, 2, 5, 5}))).isEqualTo(2L * 3 * 25 * 2 * 9);
      assertThatThrownBy(() -> model.flops(java.util.List.<int[]>of(new int[] {1, 2, 6, 6})))
          .isInstanceOf(InvalidInputException.class).hasMessageContaining("fixed input shapes");
    }
  }

  @Test
  void emptyFileIsAFormatError() {
    assertThatThrownBy(() -> load(new byte[0])).isInstanceOf(ModelFormatException.class).hasMessageContaining("not an ONNX model");
  }

  @Test
  void unknownOperatorNamesTheOpAndTheNode() {
    byte[] bytes = new OnnxModelBuilder(13).input("x", 1, 4)
        .node("FancyGlu", "x").out("y").end().output("y").build();
    assertThatThrownBy(() -> load(bytes)).isInstanceOfSatisfying(UnsupportedOperatorException.class, e -> {
      assertThat(e.opType()).isEqualTo("FancyGlu");
      assertThat(e.nodeName()).isEqualTo("fancyglu0");
      assertThat(e.getMessage()).contains("FancyGlu").contains("fancyglu0");
    });
  }

  @Test
  void missingInitializerNamesTheNodeAndTheValue() {
    byte[] bytes = new OnnxModelBuilder(13).input("x", 1, 2, 5, 5)
        .node("Conv", "x", "conv.weight").out("y").end().output("y").build();
    assertThatThrownBy(() -> load(bytes)).isInstanceOfSatisfying(ModelFormatException.class, e -> {
      assertThat(e.nodeName()).isEqualTo("conv0");
      assertThat(e.getMessage()).contains("conv.weight").contains("missing initializer");
    });
  }

  /** A node whose (required) first output is empty: found by fuzzing, once a run failed inside the pooling step. */
  @Test
  void nodeWithoutItsFirstOutputNamesTheNode() {
    byte[] bytes = new OnnxModelBuilder(13).input("x", 1, 2, 5, 5).node("MaxPool", "x").ints("kernel_shape", 2, 2).out("")
        .end().node("Relu", "x").out("y").end().output("y").build();
    assertThatThrownBy(() -> load(bytes)).isInstanceOfSatisfying(ModelFormatException.class, e -> {
      assertThat(e.nodeName()).isEqualTo("maxpool0");
      assertThat(e.getMessage()).contains("first output is missing");
    });
  }

  @ParameterizedTest
  @ValueSource(floats = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY})
  void nonFiniteWeightNamesTheNode(float bad) {
    float[] w = new float[3 * 2 * 3 * 3];
    w[7] = bad;
    byte[] bytes = new OnnxModelBuilder(13).input("x", 1, 2, 5, 5)
        .initializer("w", new int[] {3, 2, 3, 3}, w)
        .node("Conv", "x", "w").out("y").end().output("y").build();
    assertThatThrownBy(() -> load(bytes)).isInstanceOfSatisfying(ModelFormatException.class, e -> {
      assertThat(e.nodeName()).isEqualTo("conv0");
      assertThat(e.getMessage()).contains("'w'").contains("index 7");
    });
  }

  @Test
  void externalDataIsRefusedWithTheFileName() {
    ModelProto m = conv().model();
    TensorProto external = m.getGraph().getInitializer(0).toBuilder().clearRawData()
        .setDataLocation(TensorProto.DataLocation.EXTERNAL)
        .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue("weights.bin")).build();
    byte[] bytes = m.toBuilder().setGraph(m.getGraph().toBuilder().setInitializer(0, external)).build().toByteArray();
    assertThatThrownBy(() -> load(bytes)).isInstanceOf(ModelFormatException.class)
        .hasMessageContaining("external").hasMessageContaining("weights.bin");
  }

  @Test
  void opsetOutsideTheSupportedRangeIsRefused() {
    byte[] bytes = new OnnxModelBuilder(21).input("x", 1, 4).node("Relu", "x").out("y").end().output("y").build();
    assertThatThrownBy(() -> load(bytes)).isInstanceOf(UnsupportedOperatorException.class).hasMessageContaining("opset 21");
  }

  @Test
  void wrongRankShapeOrTypeOfInputIsAnInputError() throws Exception {
    try (Model model = load(conv().build())) {
      Tensor rank3 = Tensor.ofFloats(new int[] {2, 5, 5}, new float[50]);
      Tensor shape = Tensor.ofFloats(new int[] {1, 3, 5, 5}, new float[75]);
      Tensor type = Tensor.ofLongs(new int[] {1, 2, 5, 5}, new long[50]);
      assertThatThrownBy(() -> model.run(rank3)).isInstanceOf(InvalidInputException.class).hasMessageContaining("rank 4");
      assertThatThrownBy(() -> model.run(shape)).isInstanceOf(InvalidInputException.class).hasMessageContaining("[1, 2, 5, 5]");
      assertThatThrownBy(() -> model.run(type)).isInstanceOf(InvalidInputException.class).hasMessageContaining("FLOAT32");
      assertThatThrownBy(() -> model.run(Map.of("z", shape))).isInstanceOf(InvalidInputException.class).hasMessageContaining("unknown input 'z'");
      assertThatThrownBy(() -> model.run(Map.of())).isInstanceOf(InvalidInputException.class).hasMessageContaining("missing input 'x'");
    }
  }

  /** A dynamic model whose shapes cannot work for the given input reports the node where they break. */
  @Test
  void shapeThatAnOperatorCannotTakeNamesTheNode() throws Exception {
    byte[] bytes = new OnnxModelBuilder(13).input("x", ai.onnx.proto.OnnxMl.TensorProto.DataType.FLOAT, 1, "C", 4, 4)
        .initializer("w", new int[] {3, 2, 3, 3}, new float[54])
        .node("Conv", "x", "w").out("y").end().output("y").build();
    try (Model model = load(bytes)) {
      Tensor threeChannels = Tensor.ofFloats(new int[] {1, 3, 4, 4}, new float[48]);
      assertThatThrownBy(() -> model.run(threeChannels)).isInstanceOfSatisfying(InvalidInputException.class, e -> {
        assertThat(e.nodeName()).isEqualTo("conv0");
        assertThat(e.getMessage()).contains("3 channels");
      });
    }
  }

  @Test
  void runningAClosedModelFails() throws Exception {
    Model model = load(conv().build());
    model.close();
    assertThatThrownBy(() -> model.run(Tensor.ofFloats(new int[] {1, 2, 5, 5}, new float[50])))
        .isInstanceOf(IllegalStateException.class);
  }
}
