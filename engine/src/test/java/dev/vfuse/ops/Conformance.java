package dev.vfuse.ops;

import ai.onnxruntime.OrtException;
import dev.vfuse.Backend;
import dev.vfuse.ElementType;
import dev.vfuse.Model;
import dev.vfuse.ModelOptions;
import dev.vfuse.Tensor;
import dev.vfuse.VfuseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * Runs one model in vfuse (reference backend) and in ONNX Runtime on the same inputs and compares
 * every output under a {@link Tolerance}. A failure names the op family, prints the model (ops,
 * attributes, shapes), the inputs' shapes and the first mismatching index; the largest errors per
 * family are kept for {@link #printSummary}.
 */
public final class Conformance {
  private Conformance() {}

  /**
   * The default options (fusion on) on the reference backend, or on the backend the system
   * property {@code vfuse.ops.backend} names (e.g. {@code -Dtest.jvm.args="… -Dvfuse.ops.backend=SIMD"}).
   * The bounds of {@link Tolerance} assume vfuse's own error is negligible, which the reference
   * backend's double accumulation guarantees; a float-accumulating backend uses up their margin of 2.
   */
  public static final ModelOptions VFUSE =
      ModelOptions.defaults().withBackend(Backend.valueOf(System.getProperty("vfuse.ops.backend", "REFERENCE")));

  /** Per op family: outputs compared, largest |Δ|, largest |Δ| / bound, the tolerance of the last check. */
  public record Stats(int cases, double maxAbs, double maxRatio, String tolerance) {
    Stats merge(Stats o) {
      return new Stats(cases + o.cases, Math.max(maxAbs, o.maxAbs), Math.max(maxRatio, o.maxRatio), o.tolerance);
    }
  }

  private static final Map<String, Stats> STATS = new ConcurrentHashMap<>();

  /** Loads once, runs once, compares. Returns the ORT outputs for further checks. */
  public static List<OrtOracle.Output> check(String family, OnnxModelBuilder model, Map<String, Tensor> inputs, Tolerance tol) {
    return checkFeeds(family, model, List.of(inputs), tol).get(0);
  }

  /**
   * Loads the model once in each engine and runs every feed in turn (one loaded model, several
   * input shapes). Returns ORT's outputs per feed.
   */
  public static List<List<OrtOracle.Output>> checkFeeds(String family, OnnxModelBuilder model, List<Map<String, Tensor>> feeds,
      Tolerance tol) {
    return checkAgainst(family, model, model, feeds, tol);
  }

  /**
   * Runs {@code model} in vfuse and {@code ortModel}, an equivalent formulation, in ONNX Runtime:
   * for attribute combinations ORT does not implement (it rejects dilated SAME_* convolutions, for
   * example), the oracle runs the same computation spelled with explicit attributes.
   */
  public static List<List<OrtOracle.Output>> checkAgainst(String family, OnnxModelBuilder model, OnnxModelBuilder ortModel,
      List<Map<String, Tensor>> feeds, Tolerance tol) {
    return checkAgainst(family, model, ortModel, model.absolute(), feeds, tol);
  }

  /**
   * The general form: {@code magnitudeOf} is the model that, run in vfuse on |inputs|, gives Σ|terms|
   * per output element for a {@link Tolerance.Bounded} tolerance (by default
   * {@link OnnxModelBuilder#absolute()}; an op that subtracts, like BatchNormalization's x − mean,
   * needs the subtracted constants negated too).
   */
  public static List<List<OrtOracle.Output>> checkAgainst(String family, OnnxModelBuilder model, OnnxModelBuilder ortModel,
      OnnxModelBuilder magnitudeOf, List<Map<String, Tensor>> feeds, Tolerance tol) {
    return checkAgainst(family, VFUSE, model, ortModel, magnitudeOf, feeds, tol);
  }

  /** As above, loading the vfuse model with {@code options} (its backend, fusion on or off). */
  public static List<List<OrtOracle.Output>> checkAgainst(String family, ModelOptions options, OnnxModelBuilder model,
      OnnxModelBuilder ortModel, OnnxModelBuilder magnitudeOf, List<Map<String, Tensor>> feeds, Tolerance tol) {
    byte[] bytes = model.build();
    List<List<OrtOracle.Output>> all = new ArrayList<>();
    try (Model vf = load(family, options, model, bytes); OrtOracle ort = new OrtOracle(ortModel == model ? bytes : ortModel.build());
        Model magnitudeModel = tol.needsMagnitude() ? load(family, VFUSE.withFuse(false), magnitudeOf, magnitudeOf.build()) : null) {
      for (Map<String, Tensor> feed : feeds) {
        String where = family + " (" + options + ")\n" + model.describe() + (ortModel == model ? "" : "\nORT runs " + ortModel.describe())
            + "\ninputs " + shapes(feed) + "\ntolerance " + tol;
        List<OrtOracle.Output> expected = ort.run(feed);
        Map<String, Tensor> actual;
        try {
          actual = vf.run(feed);
        } catch (VfuseException | RuntimeException e) {
          throw new AssertionError("vfuse failed to run " + where + "\n" + e, e);
        }
        Map<String, Tensor> magnitude = magnitudeModel == null ? null : magnitudeModel.run(absolute(feed));
        if (actual.size() != expected.size()) {
          throw new AssertionError("vfuse gives " + actual.size() + " outputs, ORT " + expected.size() + ": " + where);
        }
        for (OrtOracle.Output o : expected) {
          Tensor v = actual.get(o.name());
          if (v == null) {
            throw new AssertionError("vfuse has no output " + o.name() + ": " + where);
          }
          compare(family, where, o, v, magnitude == null ? null : magnitude.get(o.name()), tol);
        }
        all.add(expected);
      }
    } catch (OrtException e) {
      throw new AssertionError("ONNX Runtime rejected " + family + "\n" + ortModel.describe() + "\n" + e, e);
    } catch (VfuseException e) {
      throw new AssertionError("vfuse failed on the magnitude model of " + family + "\n" + model.describe() + "\n" + e, e);
    }
    return all;
  }

  private static Model load(String family, ModelOptions options, OnnxModelBuilder model, byte[] bytes) {
    try {
      return Model.load(bytes, options);
    } catch (VfuseException | RuntimeException e) {
      throw new AssertionError("vfuse failed to load " + family + "\n" + model.describe() + "\n" + e, e);
    }
  }

  private static void compare(String family, String where, OrtOracle.Output o, Tensor v, Tensor magnitude, Tolerance tol) {
    String out = "output " + o.name();
    if (!Arrays.equals(v.shape(), o.shape())) {
      throw new AssertionError(out + ": vfuse shape " + Arrays.toString(v.shape()) + " but ORT " + Arrays.toString(o.shape())
          + " in " + where);
    }
    if (!o.isFloat()) {
      if (v.elementType() != ElementType.INT64) {
        throw new AssertionError(out + ": vfuse gives " + v.elementType() + ", ORT int64, in " + where);
      }
      long[] a = v.longs();
      for (int i = 0; i < a.length; i++) {
        if (a[i] != o.longs()[i]) {
          throw new AssertionError(String.format("%s: first mismatch at %s: vfuse %d, ORT %d, in %s", out, index(i, o.shape()),
              a[i], o.longs()[i], where));
        }
      }
      record(family, new Stats(1, 0, 0, "exact"));
      return;
    }
    if (v.elementType() != ElementType.FLOAT32) {
      throw new AssertionError(out + ": vfuse gives " + v.elementType() + ", ORT float32, in " + where);
    }
    float[] a = v.floats();
    float[] e = o.floats();
    float[] m = magnitude == null ? null : magnitude.floats();
    double maxAbs = 0;
    double maxRatio = 0;
    int first = -1;
    int bad = 0;
    double firstBound = 0;
    for (int i = 0; i < e.length; i++) {
      boolean same = a[i] == e[i] || (Float.isNaN(a[i]) && Float.isNaN(e[i])); // equal infinities too: ∞ − ∞ is NaN
      double d = same ? 0 : Math.abs((double) a[i] - e[i]);
      if (Double.isNaN(d)) {
        d = Double.POSITIVE_INFINITY;
      }
      if (m != null && !(m[i] >= 0)) {
        throw new AssertionError(out + ": the magnitude model gives " + m[i] + " at " + index(i, o.shape()) + " in " + where);
      }
      double bound = tol.bound(e[i], m == null ? 0 : m[i]);
      maxAbs = Math.max(maxAbs, d);
      if (bound > 0) {
        maxRatio = Math.max(maxRatio, d / bound);
      } else if (d > 0) {
        maxRatio = Double.POSITIVE_INFINITY;
      }
      if (d > bound) {
        bad++;
        if (first < 0) {
          first = i;
          firstBound = bound;
        }
      }
    }
    if (first >= 0) {
      throw new AssertionError(String.format("%s: %d of %d elements differ; first at %s (flat %d): vfuse %s, ORT %s, "
          + "|Δ| %.3g > bound %.3g%s; max|Δ| %.3g%nin %s", out, bad, e.length, index(first, o.shape()), first,
          a[first], e[first], Math.abs((double) a[first] - e[first]), firstBound,
          m == null ? "" : String.format(" (Σ|t| %.3g)", m[first]), maxAbs, where));
    }
    record(family, new Stats(1, maxAbs, maxRatio, tol.toString()));
  }

  private static void record(String family, Stats s) {
    STATS.merge(family, s, Stats::merge);
  }

  /**
   * Prints, for each family named (or named and followed by a space and a qualifier, like
   * "Resize linear" for "Resize"), the outputs compared, max |Δ| and max |Δ|/bound.
   */
  public static void printSummary(String... families) {
    Map<String, Stats> sorted = new TreeMap<>(STATS);
    sorted.forEach((family, s) -> {
      if (Arrays.stream(families).anyMatch(f -> family.equals(f) || family.startsWith(f + " "))) {
        System.out.printf("%-34s %4d outputs  max|Δ| %-9.3g max|Δ|/bound %-9.3g (%s)%n", family, s.cases(), s.maxAbs(),
            s.maxRatio(), s.tolerance());
      }
    });
  }

  /** A snapshot of all statistics recorded so far. */
  public static Map<String, Stats> stats() {
    return Map.copyOf(STATS);
  }

  // ---------------------------------------------------------------- inputs

  /** Uniform floats in [lo, hi). */
  public static float[] uniform(SplittableRandom rng, int n, double lo, double hi) {
    float[] f = new float[n];
    for (int i = 0; i < n; i++) {
      f[i] = (float) rng.nextDouble(lo, hi);
    }
    return f;
  }

  /** A float tensor of uniform values in [−1, 1). */
  public static Tensor randomTensor(SplittableRandom rng, int... shape) {
    return Tensor.ofFloats(shape, uniform(rng, size(shape), -1, 1));
  }

  public static int size(int... shape) {
    int n = 1;
    for (int d : shape) {
      n *= d;
    }
    return n;
  }

  /** A single-entry feed map. */
  public static Map<String, Tensor> feed(String name, Tensor t) {
    Map<String, Tensor> m = new LinkedHashMap<>();
    m.put(name, t);
    return m;
  }

  private static Map<String, Tensor> absolute(Map<String, Tensor> feed) {
    Map<String, Tensor> m = new LinkedHashMap<>();
    feed.forEach((name, t) -> {
      if (t.elementType() == ElementType.FLOAT32) {
        float[] f = t.floats();
        for (int i = 0; i < f.length; i++) {
          f[i] = Math.abs(f[i]);
        }
        m.put(name, Tensor.ofFloats(t.shape(), f));
      } else {
        m.put(name, t);
      }
    });
    return m;
  }

  private static String shapes(Map<String, Tensor> feed) {
    return feed.entrySet().stream().map(e -> e.getKey() + Arrays.toString(e.getValue().shape())
        + (e.getValue().elementType() == ElementType.INT64 ? "i64" : "")).collect(Collectors.joining(", "));
  }

  private static String index(int flat, int[] shape) {
    int[] idx = new int[shape.length];
    for (int d = shape.length - 1; d >= 0; d--) {
      idx[d] = shape[d] == 0 ? 0 : flat % shape[d];
      flat = shape[d] == 0 ? 0 : flat / shape[d];
    }
    return Arrays.toString(idx);
  }
}
