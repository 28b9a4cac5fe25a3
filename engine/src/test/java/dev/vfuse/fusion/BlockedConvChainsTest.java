package dev.vfuse.fusion;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.exec.Executor;
import dev.vfuse.exec.Program;
import dev.vfuse.exec.WorkerPool;
import dev.vfuse.ir.Graph;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ops.ChannelBlockOps;
import dev.vfuse.simd.SimdKernels;
import dev.vfuse.simd.VectorWidth;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link BlockedConvChains} on inverted residual blocks: which blocked convs it joins (only a value
 * read by the next conv alone, as its input), and that the chain node gives the separate nodes'
 * outputs bit for bit, on the reference (stage after stage) and on the SIMD kernels (band by band),
 * on one thread and two; intermediates known to fit in L2 are not joined.
 */
class BlockedConvChainsTest {

  /**
   * pre 1×1 (c → c) → expand 1×1 (c → e) · Relu → depthwise 3×3 stride s · Clip → project 1×1 (e →
   * c); optionally the depthwise output is a graph output too. pre reads the plain input and stays NCHW.
   */
  private static FusionHarness block(long seed, int c, int e, int stride, int side, boolean dwIsOutput) {
    FusionHarness h = new FusionHarness(seed).input("x", 1, c, side, side);
    h.node("pre", "Conv", List.of("x", h.constant("w0", -1, 1, c, c, 1, 1), h.constant("b0", -1, 1, c)), List.of("v"),
        Map.of());
    h.node("expand", "Conv", List.of("v", h.constant("w1", -1, 1, e, c, 1, 1), h.constant("b1", -1, 1, e)), List.of("ex"),
        Map.of());
    h.node("expand_act", "Relu", List.of("ex"), List.of("exa"), Map.of());
    h.node("dw", "Conv", List.of("exa", h.constant("w2", -1, 1, e, 1, 3, 3), h.constant("b2", -1, 1, e)), List.of("d"),
        Map.of("group", (long) e, "strides", new long[] {stride, stride}, "pads", new long[] {1, 1, 1, 1}));
    h.node("dw_act", "Clip", List.of("d", h.constant("lo", NdArray.ofFloats(new int[0], new float[] {0})),
        h.constant("hi", NdArray.ofFloats(new int[0], new float[] {6}))), List.of("da"), Map.of());
    h.node("project", "Conv", List.of("da", h.constant("w3", -1, 1, c, e, 1, 1), h.constant("b3", -1, 1, c)),
        List.of("y"), Map.of());
    h.output("y");
    if (dwIsOutput) {
      h.output("da");
    }
    return h;
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2})
  void joinsExpandDepthwiseProjectExactlyOnTheReference(int stride) throws Exception {
    FusionHarness h = block(stride, 16, 96, stride, 64, false);
    FusionHarness.Outcome o = h.check(List.of(new ConvEpilogueFusion(), new ChannelBlockedLayout(4), new BlockedConvChains()),
        0, 1, 1, 16, 64, 64);
    assertThat(o.count(ChannelBlockOps.CONV_CHAIN)).as(o.entries().toString()).isEqualTo(1);
    // at stride 2 the depthwise output (96 × 32², 384 KB) stays in L2, so project stands apart.
    assertThat(o.count(ChannelBlockOps.CONV)).as(o.entries().toString()).isEqualTo(stride == 1 ? 0 : 1);
    assertThat(o.entries()).anySatisfy(entry -> assertThat(entry.message())
        .contains(stride == 1 ? "3 blocked convs band by band: expand → dw → project" : "2 blocked convs band by band: expand → dw"));
    if (stride == 2) {
      assertThat(o.entries()).anySatisfy(entry -> assertThat(entry.message()).contains("kept dw → project apart")
          .contains("384 KB intermediate stays in L2"));
    }
  }

  @Test
  void aValueOthersReadEndsTheChain() throws Exception {
    FusionHarness h = block(3, 16, 96, 1, 64, true);
    FusionHarness.Outcome o = h.check(List.of(new ConvEpilogueFusion(), new ChannelBlockedLayout(4), new BlockedConvChains()),
        0, 1, 1, 16, 64, 64);
    // expand → dw, then the dw output leaves the blocks as a graph output too: project stands alone.
    assertThat(o.count(ChannelBlockOps.CONV_CHAIN)).as(o.entries().toString()).isEqualTo(1);
    assertThat(o.count(ChannelBlockOps.CONV)).as(o.entries().toString()).isEqualTo(1);
  }

  @Test
  void smallIntermediatesStayApart() throws Exception {
    FusionHarness h = block(4, 16, 96, 1, 12, false);
    FusionHarness.Outcome o = h.check(List.of(new ConvEpilogueFusion(), new ChannelBlockedLayout(4), new BlockedConvChains()),
        0, 1, 1, 16, 12, 12);
    assertThat(o.count(ChannelBlockOps.CONV_CHAIN)).as(o.entries().toString()).isZero();
    assertThat(o.count(ChannelBlockOps.CONV)).as(o.entries().toString()).isEqualTo(3);
  }

  /** 64 × 64 × 96 floats are 1.5 MB, past the 1 MB from which the bands pay; 72 × 72 gives odd segment edges. */
  @ParameterizedTest
  @ValueSource(ints = {64, 72})
  void chainGivesTheSeparateNodesBitsOnTheSimdKernels(int side) throws Exception {
    for (int stride : new int[] {1, 2}) {
      for (var species : VectorWidth.all()) {
        SimdKernels simd = new SimdKernels(species);
        int block = species.length();
        FusionHarness h = block(side + stride, 16, 96, stride, side, false);
        Graph layout = new PassManager(List.of(new ConvEpilogueFusion(), new ChannelBlockedLayout(block))).run(h.graph()).graph();
        Graph chained = new PassManager(List.of(new BlockedConvChains())).run(layout).graph();
        assertThat(chained.nodes()).anyMatch(n -> n.opType().equals(ChannelBlockOps.CONV_CHAIN));
        NdArray x = h.randomInput(1, 16, side, side);
        for (int threads : new int[] {1, 2}) {
          try (WorkerPool pool = new WorkerPool(threads)) {
            float[] expected = new Executor(Program.compile(layout), simd, pool).run(new NdArray[] {x})[0].toFloats();
            float[] actual = new Executor(Program.compile(chained), simd, pool).run(new NdArray[] {x})[0].toFloats();
            String where = species + " side " + side + " stride " + stride + " threads " + threads;
            assertThat(actual).as(where).hasSize(expected.length);
            for (int i = 0; i < expected.length; i++) {
              assertThat(Float.floatToRawIntBits(actual[i])).as("%s at %d", where, i)
                  .isEqualTo(Float.floatToRawIntBits(expected[i]));
            }
          }
        }
      }
    }
  }
}
