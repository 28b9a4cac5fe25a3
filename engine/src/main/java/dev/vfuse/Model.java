package dev.vfuse;

import dev.vfuse.exec.Executor;
import dev.vfuse.exec.Program;
import dev.vfuse.exec.WorkerPool;
import dev.vfuse.fusion.BlockedConvChains;
import dev.vfuse.fusion.ChannelBlockedLayout;
import dev.vfuse.fusion.FusionReport;
import dev.vfuse.fusion.FusionVerifier;
import dev.vfuse.fusion.PassManager;
import dev.vfuse.quant.ModelQuantizer;
import dev.vfuse.quant.QuantizationReport;
import dev.vfuse.ir.Graph;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.Shapes;
import dev.vfuse.kernel.Kernels;
import dev.vfuse.onnx.OnnxImporter;
import dev.vfuse.reference.ReferenceKernels;
import dev.vfuse.simd.SimdKernels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A loaded ONNX model, ready to run.
 *
 * <p>Loading reads the whole model, checks every node, folds constant subgraphs and, when every
 * input has a fixed shape, plans the run; all faults surface then, as checked exceptions that name
 * the node. A Model is immutable and may be run from many threads at once; each run uses its own
 * buffers, taken from a pool so that repeated runs allocate only their outputs.
 *
 * <pre>{@code
 * try (Model model = Model.load(Path.of("resnet18.onnx"), ModelOptions.defaults())) {
 *   Tensor out = model.run(Tensor.ofFloats(new int[] {1, 3, 224, 224}, pixels));
 * }
 * }</pre>
 */
