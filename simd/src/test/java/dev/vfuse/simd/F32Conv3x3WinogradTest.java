package dev.vfuse.simd;

import static dev.vfuse.simd.FloatData.bits;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.vfuse.kernel.Activation;
import dev.vfuse.kernel.ConvEpilogue;
import dev.vfuse.kernel.ConvGeometry;
import dev.vfuse.kernel.Parallel;
import dev.vfuse.kernel.PreparedConv;
import dev.vfuse.reference.ReferenceKernels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.AfterAll;
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
 * weights by constants up to 5 (Bᵀ) and 8 (Aᵀ) whose contributions cancel exactly only in exact
 * arithmetic, so its rounding error scales with the magnitudes inside the transforms, not with
 * Σ|w·x| alone. Per output element the test allows
 *
 * <pre>
 *   |winograd − reference| ≤ (C + 11)·ε·Λ + 4·ε·S        ε = 2⁻²³
 * </pre>
 *
 * where Λ = Σ_c [|Aᵀ| ((|G| |g| |Gᵀ|) ⊙ (|Bᵀ| |d| |B|)) |A|] for the output's tile and position
 * in it (computed here in double from the matrices, independently of the kernel), and S is the
 * reference epilogue run on absolute values (|bias| + Σ|w·x| + |offset| + |residual|). The first
 * term is twice the first-order forward error bound of the float algorithm, whose longest rounding
 * path is C + 11 roundings long (1 weight transform, 2 + 2 input transform, C FMAs over channels,
 * 3 + 3 output transform; see the class comment); the factor two covers second-order terms, as
 * {@link ReductionTolerance} does. The second term is the epilogue: three float additions rounded
 * on both sides (6u = 3ε times S), plus ε·S for the reference's own double-to-float rounding and
 * LeakyRelu's product. The activations tested are 1-Lipschitz, so they do not enlarge differences.
 * Λ ≥ Σ|w·x|, with equality when the transforms would be exact; on these tests' data Λ/Σ|w·x|
 * is about 3 to 6.
 */
class F32Conv3x3WinogradTest {

  private static final ReferenceKernels REFERENCE = new ReferenceKernels();

  private static final TwoThreads TWO_THREADS = new TwoThreads();

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

  record Case(VectorSpecies<Float> species, String label, ConvGeometry g, Epilogue epilogue, boolean twoThreads) {
    @Override
    public String toString() {
      return bits(species) + " " + label + " n=" + g.n() + " c=" + g.c() + " h=" + g.h() + " w=" + g.w() + " k="
          + g.k() + " pads(t,l,b,r)=" + g.padTop() + "," + g.padLeft() + "," + g.padBottom() + "," + g.padRight()
          + " [" + epilogue + "] " + (twoThreads ? "2 threads" : "serial");
    }
  }

