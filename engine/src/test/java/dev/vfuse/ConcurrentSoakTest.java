package dev.vfuse;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnx.proto.OnnxMl.TensorProto;
import dev.vfuse.ops.OnnxModelBuilder;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * One model shared by 16 threads that mix good inputs of changing shapes with bad ones (wrong
 * channels, wrong rank, wrong element type, a missing input, a shape over the memory limit):
 * every good run gives, bit for bit, what a sequential run gave; every bad run gets its own
 * exception without disturbing the others; and the heap after a garbage collection does not grow
 * once the plans and buffer pools are warm.
 *
 * <p>Short form (in {@code mvn test}): 16 threads × 300 runs after a warm-up round. Long form:
 * {@code -Dvfuse.soak.seconds=600} runs the measured phase for that long (docs/FUZZING.md).
 */
class ConcurrentSoakTest {
  private static final int THREADS = 16;
  private static final int RUNS_PER_THREAD = 300;
  /** Growth of the heap after GC that counts as a leak: under 3 KB per run of the short form. */
  private static final long MAX_HEAP_GROWTH = 12L << 20;
  private static final long MEMORY_LIMIT = 4L << 20;

  /** Conv 2→8 (3×3, pad 1) → Relu → Conv 8→4 (3×3, stride 2) + nothing: dynamic H and W. */
  private static byte[] model() {
    SplittableRandom random = new SplittableRandom(13);
    float[] w1 = new float[8 * 2 * 9];
    float[] w2 = new float[4 * 8 * 9];
    float[] b1 = new float[8];
    for (float[] w : new float[][] {w1, w2, b1}) {
      for (int i = 0; i < w.length; i++) {
        w[i] = (float) random.nextDouble(-0.5, 0.5);
      }
    }
    return new OnnxModelBuilder(13).input("x", TensorProto.DataType.FLOAT, 1, 2, "H", "W")
        .initializer("w1", new int[] {8, 2, 3, 3}, w1).initializer("b1", new int[] {8}, b1)
        .initializer("w2", new int[] {4, 8, 3, 3}, w2)
        .node("Conv", "x", "w1", "b1").out("h").ints("pads", 1, 1, 1, 1).end()
        .node("Relu", "h").out("r").end()
        .node("Conv", "r", "w2").out("y").ints("strides", 2, 2).end()
        .output("y").build();
  }

  private static Tensor image(int h, int w, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    float[] v = new float[2 * h * w];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) random.nextDouble(-1, 1);
    }
    return Tensor.ofFloats(new int[] {1, 2, h, w}, v);
  }

  /** A bad input and the exception (type and a piece of its message) it must get. */
  private record Bad(String what, Map<String, Tensor> feed, Class<? extends VfuseException> type, String message) {}

  private static List<Bad> badInputs() {
    return List.of(
        new Bad("three channels where the model declares two", Map.of("x", Tensor.ofFloats(new int[] {1, 3, 8, 8}, new float[192])),
            InvalidInputException.class, "must have shape x: FLOAT32 [1, 2, H, W]"),
        new Bad("rank 3", Map.of("x", Tensor.ofFloats(new int[] {2, 8, 8}, new float[128])),
            InvalidInputException.class, "rank 4"),
        new Bad("int64", Map.of("x", Tensor.ofLongs(new int[] {1, 2, 8, 8}, new long[128])),
            InvalidInputException.class, "FLOAT32"),
        new Bad("missing input", Map.of(), InvalidInputException.class, "missing input 'x'"),
        new Bad("over the memory limit", Map.of("x", image(400, 400, 1)), InvalidInputException.class, "memory limit"));
  }

  @Test
  void sixteenThreadsMixingGoodAndBadInputsMatchSequentialRunsWithoutLeaking() throws Exception {
    long soakSeconds = Long.getLong("vfuse.soak.seconds", 0);
    int[][] shapes = {{8, 8}, {9, 13}, {16, 16}, {31, 7}, {24, 40}, {5, 5}};
    ModelOptions options = ModelOptions.defaults().withThreads(2).withMemoryLimit(MEMORY_LIMIT);
    try (Model model = Model.load(model(), options)) {
      List<Tensor> good = new ArrayList<>();
      List<float[]> expected = new ArrayList<>();
      for (int i = 0; i < shapes.length * 2; i++) {
        Tensor in = image(shapes[i % shapes.length][0], shapes[i % shapes.length][1], 100 + i);
        good.add(in);
        expected.add(model.run(in).floats());
      }
      List<Bad> bad = badInputs();
      ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
      AtomicLong runs = new AtomicLong();

      round(model, good, expected, bad, failures, runs, 50, 0); // warm-up: every plan built, every pool filled
      long heapBefore = heapAfterGc();
      round(model, good, expected, bad, failures, runs, RUNS_PER_THREAD, soakSeconds);
      long heapAfter = heapAfterGc();

      assertThat(failures).as("failures after %d runs", runs.get()).isEmpty();
      assertThat(heapAfter - heapBefore).as("heap growth over %d runs (before %d, after %d)", runs.get(), heapBefore, heapAfter)
          .isLessThan(MAX_HEAP_GROWTH);
      for (int i = 0; i < good.size(); i++) {
        assertThat(model.run(good.get(i)).floats()).as("sequential rerun %d", i).containsExactly(expected.get(i));
      }
    }
  }

  /**
   * Every thread makes {@code runsPerThread} runs (or runs for {@code seconds} when positive),
   * choosing a good or a bad input from its own seeded stream, one bad run in five.
   */
  private static void round(Model model, List<Tensor> good, List<float[]> expected, List<Bad> bad,
      ConcurrentLinkedQueue<String> failures, AtomicLong runs, int runsPerThread, long seconds) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    CountDownLatch start = new CountDownLatch(1);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        SplittableRandom random = new SplittableRandom(1000 + t);
        int thread = t;
        futures.add(pool.submit(() -> {
          start.await();
          for (int r = 0; seconds > 0 ? System.nanoTime() < deadline : r < runsPerThread; r++) {
            runs.incrementAndGet();
            if (random.nextInt(5) == 0) {
              Bad b = bad.get(random.nextInt(bad.size()));
              try {
                model.run(b.feed());
                failures.add("thread " + thread + " run " + r + ": " + b.what() + " gave no exception");
              } catch (VfuseException e) {
                if (!b.type().isInstance(e) || !e.getMessage().contains(b.message())) {
                  failures.add("thread " + thread + " run " + r + ": " + b.what() + " gave " + e);
                }
              }
            } else {
              int i = random.nextInt(good.size());
              float[] out = model.run(good.get(i)).floats();
              if (!Arrays.equals(out, expected.get(i))) {
                failures.add("thread " + thread + " run " + r + ": input " + i + " " + Arrays.toString(good.get(i).shape())
                    + " differs from its sequential run");
              }
            }
          }
          return null;
        }));
      }
      start.countDown();
      for (Future<?> f : futures) {
        f.get(600 + 2 * seconds, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /** Used heap after collections, the smallest of three, so that floating garbage does not count. */
  private static long heapAfterGc() throws InterruptedException {
    long least = Long.MAX_VALUE;
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(50);
      least = Math.min(least, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
    }
    return least;
  }
}