public final class Model implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Model.class.getName());

  private final ModelOptions options;
  private final String producer;
  /** The imported graph's interface; its weights are not kept (the executor holds what runs). */
  private final List<ValueInfo> inputs;
  private final List<ValueInfo> outputs;
  private final int opset;
  private final Executor executor;
  private final WorkerPool pool;
  private final Map<String, Integer> opHistogram;
  private final long parameterCount;
  private final FusionReport fusionReport;
  private final QuantizationReport quantizationReport;
  private final long weightBytes;
  private Warmup loadWarmup;
  private volatile boolean closed;

  private Model(ModelOptions options, String producer, Graph original, Executor executor, WorkerPool pool,
      FusionReport fusionReport, QuantizationReport quantizationReport, long weightBytes) {
    this.options = options;
    this.pool = pool;
    this.fusionReport = fusionReport;
    this.quantizationReport = quantizationReport;
    this.weightBytes = weightBytes;
    this.producer = producer;
    this.inputs = original.inputs();
    this.outputs = original.outputs();
    this.opset = original.opset();
    this.executor = executor;
    this.opHistogram = java.util.Collections.unmodifiableMap(original.opHistogram());
    long params = 0;
    for (NdArray c : original.constants().values()) {
      if (c.f != null) {
        params += c.size();
      }
    }
    this.parameterCount = params;
  }

  /** Loads a model file with the given options. */
  public static Model load(Path path, ModelOptions options) throws IOException, VfuseException {
    return load(Files.readAllBytes(path), options);
  }

  /** Loads a model file with {@link ModelOptions#defaults()}. */
  public static Model load(Path path) throws IOException, VfuseException {
    return load(path, ModelOptions.defaults());
  }

  /**
   * Loads a model from the bytes of an ONNX file.
   *
   * @throws BackendUnavailableException if the options ask for the simd backend and the JVM was
   *     started without {@value BackendUnavailableException#ADD_MODULES}
   */
  public static Model load(byte[] onnxBytes, ModelOptions options) throws VfuseException {
    long start = System.nanoTime();
    OnnxImporter.Imported imported = OnnxImporter.read(onnxBytes);
    Graph graph = imported.graph();
    if (options.backend() == Backend.SIMD) {
      BackendUnavailableException.checkSimdAvailable();
    }
    Kernels kernels = switch (options.backend()) {
      case REFERENCE -> new ReferenceKernels();
      case SIMD -> new SimdKernels();
    };
    Graph folded = Program.foldConstants(graph, kernels, options.memoryLimit());
    PassManager.Result fusion = (options.fuse() ? PassManager.standard(kernels) : new PassManager(List.of())).run(folded);
    Graph runnable = fusion.graph();
    QuantizationReport quantization = null;
    Quantization q = options.quantization();
    if (q != null) {
      ModelQuantizer.Result r = ModelQuantizer.quantize(runnable, q.biasCorrection(), q.rounding(), q.equalize(),
          samples(graph.inputs(), q.calibration(), "calibration"), samples(graph.inputs(), q.evaluation(), "evaluation"),
          kernels);
      runnable = r.graph();
      quantization = r.report();
    }
    PassManager.Result layout = null;
    if (options.fuse() && kernels.channelBlock() > 0) {
      layout = new PassManager(List.of(new ChannelBlockedLayout(kernels.channelBlock()), new BlockedConvChains()), kernels)
          .run(runnable);
      runnable = layout.graph();
    }
    Program program = Program.compile(runnable, options.memoryLimit());
    WorkerPool pool = new WorkerPool(options.threads());
    Executor executor;
    try {
      executor = executor(program, kernels, pool);
    } catch (ModelFormatException | RuntimeException e) {
      pool.close();
      throw e;
    }
    FusionReport report = fusion.report().withBefore(graph.opHistogram());
    if (options.verifyFusion()) {
      report = report.withChecks(FusionVerifier.verify(folded, fusion.graph(), report.entries(), new ReferenceKernels()));
    }
    if (layout != null) {
      report = report.withLayout(layout.report().entries(), PassManager.histogram(runnable));
    }
    long weightBytes = runnable.constants().values().stream().mapToLong(NdArray::bytes).sum();
    Model model = new Model(options, imported.producer(), graph, executor, pool, report, quantization, weightBytes);
    if (options.warmup() != null) {
      try {
        model.loadWarmup = model.warmUp(model.syntheticInputs(), options.warmup());
      } catch (VfuseException | RuntimeException e) {
        pool.close();
        throw e;
      }
      LOG.log(System.Logger.Level.DEBUG, () -> "load-time warm-up: " + model.loadWarmup);
    }
    LOG.log(System.Logger.Level.DEBUG, () -> String.format("loaded %d nodes (%d after folding) in %.1f ms, backend %s",
        graph.nodes().size(), fusion.graph().nodes().size(), (System.nanoTime() - start) / 1e6, kernels.name()));
    return model;
  }

  /** Calibration or evaluation inputs, each bound and checked as {@link #run} binds its inputs. */
  private static List<NdArray[]> samples(List<ValueInfo> declared, List<Map<String, Tensor>> given, String what)
      throws InvalidInputException {
    List<NdArray[]> out = new java.util.ArrayList<>();
    for (Map<String, Tensor> sample : given) {
      out.add(arguments(declared, sample, what + " sample " + out.size() + ": "));
    }
    return out;
  }

  /**
   * The tensors as the executor's arguments, in declared order, after checking that every declared
   * input is given, with its element type and shape (a dimension name bound once), and no other.
   */
  private static NdArray[] arguments(List<ValueInfo> declared, Map<String, Tensor> inputs, String context)
      throws InvalidInputException {
    for (String name : inputs.keySet()) {
      if (declared.stream().noneMatch(v -> v.name().equals(name))) {
        throw new InvalidInputException(context + "unknown input '" + name + "'; the model's inputs are "
            + declared.stream().map(ValueInfo::name).toList());
      }
    }
    NdArray[] args = new NdArray[declared.size()];
    Map<String, Integer> symbols = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      ValueInfo info = declared.get(i);
      Tensor t = inputs.get(info.name());
      if (t == null) {
        throw new InvalidInputException(context + "missing input '" + info.name() + "' (" + info + ")");
      }
      checkInput(info, t, symbols);
      args[i] = t.elementType() == ElementType.FLOAT32
          ? NdArray.ofFloats(t.shape(), t.floatStorage())
          : NdArray.ofLongs(t.shape(), t.longStorage());
    }
    return args;
  }

  /**
   * Runs the model on {@code inputs} until its latency settles or {@code budget} is spent (after at
   * least one run), and says what that took: see {@link Warmup}. Give an input like the ones that
   * will follow (the same shapes: each input shape has its own plan).
   */
  public Warmup warmUp(Map<String, Tensor> inputs, java.time.Duration budget) throws VfuseException {
    return warmUpAndTime(inputs, budget, -1, new long[0]);
  }

  /**
   * Warms the model up on {@code inputs} as {@link #warmUp} does (or with exactly
   * {@code warmupRuns} runs, when that is not negative), then runs it {@code timed.length} more
   * times in the same loop and stores each run's nanoseconds in {@code timed}: what
   * {@code vfuse run --repeat} reports. Timing the runs in the warm-up's own loop keeps them on the
   * code the warm-up got compiled.
   *
   * @return what the warm-up did
   */
  public Warmup warmUpAndTime(Map<String, Tensor> inputs, java.time.Duration budget, int warmupRuns, long[] timed)
      throws VfuseException {
    arguments(inputs(), inputs, "warm-up: "); // bad inputs fail here, before any run
    // Through run itself: the JIT then profiles the very path the caller's runs take.
    return Warmup.measure(() -> run(inputs), budget, warmupRuns, timed);
  }

  /**
   * Runs the model {@code runs} times on {@code inputs} with every step of the planned graph timed,
   * and returns the medians, each step's kernel, vector width, FLOPs and bytes, and every run's
   * timeline with the per-thread work of split steps (see {@link Profile}). One untimed run before
   * the timed ones notes which backend methods each step calls. Warm the model up first
   * ({@link #warmUp}) to profile the steady state. Timing reads the clock twice per step and twice
   * per task; unprofiled runs read no clock at all.
   */
  public Profile profile(Map<String, Tensor> inputs, int runs) throws VfuseException {
    if (runs < 1) {
      throw new IllegalArgumentException("runs must be at least 1, got " + runs);
    }
    if (closed) {
      throw new IllegalStateException("model is closed");
    }
    NdArray[] args = arguments(inputs(), inputs, "");
    int steps = executor.stepCount(args);
    dev.vfuse.exec.StepRecorder recorder = new dev.vfuse.exec.StepRecorder(runs, steps);
    List<dev.vfuse.exec.Plan.StepInfo> infos = new java.util.ArrayList<>(steps);
    List<List<String>> calls = executor.profile(args, recorder, infos);
    java.util.regex.Matcher width = java.util.regex.Pattern.compile("(\\d+)-bit").matcher(executor.backend());
    int backendBits = width.find() ? Integer.parseInt(width.group(1)) : 0;
    List<Profile.Layer> layers = new java.util.ArrayList<>(steps);
    long[] column = new long[runs];
    for (int s = 0; s < steps; s++) {
      for (int r = 0; r < runs; r++) {
        column[r] = recorder.stepNanos(r, s);
      }
      dev.vfuse.exec.Plan.StepInfo info = infos.get(s);
      List<String> called = calls.get(s);
      int bits = !info.kernel().isEmpty() || called.stream().anyMatch(c -> c.startsWith("simd.")) ? backendBits
          : called.isEmpty() ? -1 : 0;
      layers.add(new Profile.Layer(info.node().name(), info.node().opType(), info.fused(), info.kernel(), called, bits,
          info.inputShapes(), info.outputShape(), info.flops(), info.bytes(), median(column)));
    }
    long origin = recorder.runStart(0);
    List<Profile.Run> timeline = new java.util.ArrayList<>(runs);
    long[] runNanos = new long[runs];
    for (int r = 0; r < runs; r++) {
      long[] starts = new long[steps];
      long[] nanos = new long[steps];
      for (int s = 0; s < steps; s++) {
        starts[s] = recorder.stepStart(r, s) - origin;
        nanos[s] = recorder.stepNanos(r, s);
      }
      runNanos[r] = recorder.runNanos(r);
      timeline.add(new Profile.Run(recorder.runStart(r) - origin, runNanos[r], starts, nanos));
    }
    List<Profile.ThreadSpan> spans = new java.util.ArrayList<>();
    for (dev.vfuse.exec.StepRecorder.Span s : recorder.spans()) {
      spans.add(new Profile.ThreadSpan(s.run(), s.step(), s.thread().getName(), s.startNanos() - origin,
          s.endNanos() - origin, s.busyNanos(), s.tasks()));
    }
    return new Profile(layers, runs, median(runNanos), executor.backend(), options.threads(),
        Thread.currentThread().getName(), timeline, spans);
  }

  private static long median(long[] values) {
    Arrays.sort(values);
    return values[values.length / 2];
  }

  /** What the load-time warm-up of {@link ModelOptions#withWarmup} did, or empty without one. */
  public java.util.Optional<Warmup> loadWarmup() {
    return java.util.Optional.ofNullable(loadWarmup);
  }

  /**
   * The inputs of a load-time warm-up: the declared shapes (a dynamic first axis at 1), floats of
   * a fixed pattern in [−1, 1], int64 zeros.
   */
  private Map<String, Tensor> syntheticInputs() throws InvalidInputException {
    Map<String, Tensor> feed = new LinkedHashMap<>();
    for (ValueInfo info : inputs()) {
      int[] shape = info.dims().stream().mapToInt(Integer::intValue).toArray();
      if (shape.length > 0 && shape[0] < 0) {
        shape[0] = 1;
      }
      if (Arrays.stream(shape).anyMatch(d -> d < 0)) {
        throw new InvalidInputException("withWarmup needs fixed input shapes, and input '" + info.name() + "' is " + info
            + ": warm up with Model.warmUp(inputs, budget) on a representative input instead");
      }
      int size = Shapes.size(shape);
      if (info.elementType() == ElementType.FLOAT32) {
        float[] values = new float[size];
        for (int i = 0; i < size; i++) {
          values[i] = (float) ((i * 0x9E3779B1L >>> 8 & 0xFFFF) / 32767.5 - 1.0);
        }
        feed.put(info.name(), Tensor.ofFloats(shape, values));
      } else {
        feed.put(info.name(), Tensor.ofLongs(shape, new long[size]));
      }
    }
    return feed;
  }

  /**
   * A model whose inputs all have fixed shapes is planned now, so shape faults are load faults, and
   * once: the executor then keeps each prepared weight in its packed form only (see {@link
   * Executor#planned}). A model with a dynamic input is planned on each new input shape.
   */
  private static Executor executor(Program program, Kernels kernels, WorkerPool pool) throws ModelFormatException {
    List<ValueInfo> inputs = program.inputs();
    int[][] shapes = new int[inputs.size()][];
    ElementType[] types = new ElementType[inputs.size()];
    for (int i = 0; i < shapes.length; i++) {
      if (inputs.get(i).dims().contains(-1)) {
        return new Executor(program, kernels, pool);
      }
      shapes[i] = inputs.get(i).dims().stream().mapToInt(Integer::intValue).toArray();
      types[i] = inputs.get(i).elementType();
    }
    try {
      return Executor.planned(program, kernels, pool, shapes, types);
    } catch (InvalidInputException e) {
      throw new ModelFormatException(e.nodeName(), "the model is inconsistent at its declared input shapes: "
          + e.getMessage(), e);
    }
  }

  /**
   * The floating-point operations one run does in its convolutions and matrix products (two per
   * multiply-add, after fusion) when the inputs have these shapes, in the order of
   * {@link #inputs()}: the work behind a GFLOP/s figure. Other operators are not counted.
   *
   * @throws InvalidInputException if the model cannot run at these shapes (a model whose inputs
   *     all have fixed shapes runs, and counts, at those shapes only)
   */
  public long flops(List<int[]> inputShapes) throws InvalidInputException {
    List<ValueInfo> inputs = inputs();
    if (inputShapes.size() != inputs.size()) {
      throw new InvalidInputException(null, "expected " + inputs.size() + " input shapes, got " + inputShapes.size(), null);
    }
    int[][] shapes = new int[inputs.size()][];
    ElementType[] types = new ElementType[inputs.size()];
    for (int i = 0; i < shapes.length; i++) {
      shapes[i] = inputShapes.get(i).clone();
      types[i] = inputs.get(i).elementType();
    }
    return executor.flops(shapes, types);
  }

  public List<ValueInfo> inputs() {
    return inputs;
  }

  public List<ValueInfo> outputs() {
    return outputs;
  }

  /** The version of the default ONNX operator set the model imports. */
  public int opset() {
    return opset;
  }

  /** The producer name and version recorded in the file, or "". */
  public String producer() {
    return producer;
  }

  /** Node count per op type in the model as loaded, sorted by op type. */
  public Map<String, Integer> opHistogram() {
    return opHistogram;
  }

  /** Number of float weights (initializers and Constant nodes). */
  public long parameterCount() {
    return parameterCount;
  }

  public ModelOptions options() {
    return options;
  }

  /**
   * What load-time fusion did: op counts before and after, each fusion and each refusal with its
   * reason. With fusion off, it lists no fusions and equal counts (after constant folding).
   */
  public FusionReport fusionReport() {
    return fusionReport;
  }

  /**
   * What int8 quantization did, per layer and for the whole model (with errors against float when
   * the {@link Quantization} had evaluation inputs), or empty when the weights are float.
   */
  public java.util.Optional<QuantizationReport> quantizationReport() {
    return java.util.Optional.ofNullable(quantizationReport);
  }

  /**
   * Bytes of the weights (every constant) of the graph that runs, after fusion and quantization.
   * What the loaded model holds differs: with fixed input shapes it keeps each weight a kernel
   * prepared only in the kernel's packed form (about these bytes; the SIMD backend's Winograd
   * layers keep transformed weights of 4× theirs); with a dynamic input it also keeps these
   * weights, to plan each new input shape, and each plan its packed copy.
   */
  public long weightBytes() {
    return weightBytes;
  }

  /**
   * Runs the model. Every declared input must be given, with its element type, its rank and its
   * fixed dimensions; dynamic dimensions are bound from the tensors given, and a dimension name
   * used by several inputs must get one size.
   *
   * @return the outputs in declared order, each a fresh tensor owned by the caller
   */
  public Map<String, Tensor> run(Map<String, Tensor> inputs) throws VfuseException {
    if (closed) {
      throw new IllegalStateException("model is closed");
    }
    NdArray[] results = executor.run(arguments(inputs(), inputs, ""));
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (int i = 0; i < results.length; i++) {
      NdArray r = results[i];
      out.put(outputs().get(i).name(), r.f != null ? Tensor.adoptFloats(r.shape, r.f) : Tensor.ofLongs(r.shape, r.l));
    }
    return out;
  }

  /** Runs a single-input model and returns its first output. */
  public Tensor run(Tensor input) throws VfuseException {
    if (inputs().size() != 1) {
      throw new InvalidInputException("the model has " + inputs().size() + " inputs; name them with run(Map)");
    }
    return run(Map.of(inputs().get(0).name(), input)).values().iterator().next();
  }

  private static void checkInput(ValueInfo info, Tensor t, Map<String, Integer> symbols) throws InvalidInputException {
    if (t.elementType() != info.elementType()) {
      throw new InvalidInputException("input '" + info.name() + "' must be " + info.elementType() + ", got " + t.elementType());
    }
    int[] shape = t.shape();
    if (shape.length != info.rank()) {
      throw new InvalidInputException("input '" + info.name() + "' must have rank " + info.rank() + " (" + info
          + "), got shape " + Shapes.str(shape));
    }
    for (int d = 0; d < shape.length; d++) {
      int want = info.dims().get(d);
      if (want >= 0 && shape[d] != want) {
        throw new InvalidInputException("input '" + info.name() + "' must have shape " + info + ", got " + Shapes.str(shape));
      }
      if (shape[d] == 0) {
        throw new InvalidInputException("input '" + info.name() + "' has an empty axis: " + Shapes.str(shape));
      }
      String symbol = info.dimNames().get(d);
      if (want < 0 && symbol != null && !symbol.equals("?")) {
        Integer bound = symbols.putIfAbsent(symbol, shape[d]);
        if (bound != null && bound != shape[d]) {
          throw new InvalidInputException("dimension '" + symbol + "' is " + bound + " in one input and " + shape[d]
              + " in input '" + info.name() + "'");
        }
      }
    }
  }

  /**
   * Releases the model and stops its worker threads; running it afterwards fails. Buffers are
   * released to the garbage collector.
   */
  @Override
  public void close() {
    closed = true;
    pool.close();
  }
}
