package dev.vfuse.quant;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.ElementType;
import dev.vfuse.ValueInfo;
import dev.vfuse.exec.Executor;
import dev.vfuse.exec.Program;
import dev.vfuse.fusion.OutputStatistics;
import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.Graph;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.Node;
import dev.vfuse.ops.ActivationAttributes;
import dev.vfuse.ops.OpRegistry;
import dev.vfuse.simd.SimdKernels;
import dev.vfuse.kernel.Activation;
import dev.vfuse.kernel.Kernels;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Data-free bias correction against its definition, measured: inputs drawn from the distribution a
 * folded BatchNorm promises (N(β, γ²) per channel, then ReLU) go through the float layer and the
 * int8 layer, and the mean of their difference at every output position, over many samples, is the
 * shift the correction must remove. Exact correction leaves nothing measurable anywhere; the naive
 * one (bias only, as if every tap read E[x]) is right inside and measurably wrong at the padded
 * borders; no correction is wrong everywhere.
 */
class AnalyticalBiasCorrectionTest {
  private static final int SAMPLES = 4000;
  /** Standard errors a sample mean may miss its expectation by: 4.5 makes a false alarm over ~200 positions below 0.1%. */
  private static final double NOISE = 4.5;
  /** Standard errors a wrong correction must exceed somewhere to count as measurably wrong. */
  private static final double SIGNAL = 12;

  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "dense 3x3 pad 1, Conv, 4, 6, 1, 1",
      "grouped 3x3 pad 1 (g=2), Conv, 4, 6, 2, 1",
      "depthwise 3x3 pad 1, Conv, 4, 4, 4, 1",
      "dense 3x3 stride 2 pad 1, Conv, 4, 6, 1, 2",
      "transposed 3x3 stride 2 (g=2), ConvTranspose, 4, 6, 2, 2"})
  void exactCorrectionRemovesTheMeanShiftAtEveryPosition(String label, String op, int c, int k, int groups, int stride)
      throws Exception {
    SplittableRandom random = new SplittableRandom(label.hashCode());
    Graph fused = twoLayers(op, c, k, groups, stride, random);
    NdArray x = bnDistributedInput(c, 7, 6, random);
    Kernels kernels = new SimdKernels();
    float[] reference = run(fused, x, kernels);
    float[] none = run(WeightQuantizer.quantize(fused, false, true).graph(), x, kernels);
    WeightQuantizer.Result exact = WeightQuantizer.quantize(fused, true, true);
    float[] corrected = run(exact.graph(), x, kernels);
    float[] naive = run(WeightQuantizer.quantize(fused, true, false).graph(), x, kernels);
    assertThat(exact.layers().get(1).correction()).isEqualTo("analytical, exact at borders");

    boolean[] interior = interior(op.equals("ConvTranspose"), k, 7, 6, stride, reference.length / SAMPLES);
    double[] noneShift = shift(none, reference);
    double[] exactShift = shift(corrected, reference);
    double[] naiveShift = shift(naive, reference);
    System.out.printf("%s: worst z none %.1f, exact %.2f, naive inside %.2f, naive %.1f%n", label, worst(noneShift, null),
        worst(exactShift, null), worst(naiveShift, interior), worst(naiveShift, null));
    assertThat(worst(noneShift, null)).as("%s: quantization shifts the mean measurably", label).isGreaterThan(SIGNAL);
    assertThat(worst(exactShift, null)).as("%s: exact correction, worst |mean shift| / standard error", label)
        .isLessThan(NOISE);
    if (!op.equals("ConvTranspose")) {
      assertThat(worst(naiveShift, interior)).as("%s: naive correction inside", label).isLessThan(NOISE);
    }
    assertThat(worst(naiveShift, null)).as("%s: naive correction at the borders", label).isGreaterThan(SIGNAL);
  }

  @org.junit.jupiter.api.Test
  void pointwiseCorrectionGoesIntoTheBias() throws Exception {
    SplittableRandom random = new SplittableRandom(77);
    Graph fused = twoLayers("Conv", 4, 6, 1, 1, random);
    Map<String, Object> attrs = fused.nodes().get(1).attributes().toMap();
    attrs.put("kernel_shape", new long[] {1, 1});
    attrs.put("pads", new long[] {0, 0, 0, 0});
    Map<String, NdArray> constants = new LinkedHashMap<>(fused.constants());
    float[] w = new float[6 * 4];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) random.nextDouble(-1, 1);
    }
    constants.put("b.w", NdArray.ofFloats(new int[] {6, 4, 1, 1}, w));
    Node b = fused.nodes().get(1);
    Graph g = new Graph(List.of(fused.nodes().get(0), new Node("b", "Conv", "", b.inputs(), b.outputs(), new Attributes(attrs))),
        constants, fused.inputs(), fused.outputs(), 13);
    NdArray x = bnDistributedInput(4, 7, 6, random);
    Kernels kernels = new SimdKernels();
    float[] reference = run(g, x, kernels);
    WeightQuantizer.Result r = WeightQuantizer.quantize(g, true, true);
    assertThat(r.layers().get(1).correction()).isEqualTo("analytical");
    assertThat(worst(shift(run(WeightQuantizer.quantize(g, false, true).graph(), x, kernels), reference), null))
        .isGreaterThan(SIGNAL);
    assertThat(worst(shift(run(r.graph(), x, kernels), reference), null)).isLessThan(NOISE);
  }

  /** A fully connected layer after the statistics-carrying conv, through Flatten: Gemm's C takes the correction. */
  @org.junit.jupiter.api.Test
  void gemmCorrectionGoesIntoC() throws Exception {
    SplittableRandom random = new SplittableRandom(78);
    Graph conv = twoLayers("Conv", 4, 6, 1, 1, random);
    Map<String, NdArray> constants = new LinkedHashMap<>(conv.constants());
    float[] w = new float[5 * 4];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) random.nextDouble(-1, 1);
    }
    constants.put("g.w", NdArray.ofFloats(new int[] {5, 4}, w));
    constants.put("g.c", NdArray.ofFloats(new int[] {5}, new float[] {0.1f, -0.2f, 0.3f, 0f, 0.5f}));
    Map<String, Object> gemm = new HashMap<>();
    gemm.put("transB", 1L);
    gemm.put("alpha", 0.75f);
    gemm.put("beta", 2f);
    Graph g = new Graph(List.of(conv.nodes().get(0),
        new Node("flat", "Flatten", "", List.of("h"), List.of("f"), Attributes.empty()),
        new Node("fc", "Gemm", "", List.of("f", "g.w", "g.c"), List.of("y"), new Attributes(gemm))),
        constants, conv.inputs(), conv.outputs(), 13);
    NdArray x = bnDistributedInput(4, 1, 1, random);
    Kernels kernels = new SimdKernels();
    float[] reference = run(g, x, kernels);
    WeightQuantizer.Result r = WeightQuantizer.quantize(g, true, true);
    assertThat(r.layers().get(1).op()).isEqualTo("Gemm");
    assertThat(r.layers().get(1).correction()).isEqualTo("analytical");
    assertThat(worst(shift(run(WeightQuantizer.quantize(g, false, true).graph(), x, kernels), reference), null))
        .isGreaterThan(SIGNAL);
    assertThat(worst(shift(run(r.graph(), x, kernels), reference), null)).isLessThan(NOISE);
  }

  /**
   * Layer a: a 1×1 identity conv carrying the statistics of a folded BN (mean β, std γ) and a
   * fused ReLU, fed with samples from N(β, γ²), so its output has exactly the distribution the
   * statistics promise. Layer b: the conv under test, padded, reading a.
   */
  private static Graph twoLayers(String op, int c, int k, int groups, int stride, SplittableRandom random) {
    Map<String, NdArray> constants = new LinkedHashMap<>();
    float[] identity = new float[c * c];
    for (int i = 0; i < c; i++) {
      identity[i * c + i] = 1f;
    }
    constants.put("a.w", NdArray.ofFloats(new int[] {c, c, 1, 1}, identity));
    Map<String, Object> aAttrs = new HashMap<>();
    ActivationAttributes.put(new Activation.Relu(), aAttrs);
    aAttrs.put(OutputStatistics.MEAN, beta(c));
    aAttrs.put(OutputStatistics.STD, gamma(c));
    Node a = new Node("a", "Conv", OpRegistry.VFUSE_DOMAIN, List.of("x", "a.w"), List.of("h"), new Attributes(aAttrs));
    boolean transposed = op.equals("ConvTranspose");
    int[] wShape = transposed ? new int[] {c, k / groups, 3, 3} : new int[] {k, c / groups, 3, 3};
    float[] w = new float[wShape[0] * wShape[1] * 9];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) random.nextDouble(-1, 1);
    }
    float[] bias = new float[k];
    for (int i = 0; i < k; i++) {
      bias[i] = (float) random.nextDouble(-0.5, 0.5);
    }
    constants.put("b.w", NdArray.ofFloats(wShape, w));
    constants.put("b.b", NdArray.ofFloats(new int[] {k}, bias));
    Map<String, Object> bAttrs = new HashMap<>();
    bAttrs.put("kernel_shape", new long[] {3, 3});
    bAttrs.put("strides", new long[] {stride, stride});
    bAttrs.put("pads", new long[] {1, 1, 1, 1});
    bAttrs.put("group", (long) groups);
    Node b = new Node("b", op, "", List.of("h", "b.w", "b.b"), List.of("y"), new Attributes(bAttrs));
    return new Graph(List.of(a, b), constants, List.of(new ValueInfo("x", ElementType.FLOAT32, List.of(), List.of())),
        List.of(new ValueInfo("y", ElementType.FLOAT32, List.of(), List.of())), 13);
  }

  private static float[] beta(int c) {
    float[] b = new float[c];
    for (int i = 0; i < c; i++) {
      b[i] = 0.5f + 0.5f * i; // from half a std above zero (ReLU clips a third) to well above
    }
    return b;
  }

  private static float[] gamma(int c) {
    float[] g = new float[c];
    for (int i = 0; i < c; i++) {
      g[i] = 0.6f + 0.2f * i;
    }
    return g;
  }

  /** SAMPLES images [SAMPLES, c, h, w], channel i ~ N(β_i, γ_i²). */
  private static NdArray bnDistributedInput(int c, int h, int w, SplittableRandom random) {
    float[] beta = beta(c);
    float[] gamma = gamma(c);
    float[] x = new float[SAMPLES * c * h * w];
    for (int i = 0; i < x.length; i++) {
      int ch = (i / (h * w)) % c;
      x[i] = (float) (beta[ch] + gamma[ch] * random.nextGaussian());
    }
    return NdArray.ofFloats(new int[] {SAMPLES, c, h, w}, x);
  }

  private static float[] run(Graph g, NdArray x, Kernels kernels) throws Exception {
    return new Executor(Program.compile(g), kernels).run(new NdArray[] {x})[0].toFloats();
  }

  /**
   * Positions of one output image [k, P, Q] whose every tap reads the input (conv, pad 1, 3×3);
   * none for a transposed conv, whose output positions differ in their number of taps even inside.
   */
  private static boolean[] interior(boolean transposed, int k, int h, int w, int stride, int per) {
    boolean[] inside = new boolean[per];
    if (transposed) {
      return inside;
    }
    int p = (h + 2 - 3) / stride + 1;
    int q = (w + 2 - 3) / stride + 1;
    for (int i = 0; i < per; i++) {
      int row = (i / q) % p;
      int col = i % q;
      inside[i] = row * stride - 1 >= 0 && row * stride + 1 < h && col * stride - 1 >= 0 && col * stride + 1 < w;
    }
    return inside;
  }

  /** Per output position of one image, |mean over the samples of (y − ref)| in standard errors. */
  private static double[] shift(float[] y, float[] ref) {
    int per = y.length / SAMPLES;
    double[] sum = new double[per];
    double[] sq = new double[per];
    for (int s = 0; s < SAMPLES; s++) {
      for (int i = 0; i < per; i++) {
        double d = (double) y[s * per + i] - ref[s * per + i];
        sum[i] += d;
        sq[i] += d * d;
      }
    }
    double[] z = new double[per];
    for (int i = 0; i < per; i++) {
      double mean = sum[i] / SAMPLES;
      double var = Math.max(sq[i] / SAMPLES - mean * mean, 1e-30);
      z[i] = Math.abs(mean) / Math.sqrt(var / SAMPLES);
    }
    return z;
  }

  /** The largest value, over the positions the mask keeps (all when null). */
  private static double worst(double[] z, boolean[] mask) {
    double m = 0;
    for (int i = 0; i < z.length; i++) {
      if (mask == null || mask[i]) {
        m = Math.max(m, z[i]);
      }
    }
    return m;
  }
}
