package dev.vfuse.simd;

import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.LE;

import dev.vfuse.kernel.FoldArithmetic;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The load-time fold arithmetic of {@link FoldArithmetic} on {@link DoubleVector}s, bit-identical
 * to the scalar definitions of {@code ReferenceKernels} (NaN payloads aside).
 *
 * <p>The double species has the bit width of the kernels' float species (so half its lanes; 128
 * bits for a width other than 128, 256 or 512). Floats are loaded with the float species of the
 * same lane count (half the width) and widened exactly with {@code castShape}; results are
 * narrowed the same way, which rounds as {@code (float)} does. Each formula is the scalar one's
 * double operations in the same order, with no FMA (Java never contracts {@code a*b + c}, so
 * neither may this). A refusal check looks at the lanes in range only.
 *
 * <p>Each method runs whole vectors with one masked vector for the tail. scaleBlocks takes the
 * per-element scale three ways: loaded directly when the block is 1; as a broadcast of one block's
 * scale, or a blend of two neighbours', when the block has at least as many elements as a vector
 * has lanes (a vector then straddles at most two blocks); and gathered through a periodic index
 * map for blocks in between.
 */
final class F64Fold {
  private F64Fold() {}

  private static final double MAX = Float.MAX_VALUE;

  /** The double species with the bit width of {@code floats} (128 bits for an unsupported width). */
  static VectorSpecies<Double> doubles(VectorSpecies<Float> floats) {
    return switch (floats.vectorBitSize()) {
      case 256 -> DoubleVector.SPECIES_256;
      case 512 -> DoubleVector.SPECIES_512;
      default -> DoubleVector.SPECIES_128;
    };
  }

  /** The float species with as many lanes as {@code doubles}. */
  private static VectorSpecies<Float> narrow(VectorSpecies<Double> doubles) {
    return switch (doubles.vectorBitSize()) {
      case 128 -> FloatVector.SPECIES_64;
      case 256 -> FloatVector.SPECIES_128;
      case 512 -> FloatVector.SPECIES_256;
      default -> throw new IllegalArgumentException("no float species for " + doubles);
    };
  }

  /** {@link FoldArithmetic#scaleBlocks}. */
  static boolean scaleBlocks(VectorSpecies<Float> floats, int n, float[] w, int block, double[] scale, float[] out) {
    VectorSpecies<Double> ds = doubles(floats);
    VectorSpecies<Float> fs = narrow(ds);
    int lanes = ds.length();
    // For 1 < block < lanes: lane j of the vector at i reads scale[(i + j) / block]. The pattern
    // repeats every period = lcm(lanes, block) elements, a multiple of lanes; map[t] = t / block.
    int period = 0;
    int[] map = null;
    if (n > 0 && block > 1 && block < lanes) {
      period = lanes / gcd(lanes, block) * block;
      map = new int[period];
      for (int t = 0; t < period; t++) {
        map[t] = t / block;
      }
    }
    for (int i = 0; i < n; i += lanes) {
      VectorMask<Float> fm = i + lanes <= n ? null : fs.indexInRange(i, n);
      VectorMask<Double> dm = fm == null ? null : fm.cast(ds);
      DoubleVector s;
      if (block == 1) {
        s = dm == null ? DoubleVector.fromArray(ds, scale, i) : DoubleVector.fromArray(ds, scale, i, dm);
      } else if (map != null) {
        int base = i / period * (period / block);
        int r = i % period;
        s = dm == null ? DoubleVector.fromArray(ds, scale, base, map, r)
            : DoubleVector.fromArray(ds, scale, base, map, r, dm);
      } else {
        int b0 = i / block;
        long end0 = (long) (b0 + 1) * block;
        s = DoubleVector.broadcast(ds, scale[b0]);
        if (end0 < Math.min((long) i + lanes, n)) {
          s = DoubleVector.broadcast(ds, scale[b0 + 1]).blend(s, ds.indexInRange(i, (int) end0));
        }
      }
      DoubleVector v = widen(fs, ds, w, i, fm).mul(s);
      if (any(v.abs().compare(GT, MAX), dm)) {
        return false;
      }
      store(fs, v, out, i, fm);
    }
    return true;
  }

