package dev.vfuse.exec;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.ElementType;
import dev.vfuse.fusion.PassManager;
import dev.vfuse.ir.Graph;
import dev.vfuse.ir.NdArray;
import dev.vfuse.kernel.Kernels;
import dev.vfuse.kernel.Parallel;
import dev.vfuse.models.Fixtures;
import dev.vfuse.onnx.OnnxImporter;
import dev.vfuse.simd.SimdKernels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A profiled run ({@link Plan#run} with a {@link StepRecorder}) on resnet18, fused, on two
 * threads: the same output bits as an unprofiled run, a start and duration for every step that
 * tile the run, per-thread spans for the steps split over the threads; and an unprofiled run hands
 * the threads the kernels' own tasks, with no timing wrapper around them.
 */
class ProfiledRunTest {

  /** The pool, noting the class of every task handed to it. */
  private static final class Watching implements Parallel {
    final Parallel pool;
    final Set<String> taskClasses = new HashSet<>();

    Watching(Parallel pool) {
      this.pool = pool;
    }

    @Override
    public int threads() {
      return pool.threads();
    }

    @Override
    public void forEach(int tasks, Task task) {
      taskClasses.add(task.getClass().getName());
      pool.forEach(tasks, task);
    }
  }

  @Test
  void profiledRunGivesTheSameBitsAndRecordsEveryStepAndThread() throws Exception {
    Path dir = Fixtures.torchDir("resnet18_op13");
    Kernels kernels = new SimdKernels();
    Graph folded = Program.foldConstants(OnnxImporter.read(Files.readAllBytes(dir.resolve("model.onnx"))).graph(), kernels);
    Program program = Program.compile(PassManager.standard(kernels).run(folded).graph());
    int[] shape = {1, 3, 224, 224};
    Plan plan = Plan.build(program, new int[][] {shape}, new ElementType[] {ElementType.FLOAT32}, kernels, 2);
    float[] x = new float[3 * 224 * 224];
    SplittableRandom random = new SplittableRandom(14);
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) random.nextDouble(-1, 1);
    }
    NdArray[] inputs = {NdArray.ofFloats(shape, x)};
    try (WorkerPool pool = new WorkerPool(2)) {
      // the plan's run buffers (and the threads they hold) are made by the first run and then pooled
      Watching watching = new Watching(pool);
      float[] expected = plan.run(inputs, kernels, watching)[0].f.clone();
      assertThat(watching.taskClasses).isNotEmpty()
          .noneMatch(name -> name.startsWith(StepRecorder.class.getName()));

      int runs = 2;
      int steps = plan.steps().size();
      StepRecorder recorder = new StepRecorder(runs, steps);
      watching.taskClasses.clear();
      List<float[]> outputs = new ArrayList<>();
      for (int r = 0; r < runs; r++) {
        recorder.startRun(r);
        outputs.add(plan.run(inputs, kernels, watching, recorder)[0].f);
        recorder.endRun();
      }
      assertThat(watching.taskClasses).isNotEmpty().allMatch(name -> name.startsWith(StepRecorder.class.getName()));
      for (float[] out : outputs) {
        assertThat(out).containsExactly(expected);
      }
      // an unprofiled run after profiling: still the kernels' own tasks, still the same bits
      watching.taskClasses.clear();
      assertThat(plan.run(inputs, kernels, watching)[0].f).containsExactly(expected);
      assertThat(watching.taskClasses).isNotEmpty().noneMatch(name -> name.startsWith(StepRecorder.class.getName()));

      for (int r = 0; r < runs; r++) {
        long sum = 0;
        for (int s = 0; s < steps; s++) {
          assertThat(recorder.stepNanos(r, s)).as("run %d step %d", r, s).isPositive();
          assertThat(recorder.stepStart(r, s)).isGreaterThanOrEqualTo(recorder.runStart(r));
          if (s > 0) {
            assertThat(recorder.stepStart(r, s)).isEqualTo(recorder.stepStart(r, s - 1) + recorder.stepNanos(r, s - 1));
          }
          sum += recorder.stepNanos(r, s);
        }
        assertThat(sum).isLessThanOrEqualTo(recorder.runNanos(r));
      }
      List<StepRecorder.Span> spans = recorder.spans();
      assertThat(spans).isNotEmpty().allSatisfy(span -> {
        assertThat(span.tasks()).isPositive();
        assertThat(span.endNanos()).isGreaterThanOrEqualTo(span.startNanos());
        assertThat(span.startNanos()).isGreaterThanOrEqualTo(recorder.stepStart(span.run(), span.step()));
        assertThat(span.endNanos()).isLessThanOrEqualTo(recorder.stepStart(span.run(), span.step())
            + recorder.stepNanos(span.run(), span.step()));
        assertThat(span.busyNanos()).isLessThanOrEqualTo(span.endNanos() - span.startNanos());
      });
      assertThat(spans.stream().map(span -> span.thread().getName()).distinct().toList())
          .as("threads that ran tasks").contains(Thread.currentThread().getName()).anyMatch(n -> n.startsWith("vfuse-worker-"));
    }
  }
}