  @AfterAll
  static void stopPool() {
    TWO_THREADS.pool.shutdownNow();
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
    shapes.add(new Object[] {"channels in lanes", geometry(1, nr + 1, 7, 7, 2 * nr + 3, 1, 1, 1, 1)});
    shapes.add(new Object[] {"channels in lanes, batch 2", geometry(2, mr + 1, 6, 5, nr - 1, 0, 2, 1, 0)});
    shapes.add(new Object[] {"plane smaller than a tile", geometry(2, 3, 1, 2, mr, 2, 1, 0, 2)});
    shapes.add(new Object[] {"no padding", geometry(1, mr, 9, 14, nr, 0, 0, 0, 0)});
    shapes.add(new Object[] {"C=K=1", geometry(1, 1, 5, 5, 1, 1, 1, 1, 1)});
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
          cases.add(new Case(sp, (String) shapes.get(i)[0], (ConvGeometry) shapes.get(i)[1], e, twoThreads));
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
    SplittableRandom rnd = FloatData.random(c.species().vectorBitSize(), c.label().hashCode(), g.hashCode(),
        e.toString().hashCode());
    int outSize = (int) g.outputSize();
    float[] x = FloatData.floats(rnd, (int) g.inputSize(), 0);
    float[] w = FloatData.floats(rnd, (int) g.weightSize(), 0);
    float[] bias = e.bias() ? FloatData.floats(rnd, g.k(), 0) : null;
    float[] offsets = e.offsets() ? FloatData.floats(rnd, g.k() * g.p() * g.q(), 0) : null;
    float[] residual = e.residual() ? FloatData.floats(rnd, outSize, 0) : null;

    float[] expected = FloatData.sentinels(outSize);
    REFERENCE.conv2d(g, x, w, bias, new ConvEpilogue(offsets, residual, e.activation()), expected);
    float[] epilogueMagnitude = FloatData.sentinels(outSize);
    REFERENCE.conv2d(g, ReductionTolerance.abs(x), ReductionTolerance.abs(w),
        bias == null ? null : ReductionTolerance.abs(bias),
        new ConvEpilogue(offsets == null ? null : ReductionTolerance.abs(offsets),
            residual == null ? null : ReductionTolerance.abs(residual), null),
        epilogueMagnitude);
    double[] lambda = transformMagnitude(g, x, w);
    double[] bound = new double[outSize];
    for (int i = 0; i < outSize; i++) {
      bound[i] = (g.c() + 11) * ReductionTolerance.EPSILON * lambda[i]
          + 4 * ReductionTolerance.EPSILON * epilogueMagnitude[i];
    }

    Parallel parallel = c.twoThreads() ? TWO_THREADS : Parallel.SERIAL;
    float[] xIn = x.clone();
    float[] wIn = w.clone();
    float[] residualIn = residual == null ? null : residual.clone();
    PreparedConv conv = F32Conv3x3Winograd.prepare(c.species(), g, wIn, bias, offsets, e.activation());
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
   * Λ of the class comment for every output element, in double: for the output's tile (window d
   * of each channel, zero outside the input) and its position (a, b) in the tile,
   * Σ_c Σ_{r,s,i,j} L[a][r][i]·L[b][s][j]·|g[k,c,r,s]|·|d_c[i][j]| with
   * L[a][r][i] = Σ_ξ |Aᵀ[a][ξ]|·|G[ξ][r]|·|Bᵀ[ξ][i]|.
   */
  static double[] transformMagnitude(ConvGeometry g, float[] x, float[] w) {
    int tile = F32Conv3x3Winograd.TILE;
    int window = F32Conv3x3Winograd.WINDOW;
    double[][][] l = new double[tile][3][window];
    for (int a = 0; a < tile; a++) {
      for (int r = 0; r < 3; r++) {
        for (int i = 0; i < window; i++) {
          for (int xi = 0; xi < window; xi++) {
            l[a][r][i] += Math.abs(F32Conv3x3Winograd.AT[a][xi]) * Math.abs(F32Conv3x3Winograd.G[xi][r])
                * Math.abs(F32Conv3x3Winograd.BT[xi][i]);
          }
        }
      }
    }
    int n = g.n(), c = g.c(), h = g.h(), wd = g.w(), k = g.k(), p = g.p(), q = g.q();
    // perTap[n][c][p][q][r·3+s] = Σ_{i,j} L[a][r][i]·L[b][s][j]·|d[i][j]|, shared by all k.
    double[] perTap = new double[n * c * p * q * 9];
    double[] rowSums = new double[3 * window];
    for (int b = 0; b < n; b++) {
      for (int ch = 0; ch < c; ch++) {
        for (int pp = 0; pp < p; pp++) {
          for (int qq = 0; qq < q; qq++) {
            int row0 = pp / tile * tile - g.padTop();
            int col0 = qq / tile * tile - g.padLeft();
            int a = pp % tile, bb = qq % tile;
            // rowSums[s][i] = Σ_j L[b][s][j]·|d[i][j]|
            Arrays.fill(rowSums, 0);
            for (int i = 0; i < window; i++) {
              int hh = row0 + i;
              if (hh < 0 || hh >= h) {
                continue;
              }
              for (int j = 0; j < window; j++) {
                int ww = col0 + j;
                if (ww < 0 || ww >= wd) {
                  continue;
                }
                double v = Math.abs(x[((b * c + ch) * h + hh) * wd + ww]);
                for (int s = 0; s < 3; s++) {
                  rowSums[s * window + i] += l[bb][s][j] * v;
                }
              }
            }
            int out = (((b * c + ch) * p + pp) * q + qq) * 9;
            for (int r = 0; r < 3; r++) {
              for (int s = 0; s < 3; s++) {
                double sum = 0;
                for (int i = 0; i < window; i++) {
                  sum += l[a][r][i] * rowSums[s * window + i];
                }
                perTap[out + r * 3 + s] = sum;
              }
            }
          }
        }
      }
    }
    double[] lambda = new double[n * k * p * q];
    for (int b = 0; b < n; b++) {
      for (int ko = 0; ko < k; ko++) {
        for (int pq = 0; pq < p * q; pq++) {
          double sum = 0;
          for (int ch = 0; ch < c; ch++) {
            int t = ((b * c + ch) * p * q + pq) * 9;
            int wi = (ko * c + ch) * 9;
            for (int tap = 0; tap < 9; tap++) {
              sum += Math.abs(w[wi + tap]) * perTap[t + tap];
            }
          }
          lambda[(b * k + ko) * p * q + pq] = sum;
        }
      }
    }
    return lambda;
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

  /**
   * Two workers: the calling thread (worker 0) and one pool thread (worker 1) take tasks from a
   * shared counter, so tasks really run concurrently and on both scratch slices.
   */
  static final class TwoThreads implements Parallel {
    final ExecutorService pool = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "winograd-test-worker");
      t.setDaemon(true);
      return t;
    });

    @Override
    public int threads() {
      return 2;
    }

    @Override
    public void forEach(int tasks, Task task) {
      AtomicInteger next = new AtomicInteger();
      Future<?> other = pool.submit(() -> drain(next, tasks, task, 1));
      RuntimeException failure = null;
      try {
        drain(next, tasks, task, 0);
      } catch (RuntimeException ex) {
        failure = ex;
      }
      try {
        other.get();
      } catch (Exception ex) {
        if (failure == null) {
          failure = new RuntimeException(ex.getCause() != null ? ex.getCause() : ex);
        }
      }
      if (failure != null) {
        throw failure;
      }
    }

    private static void drain(AtomicInteger next, int tasks, Task task, int worker) {
      for (int t = next.getAndIncrement(); t < tasks; t = next.getAndIncrement()) {
        task.run(t, worker);
      }
    }

    @Override
    public String toString() {
      return "2 threads";
    }
  }
}
