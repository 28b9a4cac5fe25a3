package dev.vfuse.jmh;

import dev.vfuse.kernel.ConvGeometry;
import dev.vfuse.kernel.Kernels;
import dev.vfuse.reference.ReferenceKernels;
import dev.vfuse.simd.SimdKernels;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * One convolution layer, simd against reference, on layer shapes taken from resnet18,
 * mobilenet_v2 and PP-OCRv3 det. Setup refuses to time a backend whose output differs from the
 * reference by more than L·2^−23·Σ|terms| (L the reduction length) anywhere. GFLOP/s =
 * {@link ConvGeometry#flops()} / time; the layer string is N,C,H,W,K,kernel,stride,pad,groups.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
public class ConvKernelBenchmark {

  @Param({
      "1,64,56,56,64,3,1,1,1",      // resnet18 layer1 3x3
      "1,128,28,28,128,3,1,1,1",    // resnet18 layer2 3x3
      "1,256,14,14,256,3,1,1,1",    // resnet18 layer3 3x3
      "1,64,56,56,128,1,2,0,1",     // resnet18 downsample 1x1 stride 2
      "1,24,56,56,144,1,1,0,1",     // mobilenet_v2 expand 1x1
      "1,144,56,56,144,3,1,1,144",  // mobilenet_v2 depthwise 3x3
      "1,96,112,112,96,3,2,1,96",   // mobilenet_v2 depthwise 3x3 stride 2
      "1,16,160,160,16,3,1,1,1"})   // PP-OCRv3 det backbone 3x3 at 640x640
  public String layer;

  @Param({"reference", "simd"})
  public String backend;

  private Kernels kernels;
  private ConvGeometry g;
  private float[] x;
  private float[] w;
  private float[] b;
  private float[] y;

  @Setup(Level.Trial)
  public void setUp() {
    int[] v = java.util.Arrays.stream(layer.split(",")).mapToInt(Integer::parseInt).toArray();
    g = ConvGeometry.of(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], 1, v[8]);
    SplittableRandom random = new SplittableRandom(1);
    x = random(random, (int) g.inputSize());
    w = random(random, (int) g.weightSize());
    b = random(random, g.k());
    y = new float[(int) g.outputSize()];
    kernels = backend.equals("simd") ? new SimdKernels() : new ReferenceKernels();
    checkAgainstReference();
  }

  private void checkAgainstReference() {
    ReferenceKernels reference = new ReferenceKernels();
    float[] expected = new float[y.length];
    reference.conv2d(g, x, w, b, expected);
    float[] magnitude = new float[y.length];
    reference.conv2d(g, abs(x), abs(w), abs(b), magnitude);
    kernels.conv2d(g, x, w, b, y);
    double perTerm = g.reductionLength() * 0x1p-23;
    for (int i = 0; i < y.length; i++) {
      if (!(Math.abs(y[i] - expected[i]) <= perTerm * magnitude[i])) {
        throw new IllegalStateException(backend + " conv2d disagrees with the reference on " + g + " at " + i + ": " + y[i]
            + " vs " + expected[i]);
      }
    }
  }

  @Benchmark
  public float[] conv() {
    kernels.conv2d(g, x, w, b, y);
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
