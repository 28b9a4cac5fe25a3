package dev.vfuse.simd;

import static dev.vfuse.simd.FloatData.bits;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.vfuse.kernel.Activation;
import dev.vfuse.kernel.ConvEpilogue;
import dev.vfuse.kernel.ConvGeometry;
import dev.vfuse.kernel.Parallel;
import dev.vfuse.kernel.PositionOffsets;
import dev.vfuse.reference.ReferenceKernels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link F32Conv3x3Winograd} against the reference, on every species, through
 * {@link Parallel#SERIAL} and a two-thread {@link Parallel}.
 *
 * <p>Geometries: seeded random ones (C and K below, at and above the micro-kernel's 6 rows and 2L
 * columns; H and W mostly not multiples of the 4×4 tile; each pad 0, 1 or 2 on its own; batch 1
 * or 2) and named ones that reach both GEMM orientations, several tile blocks and planes smaller
 * than a tile. Each runs with and without bias, offsets, residual and activation, on a scratch
 * array exactly as long as the contract asks and filled with NaN, so a kernel that reads scratch
 * it did not write, or writes past it, fails. The slack after y must stay untouched and x, w,
 * residual unchanged.
 *
 * <p>Tolerance. Winograd is not a reordering of the direct sum: the transforms multiply inputs and
 * weights by constants up to 5 (Bᵀ) and 8 (Aᵀ) whose contributions cancel only in exact
 * arithmetic, so its rounding error scales with the magnitudes inside the transformed domain, not
 * with Σ|w·x|. Per output element the test allows
 *
 * <pre>
 *   |winograd − reference| ≤ ε·[(C + 7)·Λ₁ + 4·Λ₂] + 4·ε·S          ε = 2⁻²³ = 2u
 *
 *   Λ₁ = |Aᵀ| (Σ_c |U_c| ⊙ |V_c|) |A|         U_c = G g_{k,c} Gᵀ,  V_c = Bᵀ d_c B  (exact)
 *   Λ₂ = |Aᵀ| (Σ_c |U_c| ⊙ (|Bᵀ| |d_c| |B|)) |A|
 * </pre>
 *
 * evaluated at the output's position in its tile, d_c being its 6×6 input window
 * ({@link #roundingBound}, in double, from the matrices alone). u·[(C + 7)·Λ₁ + 4·Λ₂] is the
 * first-order forward error bound of the kernel's float arithmetic: each rounding on the path
 * from an input to the output contributes u times the magnitude it acts on, and the path has
 * C FMAs over channels, 1 rounding of U and 3 + 3 in the output transform acting on the products
 * (Λ₁), and 2 + 2 in the input transform acting before the cancellations of Bᵀ (Λ₂). It grows
 * linearly with C and with the transforms' amplification; ε rather than u leaves a factor two for
 * second-order terms, as {@link ReductionTolerance} does. 4·ε·S, with S the reference epilogue on
 * absolute values (|bias| + Σ|w·x| + |offset| + |residual|), covers the epilogue: three float
 * additions rounded on both sides (6u·S = 3ε·S), plus ε·S for LeakyRelu's product. The
 * activations tested are 1-Lipschitz, so they do not enlarge differences.
 *
 * <p>Being a worst-case bound it is not tight: on this data the largest error is about 5% of it
 * (at C = 1, where the fixed transform roundings dominate) and well under 1% at C ≥ 64, where
 * errors grow like √C rather than C. It still fails any error of the algorithm itself: a wrong
 * coefficient, a shifted window or a crop off by one column produce errors of the order of the
 * outputs. Λ₁ is typically 10–20 times Σ|w·x|.
 *
 * <p>When the kernel transforms its weights per run, U is computed in float, two passes of at most
 * four roundings each, the constants' included: the bound gains 8·Λ₃, Λ₃ = |Aᵀ| (Σ_c (|G| |g_c|
 * |Gᵀ|) ⊙ |V_c|) |A|, Λ₁ with U_c's magnitude before its cancellations. Named shapes force that
 * form at every width, and a 14×14 one reaches it by the kernel's own rule on 512-bit vectors.
 */
class F32Conv3x3WinogradTest {

  private static final ReferenceKernels REFERENCE = new ReferenceKernels();

  private static final TwoThreads TWO_THREADS = TwoThreads.INSTANCE;

  /** {@link #roundingBound} per shape and species, shared by the shape's epilogue and thread variants. */
  private static final Map<String, double[]> ROUNDING_BOUNDS = new ConcurrentHashMap<>();

  private static final Activation[] ACTIVATIONS = {
    null, new Activation.Relu(), new Activation.LeakyRelu(0.1f), new Activation.Clip(-1f, 6f),
  };

  /** Which epilogue parts a case has. */
  record Epilogue(boolean bias, boolean offsets, boolean residual, Activation activation) {
    @Override
    public String toString() {
      return (bias ? "bias " : "") + (offsets ? "offsets " : "") + (residual ? "residual " : "")
          + (activation == null ? "" : activation.getClass().getSimpleName());
    }
  }

  /**
   * One test: {@code weightsAtRun} forces the kernel's weight form (true: transformed per run,
   * false: stored transformed), null leaves it to the kernel's rule.
   */
  record Case(VectorSpecies<Float> species, String label, ConvGeometry g, Boolean weightsAtRun, Epilogue epilogue,
      boolean twoThreads) {
    @Override
    public String toString() {
      return bits(species) + " " + label + " n=" + g.n() + " c=" + g.c() + " h=" + g.h() + " w=" + g.w() + " k="
          + g.k() + " pads(t,l,b,r)=" + g.padTop() + "," + g.padLeft() + "," + g.padBottom() + "," + g.padRight()
          + " [" + epilogue + "] " + (twoThreads ? "2 threads" : "serial");
    }
  }

  static Stream<Case> cases() {
    return VectorWidth.all().stream().flatMap(sp -> casesFor(sp).stream());
  }

  static List<Case> casesFor(VectorSpecies<Float> sp) {
    int l = sp.length();
    int nr = 2 * l;
    int mr = F32Conv3x3Winograd.MR;
    List<Object[]> shapes = new ArrayList<>();
    shapes.add(new Object[] {"tiles in lanes, several tile blocks", geometry(2, 2 * nr + 3, 36, 35, 13, 1, 1, 1, 1)});
    shapes.add(new Object[] {"channels in lanes", geometry(1, nr + 1, 7, 7, 2 * nr + 3, 1, 1, 1, 1), false});
    shapes.add(new Object[] {"channels in lanes, batch 2", geometry(2, mr + 1, 6, 5, nr - 1, 0, 2, 1, 0), false});
    // Six tiles and K near a multiple of 2L: channels in lanes at every width.
    shapes.add(new Object[] {"weights per run", geometry(1, nr + 1, 8, 12, 2 * nr - 1, 1, 1, 1, 1), true});
    shapes.add(new Object[] {"weights per run, batch 2", geometry(2, mr + 1, 4, 12, nr - 1, 1, 1, 1, 1), true});
    shapes.add(new Object[] {"weights per run, one input channel", geometry(1, 1, 8, 12, nr, 0, 0, 2, 2), true});
    shapes.add(new Object[] {"14x14, the kernel's rule", geometry(1, 40, 14, 14, 64, 1, 1, 1, 1)});
    shapes.add(new Object[] {"plane smaller than a tile", geometry(2, 3, 1, 2, mr, 2, 1, 0, 2)});
    shapes.add(new Object[] {"no padding", geometry(1, mr, 9, 14, nr, 0, 0, 0, 0)});
    shapes.add(new Object[] {"C=K=1", geometry(1, 1, 5, 5, 1, 1, 1, 1, 1)});
    shapes.add(new Object[] {"transformed weights in several chunks", geometry(1, 64, 6, 6, 150, 1, 1, 1, 1)});
    SplittableRandom rnd = FloatData.random(sp.vectorBitSize(), 3);
    int[] channelCounts = {1, mr - 1, mr, mr + 1, nr - 1, nr, nr + 1, 2 * nr + 3};
    for (int i = 0; i < 14; i++) {
      int[] pads = {rnd.nextInt(3), rnd.nextInt(3), rnd.nextInt(3), rnd.nextInt(3)};
      int h = Math.max(3 - pads[0] - pads[2], 1 + rnd.nextInt(23));
      int w = Math.max(3 - pads[1] - pads[3], 1 + rnd.nextInt(23));
      int c = channelCounts[rnd.nextInt(channelCounts.length)];
      int k = channelCounts[rnd.nextInt(channelCounts.length)];
      shapes.add(new Object[] {"random", geometry(1 + rnd.nextInt(2), c, h, w, k, pads[0], pads[1], pads[2], pads[3])});
    }
    List<Case> cases = new ArrayList<>();
    for (int i = 0; i < shapes.size(); i++) {
      // Rotate the epilogue through every part and activation; bare and full cases for all shapes.
      Epilogue partial = new Epilogue(i % 2 == 0, i % 3 == 0, i % 4 < 2, ACTIVATIONS[i % ACTIVATIONS.length]);
      Epilogue[] epilogues = {
        new Epilogue(false, false, false, null), partial, new Epilogue(true, true, true, new Activation.Relu()),
      };
      for (Epilogue e : epilogues) {
        for (boolean twoThreads : new boolean[] {false, true}) {
          Object[] shape = shapes.get(i);
          Boolean weightsAtRun = shape.length > 2 ? (Boolean) shape[2] : null;
          cases.add(new Case(sp, (String) shape[0], (ConvGeometry) shape[1], weightsAtRun, e, twoThreads));
        }
      }
    }
    return cases;
  }

  private static ConvGeometry geometry(int n, int c, int h, int w, int k, int padTop, int padLeft, int padBottom,
      int padRight) {
    return new ConvGeometry(n, c, h, w, k, 3, 3, 1, 1, 1, 1, padTop, padLeft, padBottom, padRight, 1);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void matchesReferenceWithinTheWinogradBound(Case c) {
    ConvGeometry g = c.g();
    Epilogue e = c.epilogue();
    // x and w depend on the shape only, so the six epilogue and thread variants share the bound.
    SplittableRandom rnd = FloatData.random(c.species().vectorBitSize(), c.label().hashCode(), g.hashCode());
    int outSize = (int) g.outputSize();
    float[] x = FloatData.floats(rnd, (int) g.inputSize(), 0);
    float[] w = FloatData.floats(rnd, (int) g.weightSize(), 0);
    rnd = FloatData.random(c.species().vectorBitSize(), c.label().hashCode(), g.hashCode(), e.toString().hashCode());
    float[] bias = e.bias() ? FloatData.floats(rnd, g.k(), 0) : null;
    PositionOffsets offsets = e.offsets() ? FloatData.offsets(rnd, g.k(), g.p(), g.q()) : null;
    float[] residual = e.residual() ? FloatData.floats(rnd, outSize, 0) : null;

    float[] expected = FloatData.sentinels(outSize);
    REFERENCE.conv2d(g, x, w, bias, new ConvEpilogue(offsets, residual, e.activation()), expected);
    float[] epilogueMagnitude = FloatData.sentinels(outSize);
    REFERENCE.conv2d(g, ReductionTolerance.abs(x), ReductionTolerance.abs(w),
        bias == null ? null : ReductionTolerance.abs(bias),
        new ConvEpilogue(offsets == null ? null : ReductionTolerance.abs(offsets),
            residual == null ? null : ReductionTolerance.abs(residual), null),
        epilogueMagnitude);
    Parallel parallel = c.twoThreads() ? TWO_THREADS : Parallel.SERIAL;
    float[] xIn = x.clone();
    float[] wIn = w.clone();
    float[] residualIn = residual == null ? null : residual.clone();
    F32Conv3x3Winograd conv = c.weightsAtRun() == null
        ? (F32Conv3x3Winograd) F32Conv3x3Winograd.prepare(c.species(), g, wIn, bias, offsets, e.activation())
        : F32Conv3x3Winograd.prepare(c.species(), g, wIn, bias, offsets, e.activation(), c.weightsAtRun());
    boolean perRun = conv.transformsWeightsPerRun();
    double[] rounding = ROUNDING_BOUNDS.computeIfAbsent(
        c.species().vectorBitSize() + " " + c.label() + " " + g + " " + perRun, key -> roundingBound(g, x, w, perRun));
    double[] bound = new double[outSize];
    for (int i = 0; i < outSize; i++) {
      bound[i] = ReductionTolerance.EPSILON * rounding[i] + 4 * ReductionTolerance.EPSILON * epilogueMagnitude[i];
    }
    float[] scratch = new float[conv.scratchPerWorker() * parallel.threads()];
    Arrays.fill(scratch, Float.NaN);
    float[] actual = FloatData.sentinels(outSize);
    conv.run(xIn, residualIn, actual, scratch, parallel);

    String context = "winograd " + c + " P=" + g.p() + " Q=" + g.q() + " (" + conv + "), species " + c.species();
    assertWithin(context, expected, bound, actual, outSize);
    FloatData.assertSame(context + ": x changed", x, xIn);
    FloatData.assertSame(context + ": w changed", w, wIn);
    if (residual != null) {
      FloatData.assertSame(context + ": residual changed", residual, residualIn);
    }

    // A second run on the first run's scratch gives the same output: no state carried between runs.
    float[] again = FloatData.sentinels(outSize);
    conv.run(xIn, residualIn, again, scratch, parallel);
    FloatData.assertSame(context + ": second run", actual, again);
  }

  /** The transforms' matrices compute the 1-D correlation exactly: Σ_ξ Aᵀ[a][ξ]·G[ξ][r]·Bᵀ[ξ][i] = [i == a + r]. */
  @Test
  void transformMatricesComputeCorrelation() {
    for (int a = 0; a < F32Conv3x3Winograd.TILE; a++) {
      for (int r = 0; r < 3; r++) {
        for (int i = 0; i < F32Conv3x3Winograd.WINDOW; i++) {
          double sum = 0;
          for (int xi = 0; xi < F32Conv3x3Winograd.WINDOW; xi++) {
            sum += F32Conv3x3Winograd.AT[a][xi] * F32Conv3x3Winograd.G[xi][r] * F32Conv3x3Winograd.BT[xi][i];
          }
          assertThat(sum).as("a=%d r=%d i=%d", a, r, i).isCloseTo(i == a + r ? 1.0 : 0.0,
              org.assertj.core.data.Offset.offset(1e-12));
        }
      }
    }
  }

  /**
   * The rule: weights per run with channels in lanes from {@link F32Conv3x3Winograd#RUN_TRANSFORM_TILES}
   * tiles on (14² at batch 1 on 512-bit vectors, resnet18's 256-channel layers), stored otherwise.
   */
  @Test
  void transformsWeightsPerRunFromSixteenTilesWithChannelsInLanes() {
    float[] w = new float[256 * 256 * 9];
    assertThat(weightsPerRun(FloatVector.SPECIES_512, geometry(1, 256, 14, 14, 256, 1, 1, 1, 1), w))
        .isTrue();
    assertThat(weightsPerRun(FloatVector.SPECIES_512, geometry(1, 256, 7, 7, 256, 1, 1, 1, 1), w))
        .as("4 tiles").isFalse();
    assertThat(weightsPerRun(FloatVector.SPECIES_512, geometry(1, 64, 28, 28, 64, 1, 1, 1, 1), w))
        .as("49 tiles, tiles in lanes").isFalse();
    assertThat(weightsPerRun(FloatVector.SPECIES_256, geometry(1, 256, 14, 14, 256, 1, 1, 1, 1), w))
        .as("16 tiles fill 256-bit tile lanes").isFalse();
  }

  private static boolean weightsPerRun(VectorSpecies<Float> sp, ConvGeometry g, float[] w) {
    return ((F32Conv3x3Winograd) F32Conv3x3Winograd.prepare(sp, g, w, null, null, null)).transformsWeightsPerRun();
  }

  @Test
  void supportsOnlyStrideOneUndilatedUngrouped3x3() {
    assertThat(F32Conv3x3Winograd.supports(geometry(1, 4, 8, 8, 4, 1, 0, 2, 1))).isTrue();
    assertThat(F32Conv3x3Winograd.supports(ConvGeometry.of(1, 4, 8, 8, 4, 3, 2, 1, 1, 1))).isFalse();
    assertThat(F32Conv3x3Winograd.supports(ConvGeometry.of(1, 4, 8, 8, 4, 3, 1, 2, 2, 1))).isFalse();
    assertThat(F32Conv3x3Winograd.supports(ConvGeometry.of(1, 4, 8, 8, 4, 3, 1, 1, 1, 2))).isFalse();
    assertThat(F32Conv3x3Winograd.supports(ConvGeometry.of(1, 4, 8, 8, 4, 5, 1, 2, 1, 1))).isFalse();
    assertThat(F32Conv3x3Winograd.supports(new ConvGeometry(1, 4, 8, 8, 4, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)))
        .isFalse();
  }

  /**
   * The first-order forward error bound of the kernel's arithmetic (before the epilogue), per
   * output element, in units of u = 2⁻²⁴, computed in double from the matrices:
   *
   * <pre>
   *   (C + 7)·Λ₁ + 4·Λ₂,   Λ₁ = |Aᵀ| (Σ_c |U_c| ⊙ |V_c|) |A|,   Λ₂ = |Aᵀ| (Σ_c |U_c| ⊙ (|Bᵀ| |d_c| |B|)) |A|
   * </pre>
   *
   * with U_c = G g_{k,c} Gᵀ and V_c = Bᵀ d_c B exact, d_c the output's 6×6 window (zero outside the
   * input), evaluated at the output's position (a, b) in its tile. Λ₁ carries the roundings that
   * act on the products: the C FMAs over channels, U's one rounding to float and the output
   * transform's 3 + 3; Λ₂ the input transform's 2 + 2, which act on d before the cancellations of
   * Bᵀ. (Bounding |U_c| by |G| |g| |Gᵀ| and |V_c| by |Bᵀ| |d| |B| as well gives the simpler
   * (C + 11)·Λ of the class comment, about ten times looser.) With {@code weightsPerRun}, plus
   * 8·Λ₃ for U computed in float at run time (the class comment).
   */
  static double[] roundingBound(ConvGeometry g, float[] x, float[] w, boolean weightsPerRun) {
    int tile = F32Conv3x3Winograd.TILE;
    int window = F32Conv3x3Winograd.WINDOW;
    int points = F32Conv3x3Winograd.POINTS;
    double[][] bt = F32Conv3x3Winograd.BT;
    double[][] gm = F32Conv3x3Winograd.G;
    double[][] at = F32Conv3x3Winograd.AT;
    int n = g.n(), c = g.c(), h = g.h(), wd = g.w(), k = g.k(), p = g.p(), q = g.q();
    double[][] absG = absolute(gm);
    double[] uAbs = new double[k * c * points];
    double[] uMagnitude = new double[k * c * points];
    for (int kc = 0; kc < k * c; kc++) {
      double[][] filter = new double[3][3];
      double[][] filterAbs = new double[3][3];
      for (int r = 0; r < 3; r++) {
        for (int s = 0; s < 3; s++) {
          filter[r][s] = w[kc * 9 + r * 3 + s];
          filterAbs[r][s] = Math.abs(filter[r][s]);
        }
      }
      double[][] u = sandwich(gm, filter, gm);
      double[][] um = sandwich(absG, filterAbs, absG);
      for (int xi = 0; xi < points; xi++) {
        uAbs[kc * points + xi] = Math.abs(u[xi / window][xi % window]);
        uMagnitude[kc * points + xi] = um[xi / window][xi % window];
      }
    }
    double[][] absBt = absolute(bt);
    double[] bound = new double[n * k * p * q];
    double[] vAbs = new double[c * points];
    double[] vMagnitude = new double[c * points];
    double[] m1 = new double[points];
    double[] m2 = new double[points];
    double[] m3 = new double[points];
    for (int b = 0; b < n; b++) {
      for (int ty = 0; ty * tile < p; ty++) {
        for (int tx = 0; tx * tile < q; tx++) {
          for (int ch = 0; ch < c; ch++) {
            double[][] d = new double[window][window];
            double[][] dAbs = new double[window][window];
            for (int i = 0; i < window; i++) {
              for (int j = 0; j < window; j++) {
                int hh = ty * tile - g.padTop() + i;
                int ww = tx * tile - g.padLeft() + j;
                if (hh >= 0 && hh < h && ww >= 0 && ww < wd) {
                  d[i][j] = x[((b * c + ch) * h + hh) * wd + ww];
                  dAbs[i][j] = Math.abs(d[i][j]);
                }
              }
            }
            double[][] v = sandwich(bt, d, bt);
            double[][] vm = sandwich(absBt, dAbs, absBt);
            for (int xi = 0; xi < points; xi++) {
              vAbs[ch * points + xi] = Math.abs(v[xi / window][xi % window]);
              vMagnitude[ch * points + xi] = vm[xi / window][xi % window];
            }
          }
          for (int ko = 0; ko < k; ko++) {
            Arrays.fill(m1, 0);
            Arrays.fill(m2, 0);
            Arrays.fill(m3, 0);
            for (int ch = 0; ch < c; ch++) {
              int u0 = (ko * c + ch) * points;
              for (int xi = 0; xi < points; xi++) {
                m1[xi] += uAbs[u0 + xi] * vAbs[ch * points + xi];
                m2[xi] += uAbs[u0 + xi] * vMagnitude[ch * points + xi];
                m3[xi] += uMagnitude[u0 + xi] * vAbs[ch * points + xi];
              }
            }
            for (int a = 0; a < tile && ty * tile + a < p; a++) {
              for (int bb = 0; bb < tile && tx * tile + bb < q; bb++) {
                double lambda1 = 0;
                double lambda2 = 0;
                double lambda3 = 0;
                for (int xi = 0; xi < points; xi++) {
                  double weight = Math.abs(at[a][xi / window]) * Math.abs(at[bb][xi % window]);
                  lambda1 += weight * m1[xi];
                  lambda2 += weight * m2[xi];
                  lambda3 += weight * m3[xi];
                }
                bound[((b * k + ko) * p + ty * tile + a) * q + tx * tile + bb] =
                    (c + 7) * lambda1 + 4 * lambda2 + (weightsPerRun ? 8 * lambda3 : 0);
              }
            }
          }
        }
      }
    }
    return bound;
  }

  /** left · middle · rightᵀ, for the transforms' Bᵀ d B (left = right = Bᵀ) and G g Gᵀ. */
  private static double[][] sandwich(double[][] left, double[][] middle, double[][] right) {
    int rows = left.length;
    int cols = right.length;
    double[][] out = new double[rows][cols];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        double sum = 0;
        for (int r = 0; r < middle.length; r++) {
          for (int s = 0; s < middle[0].length; s++) {
            sum += left[i][r] * middle[r][s] * right[j][s];
          }
        }
        out[i][j] = sum;
      }
    }
    return out;
  }

  private static double[][] absolute(double[][] m) {
    double[][] out = new double[m.length][];
    for (int i = 0; i < m.length; i++) {
      out[i] = new double[m[i].length];
      for (int j = 0; j < m[i].length; j++) {
        out[i][j] = Math.abs(m[i][j]);
      }
    }
    return out;
  }

  /**
   * Fails with the context and the first offending index unless every output element is within
   * its bound (and not NaN) and the slack after the output still holds {@link FloatData#SENTINEL}.
   */
  static void assertWithin(String context, float[] expected, double[] bound, float[] actual, int size) {
    int mismatches = 0;
    int first = -1;
    for (int i = 0; i < actual.length; i++) {
      boolean ok = i < size
          ? !Float.isNaN(actual[i]) && Math.abs((double) actual[i] - expected[i]) <= bound[i]
          : Float.floatToRawIntBits(actual[i]) == Float.floatToRawIntBits(FloatData.SENTINEL);
      if (!ok) {
        mismatches++;
        if (first < 0) {
          first = i;
        }
      }
    }
    if (first >= 0) {
      if (first >= size) {
        fail("%s: %d mismatches, first at index %d past the output (size %d): %s overwrote the slack",
            context, mismatches, first, size, actual[first]);
      }
      fail("%s: %d mismatches, first at index %d: expected %s, got %s, |diff| %s > bound %s",
          context, mismatches, first, expected[first], actual[first],
          Math.abs((double) actual[first] - expected[first]), bound[first]);
    }
  }

}
