package dev.vfuse.simd;

import dev.vfuse.kernel.Activation;
import dev.vfuse.kernel.BinaryOp;
import dev.vfuse.kernel.ConvEpilogue;
import dev.vfuse.kernel.ConvGeometry;
import dev.vfuse.kernel.ConvTransposeGeometry;
import dev.vfuse.kernel.Int8Weights;
import dev.vfuse.kernel.Parallel;
import dev.vfuse.kernel.PoolGeometry;
import dev.vfuse.kernel.PositionOffsets;
import dev.vfuse.kernel.PreparedConv;
import dev.vfuse.kernel.PreparedGemm;
import dev.vfuse.kernel.ResizeSpec;
import dev.vfuse.kernel.UnaryOp;
import dev.vfuse.reference.ReferenceKernels;
import dev.vfuse.reference.ResizeAxis;
import java.util.Objects;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The kernel contract on the Vector API. Every kernel not overridden here is the scalar one of
 * {@link ReferenceKernels}, which is also the fallback for the shapes a vector kernel does not
 * take.
 *
 * <p>Elementwise kernels in this class, bit-identical to the reference (NaN payloads aside):
 *
 * <ul>
 *   <li>{@link #activation}: Relu, LeakyRelu, Clip, HardSigmoid and HardSwish in vector form
 *       ({@link F32Elementwise}). Sigmoid and Tanh in double lanes ({@link F64ExpActivation}):
 *       the reference computes them with {@link Math#exp} and {@link Math#tanh}, and the Vector
 *       API's EXP and TANH promise only 1 ulp of double, so these two are held to 1 ulp of float
 *       (and are nearly always bit-identical) rather than to the bits.
 *   <li>{@link #softmax} along a contiguous axis: exponentials in double lanes, within 1 ulp of the
 *       reference ({@link F64ExpActivation#softmaxRows}).
 *   <li>{@link #scaleShift}: the same multiply and add as the reference, in the same order and
 *       precision, never fused into an FMA.
 *   <li>{@link #binary}: runs of the output where each operand is either contiguous or a single
 *       broadcast element; see the method.
 *   <li>{@link #maxPool2d}, {@link #avgPool2d}, {@link #globalAvgPool}: {@link F32Pool}.
 * </ul>
 *
 * <p>Reductions, which accumulate in float with FMA and agree with the reference to rounding
 * (at most (L + 2)·2⁻²³·Σ|terms| for a reduction of length L, as the tests check):
 *
 * <ul>
 *   <li>{@link #gemm}: {@link F32GemmPacked}, packed panels and a 6×(2 vectors) micro-kernel.
 *   <li>{@link #batchedMatMul}: {@link F32BatchedMatMul} for small matrices, in place, 4 rows × 1
 *       vector tiles.
 *   <li>{@link #convTranspose2d} and {@link #prepareConvTranspose2d}: {@link F32ConvTranspose}.
 *   <li>{@link #conv2d} and {@link #prepareConv2d}: {@link F32ConvImplicitGemm}, {@link F32DwConv}
 *       for depthwise, {@link F32Conv1x1} for pointwise (1×1, stride 1, unpadded, one group), {@link F32Conv3x3Winograd} for 3×3 stride-1 layers where it wins (see
 *       {@link #winogradWins}; its tolerance is its own, stated in its test).
 * </ul>
 *
 * <p>The load-time fold arithmetic ({@link dev.vfuse.kernel.FoldArithmetic}) is the scalar one
 * inherited from {@link ReferenceKernels}: it runs once per weight, mostly in a JVM that has not
 * compiled anything yet, and there a Vector API loop runs the API's Java fallback until C2
 * compiles it. Measured on one 512×512×3×3 weight (2.4M floats, JDK 25, Zen 5), 40 folds in a
 * fresh JVM: the scalar loop took 1.9 ms the first time and 0.6 ms from the second on (C2
 * vectorizes it), 37 ms in all; a DoubleVector twin took 317 ms, 98 ms, then 2–11 ms, 729 ms
 * in all. Folding resnet18 with the vector twin was 1.8 s of a 2.1 s cold load.
 *
 * <p>Int8 weights ({@link #prepareConv2dInt8}, {@link #prepareConvTranspose2dInt8},
 * {@link #prepareGemmInt8}) stay int8 in the prepared kernels, packed as the float ones are; see
 * each method for where the scale goes.
 *
 * <p>Each vector kernel handles its whole length: a loop of full vectors up to
 * {@code species.loopBound(n)}, then one masked vector for the tail. Clamps use compare and blend,
 * not MIN/MAX, because {@code Math.max(-0.0f, 0f)} is {@code 0f} and MAX propagates NaN, while the
 * reference's {@code x > 0f ? x : 0f} maps NaN to 0 and keeps −0.0 where its comparisons do.
 *
 * <p>The species is a final field, not a static constant, so tests can run every width in one
 * JVM. C2 compiles the Vector API to machine vectors only when the species is a constant in the
 * compiled method, so every kernel dispatches on {@code species.vectorBitSize()} to a copy of its
 * loop written against a {@code static final} species of that width. (Relying on the type
 * profile instead works in a JVM that sees one vector class and falls apart in a whole model,
 * which mixes float, double and int species: boxed vectors, 10–100× slower.)
 */
public final class SimdKernels extends ReferenceKernels {

  /**
   * The system property that turns Winograd off ({@code false}): every 3×3 convolution then runs
   * the implicit GEMM, whose error bound is the plain reduction's. Read when the kernels are made.
   */
  public static final String WINOGRAD_PROPERTY = "vfuse.simd.winograd";

  /**
   * The system property that keeps every convolution in the plain NCHW layout ({@code false}):
   * {@link #channelBlock()} is then 0 and the engine does not move mobile-network chains to the
   * blocked layout. Read when the kernels are made.
   */
  public static final String BLOCKED_LAYOUT_PROPERTY = "vfuse.simd.blocked";

  private final VectorSpecies<Float> species;
  private final boolean winograd;
  private final boolean blockedLayout;

  /** Kernels on the species {@link VectorWidth#selected()} chooses. */
  public SimdKernels() {
    this(VectorWidth.selected());
  }

  /** Kernels on the given float species, e.g. {@link FloatVector#SPECIES_256}. */
  public SimdKernels(VectorSpecies<Float> species) {
    this.species = Objects.requireNonNull(species, "species");
    this.winograd = !"false".equalsIgnoreCase(System.getProperty(WINOGRAD_PROPERTY));
    this.blockedLayout = !"false".equalsIgnoreCase(System.getProperty(BLOCKED_LAYOUT_PROPERTY));
  }

  @Override
  public String name() {
    return "simd";
  }

  /** The species every kernel of this instance uses. */
  public VectorSpecies<Float> species() {
    return species;
  }

  @Override
  public String toString() {
    return "simd(" + species.vectorBitSize() + "-bit, " + species.length() + " floats)";
  }

  // ---------------------------------------------------------------- activation

  /** {@link F32Elementwise#activation} for Relu, LeakyRelu, Clip, HardSigmoid and HardSwish. */
  @Override
  public void activation(Activation f, int length, float[] x, float[] y) {
    switch (f) {
      case Activation.Sigmoid s -> expActivation(false, length, x, y);
      case Activation.Tanh t -> expActivation(true, length, x, y);
      default -> F32Elementwise.activation(species, f, length, x, y);
    }
  }
  /** Sigmoid or Tanh through {@link F64ExpActivation}, which works in place. */
  private void expActivation(boolean tanh, int length, float[] x, float[] y) {
    if (x != y) {
      System.arraycopy(x, 0, y, 0, length);
    }
    F64ExpActivation.apply(species, tanh, y, 0, length);
  }


  // ---------------------------------------------------------------- softmax

  /**
   * Softmax along a contiguous axis (inner 1: the last axis, a classifier's or the recognizers'
   * 6625-way head, attention's rows) in double lanes ({@link F64ExpActivation#softmaxRows}), within
   * 1 ulp of the reference; along a strided axis the reference.
   */
  @Override
  public void softmax(int outer, int axis, int inner, float[] x, float[] y) {
    if (inner == 1) {
      F64ExpActivation.softmaxRows(species, outer, axis, x, y);
    } else {
      super.softmax(outer, axis, inner, x, y);
    }
  }

  // ---------------------------------------------------------------- scaleShift

  /**
   * y = x·scale[c] + shift[c] on [N, C, spatial]: a multiply rounded to float, then an add rounded
   * to float, exactly the reference's {@code x * scale + shift} (Java never contracts it to an FMA,
   * and neither does this code). Vectorized along the spatial run of each (n, c) plane; when
   * {@code spatial == 1} (after a global pool) along the channels instead.
   */
  @Override
  public void scaleShift(int n, int c, int spatial, float[] x, float[] scale, float[] shift, float[] y) {
    F32Elementwise.scaleShift(species, n, c, spatial, x, scale, shift, y);
  }

  // ---------------------------------------------------------------- unary

  /**
   * Sqrt, Reciprocal, Neg, Abs and Pow's fast paths (x·x, x^0.5) in vector form
   * ({@link F32Elementwise#unary}), bit-identical to the reference. Exp, Log and Erf run the
   * reference's double-precision scalar definition: the Vector API's EXP and LOG promise 1 ulp of
   * their own type only, and none of the supported models has them on a hot path.
   */
  @Override
  public void unary(UnaryOp op, int length, float[] x, float[] y) {
    if (F32Elementwise.hasUnaryLoop(op)) {
      F32Elementwise.unary(species, op, length, x, y);
    } else {
      super.unary(op, length, x, y);
    }
  }

  // ---------------------------------------------------------------- binary

  /**
   * Elementwise {@code op} with resolved broadcasting. The output is split into outer indices and
   * an inner run: the longest suffix of axes over which each operand is either <em>contiguous</em>
   * (its strides are the contiguous strides of that suffix) or a <em>single element</em> (all its
   * strides there are 0). Axes of size 1 fit both. The vector path takes the runs where
   *
   * <ul>
   *   <li>both operands are contiguous: same-shape tensors (one run covering everything), or b
   *       repeated over outer axes such as a [K] row bias on [M, K] or [N, 1, H, W] on [N, C, H, W];
   *   <li>a is contiguous and b a single element: a per-channel [1, C, 1, 1] operand on
   *       [N, C, H, W], or a scalar;
   *   <li>a is a single element and b contiguous: the mirror, e.g. {@code 1 − x}.
   * </ul>
   *
   * Pow, Max and Min, and every other pattern (run of one element, transposed strides, both operands broadcast over the
   * run) is computed by {@link ReferenceKernels#binary}. Results are bit-identical: each output is
   * one IEEE operation on the same two floats.
   */
  @Override
  public void binary(BinaryOp op, int[] outShape, float[] a, int[] aStrides, float[] b, int[] bStrides, float[] y) {
    binary(op, outShape, a, aStrides, b, bStrides, y, Parallel.SERIAL);
  }

  /**
   * {@link #binary} with the flat output cut into one piece per thread, each a multiple of
   * {@value #PIECE_ALIGN} floats (whole cache lines, so no line is written by two threads).
   * A piece may start or end inside a run; every output is still the one operation on the same
   * two floats, so the bits do not depend on the split.
   */
  @Override
  public void binary(BinaryOp op, int[] outShape, float[] a, int[] aStrides, float[] b, int[] bStrides, float[] y,
      Parallel parallel) {
    RunPlan plan = op.isArithmetic() ? RunPlan.of(outShape, aStrides, bStrides) : null;
    if (plan == null) {
      super.binary(op, outShape, a, aStrides, b, bStrides, y);
      return;
    }
    if (plan.run() == 0) {
      return;
    }
    int total = plan.run();
    for (int d = 0; d < plan.split(); d++) {
      total *= outShape[d];
    }
    ParallelRanges.forEach(parallel, total, PIECE_ALIGN,
        (from, to) -> binaryPiece(op, plan, outShape, a, aStrides, b, bStrides, y, from, to));
  }

  /** Floats a piece of a split {@link #binary} or {@link #concat} is a multiple of: a 64-byte line. */
  private static final int PIECE_ALIGN = 16;

  /** Outputs [from, to) of the flat output of {@link #binary} under {@code plan}. */
  private void binaryPiece(BinaryOp op, RunPlan plan, int[] outShape, float[] a, int[] aStrides, float[] b,
      int[] bStrides, float[] y, int from, int to) {
    int split = plan.split();
    int run = plan.run();
    boolean aContig = plan.aContiguous();
    boolean bContig = plan.bContiguous();
    // The outer index of the first run, and each operand's offset there.
    int o = from / run;
    int[] idx = new int[split];
    int aOff = 0;
    int bOff = 0;
    for (int d = split - 1; d >= 0; d--) {
      idx[d] = o % outShape[d];
      o /= outShape[d];
      aOff += idx[d] * aStrides[d];
      bOff += idx[d] * bStrides[d];
    }
    int start = from % run;
    for (int at = from; at < to; start = 0) {
      int len = Math.min(run - start, to - at);
      int yOff = at;
      if (aContig && bContig) {
        F32Elementwise.runVV(species, op, len, a, aOff + start, b, bOff + start, y, yOff);
      } else if (aContig) {
        F32Elementwise.runVS(species, op, len, a, aOff + start, b[bOff], y, yOff);
      } else {
        F32Elementwise.runSV(species, op, len, a[aOff], b, bOff + start, y, yOff);
      }
      at += len;
      for (int d = split - 1; d >= 0; d--) {
        if (++idx[d] < outShape[d]) {
          aOff += aStrides[d];
          bOff += bStrides[d];
          break;
        }
        idx[d] = 0;
        aOff -= aStrides[d] * (outShape[d] - 1);
        bOff -= bStrides[d] * (outShape[d] - 1);
      }
    }
  }

  /**
   * How {@link #binary} splits an output: axes [0, split) are walked one index at a time, axes
   * [split, rank) form a run of {@code run} elements in which each operand is contiguous or a single
   * element. Package-private so tests can check which path a stride pattern takes.
   */
  record RunPlan(int split, int run, boolean aContiguous, boolean bContiguous) {

    /** The plan for a vector path, an empty plan (run 0) for an empty output, or null to fall back. */
    static RunPlan of(int[] outShape, int[] aStrides, int[] bStrides) {
      int rank = outShape.length;
      for (int d = 0; d < rank; d++) {
        if (outShape[d] == 0) {
          return new RunPlan(0, 0, true, true);
        }
      }
      // Grow the run from the last axis while each operand keeps one of its two forms.
      boolean aContig = true;
      boolean aSingle = true;
      boolean bContig = true;
      boolean bSingle = true;
      int run = 1;
      int split = rank;
      while (split > 0) {
        int d = split - 1;
        int dim = outShape[d];
        boolean ac = aContig && (dim == 1 || aStrides[d] == run);
        boolean as = aSingle && (dim == 1 || aStrides[d] == 0);
        boolean bc = bContig && (dim == 1 || bStrides[d] == run);
        boolean bs = bSingle && (dim == 1 || bStrides[d] == 0);
        if (!(ac || as) || !(bc || bs)) {
          break;
        }
        aContig = ac;
        aSingle = as;
        bContig = bc;
        bSingle = bs;
        run *= dim;
        split = d;
      }
      // A run of one element has nothing to vectorize (and only then can an operand fit both
      // forms); two single elements make a run of one repeated value, left to the reference.
      if (run == 1 || (aSingle && bSingle)) {
        return null;
      }
      return new RunPlan(split, run, aContig, bContig);
    }
  }

  // ---------------------------------------------------------------- gemm

  /**
   * {@link F32GemmPacked}: packed panels and a 6×(2·L) FMA micro-kernel, float accumulation. Agrees
   * with the reference to rounding (bounded in the tests by (k + 2)·2⁻²³·Σ|terms|), not bit for bit.
   */
  @Override
  public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
      float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
    new F32GemmPacked(species).gemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
  }

  /**
   * {@link F32BatchedMatMul} when one batch's B holds at most {@value #SMALL_MATMUL_B_FLOATS}
   * floats (64 KB, which stays in L2 while every row of A streams past it: the attention shapes),
   * else {@link F32GemmPacked} per batch, whose packing and cache blocking pay on large operands.
   */
  @Override
  public void batchedMatMul(int batches, int m, int n, int k, float[] a, int[] aOffsets, float[] b, int[] bOffsets,
      float[] c) {
    if ((long) k * n <= SMALL_MATMUL_B_FLOATS) {
      F32BatchedMatMul.matMul(species, batches, m, n, k, a, aOffsets, b, bOffsets, c);
      return;
    }
    for (int t = 0; t < batches; t++) {
      gemm(false, false, m, n, k, 1f, a, aOffsets[t], k, b, bOffsets[t], n, 0f, c, t * m * n, n);
    }
  }

  /** The largest B (k·n floats per batch) {@link #batchedMatMul} reads in place rather than packs. */
  static final int SMALL_MATMUL_B_FLOATS = 16384;

  /** {@link F32GemmPreparedB}: op(B) packed into the micro-kernel's panels once, here. */
  @Override
  public PreparedGemm prepareGemm(boolean transB, int n, int k, float[] b, int ldb) {
    return new F32GemmPreparedB(species, transB, n, k, b, ldb);
  }

  /**
   * {@link F32GemmPreparedInt8B}: op(B) packed once as int8 panels, widened to float in registers,
   * each column's scale applied to its sum before alpha and beta.
   */
  @Override
  public PreparedGemm prepareGemmInt8(boolean transB, int n, int k, Int8Weights b) {
    return new F32GemmPreparedInt8B(species, transB, n, k, b);
  }

  // ---------------------------------------------------------------- conv2d

  /**
   * The vector length: one (position, block) of the blocked layout is one vector. 0 when
   * {@value #BLOCKED_LAYOUT_PROPERTY} is false.
   */
  @Override
  public int channelBlock() {
    return blockedLayout ? species.length() : 0;
  }

  /**
   * Blocked convolutions at this instance's block: depthwise ones on {@link F32DwConvBlocked}, one
   * group on {@link F32ConvBlocked} (either input layout). Another block, or Sigmoid and Tanh (which
   * have no vector form in the tile epilogue), take the reference.
   */
  @Override
  public PreparedConv prepareBlockedConv(ConvGeometry g, boolean blockedInput, int block, float[] weight, float[] bias,
      Activation activation) {
    checkBlockedConv(g, blockedInput, block);
    boolean vectorActivation = activation == null || F32Epilogue.kind(activation) != F32Epilogue.NONE;
    if (block == species.length() && vectorActivation) {
      if (g.groups() > 1) {
        return new F32DwConvBlocked(species, g, weight, bias, activation);
      }
      return new F32ConvBlocked(species, g, blockedInput, weight, bias, activation);
    }
    return super.prepareBlockedConv(g, blockedInput, block, weight, bias, activation);
  }

  /**
   * Depthwise convolutions (one input channel per group) run {@link F32DwConv}; pointwise ones
   * (1×1, unpadded, one group) {@link F32Conv1x1}, which reads the input in place at stride 1 and a
   * subsampled copy otherwise; 3×3
   * stride-1 convolutions where it is faster {@link F32Conv3x3Winograd}; the others, grouped or not,
   * {@link F32ConvImplicitGemm}: a GEMM on weights packed once here, B read
   * straight from a padded (and, at stride > 1, phase-split) copy of the input, the epilogue
   * applied to each tile as it is stored.
   */
  @Override
  public PreparedConv prepareConv2d(ConvGeometry g, float[] weight, float[] bias, PositionOffsets offsets,
      Activation activation) {
    if (F32DwConv.supports(g)) {
      return F32DwConv.prepare(species, g, weight, bias, offsets, activation);
    }
    if (F32Conv1x1.supports(g)) {
      return F32Conv1x1.prepare(species, g, weight, bias, offsets, activation);
    }
    if (winograd && winogradWins(g)) {
      return F32Conv3x3Winograd.prepare(species, g, weight, bias, offsets, activation);
    }
    return F32ConvImplicitGemm.prepare(species, g, weight, bias, offsets, activation);
  }

  /**
   * Int8 weights, never Winograd (its transformed weights are not int8): depthwise {@link F32DwConv}
   * on each channel's weights dequantized at run time (a few floats of scratch), the others
   * {@link F32ConvImplicitGemm} on int8 panels, whose sums are scaled per channel before the bias.
   */
  @Override
  public PreparedConv prepareConv2dInt8(ConvGeometry g, Int8Weights weight, float[] bias, PositionOffsets offsets,
      Activation activation) {
    if (F32DwConv.supports(g)) {
      return F32DwConv.prepareInt8(species, g, weight, bias, offsets, activation);
    }
    return F32ConvImplicitGemm.prepareInt8(species, g, weight, bias, offsets, activation);
  }

  /**
   * Where {@link F32Conv3x3Winograd} beats {@link F32ConvImplicitGemm}, measured at 1 thread on
   * AVX-512 (ms, implicit vs Winograd): 64ch 56² 1.10 vs 0.60, 128ch 28² 1.09 vs 0.49, 256ch 14²
   * 1.13 vs 0.62, 24ch 160² 1.26 vs 0.95, 96→24ch 160² 9.3 vs 3.5; it loses at 512ch 7² (1.31 vs
   * 1.69: too few tiles for the transforms) and with few input channels (16ch 160²: 0.59 vs 0.73,
   * 3→16ch 224²: 0.32 vs 0.52), where the transforms cost as much as the products they save. Winograd's error is larger (up to about 2e-6 of Σ|w·x| per output
   * against 3e-7), well inside the models' tolerance. Its transformed weights take 4× the memory,
   * which the 7² layers, where most of a network's 3×3 weights sit, are spared, and so are the
   * layers with output channels in its lanes and at least 16 tiles (14² at batch 1 on 512-bit
   * vectors), which transform their weights per run at about 1% of resnet18's time.
   */
  static boolean winogradWins(ConvGeometry g) {
    int c = g.c();
    int k = g.k();
    return F32Conv3x3Winograd.supports(g) && g.p() * g.q() >= 100 && c >= 24 && k <= 8 * c;
  }

  /**
   * The prepared kernel of {@link #prepareConv2d}, prepared for this one call (depthwise: {@link
   * F32DwConv}). Agrees with the reference to rounding.
   */
  @Override
  public void conv2d(ConvGeometry g, float[] x, float[] weight, float[] bias, float[] y) {
    conv2d(g, x, weight, bias, new ConvEpilogue(null, null, null), y);
  }

  /** The convolution with its epilogue fused, the epilogue bit-identical to {@link ConvEpilogue#applyTo}. */
  @Override
  public void conv2d(ConvGeometry g, float[] x, float[] weight, float[] bias, ConvEpilogue epilogue, float[] y) {
    PreparedConv prepared = prepareConv2d(g, weight, bias, epilogue.offsets(), epilogue.activation());
    prepared.run(x, epilogue.residual(), y, new float[prepared.scratchPerWorker()], Parallel.SERIAL);
  }

  // ---------------------------------------------------------------- convTranspose2d

  /** {@link F32ConvTranspose}: the weight transposed once here, GEMM + col2im per tile, epilogue on the tile. */
  @Override
  public PreparedConv prepareConvTranspose2d(ConvTransposeGeometry g, float[] weight, float[] bias,
      PositionOffsets offsets, Activation activation) {
    return F32ConvTranspose.prepare(species, g, weight, bias, offsets, activation);
  }

  /** {@link F32ConvTranspose} with the int8 weight transposed once, dequantized by each task's GEMM as it packs it. */
  @Override
  public PreparedConv prepareConvTranspose2dInt8(ConvTransposeGeometry g, Int8Weights weight, float[] bias,
      PositionOffsets offsets, Activation activation) {
    return F32ConvTranspose.prepareInt8(species, g, weight, bias, offsets, activation);
  }

  @Override
  public void convTranspose2d(ConvTransposeGeometry g, float[] x, float[] weight, float[] bias, float[] y) {
    convTranspose2d(g, x, weight, bias, new ConvEpilogue(null, null, null), y);
  }

  /** The prepared kernel of {@link #prepareConvTranspose2d}, prepared for this one call. */
  @Override
  public void convTranspose2d(ConvTransposeGeometry g, float[] x, float[] weight, float[] bias, ConvEpilogue epilogue,
      float[] y) {
    PreparedConv prepared = prepareConvTranspose2d(g, weight, bias, epilogue.offsets(), epilogue.activation());
    prepared.run(x, epilogue.residual(), y, new float[prepared.scratchPerWorker()], Parallel.SERIAL);
  }

  // ---------------------------------------------------------------- pooling

  /** {@link F32Pool}: bit-identical to the reference. */
  @Override
  public void maxPool2d(PoolGeometry g, float[] x, float[] y) {
    F32Pool.maxPool2d(species, g, x, y, Parallel.SERIAL);
  }

  /** Planes split over the threads in contiguous ranges, each plane as on one thread. */
  @Override
  public void maxPool2d(PoolGeometry g, float[] x, float[] y, Parallel parallel) {
    F32Pool.maxPool2d(species, g, x, y, parallel);
  }

  /** At this instance's block, {@link F32Pool#maxPoolBlocked}: bit-identical to the reference. */
  @Override
  public void maxPool2dBlocked(PoolGeometry g, int block, float[] x, float[] y, Parallel parallel) {
    if (block == species.length()) {
      F32Pool.maxPoolBlocked(species, g, x, y, parallel);
    } else {
      super.maxPool2dBlocked(g, block, x, y, parallel);
    }
  }

  /** {@link F32Pool}: the reference's double sums, lane by lane; bit-identical. */
  @Override
  public void avgPool2d(PoolGeometry g, boolean countIncludePad, float[] x, float[] y) {
    F32Pool.avgPool2d(species, g, countIncludePad, x, y);
  }

  /** {@link F32Pool}: vector sums where they are provably exact, else the reference's loop; bit-identical. */
  /** At this instance's block, gathered L positions at a time ({@link F32ConvBlocked#toBlocks}). */
  @Override
  public void toChannelBlocks(int n, int c, int plane, int block, float[] x, float[] y) {
    if (block == species.length()) {
      F32ConvBlocked.toBlocks(species, n, c, plane, x, y);
    } else {
      super.toChannelBlocks(n, c, plane, block, x, y);
    }
  }

  /** At this instance's block, gathered L positions at a time ({@link F32ConvBlocked#fromBlocks}). */
  @Override
  public void fromChannelBlocks(int n, int c, int plane, int block, float[] x, float[] y) {
    fromChannelBlocks(n, c, plane, block, x, y, Parallel.SERIAL);
  }

  @Override
  public void fromChannelBlocks(int n, int c, int plane, int block, float[] x, float[] y, Parallel parallel) {
    if (block == species.length()) {
      F32ConvBlocked.fromBlocks(species, n, c, plane, x, y, parallel);
    } else {
      super.fromChannelBlocks(n, c, plane, block, x, y);
    }
  }

  /** At this instance's block, one vector multiply a position ({@link F32ConvBlocked#scaleChannels}). */
  @Override
  public void scaleChannelsBlocked(int n, int c, int plane, int block, float[] x, float[] s, float[] y) {
    if (block == species.length()) {
      F32ConvBlocked.scaleChannels(species, n, c, plane, x, s, y);
    } else {
      super.scaleChannelsBlocked(n, c, plane, block, x, s, y);
    }
  }

  /** At this instance's block, vector sums along the positions ({@link F32ConvBlocked#globalAvgPool}). */
  @Override
  public void globalAvgPoolBlocked(int n, int c, int plane, int block, float[] x, float[] y) {
    if (block == species.length()) {
      F32ConvBlocked.globalAvgPool(species, n, c, plane, x, y);
    } else {
      super.globalAvgPoolBlocked(n, c, plane, block, x, y);
    }
  }

  @Override
  public void globalAvgPool(int planes, int spatial, float[] x, float[] y) {
    F32Pool.globalAvgPool(species, planes, spatial, x, y, Parallel.SERIAL);
  }

  @Override
  public void globalAvgPool(int planes, int spatial, float[] x, float[] y, Parallel parallel) {
    F32Pool.globalAvgPool(species, planes, spatial, x, y, parallel);
  }

  // ---------------------------------------------------------------- data movement

  @Override
  public void resize2d(int n, int c, int h, int w, int outH, int outW, ResizeSpec spec, float[] x, float[] y) {
    resize2d(n, c, h, w, outH, outW, spec, x, y, Parallel.SERIAL);
  }

  /**
   * NEAREST: the reference's index tables; an output row is gathered from its input row once and
   * copied to the next output rows that read the same input row (an upsampling by s gathers one
   * row in s), and the planes are split over the threads. Copies only, so the reference's bits.
   * LINEAR is the reference's loop.
   */
  @Override
  public void resize2d(int n, int c, int h, int w, int outH, int outW, ResizeSpec spec, float[] x, float[] y,
      Parallel parallel) {
    if (spec.mode() != ResizeSpec.Mode.NEAREST) {
      super.resize2d(n, c, h, w, outH, outW, spec, x, y);
      return;
    }
    int[] row = ResizeAxis.nearest(spec, spec.scaleH(), h, outH);
    int[] col = ResizeAxis.nearest(spec, spec.scaleW(), w, outW);
    ParallelRanges.forEach(parallel, n * c, 1,
        (from, to) -> resizeNearest(from, to, h, w, outH, outW, row, col, x, y));
  }

  /** Planes [from, to) of a NEAREST resize with input row row[i] and column col[j] for output (i, j). */
  private static void resizeNearest(int from, int to, int h, int w, int outH, int outW, int[] row, int[] col,
      float[] x, float[] y) {
    for (int plane = from; plane < to; plane++) {
      for (int i = 0; i < outH; i++) {
        int yRow = (plane * outH + i) * outW;
        if (i > 0 && row[i] == row[i - 1]) {
          System.arraycopy(y, yRow - outW, y, yRow, outW);
          continue;
        }
        int xRow = (plane * h + row[i]) * w;
        for (int j = 0; j < outW; j++) {
          y[yRow + j] = x[xRow + col[j]];
        }
      }
    }
  }

  /**
   * The copies of {@link #concat} cut into one piece of the output per thread, each a multiple of
   * {@value #PIECE_ALIGN} floats.
   */
  @Override
  public void concat(int outer, int[] axisLens, int inner, float[][] xs, float[] y, Parallel parallel) {
    int axis = 0;
    for (int len : axisLens) {
      axis += len;
    }
    int rowLength = axis * inner;
    ParallelRanges.forEach(parallel, outer * rowLength, PIECE_ALIGN,
        (from, to) -> concatRange(axisLens, inner, rowLength, xs, y, from, to));
  }

  /** Outputs [from, to) of a concat whose output rows (one per outer index) are rowLength long. */
  private static void concatRange(int[] axisLens, int inner, int rowLength, float[][] xs, float[] y, int from,
      int to) {
    for (int o = from / rowLength, rowStart = o * rowLength; rowStart < to; o++, rowStart += rowLength) {
      int pos = rowStart;
      for (int j = 0; j < xs.length && pos < to; j++) {
        int block = axisLens[j] * inner;
        int lo = Math.max(pos, from);
        int hi = Math.min(pos + block, to);
        if (lo < hi) {
          System.arraycopy(xs[j], o * block + (lo - pos), y, lo, hi - lo);
        }
        pos += block;
      }
    }
  }
}
