package dev.vfuse.simd;

import static jdk.incubator.vector.VectorOperators.GE;
import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.LT;

import dev.vfuse.kernel.Activation;
import dev.vfuse.kernel.ConvEpilogue;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The conv epilogue on one run of an output channel, in registers: bit-identical to
 * {@link ConvEpilogue#applyTo} after the kernel's bias add.
 *
 * <pre>
 *   v = y[yOff + i] + bias                    (skipped when hasBias is false)
 *   v = v + offsets[offOff + i]               if offsets != null
 *   v = v + residual[resOff + i]              if residual != null
 *   y[yOff + i] = activation(v)               if activation != null
 * </pre>
 *
 * Each step is one float operation, in this order, as the scalar definition rounds it; activations
 * with no bit-exact vector form (Sigmoid, Tanh) run {@link Activation#apply} per element. Kernels
 * call it on a tile they have just written, while it is still in cache.
 *
 * <p>One copy of the loop per width on a {@code static final} species (see {@link F32GemmPacked}
 * on why C2 needs the species constant): called with a species parameter, the Vector API ran in
 * its Java fallback here, with boxed vectors. Every step is masked (cheap on JDK 25), so there is
 * no separate tail.
 */
final class F32Epilogue {
  private static final VectorSpecies<Float> S128 = FloatVector.SPECIES_128;
  private static final VectorSpecies<Float> S256 = FloatVector.SPECIES_256;
  private static final VectorSpecies<Float> S512 = FloatVector.SPECIES_512;

  private F32Epilogue() {}

  /** Applies the epilogue to y[yOff … yOff + len) in place. */
  static void apply(VectorSpecies<Float> sp, float[] y, int yOff, int len, boolean hasBias, float bias,
      float[] offsets, int offOff, float[] residual, int resOff, Activation activation) {
    apply(sp, y, yOff, y, yOff, len, hasBias, bias, offsets, offOff, residual, resOff, activation);
  }

  /**
   * y[yOff + i] = epilogue(src[srcOff + i]) for i in [0, len): a kernel's accumulator tile stored
   * into the output with the epilogue on the way. {@code src} may be {@code y} at the same offset.
   */
  static void apply(VectorSpecies<Float> sp, float[] src, int srcOff, float[] y, int yOff, int len, boolean hasBias,
      float bias, float[] offsets, int offOff, float[] residual, int resOff, Activation activation) {
    Activation vectorActivation = activation != null && hasVectorForm(activation) ? activation : null;
    switch (sp.vectorBitSize()) {
      case 512 -> apply512(src, srcOff, y, yOff, len, hasBias, bias, offsets, offOff, residual, resOff,
          vectorActivation);
      case 256 -> apply256(src, srcOff, y, yOff, len, hasBias, bias, offsets, offOff, residual, resOff,
          vectorActivation);
      case 128 -> apply128(src, srcOff, y, yOff, len, hasBias, bias, offsets, offOff, residual, resOff,
          vectorActivation);
      default -> throw new IllegalArgumentException("unsupported species " + sp);
    }
    if (activation != null && vectorActivation == null) {
      for (int j = yOff; j < yOff + len; j++) {
        y[j] = activation.apply(y[j]);
      }
    }
  }

  private static void apply512(float[] src, int srcOff, float[] y, int yOff, int len, boolean hasBias, float bias,
      float[] offsets, int offOff, float[] residual, int resOff, Activation activation) {
    final VectorSpecies<Float> sp = S512;
    final int lanes = sp.length();
    for (int i = 0; i < len; i += lanes) {
      VectorMask<Float> m = sp.indexInRange(i, len);
      FloatVector v = FloatVector.fromArray(sp, src, srcOff + i, m);
      if (hasBias) {
        v = v.add(bias);
      }
      if (offsets != null) {
        v = v.add(FloatVector.fromArray(sp, offsets, offOff + i, m));
      }
      if (residual != null) {
        v = v.add(FloatVector.fromArray(sp, residual, resOff + i, m));
      }
      if (activation != null) {
        v = activate(activation, v);
      }
      v.intoArray(y, yOff + i, m);
    }
  }

  private static void apply256(float[] src, int srcOff, float[] y, int yOff, int len, boolean hasBias, float bias,
      float[] offsets, int offOff, float[] residual, int resOff, Activation activation) {
    final VectorSpecies<Float> sp = S256;
    final int lanes = sp.length();
    for (int i = 0; i < len; i += lanes) {
      VectorMask<Float> m = sp.indexInRange(i, len);
      FloatVector v = FloatVector.fromArray(sp, src, srcOff + i, m);
      if (hasBias) {
        v = v.add(bias);
      }
      if (offsets != null) {
        v = v.add(FloatVector.fromArray(sp, offsets, offOff + i, m));
      }
      if (residual != null) {
        v = v.add(FloatVector.fromArray(sp, residual, resOff + i, m));
      }
      if (activation != null) {
        v = activate(activation, v);
      }
      v.intoArray(y, yOff + i, m);
    }
  }

  private static void apply128(float[] src, int srcOff, float[] y, int yOff, int len, boolean hasBias, float bias,
      float[] offsets, int offOff, float[] residual, int resOff, Activation activation) {
    final VectorSpecies<Float> sp = S128;
    final int lanes = sp.length();
    for (int i = 0; i < len; i += lanes) {
      VectorMask<Float> m = sp.indexInRange(i, len);
      FloatVector v = FloatVector.fromArray(sp, src, srcOff + i, m);
      if (hasBias) {
        v = v.add(bias);
      }
      if (offsets != null) {
        v = v.add(FloatVector.fromArray(sp, offsets, offOff + i, m));
      }
      if (residual != null) {
        v = v.add(FloatVector.fromArray(sp, residual, resOff + i, m));
      }
      if (activation != null) {
        v = activate(activation, v);
      }
      v.intoArray(y, yOff + i, m);
    }
  }

  /**
   * The epilogue on a block of rows (output channels) at once, as a kernel stores its register
   * tile: for row in [0, rows) and i in [0, len),
   * y[yOff + row·yStride + i] = epilogue(src[srcOff + row·srcStride + i]) with bias[biasOff + row]
   * (bias may be null), offsets at offOff + row·yStride + i, and the residual at the output's own
   * index. One call per tile instead of one per row: for short reductions the store is a large
   * part of the work.
   */
  static void applyRows(VectorSpecies<Float> sp, float[] src, int srcOff, int srcStride, float[] y, int yOff,
      int yStride, int rows, int len, float[] bias, int biasOff, float[] offsets, int offOff, float[] residual,
      Activation activation) {
    Activation vectorActivation = activation != null && hasVectorForm(activation) ? activation : null;
    switch (sp.vectorBitSize()) {
      case 512 -> rows512(src, srcOff, srcStride, y, yOff, yStride, rows, len, bias, biasOff, offsets, offOff, residual,
          vectorActivation);
      case 256 -> rows256(src, srcOff, srcStride, y, yOff, yStride, rows, len, bias, biasOff, offsets, offOff, residual,
          vectorActivation);
      case 128 -> rows128(src, srcOff, srcStride, y, yOff, yStride, rows, len, bias, biasOff, offsets, offOff, residual,
          vectorActivation);
      default -> throw new IllegalArgumentException("unsupported species " + sp);
    }
    if (activation != null && vectorActivation == null) {
      for (int row = 0; row < rows; row++) {
        for (int j = yOff + row * yStride, end = j + len; j < end; j++) {
          y[j] = activation.apply(y[j]);
        }
      }
    }
  }

  private static void rows512(float[] src, int srcOff, int srcStride, float[] y, int yOff, int yStride, int rows,
      int len, float[] bias, int biasOff, float[] offsets, int offOff, float[] residual, Activation activation) {
    final VectorSpecies<Float> sp = S512;
    final int lanes = sp.length();
    for (int i = 0; i < len; i += lanes) {
      VectorMask<Float> m = sp.indexInRange(i, len);
      for (int row = 0; row < rows; row++) {
        int at = yOff + row * yStride + i;
        FloatVector v = FloatVector.fromArray(sp, src, srcOff + row * srcStride + i, m);
        if (bias != null) {
          v = v.add(bias[biasOff + row]);
        }
        if (offsets != null) {
          v = v.add(FloatVector.fromArray(sp, offsets, offOff + row * yStride + i, m));
        }
        if (residual != null) {
          v = v.add(FloatVector.fromArray(sp, residual, at, m));
        }
        if (activation != null) {
          v = activate(activation, v);
        }
        v.intoArray(y, at, m);
      }
    }
  }

  private static void rows256(float[] src, int srcOff, int srcStride, float[] y, int yOff, int yStride, int rows,
      int len, float[] bias, int biasOff, float[] offsets, int offOff, float[] residual, Activation activation) {
    final VectorSpecies<Float> sp = S256;
    final int lanes = sp.length();
    for (int i = 0; i < len; i += lanes) {
      VectorMask<Float> m = sp.indexInRange(i, len);
      for (int row = 0; row < rows; row++) {
        int at = yOff + row * yStride + i;
        FloatVector v = FloatVector.fromArray(sp, src, srcOff + row * srcStride + i, m);
        if (bias != null) {
          v = v.add(bias[biasOff + row]);
        }
        if (offsets != null) {
          v = v.add(FloatVector.fromArray(sp, offsets, offOff + row * yStride + i, m));
        }
        if (residual != null) {
          v = v.add(FloatVector.fromArray(sp, residual, at, m));
        }
        if (activation != null) {
          v = activate(activation, v);
        }
        v.intoArray(y, at, m);
      }
    }
  }

  private static void rows128(float[] src, int srcOff, int srcStride, float[] y, int yOff, int yStride, int rows,
      int len, float[] bias, int biasOff, float[] offsets, int offOff, float[] residual, Activation activation) {
    final VectorSpecies<Float> sp = S128;
    final int lanes = sp.length();
    for (int i = 0; i < len; i += lanes) {
      VectorMask<Float> m = sp.indexInRange(i, len);
      for (int row = 0; row < rows; row++) {
        int at = yOff + row * yStride + i;
        FloatVector v = FloatVector.fromArray(sp, src, srcOff + row * srcStride + i, m);
        if (bias != null) {
          v = v.add(bias[biasOff + row]);
        }
        if (offsets != null) {
          v = v.add(FloatVector.fromArray(sp, offsets, offOff + row * yStride + i, m));
        }
        if (residual != null) {
          v = v.add(FloatVector.fromArray(sp, residual, at, m));
        }
        if (activation != null) {
          v = activate(activation, v);
        }
        v.intoArray(y, at, m);
      }
    }
  }

  /** True when {@link #activate} computes the activation bit-exactly. */
  static boolean hasVectorForm(Activation f) {
    return !(f instanceof Activation.Sigmoid || f instanceof Activation.Tanh);
  }

  /**
   * f(v) lane by lane with the float semantics of {@link Activation#apply}: compare-and-blend
   * clamps (so NaN and −0.0 behave as the scalar comparisons make them), separate multiply and add.
   * Only for activations {@link #hasVectorForm} accepts.
   */
  static FloatVector activate(Activation f, FloatVector v) {
    return switch (f) {
      case Activation.Relu r -> v.broadcast(0f).blend(v, v.compare(GT, 0f));
      case Activation.LeakyRelu l -> v.mul(l.alpha()).blend(v, v.compare(GE, 0f));
      case Activation.Clip c -> v.blend(v.broadcast(c.max()), v.compare(GT, c.max()))
          .blend(v.broadcast(c.min()), v.compare(LT, c.min()));
      case Activation.HardSigmoid h -> clamp01(v.mul(h.alpha()).add(h.beta()));
      case Activation.HardSwish h -> v.mul(clamp01(v.mul(1f / 6f).add(0.5f)));
      case Activation.Sigmoid s -> throw new IllegalArgumentException("no exact vector form: " + f);
      case Activation.Tanh t -> throw new IllegalArgumentException("no exact vector form: " + f);
    };
  }

  private static FloatVector clamp01(FloatVector t) {
    return t.blend(t.broadcast(1f), t.compare(GT, 1f)).blend(t.broadcast(0f), t.compare(LT, 0f));
  }
}
