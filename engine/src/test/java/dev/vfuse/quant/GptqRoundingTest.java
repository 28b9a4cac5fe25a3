package dev.vfuse.quant;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.ElementType;
import dev.vfuse.ValueInfo;
import dev.vfuse.exec.Executor;
import dev.vfuse.exec.Program;
import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.Graph;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.Node;
import dev.vfuse.kernel.Int8Weights;
import dev.vfuse.simd.SimdKernels;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * GPTQ rounding does what it is for: on held-out inputs from the calibration's distribution, a
 * layer's output moves less than with nearest rounding, on the same per-channel scales; with
 * inputs whose second moments are diagonal it is nearest rounding exactly.
 *
 * <p>Inputs: a few latent fields, smoothed in space and mixed into the channels, so that taps and
 * channels correlate as feature maps do; independent draws for calibration and evaluation. The
 * bound (GPTQ's output error at most 0.7× nearest's) is from measurement: 0.3–0.5 here.
 */
class GptqRoundingTest {
  private final SimdKernels kernels = new SimdKernels();

  @ParameterizedTest(name = "C={0} K={1} groups={2} {3}x{3} pad {4} stride {5}")
  @CsvSource({"16, 24, 1, 3, 1, 1", "16, 8, 2, 3, 1, 2", "12, 12, 12, 3, 1, 1", "32, 16, 1, 1, 0, 1", "8, 8, 1, 5, 2, 1"})
  void convOutputMovesLessThanWithNearestRounding(int c, int k, int groups, int r, int pad, int stride) throws Exception {
    SplittableRandom random = new SplittableRandom(c * 31L + k * 7L + groups + r);
    Graph g = conv(c, k, groups, r, pad, stride, random);
    double[][] mix = mixing(c, 3, random);
    List<NdArray[]> calibration = correlated(mix, 6, 14, random);
    List<NdArray[]> evaluation = correlated(mix, 4, 14, random);
    GptqRounding.Rounded rounded = GptqRounding.round(g, calibration, kernels);
    assertThat(rounded.weights()).containsKey("conv");
    Int8Weights gptq = rounded.weights().get("conv");
    NdArray w = g.constants().get("w");
    Int8Weights nearest = Int8Weights.quantize(w.f, Int8Weights.rows(k, w.size() / k));
    assertThat(gptq.scales()).as("the per-channel scales stay max|w|/127").containsExactly(nearest.scales());
    double nearestError = outputError(g, WeightQuantizer.quantize(g, false, true).graph(), evaluation);
    double gptqError = outputError(g, WeightQuantizer.quantize(g, false, true, rounded).graph(), evaluation);
    System.out.printf("C=%d K=%d groups=%d %dx%d: output MSE gptq / nearest = %.3f%n", c, k, groups, r, r,
        gptqError / nearestError);
    assertThat(gptqError).isLessThan(0.7 * nearestError);
  }

