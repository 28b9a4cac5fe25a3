package dev.vfuse.models;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.Model;
import dev.vfuse.ModelOptions;
import dev.vfuse.Quantization;
import dev.vfuse.Tensor;
import dev.vfuse.simd.VectorWidth;
import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * One copy of each weight: a loaded and run model with fixed input shapes holds its weights only
 * in the form its kernels read (packed panels, Winograd's transformed weights), not also as the
 * imported or folded arrays. The bytes of the primitive arrays reachable from the {@link Model}
 * are counted by walking its objects (vfuse's own by their fields, collections through their
 * public API) and split three ways:
 *
 * <ul>
 *   <li>activations: what is reachable only through the buffers and scratch of a run
 *       ({@code Plan.Arena}; a second walk that does not enter them gives the rest), stated, not
 *       bounded;
 *   <li>Winograd: {@code F32Conv3x3Winograd}'s weights, 36 points for 9 taps where it stores them
 *       transformed (4× the raw weights of its layers), the raw weights where it transforms them
 *       per run (see docs/BENCHMARKS.md);
 *   <li>everything else.
 * </ul>
 *
 * The line held: all of it but the activations is at most 1.5× {@link Model#weightBytes()}. That
 * holds for resnet18 because its 256-channel 14² layers, the largest Winograd ones, transform
 * their weights per run, which the kernel does with output channels in its lanes: 512-bit vectors
 * (16 tiles against 32 lanes). On narrower vectors their tiles fill the lanes and the weights stay
 * stored transformed, so there the line counts Winograd's bytes at a quarter (their raw size).
 * With the imported float arrays kept beside the packed ones, as before, resnet18 held 2.0×.
 */
class RetainedWeightsTest {

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({"resnet18_op13, float", "mobilenet_v2_op13, float", "resnet18_op13, int8", "mobilenet_v2_op13, int8"})
  void holdsEachWeightOnce(String name, String weights) throws Exception {
    byte[] onnx = Files.readAllBytes(Fixtures.torchDir(name).resolve("model.onnx"));
    ModelOptions options = ModelOptions.defaults().withThreads(1);
    if (weights.equals("int8")) {
      options = options.withQuantization(Quantization.int8());
    }
    try (Model model = Model.load(onnx, options)) {
      model.run(Tensor.ofFloats(new int[] {1, 3, 224, 224}, new float[3 * 224 * 224]));
      Bytes b = Bytes.reachableFrom(model);
      double raw = model.weightBytes();
      double winogradCounted = VectorWidth.selectedBits() >= 512 ? b.winograd : b.winograd / 4.0;
      String summary = String.format(Locale.ROOT,
          "%s %s: weights %.2f MB; held %.2f MB besides Winograd's %.2f MB (%.2f× the weights, %d-bit vectors);"
              + " activations and scratch %.2f MB", name, weights, raw / 1e6, b.other / 1e6, b.winograd / 1e6,
          (b.other + winogradCounted) / raw, VectorWidth.selectedBits(), b.activations / 1e6);
      System.out.println(summary);
      assertThat(b.other + winogradCounted).as(summary).isLessThanOrEqualTo(1.5 * raw);
      if (weights.equals("int8")) {
        assertThat(b.winograd).as("int8 weights never take Winograd").isZero();
      }
    }
  }

  /** Bytes of the primitive arrays reachable from an object, by where the walk found them. */
  static final class Bytes {
    long activations;
    long winograd;
    long other;

    private static final String ACTIVATIONS = "dev.vfuse.exec.Plan$Arena";
    private static final String WINOGRAD = "dev.vfuse.simd.F32Conv3x3Winograd";

    static Bytes reachableFrom(Object root) throws IllegalAccessException {
      Bytes all = walk(root, false);
      Bytes bytes = walk(root, true);
      bytes.activations = all.other + all.winograd - bytes.other - bytes.winograd;
      return bytes;
    }

    private static Bytes walk(Object root, boolean skipActivations) throws IllegalAccessException {
      Bytes bytes = new Bytes();
      IdentityHashMap<Object, Boolean> seen = new IdentityHashMap<>();
      Deque<Object[]> stack = new ArrayDeque<>();
      stack.push(new Object[] {root, "other"});
      while (!stack.isEmpty()) {
        Object[] top = stack.pop();
        Object o = top[0];
        String bucket = (String) top[1];
        if (o == null || seen.put(o, Boolean.TRUE) != null || o instanceof Thread || o instanceof Class<?>) {
          continue;
        }
        Class<?> c = o.getClass();
        if (ACTIVATIONS.equals(c.getName()) && skipActivations) {
          continue;
        } else if (c.getName().equals(WINOGRAD) && bucket.equals("other")) {
          bucket = "winograd";
        }
        if (c.isArray()) {
          Class<?> e = c.getComponentType();
          if (e.isPrimitive()) {
            bytes.add(bucket, (long) Array.getLength(o) * elementBytes(e));
          } else {
            for (int i = 0, n = Array.getLength(o); i < n; i++) {
              stack.push(new Object[] {Array.get(o, i), bucket});
            }
          }
        } else if (o instanceof Map<?, ?> m) {
          for (Map.Entry<?, ?> entry : m.entrySet()) {
            stack.push(new Object[] {entry.getKey(), bucket});
            stack.push(new Object[] {entry.getValue(), bucket});
          }
        } else if (o instanceof Collection<?> coll) {
          for (Object item : coll) {
            stack.push(new Object[] {item, bucket});
          }
        } else if (c.getName().startsWith("dev.vfuse.")) {
          for (Class<?> k = c; k != null && k.getName().startsWith("dev.vfuse."); k = k.getSuperclass()) {
            for (Field f : k.getDeclaredFields()) {
              if (!Modifier.isStatic(f.getModifiers()) && !f.getType().isPrimitive()) {
                f.setAccessible(true);
                stack.push(new Object[] {f.get(o), bucket});
              }
            }
          }
        }
      }
      return bytes;
    }

    private void add(String bucket, long n) {
      if (bucket.equals("winograd")) {
        winograd += n;
      } else {
        other += n;
      }
    }

    private static int elementBytes(Class<?> e) {
      if (e == byte.class || e == boolean.class) {
        return 1;
      }
      if (e == short.class || e == char.class) {
        return 2;
      }
      return e == long.class || e == double.class ? 8 : 4;
    }
  }
}
