package dev.vfuse.jmh;

import dev.vfuse.kernel.ChannelBlocks;
import dev.vfuse.kernel.ConvGeometry;
import dev.vfuse.exec.WorkerPool;
import dev.vfuse.kernel.Int8Weights;
import dev.vfuse.kernel.Kernels;
import dev.vfuse.kernel.Parallel;
import dev.vfuse.kernel.PreparedConv;
import dev.vfuse.reference.ReferenceKernels;
import dev.vfuse.simd.SimdKernels;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One convolution layer, prepared as the engine prepares it (weights packed once), simd against
 * reference, on layer shapes taken from resnet18, mobilenet_v2, mobilenet_v3_small and PP-OCRv3
 * det, on 1 or 2 threads of a {@link WorkerPool}, with float weights or int8 ones
 * ({@link Kernels#prepareConv2dInt8}, the weights quantized per channel by
 * {@link Int8Weights#quantize}). Setup refuses to time a backend whose output differs from the
 * reference (for int8, the reference's int8 kernel, which dequantizes) by more than
 * L·2^−23·Σ|terms| anywhere, L the reduction length (plus one for int8: the kernel may scale the
 * sum instead of the weights).
 * GFLOP/s = {@link ConvGeometry#flops()} / time. Layers are named model-kind-channels-size.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
public class ConvKernelBenchmark {

  private static final Map<String, String> LAYERS = Map.ofEntries(
      Map.entry("r18-3x3-64c-56", "1,64,56,56,64,3,1,1,1"),
      Map.entry("r18-3x3-128c-28", "1,128,28,28,128,3,1,1,1"),
      Map.entry("r18-3x3-256c-14", "1,256,14,14,256,3,1,1,1"),
      Map.entry("r18-3x3-512c-7", "1,512,7,7,512,3,1,1,1"),
      Map.entry("r18-7x7s2-stem", "1,3,224,224,64,7,2,3,1"),
      Map.entry("r18-3x3s2-64to128-56", "1,64,56,56,128,3,2,1,1"),
      Map.entry("r18-1x1s2-64to128", "1,64,56,56,128,1,2,0,1"),
      Map.entry("r18-3x3s2-128to256-28", "1,128,28,28,256,3,2,1,1"),
      Map.entry("r18-3x3s2-256to512-14", "1,256,14,14,512,3,2,1,1"),
      Map.entry("r18-1x1s2-256to512", "1,256,14,14,512,1,2,0,1"),
      Map.entry("mbv2-3x3s2-stem", "1,3,224,224,32,3,2,1,1"),
      Map.entry("ppocr-det-3x3s2-stem", "1,3,640,640,8,3,2,1,1"),
      Map.entry("mbv2-1x1-24to144-56", "1,24,56,56,144,1,1,0,1"),
      Map.entry("mbv2-1x1-144to24-56", "1,144,56,56,24,1,1,0,1"),
      Map.entry("mbv2-1x1-96to576-14", "1,96,14,14,576,1,1,0,1"),
      Map.entry("mbv2-1x1-960to160-7", "1,960,7,7,160,1,1,0,1"),
      Map.entry("mbv3-se-1x1-576to144-1", "1,576,1,1,144,1,1,0,1"),
      Map.entry("mbv2-dw3x3-144c-56", "1,144,56,56,144,3,1,1,144"),
      Map.entry("mbv2-dw3x3s2-96c-112", "1,96,112,112,96,3,2,1,96"),
      Map.entry("mbv3-dw5x5s2-72c-56", "1,72,56,56,72,5,2,2,72"),
      Map.entry("ppocr-det-3x3-16c-160", "1,16,160,160,16,3,1,1,1"));

  /** Layer names; {@link #LAYERS} gives each one's N,C,H,W,K,kernel,stride,pad,groups. */
  @Param({
      "r18-3x3-64c-56",
      "r18-3x3-128c-28",
      "r18-3x3-256c-14",
      "r18-3x3-512c-7",
      "r18-7x7s2-stem",
      "r18-3x3s2-64to128-56",
      "r18-1x1s2-64to128",
      "r18-3x3s2-128to256-28",
      "r18-3x3s2-256to512-14",
      "r18-1x1s2-256to512",
      "mbv2-3x3s2-stem",
      "ppocr-det-3x3s2-stem",
      "mbv2-1x1-24to144-56",
      "mbv2-1x1-144to24-56",
      "mbv2-1x1-96to576-14",
      "mbv2-1x1-960to160-7",
      "mbv3-se-1x1-576to144-1",
      "mbv2-dw3x3-144c-56",
      "mbv2-dw3x3s2-96c-112",
      "mbv3-dw5x5s2-72c-56",
      "ppocr-det-3x3-16c-160"})
  public String layer;

  @Param({"reference", "simd"})
  public String backend;

  @Param({"1"})
  public int threads;

  /**
   * "on": the kernel the engine picks, Winograd for the 3×3 stride-1 layers where it wins (its
   * GFLOP/s are then effective: direct-convolution FLOPs over time); "off": the implicit GEMM.
   */
  @Param({"on"})
  public String winograd;

  /**
   * "f32": float weights; "int8": per-channel int8 weights, kept as int8 by the prepared kernel (no
   * Winograd). The reference dequantizes them on every run, inside the timing.
   */
  @Param({"f32", "int8"})
  public String weights;

  /**
   * "nchw": the plain layout; "blocked": the channel-blocked layout the engine gives mobile-network
   * chains and small planes (f32 only; input and output blocked, except the plain input of a stem,
   * at most 4 input channels).
   */
  @Param({"nchw"})
  public String layout;

  private Kernels kernels;
  private PreparedConv prepared;
  private WorkerPool pool;
  private float[] scratch;
  private ConvGeometry g;
  private float[] x;
  private float[] w;
  private Int8Weights q;
  private float[] b;
  private float[] y;
  private int block;
  private boolean blockedInput;
  /** The plain input when x holds it blocked. */
  private float[] plainX;

  @Setup(Level.Trial)
  public void setUp() {
    int[] v = java.util.Arrays.stream(LAYERS.get(layer).split(",")).mapToInt(Integer::parseInt).toArray();
    g = ConvGeometry.of(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], 1, v[8]);
    SplittableRandom random = new SplittableRandom(1);
    x = random(random, (int) g.inputSize());
    w = random(random, (int) g.weightSize());
    b = random(random, g.k());
    y = new float[(int) g.outputSize()];
    System.setProperty(SimdKernels.WINOGRAD_PROPERTY, Boolean.toString(winograd.equals("on")));
    kernels = backend.equals("simd") ? new SimdKernels() : new ReferenceKernels();
    if (layout.equals("blocked")) {
      if (weights.equals("int8")) {
        throw new IllegalStateException(layer + " " + weights + " does not run blocked in the engine");
      }
      block = backend.equals("simd") ? ((SimdKernels) kernels).species().length() : 16;
      blockedInput = g.c() > 4;
      prepared = kernels.prepareBlockedConv(g, blockedInput, block, w, b, null);
      if (blockedInput) {
        float[] blocked = new float[ChannelBlocks.size(g.n(), g.c(), g.h() * g.w(), block)];
        kernels.toChannelBlocks(g.n(), g.c(), g.h() * g.w(), block, x, blocked);
        plainX = x;
        x = blocked;
      }
      y = new float[ChannelBlocks.size(g.n(), g.k(), g.p() * g.q(), block)];
    } else if (weights.equals("int8")) {
      q = Int8Weights.quantize(w, Int8Weights.conv(g));
      prepared = kernels.prepareConv2dInt8(g, q, b, null, null);
    } else {
      prepared = kernels.prepareConv2d(g, w, b, null, null);
    }
    pool = new WorkerPool(threads);
    scratch = new float[prepared.scratchPerWorker() * threads];
    checkAgainstReference();
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    pool.close();
  }

  private void checkAgainstReference() {
    ReferenceKernels reference = new ReferenceKernels();
    float[] expected = new float[y.length];
    float[] magnitude = new float[y.length];
    int length = g.reductionLength();
    float[] xs = plainX != null ? plainX : x;
    if (block > 0) {
      float[] plainExpected = new float[expected.length];
      float[] plainMagnitude = new float[expected.length];
      reference.conv2d(g, xs, w, b, plainExpected);
      reference.conv2d(g, abs(xs), abs(w), abs(b), plainMagnitude);
      expected = new float[y.length];
      magnitude = new float[y.length];
      reference.toChannelBlocks(g.n(), g.k(), g.p() * g.q(), block, plainExpected, expected);
      reference.toChannelBlocks(g.n(), g.k(), g.p() * g.q(), block, plainMagnitude, magnitude);
    } else if (q == null) {
      reference.conv2d(g, x, w, b, expected);
      reference.conv2d(g, abs(x), abs(w), abs(b), magnitude);
    } else {
      reference.prepareConv2dInt8(g, q, b, null, null).run(x, null, expected, new float[0], Parallel.SERIAL);
      reference.conv2d(g, abs(x), abs(q.dequantize(Int8Weights.conv(g))), abs(b), magnitude);
      length++;
    }
    prepared.run(x, null, y, scratch, pool);
    double perTerm = length * 0x1p-23;
    for (int i = 0; i < y.length; i++) {
      boolean padding = block > 0 && (i / block / (g.p() * g.q()) % ChannelBlocks.blocks(g.k(), block)) * block + i % block >= g.k();
      if (!padding && !(Math.abs(y[i] - expected[i]) <= perTerm * magnitude[i])) {
        throw new IllegalStateException(backend + " " + weights + " conv2d disagrees with the reference on " + g + " at " + i + ": " + y[i]
            + " vs " + expected[i]);
      }
    }
  }

  @Benchmark
  public float[] conv() {
    prepared.run(x, null, y, scratch, pool);
    return y;
  }

  private static float[] random(SplittableRandom r, int n) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) r.nextDouble(-1, 1);
    }
    return a;
  }

  private static float[] abs(float[] a) {
    float[] out = new float[a.length];
    for (int i = 0; i < a.length; i++) {
      out[i] = Math.abs(a[i]);
    }
    return out;
  }
}
