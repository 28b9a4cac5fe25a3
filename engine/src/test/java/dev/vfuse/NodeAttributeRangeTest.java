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
 * Window and group attributes out of range (beyond int, zero, negative, pads beyond the dilated
 * kernel, dilations that overflow the kernel's extent) are model format errors that name the node,
 * on both backends, with fusion on and off: never a ShapeException, ArithmeticException or
 * IllegalArgumentException from inside the engine.
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
        Arguments.of("pad larger than the kernel", edit(n -> n.ints("pads", 4, 1, 1, 1)), "pads"),
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

  static Stream<Arguments> poolAttributes() {
    return Stream.of(
        Arguments.of("kernel_shape beyond int", edit(n -> n.ints("kernel_shape", BEYOND_INT, 2)), "kernel_shape"),
        Arguments.of("kernel_shape zero", edit(n -> n.ints("kernel_shape", 0, 2)), "kernel_shape"),
        Arguments.of("huge kernel", edit(n -> n.ints("kernel_shape", Integer.MAX_VALUE, 2)), "kernel"),
        Arguments.of("stride zero", edit(n -> n.ints("kernel_shape", 2, 2).ints("strides", 0, 1)), "strides"),
        Arguments.of("pad larger than the kernel", edit(n -> n.ints("kernel_shape", 2, 2).ints("pads", 3, 0, 0, 0)), "pads"),
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
