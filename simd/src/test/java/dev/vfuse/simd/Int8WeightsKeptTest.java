package dev.vfuse.simd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.kernel.ConvGeometry;
import dev.vfuse.kernel.ConvTransposeGeometry;
import dev.vfuse.kernel.Int8Weights;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The int8 kernels of {@link SimdKernels} keep their weights as int8: the prepared object holds a
 * byte[] (or byte chunks, {@link WeightChunks}) with at least one element a weight, and no float[] of its own (the caller's bias, offsets
 * and scales aside) as long as the weights, which a float copy would need.
 */
class Int8WeightsKeptTest {

  private final SimdKernels simd = new SimdKernels();
  private final SplittableRandom rnd = FloatData.random(88);

  @Test
  void implicitGemmConvKeepsInt8() throws IllegalAccessException {
    ConvGeometry g = ConvGeometry.of(1, 16, 8, 8, 20, 3, 1, 1, 1, 1);
    Int8Weights q = PreparedConvCheck.weights(rnd, Int8Weights.conv(g), false);
    float[] bias = new float[g.k()];
    Object prepared = simd.prepareConv2dInt8(g, q, bias, null, null);
    assertThat(prepared).isInstanceOf(F32ConvImplicitGemm.class);
    assertKeepsInt8(prepared, q, bias);
  }

  @Test
  void depthwiseConvKeepsInt8() throws IllegalAccessException {
    ConvGeometry g = ConvGeometry.of(1, 8, 10, 10, 8, 3, 1, 1, 1, 8);
    Int8Weights q = PreparedConvCheck.weights(rnd, Int8Weights.conv(g), false);
    float[] bias = new float[g.k()];
    Object prepared = simd.prepareConv2dInt8(g, q, bias, null, null);
    assertThat(prepared).isInstanceOf(F32DwConv.class);
    assertKeepsInt8(prepared, q, bias);
  }

  @Test
  void convTransposeKeepsInt8() throws IllegalAccessException {
    ConvTransposeGeometry g = new ConvTransposeGeometry(1, 8, 6, 6, 12, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1);
    Int8Weights q = PreparedConvCheck.weights(rnd, Int8Weights.convTranspose(g), false);
    float[] bias = new float[g.k()];
    assertKeepsInt8(simd.prepareConvTranspose2dInt8(g, q, bias, null, null), q, bias);
  }

  @Test
  void gemmKeepsInt8() throws IllegalAccessException {
    Int8Weights q = PreparedConvCheck.weights(rnd, Int8Weights.gemm(true, 100, 64), false);
    Object prepared = simd.prepareGemmInt8(true, 100, 64, q);
    assertThat(prepared).isInstanceOf(F32GemmPreparedInt8B.class);
    assertKeepsInt8(prepared, q, null);
  }

  /** The array fields of {@code prepared}'s class and its superclasses (not of objects it refers to). */
  private static void assertKeepsInt8(Object prepared, Int8Weights q, float[] bias) throws IllegalAccessException {
    int weights = q.values().length;
    List<String> bytes = new ArrayList<>();
    for (Class<?> type = prepared.getClass(); type != null; type = type.getSuperclass()) {
      for (Field f : type.getDeclaredFields()) {
        f.setAccessible(true);
        Object value = java.lang.reflect.Modifier.isStatic(f.getModifiers()) ? null : f.get(prepared);
        if (value instanceof byte[][] chunks) { // WeightChunks: the panels in arrays of whole panels
          value = joined(chunks);
        } else if (value instanceof float[][] chunks) {
          value = new float[java.util.Arrays.stream(chunks).mapToInt(c -> c.length).sum()];
        }
        if (value instanceof float[] floats && floats != bias && floats != q.scales()) {
          assertThat(floats.length).as("%s.%s, float[] beside %d int8 weights", type.getSimpleName(), f.getName(),
              weights).isLessThan(weights);
        } else if (value instanceof byte[] b && b.length >= weights) {
          bytes.add(f.getName());
        }
      }
    }
    assertThat(bytes).as("byte[] fields holding the %d weights in %s", weights, prepared.getClass()).isNotEmpty();
  }

  private static byte[] joined(byte[][] chunks) {
    return new byte[java.util.Arrays.stream(chunks).mapToInt(c -> c.length).sum()];
  }
}
