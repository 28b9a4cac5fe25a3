package dev.vfuse.simd;

import static jdk.incubator.vector.VectorOperators.GE;
import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.LT;

import dev.vfuse.kernel.Activation;
import dev.vfuse.kernel.ConvEpilogue;
import dev.vfuse.kernel.PositionOffsets;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The conv epilogue on one run of an output channel, in registers: bit-identical to
 * {@link ConvEpilogue#applyTo} after the kernel's bias add (Sigmoid and Tanh: within 1 ulp).
 *
 * <pre>
 *   v = y[yOff + i] + bias                    (skipped when hasBias is false)
 *   v = v + offsets.at(channel, p, q)         if offsets != null, (p, q) = divmod(position + i, Q)
 *   v = v + residual[resOff + i]              if residual != null
 *   y[yOff + i] = activation(v)               if activation != null
 * </pre>
 *
 * Each step is one float operation, in this order, as the scalar definition rounds it. Sigmoid and
 * Tanh, whose scalar definitions use {@link Math#exp} and {@link Math#tanh}, run afterwards in
 * {@link F64ExpActivation}, in double lanes, within 1 ulp of them. Kernels call it on a tile they
 * have just written, while it is still in cache.
 *
 * <p>A run may cross output rows, and each row of {@link PositionOffsets} is stored on its own, so
 * with offsets the run is cut at row ends and each piece runs the vector loop on its stored row.
 *
 * <p>The activations are inlined into each loop as a branch on an int kind, with the float
 * semantics of {@link Activation#apply}: compare-and-blend clamps (so NaN and −0.0 behave as the
 * scalar comparisons make them), separate multiply and add. A helper method taking and returning
 * vectors was not inlined and ran in the Vector API's Java fallback.
 *
 * <p>One copy of the loop per width on a {@code static final} species (see {@link F32GemmPacked}
 * on why C2 needs the species constant): called with a species parameter, the Vector API ran in
 * its Java fallback here, with boxed vectors. Full vectors run unmasked and only the tail is
 * masked: a masked load that reaches past the end of its array takes a per-lane bounds check
 * (measured at 12% of PP-OCRv3 det when every step was masked).
 */
final class F32Epilogue {
  private static final VectorSpecies<Float> S128 = FloatVector.SPECIES_128;
  private static final VectorSpecies<Float> S256 = FloatVector.SPECIES_256;
  private static final VectorSpecies<Float> S512 = FloatVector.SPECIES_512;

  private F32Epilogue() {}

  /**
   * Applies the epilogue to y[yOff … yOff + len) in place: positions [position, position + len) of
   * output channel {@code channel}, whose plane is flat (position = p·Q + q).
   */
  static void apply(VectorSpecies<Float> sp, float[] y, int yOff, int len, boolean hasBias, float bias,
      PositionOffsets offsets, int channel, int position, float[] residual, int resOff, Activation activation) {
    apply(sp, y, yOff, y, yOff, len, hasBias, bias, offsets, channel, position, residual, resOff, activation);
  }

  /**
   * y[yOff + i] = epilogue(src[srcOff + i]) for i in [0, len): a kernel's accumulator tile stored
   * into the output with the epilogue on the way. {@code src} may be {@code y} at the same offset.
   * Element i is position + i of output channel {@code channel}, which selects its offset.
   */
  static void apply(VectorSpecies<Float> sp, float[] src, int srcOff, float[] y, int yOff, int len, boolean hasBias,
      float bias, PositionOffsets offsets, int channel, int position, float[] residual, int resOff,
      Activation activation) {
    int act = kind(activation);
    float actA = parameterA(activation);
    float actB = parameterB(activation);
    if (offsets == null) {
      applyRun(sp, src, srcOff, y, yOff, len, hasBias, bias, null, 0, residual, resOff, act, actA, actB);
    } else {
      int width = offsets.width();
      for (int done = 0; done < len; ) {
        int p = (position + done) / width;
        int q = position + done - p * width;
        int piece = Math.min(width - q, len - done);
        applyRun(sp, src, srcOff + done, y, yOff + done, piece, hasBias, bias, offsets.rows(),
            offsets.rowBase(channel, p) + q, residual, resOff + done, act, actA, actB);
        done += piece;
      }
    }
    if (activation != null && act == NONE) {
      F64ExpActivation.apply(sp, activation instanceof Activation.Tanh, y, yOff, len);
    }
  }

  /** The vector loop of {@link #apply} for the species' width; offsets, if any, at offOff + i. */
  private static void applyRun(VectorSpecies<Float> sp, float[] src, int srcOff, float[] y, int yOff, int len,
      boolean hasBias, float bias, float[] offsets, int offOff, float[] residual, int resOff, int act, float actA,
      float actB) {
    switch (sp.vectorBitSize()) {
      case 512 -> apply512(src, srcOff, y, yOff, len, hasBias, bias, offsets, offOff, residual, resOff, act, actA, actB);
      case 256 -> apply256(src, srcOff, y, yOff, len, hasBias, bias, offsets, offOff, residual, resOff, act, actA, actB);
      case 128 -> apply128(src, srcOff, y, yOff, len, hasBias, bias, offsets, offOff, residual, resOff, act, actA, actB);
      default -> throw new IllegalArgumentException("unsupported species " + sp);
    }
  }

  private static void apply512(float[] src, int srcOff, float[] y, int yOff, int len, boolean hasBias, float bias,
      float[] offsets, int offOff, float[] residual, int resOff, int act, float actA, float actB) {
    final VectorSpecies<Float> sp = S512;
    final int lanes = sp.length();
    final FloatVector zero = FloatVector.zero(sp);
    final FloatVector one = FloatVector.broadcast(sp, 1f);
    final FloatVector lo = FloatVector.broadcast(sp, actA);
    final FloatVector hi = FloatVector.broadcast(sp, actB);
    int i = 0;
    for (; i + lanes <= len; i += lanes) {
      FloatVector v = FloatVector.fromArray(sp, src, srcOff + i);
      if (hasBias) {
        v = v.add(bias);
      }
      if (offsets != null) {
        v = v.add(FloatVector.fromArray(sp, offsets, offOff + i));
      }
      if (residual != null) {
        v = v.add(FloatVector.fromArray(sp, residual, resOff + i));
      }
      if (act == RELU) {
        v = zero.blend(v, v.compare(GT, 0f));
      } else if (act == LEAKY_RELU) {
        v = v.mul(actA).blend(v, v.compare(GE, 0f));
      } else if (act == CLIP) {
        v = v.blend(hi, v.compare(GT, actB)).blend(lo, v.compare(LT, actA));
      } else if (act == HARD_SIGMOID) {
        FloatVector t = v.mul(actA).add(actB);
        v = t.blend(one, t.compare(GT, 1f)).blend(zero, t.compare(LT, 0f));
      } else if (act == HARD_SWISH) {
        FloatVector t = v.mul(1f / 6f).add(0.5f);
        v = v.mul(t.blend(one, t.compare(GT, 1f)).blend(zero, t.compare(LT, 0f)));
      }
      v.intoArray(y, yOff + i);
    }
    if (i < len) {
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
      if (act == RELU) {
        v = zero.blend(v, v.compare(GT, 0f));
      } else if (act == LEAKY_RELU) {
        v = v.mul(actA).blend(v, v.compare(GE, 0f));
      } else if (act == CLIP) {
        v = v.blend(hi, v.compare(GT, actB)).blend(lo, v.compare(LT, actA));
      } else if (act == HARD_SIGMOID) {
        FloatVector t = v.mul(actA).add(actB);
        v = t.blend(one, t.compare(GT, 1f)).blend(zero, t.compare(LT, 0f));
      } else if (act == HARD_SWISH) {
        FloatVector t = v.mul(1f / 6f).add(0.5f);
        v = v.mul(t.blend(one, t.compare(GT, 1f)).blend(zero, t.compare(LT, 0f)));
      }
      v.intoArray(y, yOff + i, m);
    }
  }


  private static void apply256(float[] src, int srcOff, float[] y, int yOff, int len, boolean hasBias, float bias,
      float[] offsets, int offOff, float[] residual, int resOff, int act, float actA, float actB) {
    final VectorSpecies<Float> sp = S256;
    final int lanes = sp.length();
    final FloatVector zero = FloatVector.zero(sp);
    final FloatVector one = FloatVector.broadcast(sp, 1f);
    final FloatVector lo = FloatVector.broadcast(sp, actA);
    final FloatVector hi = FloatVector.broadcast(sp, actB);
    int i = 0;
    for (; i + lanes <= len; i += lanes) {
      FloatVector v = FloatVector.fromArray(sp, src, srcOff + i);
      if (hasBias) {
        v = v.add(bias);
      }
      if (offsets != null) {
        v = v.add(FloatVector.fromArray(sp, offsets, offOff + i));
      }
      if (residual != null) {
        v = v.add(FloatVector.fromArray(sp, residual, resOff + i));
      }
      if (act == RELU) {
        v = zero.blend(v, v.compare(GT, 0f));
      } else if (act == LEAKY_RELU) {
        v = v.mul(actA).blend(v, v.compare(GE, 0f));
      } else if (act == CLIP) {
        v = v.blend(hi, v.compare(GT, actB)).blend(lo, v.compare(LT, actA));
      } else if (act == HARD_SIGMOID) {
        FloatVector t = v.mul(actA).add(actB);
        v = t.blend(one, t.compare(GT, 1f)).blend(zero, t.compare(LT, 0f));
      } else if (act == HARD_SWISH) {
        FloatVector t = v.mul(1f / 6f).add(0.5f);
        v = v.mul(t.blend(one, t.compare(GT, 1f)).blend(zero, t.compare(LT, 0f)));
      }
      v.intoArray(y, yOff + i);
    }
    if (i < len) {
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
      if (act == RELU) {
        v = zero.blend(v, v.compare(GT, 0f));
      } else if (act == LEAKY_RELU) {
        v = v.mul(actA).blend(v, v.compare(GE, 0f));
      } else if (act == CLIP) {
        v = v.blend(hi, v.compare(GT, actB)).blend(lo, v.compare(LT, actA));
      } else if (act == HARD_SIGMOID) {
        FloatVector t = v.mul(actA).add(actB);
        v = t.blend(one, t.compare(GT, 1f)).blend(zero, t.compare(LT, 0f));
      } else if (act == HARD_SWISH) {
        FloatVector t = v.mul(1f / 6f).add(0.5f);
        v = v.mul(t.blend(one, t.compare(GT, 1f)).blend(zero, t.compare(LT, 0f)));
      }
      v.intoArray(y, yOff + i, m);
    }
  }


  private static void apply128(float[] src, int srcOff, float[] y, int yOff, int len, boolean hasBias, float bias,
      float[] offsets, int offOff, float[] residual, int resOff, int act, float actA, float actB) {
    final VectorSpecies<Float> sp = S128;
    final int lanes = sp.length();
    final FloatVector zero = FloatVector.zero(sp);
    final FloatVector one = FloatVector.broadcast(sp, 1f);
    final FloatVector lo = FloatVector.broadcast(sp, actA);
    final FloatVector hi = FloatVector.broadcast(sp, actB);
    int i = 0;
    for (; i + lanes <= len; i += lanes) {
      FloatVector v = FloatVector.fromArray(sp, src, srcOff + i);
      if (hasBias) {
        v = v.add(bias);
      }
      if (offsets != null) {
        v = v.add(FloatVector.fromArray(sp, offsets, offOff + i));
      }
      if (residual != null) {
        v = v.add(FloatVector.fromArray(sp, residual, resOff + i));
      }
      if (act == RELU) {
        v = zero.blend(v, v.compare(GT, 0f));
      } else if (act == LEAKY_RELU) {
        v = v.mul(actA).blend(v, v.compare(GE, 0f));
      } else if (act == CLIP) {
        v = v.blend(hi, v.compare(GT, actB)).blend(lo, v.compare(LT, actA));
      } else if (act == HARD_SIGMOID) {
        FloatVector t = v.mul(actA).add(actB);
        v = t.blend(one, t.compare(GT, 1f)).blend(zero, t.compare(LT, 0f));
      } else if (act == HARD_SWISH) {
        FloatVector t = v.mul(1f / 6f).add(0.5f);
        v = v.mul(t.blend(one, t.compare(GT, 1f)).blend(zero, t.compare(LT, 0f)));
      }
      v.intoArray(y, yOff + i);
    }
    if (i < len) {
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
      if (act == RELU) {
        v = zero.blend(v, v.compare(GT, 0f));
      } else if (act == LEAKY_RELU) {
        v = v.mul(actA).blend(v, v.compare(GE, 0f));
      } else if (act == CLIP) {
        v = v.blend(hi, v.compare(GT, actB)).blend(lo, v.compare(LT, actA));
      } else if (act == HARD_SIGMOID) {
        FloatVector t = v.mul(actA).add(actB);
        v = t.blend(one, t.compare(GT, 1f)).blend(zero, t.compare(LT, 0f));
      } else if (act == HARD_SWISH) {
        FloatVector t = v.mul(1f / 6f).add(0.5f);
        v = v.mul(t.blend(one, t.compare(GT, 1f)).blend(zero, t.compare(LT, 0f)));
      }
      v.intoArray(y, yOff + i, m);
    }
  }


  /**
   * The epilogue on a block of rows (output channels channel … channel + rows − 1) at once, as a
   * kernel stores its register tile: for row in [0, rows) and i in [0, len),
   * y[yOff + row·yStride + i] = epilogue(src[srcOff + row·srcStride + i]) with bias[channel + row]
   * (bias may be null), the offset of position + i of channel + row, and the residual at the
   * output's own index. One call per tile instead of one per row: for short reductions the store
   * is a large part of the work.
   */
  static void applyRows(VectorSpecies<Float> sp, float[] src, int srcOff, int srcStride, float[] y, int yOff,
      int yStride, int rows, int len, float[] bias, int channel, PositionOffsets offsets, int position,
      float[] residual, Activation activation) {
    int act = kind(activation);
    float actA = parameterA(activation);
    float actB = parameterB(activation);
    if (offsets == null) {
      applyRowsRun(sp, src, srcOff, srcStride, y, yOff, yStride, rows, len, bias, channel, null, 0, 0, residual, act,
          actA, actB);
    } else {
      int width = offsets.width();
      int channelStride = offsets.classes() * width; // rowBase(k + 1, p) − rowBase(k, p)
      for (int done = 0; done < len; ) {
        int p = (position + done) / width;
        int q = position + done - p * width;
        int piece = Math.min(width - q, len - done);
        applyRowsRun(sp, src, srcOff + done, srcStride, y, yOff + done, yStride, rows, piece, bias, channel,
            offsets.rows(), offsets.rowBase(channel, p) + q, channelStride, residual, act, actA, actB);
        done += piece;
      }
    }
    if (activation != null && act == NONE) {
      for (int row = 0; row < rows; row++) {
        F64ExpActivation.apply(sp, activation instanceof Activation.Tanh, y, yOff + row * yStride, len);
      }
    }
  }

  /** The vector loop of {@link #applyRows} for the species' width; row's offsets at offOff + row·offStride + i. */
  private static void applyRowsRun(VectorSpecies<Float> sp, float[] src, int srcOff, int srcStride, float[] y,
      int yOff, int yStride, int rows, int len, float[] bias, int biasOff, float[] offsets, int offOff, int offStride,
      float[] residual, int act, float actA, float actB) {
    switch (sp.vectorBitSize()) {
      case 512 -> rows512(src, srcOff, srcStride, y, yOff, yStride, rows, len, bias, biasOff, offsets, offOff,
          offStride, residual, act, actA, actB);
      case 256 -> rows256(src, srcOff, srcStride, y, yOff, yStride, rows, len, bias, biasOff, offsets, offOff,
          offStride, residual, act, actA, actB);
      case 128 -> rows128(src, srcOff, srcStride, y, yOff, yStride, rows, len, bias, biasOff, offsets, offOff,
          offStride, residual, act, actA, actB);
      default -> throw new IllegalArgumentException("unsupported species " + sp);
    }
  }

  private static void rows512(float[] src, int srcOff, int srcStride, float[] y, int yOff, int yStride, int rows,
      int len, float[] bias, int biasOff, float[] offsets, int offOff, int offStride, float[] residual, int act,
      float actA, float actB) {
    final VectorSpecies<Float> sp = S512;
    final int lanes = sp.length();
    final FloatVector zero = FloatVector.zero(sp);
    final FloatVector one = FloatVector.broadcast(sp, 1f);
    final FloatVector lo = FloatVector.broadcast(sp, actA);
    final FloatVector hi = FloatVector.broadcast(sp, actB);
    int i = 0;
    for (; i + lanes <= len; i += lanes) {
      for (int row = 0; row < rows; row++) {
        int at = yOff + row * yStride + i;
        FloatVector v = FloatVector.fromArray(sp, src, srcOff + row * srcStride + i);
        if (bias != null) {
          v = v.add(bias[biasOff + row]);
        }
        if (offsets != null) {
          v = v.add(FloatVector.fromArray(sp, offsets, offOff + row * offStride + i));
        }
        if (residual != null) {
          v = v.add(FloatVector.fromArray(sp, residual, at));
        }
        if (act == RELU) {
          v = zero.blend(v, v.compare(GT, 0f));
        } else if (act == LEAKY_RELU) {
          v = v.mul(actA).blend(v, v.compare(GE, 0f));
        } else if (act == CLIP) {
          v = v.blend(hi, v.compare(GT, actB)).blend(lo, v.compare(LT, actA));
        } else if (act == HARD_SIGMOID) {
          FloatVector t = v.mul(actA).add(actB);
          v = t.blend(one, t.compare(GT, 1f)).blend(zero, t.compare(LT, 0f));
        } else if (act == HARD_SWISH) {
          FloatVector t = v.mul(1f / 6f).add(0.5f);
          v = v.mul(t.blend(one, t.compare(GT, 1f)).blend(zero, t.compare(LT, 0f)));
        }
        v.intoArray(y, at);
      }
    }
    if (i < len) {
      VectorMask<Float> m = sp.indexInRange(i, len);
      for (int row = 0; row < rows; row++) {
        int at = yOff + row * yStride + i;
        FloatVector v = FloatVector.fromArray(sp, src, srcOff + row * srcStride + i, m);
        if (bias != null) {
          v = v.add(bias[biasOff + row]);
        }
        if (offsets != null) {
          v = v.add(FloatVector.fromArray(sp, offsets, offOff + row * offStride + i, m));
        }
        if (residual != null) {
          v = v.add(FloatVector.fromArray(sp, residual, at, m));
        }
        if (act == RELU) {
          v = zero.blend(v, v.compare(GT, 0f));
        } else if (act == LEAKY_RELU) {
          v = v.mul(actA).blend(v, v.compare(GE, 0f));
        } else if (act == CLIP) {
          v = v.blend(hi, v.compare(GT, actB)).blend(lo, v.compare(LT, actA));
        } else if (act == HARD_SIGMOID) {
          FloatVector t = v.mul(actA).add(actB);
          v = t.blend(one, t.compare(GT, 1f)).blend(zero, t.compare(LT, 0f));
        } else if (act == HARD_SWISH) {
          FloatVector t = v.mul(1f / 6f).add(0.5f);
          v = v.mul(t.blend(one, t.compare(GT, 1f)).blend(zero, t.compare(LT, 0f)));
        }
        v.intoArray(y, at, m);
      }
    }
  }


  private static void rows256(float[] src, int srcOff, int srcStride, float[] y, int yOff, int yStride, int rows,
      int len, float[] bias, int biasOff, float[] offsets, int offOff, int offStride, float[] residual, int act,
      float actA, float actB) {
    final VectorSpecies<Float> sp = S256;
    final int lanes = sp.length();
    final FloatVector zero = FloatVector.zero(sp);
    final FloatVector one = FloatVector.broadcast(sp, 1f);
    final FloatVector lo = FloatVector.broadcast(sp, actA);
    final FloatVector hi = FloatVector.broadcast(sp, actB);
    int i = 0;
    for (; i + lanes <= len; i += lanes) {
      for (int row = 0; row < rows; row++) {
        int at = yOff + row * yStride + i;
        FloatVector v = FloatVector.fromArray(sp, src, srcOff + row * srcStride + i);
        if (bias != null) {
          v = v.add(bias[biasOff + row]);
        }
        if (offsets != null) {
          v = v.add(FloatVector.fromArray(sp, offsets, offOff + row * offStride + i));
        }
        if (residual != null) {
          v = v.add(FloatVector.fromArray(sp, residual, at));
        }
        if (act == RELU) {
          v = zero.blend(v, v.compare(GT, 0f));
        } else if (act == LEAKY_RELU) {
          v = v.mul(actA).blend(v, v.compare(GE, 0f));
        } else if (act == CLIP) {
          v = v.blend(hi, v.compare(GT, actB)).blend(lo, v.compare(LT, actA));
        } else if (act == HARD_SIGMOID) {
          FloatVector t = v.mul(actA).add(actB);
          v = t.blend(one, t.compare(GT, 1f)).blend(zero, t.compare(LT, 0f));
        } else if (act == HARD_SWISH) {
          FloatVector t = v.mul(1f / 6f).add(0.5f);
          v = v.mul(t.blend(one, t.compare(GT, 1f)).blend(zero, t.compare(LT, 0f)));
        }
        v.intoArray(y, at);
      }
    }
    if (i < len) {
      VectorMask<Float> m = sp.indexInRange(i, len);
      for (int row = 0; row < rows; row++) {
        int at = yOff + row * yStride + i;
        FloatVector v = FloatVector.fromArray(sp, src, srcOff + row * srcStride + i, m);
        if (bias != null) {
          v = v.add(bias[biasOff + row]);
        }
        if (offsets != null) {
          v = v.add(FloatVector.fromArray(sp, offsets, offOff + row * offStride + i, m));
        }
        if (residual != null) {
          v = v.add(FloatVector.fromArray(sp, residual, at, m));
        }
        if (act == RELU) {
          v = zero.blend(v, v.compare(GT, 0f));
        } else if (act == LEAKY_RELU) {
          v = v.mul(actA).blend(v, v.compare(GE, 0f));
        } else if (act == CLIP) {
          v = v.blend(hi, v.compare(GT, actB)).blend(lo, v.compare(LT, actA));
        } else if (act == HARD_SIGMOID) {
          FloatVector t = v.mul(actA).add(actB);
          v = t.blend(one, t.compare(GT, 1f)).blend(zero, t.compare(LT, 0f));
        } else if (act == HARD_SWISH) {
          FloatVector t = v.mul(1f / 6f).add(0.5f);
          v = v.mul(t.blend(one, t.compare(GT, 1f)).blend(zero, t.compare(LT, 0f)));
        }
        v.intoArray(y, at, m);
      }
    }
  }


  private static void rows128(float[] src, int srcOff, int srcStride, float[] y, int yOff, int yStride, int rows,
      int len, float[] bias, int biasOff, float[] offsets, int offOff, int offStride, float[] residual, int act,
      float actA, float actB) {
    final VectorSpecies<Float> sp = S128;
    final int lanes = sp.length();
    final FloatVector zero = FloatVector.zero(sp);
    final FloatVector one = FloatVector.broadcast(sp, 1f);
    final FloatVector lo = FloatVector.broadcast(sp, actA);
    final FloatVector hi = FloatVector.broadcast(sp, actB);
    int i = 0;
    for (; i + lanes <= len; i += lanes) {
      for (int row = 0; row < rows; row++) {
        int at = yOff + row * yStride + i;
        FloatVector v = FloatVector.fromArray(sp, src, srcOff + row * srcStride + i);
        if (bias != null) {
          v = v.add(bias[biasOff + row]);
        }
        if (offsets != null) {
          v = v.add(FloatVector.fromArray(sp, offsets, offOff + row * offStride + i));
        }
        if (residual != null) {
          v = v.add(FloatVector.fromArray(sp, residual, at));
        }
        if (act == RELU) {
          v = zero.blend(v, v.compare(GT, 0f));
        } else if (act == LEAKY_RELU) {
          v = v.mul(actA).blend(v, v.compare(GE, 0f));
        } else if (act == CLIP) {
          v = v.blend(hi, v.compare(GT, actB)).blend(lo, v.compare(LT, actA));
        } else if (act == HARD_SIGMOID) {
          FloatVector t = v.mul(actA).add(actB);
          v = t.blend(one, t.compare(GT, 1f)).blend(zero, t.compare(LT, 0f));
        } else if (act == HARD_SWISH) {
          FloatVector t = v.mul(1f / 6f).add(0.5f);
          v = v.mul(t.blend(one, t.compare(GT, 1f)).blend(zero, t.compare(LT, 0f)));
        }
        v.intoArray(y, at);
      }
    }
    if (i < len) {
      VectorMask<Float> m = sp.indexInRange(i, len);
      for (int row = 0; row < rows; row++) {
        int at = yOff + row * yStride + i;
        FloatVector v = FloatVector.fromArray(sp, src, srcOff + row * srcStride + i, m);
        if (bias != null) {
          v = v.add(bias[biasOff + row]);
        }
        if (offsets != null) {
          v = v.add(FloatVector.fromArray(sp, offsets, offOff + row * offStride + i, m));
        }
        if (residual != null) {
          v = v.add(FloatVector.fromArray(sp, residual, at, m));
        }
        if (act == RELU) {
          v = zero.blend(v, v.compare(GT, 0f));
        } else if (act == LEAKY_RELU) {
          v = v.mul(actA).blend(v, v.compare(GE, 0f));
        } else if (act == CLIP) {
          v = v.blend(hi, v.compare(GT, actB)).blend(lo, v.compare(LT, actA));
        } else if (act == HARD_SIGMOID) {
          FloatVector t = v.mul(actA).add(actB);
          v = t.blend(one, t.compare(GT, 1f)).blend(zero, t.compare(LT, 0f));
        } else if (act == HARD_SWISH) {
          FloatVector t = v.mul(1f / 6f).add(0.5f);
          v = v.mul(t.blend(one, t.compare(GT, 1f)).blend(zero, t.compare(LT, 0f)));
        }
        v.intoArray(y, at, m);
      }
    }
  }


  /** Activation kinds of the vector loops: an int, so the loops branch on a constant instead of a type switch. */
  private static final int NONE = 0;
  private static final int RELU = 1;
  private static final int LEAKY_RELU = 2;
  private static final int CLIP = 3;
  private static final int HARD_SIGMOID = 4;
  private static final int HARD_SWISH = 5;

  /**
   * The vector loops' kind for f, or {@link #NONE} for no activation and for Sigmoid and Tanh,
   * which run after the loop in {@link F64ExpActivation} (double lanes, within 1 ulp of
   * {@link Activation#apply}).
   */
  private static int kind(Activation f) {
    return switch (f) {
      case null -> NONE;
      case Activation.Relu r -> RELU;
      case Activation.LeakyRelu l -> LEAKY_RELU;
      case Activation.Clip c -> CLIP;
      case Activation.HardSigmoid h -> HARD_SIGMOID;
      case Activation.HardSwish h -> HARD_SWISH;
      case Activation.Sigmoid s -> NONE;
      case Activation.Tanh t -> NONE;
    };
  }

  private static float parameterA(Activation f) {
    return switch (f) {
      case Activation.LeakyRelu l -> l.alpha();
      case Activation.Clip c -> c.min();
      case Activation.HardSigmoid h -> h.alpha();
      case null, default -> 0f;
    };
  }

  private static float parameterB(Activation f) {
    return switch (f) {
      case Activation.Clip c -> c.max();
      case Activation.HardSigmoid h -> h.beta();
      case null, default -> 0f;
    };
  }


}
