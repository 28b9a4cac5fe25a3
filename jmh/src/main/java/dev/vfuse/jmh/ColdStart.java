package dev.vfuse.jmh;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.vfuse.Model;
import dev.vfuse.ModelOptions;
import dev.vfuse.Tensor;
import dev.vfuse.io.Npy;
import java.lang.management.ManagementFactory;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * What a fresh process sees, which JMH (warmed up by design) does not: one engine, one model, in
 * a JVM started for it. Prints one line:
 *
 * <pre>
 *   coldstart engine=E model=M jvm_ms=… load_ms=… first_ms=… first_output_ms=… runs_to_steady=… steady_ms=… runs=…
 * </pre>
 *
 * jvm_ms is the JVM's start to main; load_ms reads the file and loads the model (ONNX Runtime:
 * creates the session, which unpacks its native library on first use); first_ms is the first run;
 * first_output_ms is the JVM's start to the end of the first run; runs_to_steady is the first run
 * after which every run is within 10% of steady_ms, the median of the last half of the runs
 * ("none" when the last run is not).
 *
 * <pre>
 *   java --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp jmh/target/benchmarks.jar \
 *       dev.vfuse.jmh.ColdStart vfuse|onnxruntime MODEL.onnx INPUT.npy [RUNS]
 * </pre>
 *
 * scripts/cold_start.sh runs it in fresh processes, both engines in turn.
 */
public final class ColdStart {
  private ColdStart() {}

  /** One run of whichever engine, returning nothing: the caller times it. */
  @FunctionalInterface
  private interface Run {
    void run() throws Exception;
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 3) {
      System.err.println("usage: ColdStart vfuse|onnxruntime MODEL.onnx INPUT.npy [RUNS]");
      System.exit(2);
    }
    long jvmStart = ManagementFactory.getRuntimeMXBean().getStartTime();
    long mainAt = System.currentTimeMillis();
    String engine = args[0];
    Path model = Path.of(args[1]);
    int runs = args.length > 3 ? Integer.parseInt(args[3]) : 40;
    long t0 = System.nanoTime();
    Tensor input = Npy.read(Path.of(args[2]));
    Run run;
    AutoCloseable closer;
    switch (engine) {
      case "vfuse" -> {
        Model m = Model.load(model, ModelOptions.defaults());
        String name = m.inputs().get(0).name();
        run = () -> m.run(Map.of(name, input));
        closer = m;
      }
      case "onnxruntime" -> {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setIntraOpNumThreads(1);
        options.setInterOpNumThreads(1);
        OrtSession session = env.createSession(Files.readAllBytes(model), options);
        String name = session.getInputNames().iterator().next();
        OnnxTensor tensor = OnnxTensor.createTensor(env, FloatBuffer.wrap(input.floats()),
            Arrays.stream(input.shape()).asLongStream().toArray());
        run = () -> session.run(Map.of(name, tensor)).close();
        closer = session;
      }
      default -> throw new IllegalArgumentException("engine must be vfuse or onnxruntime, got " + engine);
    }
    long loaded = System.nanoTime();
    double[] ms = new double[runs];
    for (int i = 0; i < runs; i++) {
      long s = System.nanoTime();
      run.run();
      ms[i] = (System.nanoTime() - s) / 1e6;
    }
    closer.close();
    double[] tail = Arrays.copyOfRange(ms, runs / 2, runs);
    Arrays.sort(tail);
    double steady = tail[tail.length / 2];
    int toSteady = runs;
    while (toSteady > 0 && ms[toSteady - 1] <= 1.1 * steady) {
      toSteady--;
    }
    double firstOutput = (mainAt - jvmStart) + (loaded - t0) / 1e6 + ms[0];
    System.out.println(String.format(Locale.ROOT,
        "coldstart engine=%s model=%s jvm_ms=%d load_ms=%.0f first_ms=%.1f first_output_ms=%.0f runs_to_steady=%s"
            + " steady_ms=%.2f runs=%d",
        engine, model.getParent().getFileName() + "/" + model.getFileName(), mainAt - jvmStart, (loaded - t0) / 1e6,
        ms[0], firstOutput, toSteady < runs ? String.valueOf(toSteady + 1) : "none", steady, runs));
  }
}