  /** {@link FoldArithmetic#affineBias}. */
  static boolean affineBias(VectorSpecies<Float> floats, int channels, float[] b, double[] scale, double[] shift,
      float[] out) {
    VectorSpecies<Double> ds = doubles(floats);
    VectorSpecies<Float> fs = narrow(ds);
    int lanes = ds.length();
    DoubleVector zero = DoubleVector.zero(ds);
    for (int k = 0; k < channels; k += lanes) {
      VectorMask<Float> fm = k + lanes <= channels ? null : fs.indexInRange(k, channels);
      VectorMask<Double> dm = fm == null ? null : fm.cast(ds);
      DoubleVector bv = b == null ? zero : widen(fs, ds, b, k, fm);
      DoubleVector v = bv.mul(load(ds, scale, k, dm)).add(load(ds, shift, k, dm));
      if (any(v.abs().compare(GT, MAX), dm)) {
        return false;
      }
      store(fs, v, out, k, fm);
    }
    return true;
  }

  /** {@link FoldArithmetic#roundToFloat}. */
  static boolean roundToFloat(VectorSpecies<Float> floats, int n, double[] v, float[] out) {
    VectorSpecies<Double> ds = doubles(floats);
    VectorSpecies<Float> fs = narrow(ds);
    int lanes = ds.length();
    for (int i = 0; i < n; i += lanes) {
      VectorMask<Float> fm = i + lanes <= n ? null : fs.indexInRange(i, n);
      VectorMask<Double> dm = fm == null ? null : fm.cast(ds);
      DoubleVector x = load(ds, v, i, dm);
      if (any(x.abs().compare(LE, MAX).not(), dm)) {
        return false;
      }
      store(fs, x, out, i, fm);
    }
    return true;
  }

  /** {@link FoldArithmetic#batchNormAffine}. */
  static int batchNormAffine(VectorSpecies<Float> floats, int channels, float[] gamma, float[] beta, float[] mean,
      float[] var, float epsilon, double[] scale, double[] shift) {
    VectorSpecies<Double> ds = doubles(floats);
    VectorSpecies<Float> fs = narrow(ds);
    int lanes = ds.length();
    double eps = epsilon;
    for (int c = 0; c < channels; c += lanes) {
      VectorMask<Float> fm = c + lanes <= channels ? null : fs.indexInRange(c, channels);
      VectorMask<Double> dm = fm == null ? null : fm.cast(ds);
      DoubleVector d = widen(fs, ds, var, c, fm).add(eps);
      DoubleVector s = widen(fs, ds, gamma, c, fm).div(d.sqrt());
      DoubleVector t = widen(fs, ds, beta, c, fm).sub(widen(fs, ds, mean, c, fm).mul(s));
      if (dm == null) {
        s.intoArray(scale, c);
        t.intoArray(shift, c);
      } else {
        s.intoArray(scale, c, dm);
        t.intoArray(shift, c, dm);
      }
      VectorMask<Double> usable = d.compare(GT, 0.0).and(s.abs().compare(LE, MAX)).and(t.abs().compare(LE, MAX));
      VectorMask<Double> bad = dm == null ? usable.not() : dm.andNot(usable);
      if (bad.anyTrue()) {
        return c + bad.firstTrue();
      }
    }
    return -1;
  }

  /** a[i …] widened to double, lanes outside {@code m} (when not null) read as 0. */
  private static DoubleVector widen(VectorSpecies<Float> fs, VectorSpecies<Double> ds, float[] a, int i,
      VectorMask<Float> m) {
    FloatVector f = m == null ? FloatVector.fromArray(fs, a, i) : FloatVector.fromArray(fs, a, i, m);
    return (DoubleVector) f.castShape(ds, 0);
  }

  private static DoubleVector load(VectorSpecies<Double> ds, double[] a, int i, VectorMask<Double> m) {
    return m == null ? DoubleVector.fromArray(ds, a, i) : DoubleVector.fromArray(ds, a, i, m);
  }

  /** v rounded to float (as {@code (float)} rounds) into a[i …], lanes outside {@code m} left alone. */
  private static void store(VectorSpecies<Float> fs, DoubleVector v, float[] a, int i, VectorMask<Float> m) {
    FloatVector f = (FloatVector) v.castShape(fs, 0);
    if (m == null) {
      f.intoArray(a, i);
    } else {
      f.intoArray(a, i, m);
    }
  }

  /** Whether {@code test} holds in a lane in range ({@code inRange} null meaning all lanes). */
  private static boolean any(VectorMask<Double> test, VectorMask<Double> inRange) {
    return (inRange == null ? test : test.and(inRange)).anyTrue();
  }

  private static int gcd(int a, int b) {
    while (b != 0) {
      int t = a % b;
      a = b;
      b = t;
    }
    return a;
  }
}