  @ParameterizedTest(name = "C={0} K={1} groups={2} {3}x{3} stride {4} pad {5}")
  @CsvSource({"12, 8, 1, 4, 2, 1", "8, 8, 2, 3, 2, 1", "8, 6, 1, 2, 2, 0"})
  void convTransposeOutputMovesLessThanWithNearestRounding(int c, int k, int groups, int r, int stride, int pad)
      throws Exception {
    SplittableRandom random = new SplittableRandom(c * 13L + k + groups * 5L + r);
    float[] w = new float[c * (k / groups) * r * r];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (random.nextGaussian() * (random.nextInt(12) == 0 ? 3 : 1));
    }
    Map<String, NdArray> constants = new LinkedHashMap<>();
    constants.put("w", NdArray.ofFloats(new int[] {c, k / groups, r, r}, w));
    Map<String, Object> a = new HashMap<>();
    a.put("kernel_shape", new long[] {r, r});
    a.put("pads", new long[] {pad, pad, pad, pad});
    a.put("strides", new long[] {stride, stride});
    a.put("group", (long) groups);
    Graph g = new Graph(List.of(new Node("up", "ConvTranspose", "", List.of("x", "w"), List.of("y"), new Attributes(a))),
        constants, List.of(new ValueInfo("x", ElementType.FLOAT32, List.of(), List.of())),
        List.of(new ValueInfo("y", ElementType.FLOAT32, List.of(), List.of())), 13);
    double[][] mix = mixing(c, 3, random);
    GptqRounding.Rounded rounded = GptqRounding.round(g, correlated(mix, 6, 10, random), kernels);
    assertThat(rounded.weights()).containsKey("up");
    List<NdArray[]> evaluation = correlated(mix, 4, 10, random);
    double nearestError = outputError(g, WeightQuantizer.quantize(g, false, true).graph(), evaluation);
    double gptqError = outputError(g, WeightQuantizer.quantize(g, false, true, rounded).graph(), evaluation);
    System.out.printf("ConvTranspose C=%d K=%d groups=%d %dx%d stride %d: output MSE gptq / nearest = %.3f%n", c, k,
        groups, r, r, stride, gptqError / nearestError);
    assertThat(gptqError).isLessThan(0.7 * nearestError);
  }

  @Test
  void uncorrelatedInputsGiveNearestRoundingExactly() throws Exception {
    // Each position has one non-zero channel: Σ x xᵀ is diagonal, so no error is fed anywhere.
    SplittableRandom random = new SplittableRandom(3);
    Graph g = conv(8, 6, 1, 1, 0, 1, random);
    List<NdArray[]> calibration = new ArrayList<>();
    for (int s = 0; s < 4; s++) {
      float[] x = new float[8 * 12 * 12];
      for (int p = 0; p < 144; p++) {
        x[random.nextInt(8) * 144 + p] = (float) random.nextGaussian();
      }
      calibration.add(new NdArray[] {NdArray.ofFloats(new int[] {1, 8, 12, 12}, x)});
    }
    Int8Weights gptq = GptqRounding.round(g, calibration, kernels).weights().get("conv");
    NdArray w = g.constants().get("w");
    assertThat(gptq).isEqualTo(Int8Weights.quantize(w.f, Int8Weights.rows(6, 8)));
  }

  @ParameterizedTest(name = "transB={0}")
  @CsvSource({"false", "true"})
  void gemmOutputMovesLessThanWithNearestRounding(boolean transB) throws Exception {
    SplittableRandom random = new SplittableRandom(transB ? 11 : 12);
    int kDim = 48;
    int nDim = 20;
    float[] b = new float[kDim * nDim];
    for (int i = 0; i < b.length; i++) {
      b[i] = (float) (random.nextGaussian() * (random.nextInt(10) == 0 ? 3 : 1));
    }
    Map<String, NdArray> constants = new LinkedHashMap<>();
    constants.put("w", NdArray.ofFloats(transB ? new int[] {nDim, kDim} : new int[] {kDim, nDim}, b));
    Map<String, Object> a = new HashMap<>();
    a.put("transB", transB ? 1L : 0L);
    Graph g = new Graph(List.of(new Node("gemm", "Gemm", "", List.of("x", "w"), List.of("y"), new Attributes(a))),
        constants, List.of(new ValueInfo("x", ElementType.FLOAT32, List.of(), List.of())),
        List.of(new ValueInfo("y", ElementType.FLOAT32, List.of(), List.of())), 13);
    double[][] mix = mixing(kDim, 4, random);
    List<NdArray[]> calibration = features(mix, 256, random);
    List<NdArray[]> evaluation = features(mix, 64, random);
    GptqRounding.Rounded rounded = GptqRounding.round(g, calibration, kernels);
    double nearestError = outputError(g, WeightQuantizer.quantize(g, false, true).graph(), evaluation);
    double gptqError = outputError(g, WeightQuantizer.quantize(g, false, true, rounded).graph(), evaluation);
    System.out.printf("Gemm transB=%s: output MSE gptq / nearest = %.3f%n", transB, gptqError / nearestError);
    assertThat(gptqError).isLessThan(0.7 * nearestError);
  }

  @Test
  void tooFewCalibrationRowsKeepNearestRoundingAndSayWhy() throws Exception {
    SplittableRandom random = new SplittableRandom(5);
    Graph g = conv(16, 4, 1, 3, 0, 1, random); // 144 inputs per channel, 2×2 outputs per sample
    GptqRounding.Rounded rounded = GptqRounding.round(g, correlated(mixing(16, 3, random), 2, 4, random), kernels);
    assertThat(rounded.weights()).isEmpty();
    assertThat(rounded.nearestWhy().get("conv")).contains("8 rows for 144 inputs");
    WeightQuantizer.Result r = WeightQuantizer.quantize(g, false, true, rounded);
    assertThat(r.layers().get(0).rounding()).isEqualTo("nearest");
    assertThat(r.layers().get(0).nearestReason()).contains("rows for 144 inputs");
  }

  /** Σ over samples and elements of (y − y_float)², the layer run by the real executor. */
  private double outputError(Graph reference, Graph quantized, List<NdArray[]> samples) throws Exception {
    Executor f = new Executor(Program.compile(Program.withReferencedConstants(reference)), kernels);
    Executor q = new Executor(Program.compile(Program.withReferencedConstants(quantized)), kernels);
    double sum = 0;
    for (NdArray[] x : samples) {
      float[] a = f.run(x)[0].toFloats();
      float[] b = q.run(x)[0].toFloats();
      for (int i = 0; i < a.length; i++) {
        sum += ((double) b[i] - a[i]) * ((double) b[i] - a[i]);
      }
    }
    return sum;
  }

  /** One Conv "conv" (x → y) with random weights (a few large ones per channel, as trained layers have) and bias. */
  private static Graph conv(int c, int k, int groups, int r, int pad, int stride, SplittableRandom random) {
    float[] w = new float[k * (c / groups) * r * r];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (random.nextGaussian() * (random.nextInt(12) == 0 ? 3 : 1));
    }
    float[] b = new float[k];
    for (int i = 0; i < k; i++) {
      b[i] = (float) random.nextGaussian();
    }
    Map<String, NdArray> constants = new LinkedHashMap<>();
    constants.put("w", NdArray.ofFloats(new int[] {k, c / groups, r, r}, w));
    constants.put("b", NdArray.ofFloats(new int[] {k}, b));
    Map<String, Object> a = new HashMap<>();
    a.put("kernel_shape", new long[] {r, r});
    a.put("pads", new long[] {pad, pad, pad, pad});
    a.put("strides", new long[] {stride, stride});
    a.put("group", (long) groups);
    return new Graph(List.of(new Node("conv", "Conv", "", List.of("x", "w", "b"), List.of("y"), new Attributes(a))),
        constants, List.of(new ValueInfo("x", ElementType.FLOAT32, List.of(), List.of())),
        List.of(new ValueInfo("y", ElementType.FLOAT32, List.of(), List.of())), 13);
  }

  /** A random mixing of {@code latents} factors into {@code n} channels or features. */
  private static double[][] mixing(int n, int latents, SplittableRandom random) {
    double[][] mix = new double[n][latents];
    for (double[] row : mix) {
      for (int l = 0; l < latents; l++) {
        row[l] = random.nextGaussian();
      }
    }
    return mix;
  }

  /** Images [1, C, size, size]: latent fields, box-smoothed, mixed into the C channels by {@code mix}, plus a little noise. */
  private static List<NdArray[]> correlated(double[][] mix, int count, int size, SplittableRandom random) {
    int c = mix.length;
    int latents = mix[0].length;
    List<NdArray[]> out = new ArrayList<>();
    for (int s = 0; s < count; s++) {
      double[][] field = new double[latents][(size + 2) * (size + 2)];
      for (double[] f : field) {
        for (int i = 0; i < f.length; i++) {
          f[i] = random.nextGaussian();
        }
      }
      float[] x = new float[c * size * size];
      for (int y = 0; y < size; y++) {
        for (int xx = 0; xx < size; xx++) {
          double[] smooth = new double[latents];
          for (int l = 0; l < latents; l++) {
            for (int dy = 0; dy < 3; dy++) {
              for (int dx = 0; dx < 3; dx++) {
                smooth[l] += field[l][(y + dy) * (size + 2) + xx + dx] / 3;
              }
            }
          }
          for (int ch = 0; ch < c; ch++) {
            double v = 0.1 * random.nextGaussian();
            for (int l = 0; l < latents; l++) {
              v += mix[ch][l] * smooth[l];
            }
            x[(ch * size + y) * size + xx] = (float) v;
          }
        }
      }
      out.add(new NdArray[] {NdArray.ofFloats(new int[] {1, c, size, size}, x)});
    }
    return out;
  }

  /** Row vectors [rows, K] of latent factors mixed into the K features by {@code mix}, plus a little noise. */
  private static List<NdArray[]> features(double[][] mix, int rows, SplittableRandom random) {
    int k = mix.length;
    float[] x = new float[rows * k];
    for (int i = 0; i < rows; i++) {
      double[] z = {random.nextGaussian(), random.nextGaussian(), random.nextGaussian(), random.nextGaussian()};
      for (int j = 0; j < k; j++) {
        double v = 0.1 * random.nextGaussian();
        for (int l = 0; l < 4; l++) {
          v += mix[j][l] * z[l];
        }
        x[i * k + j] = (float) v;
      }
    }
    return List.<NdArray[]>of(new NdArray[] {NdArray.ofFloats(new int[] {rows, k}, x)});
  }
}
