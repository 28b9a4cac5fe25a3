package dev.vfuse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import dev.vfuse.ops.OnnxModelBuilder;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Sizes a file declares are checked against what it holds before anything is allocated, and
 * planning refuses shapes whose buffers exceed {@link ModelOptions#memoryLimit()}: a small
 * hostile file can neither exhaust the heap nor overflow an int on its way to an error.
 */
class DeclaredSizesTest {

  /** Conv 2→3 channels, 3×3, pad 1, weight w; x declared with {@code xShape}. */
  private static OnnxModelBuilder conv(int... xShape) {
    float[] w = new float[3 * 2 * 3 * 3];
    Arrays.fill(w, 0.1f);
    return new OnnxModelBuilder(13)
        .input("x", xShape)
        .initializer("w", new int[] {3, 2, 3, 3}, w)
        .node("Conv", "x", "w").out("y").ints("pads", 1, 1, 1, 1).end()
        .output("y");
  }

  /** The conv model with its weight replaced by {@code weight}. */
  private static byte[] withWeight(TensorProto weight) {
    ModelProto m = conv(1, 2, 5, 5).model();
    return m.toBuilder().setGraph(m.getGraph().toBuilder().setInitializer(0, weight)).build().toByteArray();
  }

  /** Bytes the current thread allocates while {@code action} runs (HotSpot's per-thread counter). */
  private static long allocatedBy(ThrowingRunnable action) {
    com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long id = Thread.currentThread().threadId();
    long before = threads.getThreadAllocatedBytes(id);
    try {
      action.run();
    } catch (Exception expected) {
      // the caller asserts on the exception separately
    }
    return threads.getThreadAllocatedBytes(id) - before;
  }

  @FunctionalInterface
  private interface ThrowingRunnable {
    void run() throws Exception;
  }

  @Test
  void oneKilobyteFileDeclaringTenToTheTwelveElementsFailsWithoutAllocating() {
    TensorProto huge = TensorProto.newBuilder().setName("w").setDataType(TensorProto.DataType.FLOAT_VALUE)
        .addDims(1_000_000).addDims(1_000_000).setRawData(ByteString.copyFrom(new byte[512])).build();
    byte[] file = withWeight(huge);
    assertThat(file.length).isLessThan(1024);
    assertThatThrownBy(() -> Model.load(file, ModelOptions.defaults())).isInstanceOfSatisfying(ModelFormatException.class,
        e -> assertThat(e.getMessage()).contains("'w'").contains("1000000000000 elements").contains("512 bytes"));
    assertThat(allocatedBy(() -> Model.load(file, ModelOptions.defaults()))).isLessThan(16L << 20);
  }

  /** Dims whose product fits an int but not the data: the array must not be allocated by the declared size. */
  @ParameterizedTest
  @EnumSource(value = TensorProto.DataType.class, names = {"FLOAT", "DOUBLE", "INT64", "INT32", "INT8", "BOOL"})
  void initializerDeclaringMoreElementsThanItsDataFailsBeforeAllocating(TensorProto.DataType type) {
    TensorProto.Builder t = TensorProto.newBuilder().setName("w").setDataType(type.getNumber()).addDims(1 << 29).addDims(3);
    byte[] raw = withWeight(t.setRawData(ByteString.copyFrom(new byte[64])).build());
    byte[] typed = withWeight(t.clearRawData().addFloatData(1f).addDoubleData(1).addInt64Data(1).addInt32Data(1).build());
    for (byte[] file : new byte[][] {raw, typed}) {
      assertThatThrownBy(() -> Model.load(file, ModelOptions.defaults())).isInstanceOfSatisfying(ModelFormatException.class,
          e -> assertThat(e.getMessage()).contains("'w'").contains(String.valueOf(3L << 29)));
      assertThat(allocatedBy(() -> Model.load(file, ModelOptions.defaults()))).isLessThan(16L << 20);
    }
  }

  /** Dims whose product overflows a long (2^31·2^31·2^31) are caught, not wrapped to a small count. */
  @Test
  void dimsWhoseProductOverflowsALongAreRefused() {
    TensorProto t = TensorProto.newBuilder().setName("w").setDataType(TensorProto.DataType.FLOAT_VALUE)
        .addDims(1L << 31).addDims(1L << 31).addDims(1L << 31).addDims(0).build();
    assertThatThrownBy(() -> Model.load(withWeight(t), ModelOptions.defaults())).isInstanceOfSatisfying(
        ModelFormatException.class, e -> assertThat(e.getMessage()).contains("'w'"));
    TensorProto wrapsToSixteen = TensorProto.newBuilder().setName("w").setDataType(TensorProto.DataType.FLOAT_VALUE)
        .addDims(1L << 31).addDims(1L << 31).addDims(1L << 2).addDims(4).build();
    assertThatThrownBy(() -> Model.load(withWeight(wrapsToSixteen), ModelOptions.defaults()))
        .isInstanceOf(ModelFormatException.class);
  }

  /** A declared input of 10^10 elements: refused at load by the memory limit, naming the input and the bytes. */
  @Test
  void hugeDeclaredInputIsRefusedAtLoadNamingTheInputAndTheBytes() {
    byte[] file = conv(1, 2, 100_000, 50_000).build();
    assertThatThrownBy(() -> Model.load(file, ModelOptions.defaults())).isInstanceOfSatisfying(ModelFormatException.class,
        e -> assertThat(e.getMessage()).contains("'x'").contains("40000000000 bytes").contains("memory limit"));
    assertThat(allocatedBy(() -> Model.load(file, ModelOptions.defaults()))).isLessThan(16L << 20);
  }

  /** Under 2^31 elements but over the limit: the conv would plan buffers of several GB. */
  @ParameterizedTest
  @ValueSource(ints = {20_000, 30_000, 46_000})
  void declaredInputOverTheMemoryLimitIsAFormatError(int side) {
    byte[] file = conv(1, 2, side, side).build();
    ModelOptions options = ModelOptions.defaults().withMemoryLimit(256L << 20);
    assertThatThrownBy(() -> Model.load(file, options)).isInstanceOfSatisfying(ModelFormatException.class,
        e -> assertThat(e.getMessage()).contains("bytes").contains("memory limit of " + (256L << 20)));
  }

  @Test
  void dynamicInputOverTheMemoryLimitIsAnInputErrorAndTheModelStillRuns() throws Exception {
    byte[] file = new OnnxModelBuilder(13).input("x", TensorProto.DataType.FLOAT, 1, 2, "H", "W")
        .initializer("w", new int[] {3, 2, 3, 3}, new float[54])
        .node("Conv", "x", "w").out("y").ints("pads", 1, 1, 1, 1).end().output("y").build();
    try (Model model = Model.load(file, ModelOptions.defaults().withMemoryLimit(1L << 20))) {
      Tensor big = Tensor.ofFloats(new int[] {1, 2, 256, 256}, new float[2 * 256 * 256]);
      assertThatThrownBy(() -> model.run(big)).isInstanceOfSatisfying(InvalidInputException.class,
          e -> assertThat(e.getMessage()).contains("bytes").contains("memory limit of " + (1L << 20)));
      Tensor small = Tensor.ofFloats(new int[] {1, 2, 8, 8}, new float[128]);
      assertThat(model.run(small).shape()).containsExactly(1, 3, 8, 8);
    }
  }

  @Test
  void memoryLimitDefaultsToAFractionOfTheMaxHeapAndMustBePositive() {
    assertThat(ModelOptions.defaults().memoryLimit()).isEqualTo(ModelOptions.defaultMemoryLimit())
        .isPositive().isLessThanOrEqualTo(Runtime.getRuntime().maxMemory());
    assertThat(new ModelOptions(Backend.REFERENCE, true, 1).memoryLimit()).isEqualTo(ModelOptions.defaultMemoryLimit());
    assertThat(ModelOptions.defaults().withThreads(2).withMemoryLimit(1234).withFuse(false).memoryLimit()).isEqualTo(1234);
    assertThatThrownBy(() -> ModelOptions.defaults().withMemoryLimit(0)).isInstanceOf(IllegalArgumentException.class);
  }
}
