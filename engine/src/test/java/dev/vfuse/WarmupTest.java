package dev.vfuse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import dev.vfuse.ops.OnnxModelBuilder;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Warm-up: when it stops, what it reports, and the load-time option's synthetic inputs. */
class WarmupTest {

  /** Conv 2→3 channels, 3×3, pad 1, then Relu, on x [N, 2, 5, 5] (N fixed at 1 unless dynamic). */
  private static byte[] conv(Object batch) {
    float[] w = new float[3 * 2 * 3 * 3];
    Arrays.fill(w, 0.1f);
    return new OnnxModelBuilder(13)
        .input("x", DataType.FLOAT, batch, 2, 5, 5)
        .initializer("w", new int[] {3, 2, 3, 3}, w)
        .node("Conv", "x", "w").out("c").ints("pads", 1, 1, 1, 1).end()
        .node("Relu", "c").out("y").end()
        .output("y")
        .build();
  }

  @Test
  void aSteadyRunSettlesAfterTwoWindowsOrNotAtAllWhileTheJitCompiles() throws VfuseException {
    Warmup w = until(() -> busy(200_000), Duration.ofSeconds(20));
    assertThat(w.runs()).isGreaterThanOrEqualTo(2 * Warmup.WINDOW);
    assertThat(w.settled()).as(w.toString()).isTrue();
    assertThat(w.lastMedian()).isPositive().isLessThanOrEqualTo(w.elapsed());
  }

  @Test
  void theBudgetBoundsARunThatNeverSettles() throws VfuseException {
    long[] n = {0};
    // Each run takes twice as long as the one before: never within 5% of the window before.
    Warmup w = until(() -> busy(1000L << Math.min(20, n[0]++)), Duration.ofMillis(50));
    assertThat(w.settled()).isFalse();
    assertThat(w.runs()).isEqualTo((int) n[0]).isPositive();
    assertThat(w.toString()).contains("budget spent before the latency settled");
  }

  @Test
  void aZeroBudgetStillRunsOnce() throws VfuseException {
    int[] n = {0};
    Warmup w = until(() -> n[0]++, Duration.ZERO);
    assertThat(n[0]).isEqualTo(1);
    assertThat(w.runs()).isEqualTo(1);
    assertThat(w.settled()).isFalse();
  }

  @Test
  void timedRunsFollowTheWarmupInTheSameLoop() throws VfuseException {
    int[] n = {0};
    long[] timed = new long[3];
    Warmup w = Warmup.measure(() -> busy(1000 + 1000L * n[0]++), Duration.ofSeconds(5), 7, timed);
    assertThat(w.runs()).isEqualTo(7);
    assertThat(n[0]).isEqualTo(10);
    assertThat(timed).doesNotContain(0L);
    long[] none = new long[2];
    Warmup cold = Warmup.measure(() -> n[0]++, Duration.ofSeconds(5), 0, none);
    assertThat(cold.runs()).isZero();
    assertThat(n[0]).isEqualTo(12);
    try (Model m = Model.load(conv(1), ModelOptions.defaults())) {
      long[] times = new long[4];
      Warmup auto = m.warmUpAndTime(Map.of("x", Tensor.ofFloats(new int[] {1, 2, 5, 5}, new float[50])),
          Duration.ofMillis(100), -1, times);
      assertThat(auto.runs()).isPositive();
      assertThat(times).doesNotContain(0L);
    }
  }

  @Test
  void loadTimeWarmupRunsTheModelOnItsDeclaredShapeWithTheBatchAtOne() throws VfuseException {
    for (Object batch : new Object[] {1, "N"}) {
      try (Model m = Model.load(conv(batch), ModelOptions.defaults().withWarmup(Duration.ofSeconds(5)))) {
        Warmup w = m.loadWarmup().orElseThrow();
        assertThat(w.runs()).isPositive();
        assertThat(m.run(Tensor.ofFloats(new int[] {1, 2, 5, 5}, new float[50])).shape()).containsExactly(1, 3, 5, 5);
      }
    }
    try (Model m = Model.load(conv(1), ModelOptions.defaults())) {
      assertThat(m.loadWarmup()).isEmpty();
      Warmup w = m.warmUp(Map.of("x", Tensor.ofFloats(new int[] {1, 2, 5, 5}, new float[50])), Duration.ofMillis(200));
      assertThat(w.runs()).isPositive();
      assertThatThrownBy(() -> m.warmUp(Map.of("x", Tensor.ofFloats(new int[] {1, 2, 4, 4}, new float[32])), Duration.ZERO))
          .isInstanceOf(InvalidInputException.class).hasMessageContaining("[1, 2, 5, 5]");
    }
  }

  @Test
  void loadTimeWarmupRefusesADynamicSpatialAxisAndSaysWhatToDoInstead() {
    float[] w = new float[3 * 2 * 3 * 3];
    byte[] dynamic = new OnnxModelBuilder(13)
        .input("x", DataType.FLOAT, 1, 2, "H", "W")
        .initializer("w", new int[] {3, 2, 3, 3}, w)
        .node("Conv", "x", "w").out("y").end()
        .output("y")
        .build();
    assertThatThrownBy(() -> Model.load(dynamic, ModelOptions.defaults().withWarmup(Duration.ofSeconds(1))))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("withWarmup needs fixed input shapes, and input 'x' is")
        .hasMessageContaining("Model.warmUp(inputs, budget)");
  }

  /** A plain warm-up: until settled or the budget is spent, no timed runs. */
  private static Warmup until(Warmup.Run run, Duration budget) throws VfuseException {
    return Warmup.measure(run, budget, -1, new long[0]);
  }

  /** Spins for about {@code iterations} dependent multiply-adds. */
  private static void busy(long iterations) {
    double x = 1;
    for (long i = 0; i < iterations; i++) {
      x = x * 0.999999 + 1e-9;
    }
    if (x == 42) {
      throw new AssertionError();
    }
  }
}
