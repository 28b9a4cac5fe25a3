package dev.vfuse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vfuse.ops.OnnxModelBuilder;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Window and group attributes out of range (beyond int, zero, negative, a conv's dilated kernel
 * beyond its padded input, a pooling pad not smaller than its kernel, dilations that overflow the
 * kernel's extent) are model format errors that name the node, on both backends, with fusion on
 * and off: never a ShapeException, ArithmeticException or IllegalArgumentException from inside the
 * engine. A conv's pads as large as its kernel or larger are not errors: ONNX Runtime runs them.
 */
class NodeAttributeRangeTest {
  private static final long BEYOND_INT = 1L << 40;

  static Stream<Arguments> convAttributes() {
    return Stream.of(
        Arguments.of("kernel_shape beyond int", edit(n -> n.ints("kernel_shape", BEYOND_INT, 3)), "kernel_shape"),
        Arguments.of("pads beyond int", edit(n -> n.ints("pads", BEYOND_INT, 1, 1, 1)), "pads"),
        Arguments.of("group beyond int", edit(n -> n.intAttr("group", BEYOND_INT)), "group"),
        Arguments.of("group zero", edit(n -> n.intAttr("group", 0)), "group"),
        Arguments.of("group negative", edit(n -> n.intAttr("group", -2)), "group"),
        Arguments.of("stride zero", edit(n -> n.ints("strides", 0, 1)), "strides"),
        Arguments.of("stride negative", edit(n -> n.ints("strides", 1, -1)), "strides"),
        Arguments.of("dilation zero", edit(n -> n.ints("dilations", 0, 1)), "dilations"),
        Arguments.of("dilation that overflows the extent", edit(n -> n.ints("dilations", 1 << 30, 1)), "dilations"),
        Arguments.of("pad negative", edit(n -> n.ints("pads", 1, -1, 1, 1)), "pads"),
        Arguments.of("dilated kernel beyond the padded input", edit(n -> n.ints("dilations", 5, 1)),
            "larger than the padded input"),
        Arguments.of("huge pad", edit(n -> n.ints("pads", 1, Integer.MAX_VALUE, 1, Integer.MAX_VALUE)), "pads"));
  }

  private static UnaryOperator<OnnxModelBuilder.Node> edit(UnaryOperator<OnnxModelBuilder.Node> e) {
    return e;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("convAttributes")
  void convAttributeOutOfRangeIsAFormatErrorNamingTheNode(String description, UnaryOperator<OnnxModelBuilder.Node> attribute,
      String named) {
    for (Backend backend : Backend.values()) {
      for (boolean fuse : new boolean[] {true, false}) {
        OnnxModelBuilder b = new OnnxModelBuilder(13).input("x", 1, 2, 9, 9)
            .initializer("w", new int[] {4, 2, 3, 3}, new float[72]);
        byte[] file = attribute.apply(b.node("Conv", "x", "w").out("y")).end().output("y").build();
        ModelOptions options = ModelOptions.defaults().withBackend(backend).withFuse(fuse);
        assertThatThrownBy(() -> Model.load(file, options)).as("%s on %s, fuse=%s", description, backend, fuse)
            .isInstanceOfSatisfying(ModelFormatException.class, e -> {
              assertThat(e.nodeName()).isEqualTo("conv0");
              assertThat(e.getMessage()).contains(named);
            });
      }
    }
  }

  /**
   * Pads larger than the kernel on a Conv: ONNX Runtime runs them, so vfuse does. Top pad 4 on a
   * 3×3 kernel gives an output of 9 + 4 + 1 − 3 + 1 = 12 rows; rows 0 and 1 read only padding and
   * hold the bias; the rest match between backends and with fusion on and off.
   */
  @org.junit.jupiter.api.Test
  void convPadsBeyondTheKernelRunAsOnnxRuntimeRunsThem() throws VfuseException {
    java.util.Random random = new java.util.Random(13);
    float[] w = new float[72];
    for (int i = 0; i < w.length; i++) {
      w[i] = random.nextFloat() - 0.5f;
    }
    float[] x = new float[162];
    for (int i = 0; i < x.length; i++) {
      x[i] = random.nextFloat() * 2 - 1;
    }
    float[] bias = {1, 2, 3, 4};
    byte[] file = new OnnxModelBuilder(13).input("x", 1, 2, 9, 9).initializer("w", new int[] {4, 2, 3, 3}, w)
        .initializer("b", new int[] {4}, bias).node("Conv", "x", "w", "b").out("y").ints("kernel_shape", 3, 3)
        .ints("pads", 4, 1, 1, 1).end().output("y").build();
    Tensor expected = null;
    for (Backend backend : Backend.values()) {
      for (boolean fuse : new boolean[] {true, false}) {
        try (Model model = Model.load(file, ModelOptions.defaults().withBackend(backend).withFuse(fuse))) {
          Tensor y = model.run(Tensor.ofFloats(new int[] {1, 2, 9, 9}, x));
          assertThat(y.shape()).as("%s fuse=%s", backend, fuse).containsExactly(1, 4, 12, 9);
          float[] v = y.floats();
          for (int k = 0; k < 4; k++) {
            for (int i = 0; i < 2 * 9; i++) {
              assertThat(v[k * 108 + i]).as("%s fuse=%s channel %d, padding-only position %d", backend, fuse, k, i)
                  .isEqualTo(bias[k]);
            }
          }
          if (expected == null) {
            expected = y;
          } else {
            // a reduction of L = 18 terms, |w| ≤ 0.5, |x| ≤ 1, bias ≤ 4: within (L + 2)·2⁻²³·(9 + 4)
            float bound = (18 + 2) * 0x1p-23f * (18 * 0.5f + 4);
            assertThat(v).as("%s fuse=%s against %s", backend, fuse, Backend.values()[0])
                .containsExactly(expected.floats(), org.assertj.core.data.Offset.offset(bound));
          }
        }
      }
    }
  }

  static Stream<Arguments> poolAttributes() {
    return Stream.of(
        Arguments.of("kernel_shape beyond int", edit(n -> n.ints("kernel_shape", BEYOND_INT, 2)), "kernel_shape"),
        Arguments.of("kernel_shape zero", edit(n -> n.ints("kernel_shape", 0, 2)), "kernel_shape"),
        Arguments.of("huge kernel", edit(n -> n.ints("kernel_shape", Integer.MAX_VALUE, 2)), "kernel"),
        Arguments.of("stride zero", edit(n -> n.ints("kernel_shape", 2, 2).ints("strides", 0, 1)), "strides"),
        Arguments.of("pad larger than the kernel", edit(n -> n.ints("kernel_shape", 2, 2).ints("pads", 3, 0, 0, 0)), "pads"),
        Arguments.of("pad equal to the kernel", edit(n -> n.ints("kernel_shape", 3, 2).ints("pads", 0, 2, 0, 0)), "pads"),
        Arguments.of("pad within the dilated extent but not the kernel",
            edit(n -> n.ints("kernel_shape", 2, 2).ints("dilations", 3, 1).ints("pads", 2, 0, 0, 0)), "pads"),
        Arguments.of("huge pad", edit(n -> n.ints("kernel_shape", 2, 2).ints("pads", 0, 0, 0, Integer.MAX_VALUE)), "pads"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("poolAttributes")
  void poolAttributeOutOfRangeIsAFormatErrorNamingTheNode(String description, UnaryOperator<OnnxModelBuilder.Node> attribute,
      String named) {
    for (String op : new String[] {"MaxPool", "AveragePool"}) {
      OnnxModelBuilder b = new OnnxModelBuilder(13).input("x", 1, 2, 9, 9);
      byte[] file = attribute.apply(b.node(op, "x").out("y")).end().output("y").build();
      assertThatThrownBy(() -> Model.load(file, ModelOptions.defaults())).as("%s %s", op, description)
          .isInstanceOfSatisfying(ModelFormatException.class, e -> {
            assertThat(e.nodeName()).isEqualTo(op.toLowerCase() + "0");
            assertThat(e.getMessage()).contains(named);
          });
    }
  }
}
