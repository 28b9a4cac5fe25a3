package dev.vfuse.simd;

import static jdk.incubator.vector.VectorOperators.EXP;
import static jdk.incubator.vector.VectorOperators.TANH;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Sigmoid and Tanh on the Vector API, computed as their scalar definitions in
 * {@link dev.vfuse.kernel.Activation} compute them: widened to double, 1/(1 + e^−x) or tanh(x) in
 * double, rounded to float once.
 *
 * <p>Agreement with the scalar twin: within 1 ulp of float, and almost always bit-identical. The
 * scalar uses {@link Math#exp} and {@link Math#tanh}, the vector form the Vector API's EXP and TANH,
 * which are not specified to return the same double (each is within about 1 ulp of double); the
 * final rounding to float hides that difference unless the double result lies within a few
 * 2⁻⁵³ of a float rounding boundary. The tests hold it to 1 ulp and to at least 99.9% identical bits.
 *
 * <p>Why double: in float, e^−x alone would carry 1–2 ulp of error into every result. Each width
 * has its copy on constant species (the double species of the kernel's width, the float species of
 * half that width, with the same lane count), as C2 needs.
 */
final class F64ExpActivation {
  private static final VectorSpecies<Double> D512 = DoubleVector.SPECIES_512;
  private static final VectorSpecies<Double> D256 = DoubleVector.SPECIES_256;
  private static final VectorSpecies<Double> D128 = DoubleVector.SPECIES_128;
  private static final VectorSpecies<Float> F256 = FloatVector.SPECIES_256;
  private static final VectorSpecies<Float> F128 = FloatVector.SPECIES_128;
  private static final VectorSpecies<Float> F64 = FloatVector.SPECIES_64;

  private F64ExpActivation() {}

  /** y[off … off + len) = sigmoid(y) (or tanh(y)) in place, on the width of {@code sp}. */
  static void apply(VectorSpecies<Float> sp, boolean tanh, float[] y, int off, int len) {
    switch (sp.vectorBitSize()) {
      case 512 -> apply512(tanh, y, off, len);
      case 256 -> apply256(tanh, y, off, len);
      case 128 -> apply128(tanh, y, off, len);
      default -> throw new IllegalArgumentException("unsupported species " + sp);
    }
  }

  private static void apply512(boolean tanh, float[] y, int off, int len) {
    final VectorSpecies<Double> ds = D512;
    final VectorSpecies<Float> fs = F256;
    final DoubleVector one = DoubleVector.broadcast(ds, 1.0);
    int i = 0;
    for (; i + ds.length() <= len; i += ds.length()) {
      DoubleVector d = (DoubleVector) FloatVector.fromArray(fs, y, off + i).castShape(ds, 0);
      DoubleVector r = tanh ? d.lanewise(TANH) : one.div(one.add(d.neg().lanewise(EXP)));
      ((FloatVector) r.castShape(fs, 0)).intoArray(y, off + i);
    }
    if (i < len) {
      VectorMask<Float> m = fs.indexInRange(i, len);
      DoubleVector d = (DoubleVector) FloatVector.fromArray(fs, y, off + i, m).castShape(ds, 0);
      DoubleVector r = tanh ? d.lanewise(TANH) : one.div(one.add(d.neg().lanewise(EXP)));
      ((FloatVector) r.castShape(fs, 0)).intoArray(y, off + i, m);
    }
  }

  private static void apply256(boolean tanh, float[] y, int off, int len) {
    final VectorSpecies<Double> ds = D256;
    final VectorSpecies<Float> fs = F128;
    final DoubleVector one = DoubleVector.broadcast(ds, 1.0);
    int i = 0;
    for (; i + ds.length() <= len; i += ds.length()) {
      DoubleVector d = (DoubleVector) FloatVector.fromArray(fs, y, off + i).castShape(ds, 0);
      DoubleVector r = tanh ? d.lanewise(TANH) : one.div(one.add(d.neg().lanewise(EXP)));
      ((FloatVector) r.castShape(fs, 0)).intoArray(y, off + i);
    }
    if (i < len) {
      VectorMask<Float> m = fs.indexInRange(i, len);
      DoubleVector d = (DoubleVector) FloatVector.fromArray(fs, y, off + i, m).castShape(ds, 0);
      DoubleVector r = tanh ? d.lanewise(TANH) : one.div(one.add(d.neg().lanewise(EXP)));
      ((FloatVector) r.castShape(fs, 0)).intoArray(y, off + i, m);
    }
  }

  private static void apply128(boolean tanh, float[] y, int off, int len) {
    final VectorSpecies<Double> ds = D128;
    final VectorSpecies<Float> fs = F64;
    final DoubleVector one = DoubleVector.broadcast(ds, 1.0);
    int i = 0;
    for (; i + ds.length() <= len; i += ds.length()) {
      DoubleVector d = (DoubleVector) FloatVector.fromArray(fs, y, off + i).castShape(ds, 0);
      DoubleVector r = tanh ? d.lanewise(TANH) : one.div(one.add(d.neg().lanewise(EXP)));
      ((FloatVector) r.castShape(fs, 0)).intoArray(y, off + i);
    }
    if (i < len) {
      VectorMask<Float> m = fs.indexInRange(i, len);
      DoubleVector d = (DoubleVector) FloatVector.fromArray(fs, y, off + i, m).castShape(ds, 0);
      DoubleVector r = tanh ? d.lanewise(TANH) : one.div(one.add(d.neg().lanewise(EXP)));
      ((FloatVector) r.castShape(fs, 0)).intoArray(y, off + i, m);
    }
  }

}
