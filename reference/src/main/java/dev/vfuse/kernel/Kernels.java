package dev.vfuse.kernel;

/**
 * The operations a backend provides. The engine calls only these for tensor arithmetic, so a
 * backend that implements them all runs every supported model.
 *
 * <p>Common rules:
 *
 * <ul>
 *   <li>Tensors are float32, row-major (C order); images are NCHW. Every array argument holds its
 *       tensor from index 0 (gemm takes explicit offsets) and may be longer than that tensor.
 *   <li>Unless a method says otherwise, the output array must not alias an input array.
 *   <li>Implementations are stateless and safe to call from many threads at once.
 *   <li>Arguments are validated by the engine; a kernel may assume a consistent geometry.
 * </ul>
 *
 * <p>The load-time fold arithmetic of {@link FoldArithmetic} (in double, with its own rules) is
 * part of the contract too.
 */
public interface Kernels extends FoldArithmetic {

  /** Short backend name, e.g. "reference" or "simd". */
  String name();

  /**
   * The channel block B of the {@link ChannelBlocks} layout this backend's blocked kernels run
   * fastest (its vector length), or 0 when the engine should not rewrite convolutions to that
   * layout for it. Every backend runs the blocked kernels for any B ≥ 1.
   */
  default int channelBlock() {
    return 0;
  }

  /** y = x [N, C, plane] in {@link ChannelBlocks} layout with block B; y's padding lanes are 0. */
  void toChannelBlocks(int n, int c, int plane, int block, float[] x, float[] y);

  /** y [N, C, plane] = x, a {@link ChannelBlocks} tensor with block B; padding lanes are not read. */
  void fromChannelBlocks(int n, int c, int plane, int block, float[] x, float[] y);

  /**
   * {@link #fromChannelBlocks} with the work split over {@code parallel}'s threads. The default
   * runs on the calling thread alone.
   */
  default void fromChannelBlocks(int n, int c, int plane, int block, float[] x, float[] y, Parallel parallel) {
    fromChannelBlocks(n, c, plane, block, x, y);
  }

  /**
   * y = x · s with x and y {@link ChannelBlocks} tensors [N, C, plane] (block B) and s plain
   * [N, C] (a [N, C, 1, 1] tensor): ONNX Mul broadcasting a per-channel scale, as squeeze-excitation
   * blocks do, one float multiply each. y's padding lanes are unspecified; y may be x.
   */
  void scaleChannelsBlocked(int n, int c, int plane, int block, float[] x, float[] s, float[] y);

  /**
   * GlobalAveragePool of a {@link ChannelBlocks} tensor x (block B): y [N, C] (that is [N, C, 1, 1])
   * plain, y[n, c] = Σ_j x[n, c, j] / plane. Padding lanes are not read.
   */
  void globalAvgPoolBlocked(int n, int c, int plane, int block, float[] x, float[] y);

  /**
   * Prepares a convolution on channel-blocked tensors ({@link ChannelBlocks}, block B): the output
   * y and the residual are blocked [N][⌈K/B⌉][P·Q][B]; the input x is blocked [N][⌈C/B⌉][H·W][B]
   * when {@code blockedInput}, else plain NCHW. For each specified output lane
   *
   * <pre>
   *   y[n,k,p,q] = activation(conv(x, W)[n,k,p,q] + bias[k] + residual[n,k,p,q])
   * </pre>
   *
   * with conv as {@link ConvGeometry} defines it; bias and residual may be null, activation may be
   * null. Supported: one group (any kernel, stride, padding, dilation; x blocked or plain) and
   * depthwise, groups == C == K (x blocked). The reduction order is the one {@link
   * #conv2d(ConvGeometry, float[], float[], float[], ConvEpilogue, float[])} documents for the
   * unblocked layout: c, then r, then s.
   *
   * @throws IllegalArgumentException for another grouping, or a depthwise conv on a plain input
   */
  PreparedConv prepareBlockedConv(ConvGeometry g, boolean blockedInput, int block, float[] weight, float[] bias,
      Activation activation);

  /** ONNX Conv; see {@link ConvGeometry} for layouts and the formula. {@code bias} may be null. */
  void conv2d(ConvGeometry g, float[] x, float[] weight, float[] bias, float[] y);

  /** ONNX ConvTranspose; see {@link ConvTransposeGeometry}. {@code bias} may be null. */
  void convTranspose2d(ConvTransposeGeometry g, float[] x, float[] weight, float[] bias, float[] y);

  /** A convolution followed by its fused epilogue (per-position offsets, residual add, activation). */
  void conv2d(ConvGeometry g, float[] x, float[] weight, float[] bias, ConvEpilogue epilogue, float[] y);

  /** A transposed convolution followed by its fused epilogue. */
  void convTranspose2d(ConvTransposeGeometry g, float[] x, float[] weight, float[] bias, ConvEpilogue epilogue, float[] y);

  /**
   * Prepares a convolution whose weights, bias, offsets ([K, P, Q], may be null) and activation
   * (may be null) are fixed, for repeated runs; the arrays must not change afterwards. The default
   * runs {@link #conv2d(ConvGeometry, float[], float[], float[], ConvEpilogue, float[])} each time.
   */
  default PreparedConv prepareConv2d(ConvGeometry g, float[] weight, float[] bias, PositionOffsets offsets,
      Activation activation) {
    return PreparedConv.direct(this, g, weight, bias, offsets, activation);
  }

  /** {@link #prepareConv2d} for a transposed convolution. */
  default PreparedConv prepareConvTranspose2d(ConvTransposeGeometry g, float[] weight, float[] bias,
      PositionOffsets offsets, Activation activation) {
    return PreparedConv.direct(this, g, weight, bias, offsets, activation);
  }

  /**
   * {@link #prepareConv2d} with int8 weights: the convolution of the weights
   * {@link Int8Weights#dequantize w = q·scale} (layout {@link Int8Weights#conv}). A backend may
   * instead scale the reduction of q·x by the channel's scale before adding the bias, which
   * differs from the dequantized form by one rounding more than a float reduction; it must keep
   * the weights as int8, which is the point. The default dequantizes on every run.
   */
  default PreparedConv prepareConv2dInt8(ConvGeometry g, Int8Weights weight, float[] bias, PositionOffsets offsets,
      Activation activation) {
    Int8Weights.Layout layout = Int8Weights.conv(g);
    return new PreparedConv.Direct((x, e, y) -> conv2d(g, x, weight.dequantize(layout), bias, e, y), offsets,
        activation);
  }

  /** {@link #prepareConv2dInt8} for a transposed convolution (layout {@link Int8Weights#convTranspose}). */
  default PreparedConv prepareConvTranspose2dInt8(ConvTransposeGeometry g, Int8Weights weight, float[] bias,
      PositionOffsets offsets, Activation activation) {
    Int8Weights.Layout layout = Int8Weights.convTranspose(g);
    return new PreparedConv.Direct((x, e, y) -> convTranspose2d(g, x, weight.dequantize(layout), bias, e, y),
        offsets, activation);
  }

  /**
   * {@link #prepareGemm} with an int8 right operand, scaled per output column (layout
   * {@link Int8Weights#gemm}, leading dimension {@code ldb} = the row length of op(B)'s array).
   * As for convolutions, a backend may scale the reduction instead of the weights. The default
   * dequantizes on every run.
   */
  default PreparedGemm prepareGemmInt8(boolean transB, int n, int k, Int8Weights b) {
    Int8Weights.Layout layout = Int8Weights.gemm(transB, n, k);
    int ldb = transB ? k : n;
    return new PreparedGemm() {
      @Override
      public int scratchPerWorker(int m) {
        return 0;
      }

      @Override
      public void run(int m, boolean transA, float alpha, float[] a, int lda, float beta, float[] c, float[] scratch,
          Parallel parallel) {
        gemm(transA, transB, m, n, k, alpha, a, 0, lda, b.dequantize(layout), 0, ldb, beta, c, 0, n);
      }
    };
  }

  /** ONNX MaxPool: the maximum over the in-range positions of each window. */
  void maxPool2d(PoolGeometry g, float[] x, float[] y);

  /**
   * {@link #maxPool2d} with its planes split over {@code parallel}'s threads; the result does not
   * depend on the split. The default runs on the calling thread alone.
   */
  default void maxPool2d(PoolGeometry g, float[] x, float[] y, Parallel parallel) {
    maxPool2d(g, x, y);
  }

  /**
   * {@link #maxPool2d} on {@link ChannelBlocks} tensors (block B): x [N][⌈C/B⌉][H·W][B] (C =
   * {@code g.c()}), y [N][⌈C/B⌉][P·Q][B], each specified lane of y the max pool of its channel.
   * Padding lanes are pooled like the others: y's are unspecified when x's are. The result does not
   * depend on how {@code parallel} splits the work.
   */
  void maxPool2dBlocked(PoolGeometry g, int block, float[] x, float[] y, Parallel parallel);

  /**
   * ONNX AveragePool: the sum over the window's in-range positions divided by their count, or, when
   * {@code countIncludePad}, by the count of positions inside input plus declared padding.
   */
  void avgPool2d(PoolGeometry g, boolean countIncludePad, float[] x, float[] y);

  /** y[i] = mean of x[i·spatial … (i+1)·spatial − 1] for i in [0, planes): GlobalAveragePool. */
  void globalAvgPool(int planes, int spatial, float[] x, float[] y);

  /**
   * {@link #globalAvgPool} with its planes split over {@code parallel}'s threads; the result does
   * not depend on the split. The default runs on the calling thread alone.
   */
  default void globalAvgPool(int planes, int spatial, float[] x, float[] y, Parallel parallel) {
    globalAvgPool(planes, spatial, x, y);
  }

  /**
   * BatchNormalization in inference form on [N, C, spatial]:
   * y = γ[c]·(x − μ[c]) / sqrt(var[c] + ε) + β[c]. {@code y} may be {@code x}.
   */
  void batchNorm(int n, int c, int spatial, float[] x, float[] gamma, float[] beta, float[] mean, float[] var,
      float epsilon, float[] y);

  /** y = x·scale[c] + shift[c] on [N, C, spatial]. {@code y} may be {@code x}. */
  void scaleShift(int n, int c, int spatial, float[] x, float[] scale, float[] shift, float[] y);

  /** y[i] = f(x[i]) for i in [0, length). {@code y} may be {@code x}. */
  void activation(Activation f, int length, float[] x, float[] y);

  /**
   * Elementwise {@code op} with numpy broadcasting, already resolved by the caller:
   * y[idx] = op(a[Σ idx_d·aStrides_d], b[Σ idx_d·bStrides_d]) for every index idx of
   * {@code outShape}, where a broadcast axis has stride 0. {@code y} may be {@code a} or {@code b}
   * when that operand's strides are the contiguous strides of {@code outShape}.
   */
  void binary(BinaryOp op, int[] outShape, float[] a, int[] aStrides, float[] b, int[] bStrides, float[] y);

  /**
   * {@link #binary} with the output split over {@code parallel}'s threads; the result does not
   * depend on the split. The default runs on the calling thread alone.
   */
  default void binary(BinaryOp op, int[] outShape, float[] a, int[] aStrides, float[] b, int[] bStrides, float[] y,
      Parallel parallel) {
    binary(op, outShape, a, aStrides, b, bStrides, y);
  }

  /** y[i] = op(x[i]) for i in [0, length), {@link UnaryOp#apply} bit for bit. {@code y} may be {@code x}. */
  void unary(UnaryOp op, int length, float[] x, float[] y);

  /**
   * C = alpha·op(A)·op(B) + beta·C with op(A) of size m×k and op(B) of size k×n; A is read at
   * a[aOff + i·lda + l] (or a[aOff + l·lda + i] when transposed), likewise B and C. When beta is 0,
   * C is written without being read.
   */
  void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
      float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc);

  /**
   * Batched matrix product, ONNX MatMul with both operands computed (attention's Q·Kᵀ and P·V), its
   * batch broadcasting resolved by the caller into offsets: C[t] = A[t]·B[t] for t in
   * [0, batches), A[t] m×k row-major from a[aOffsets[t]], B[t] k×n from b[bOffsets[t]], C[t] m×n
   * at c[t·m·n]. C must not alias A or B.
   */
  void batchedMatMul(int batches, int m, int n, int k, float[] a, int[] aOffsets, float[] b, int[] bOffsets, float[] c);

  /**
   * Prepares a GEMM whose right operand op(B) (k × n, read as {@link #gemm} reads it) is fixed and
   * must not change afterwards. The default runs {@link #gemm} each time.
   */
  default PreparedGemm prepareGemm(boolean transB, int n, int k, float[] b, int ldb) {
    return PreparedGemm.direct(this, transB, n, k, b, ldb);
  }

  /** Softmax over the middle axis of [outer, axis, inner], computed as exp(x − max) / Σ exp(x − max). */
  void softmax(int outer, int axis, int inner, float[] x, float[] y);

  /** Mean over the axes flagged in {@code reduced}; y has the shape of x with those axes set to 1. */
  void reduceMean(int[] shape, boolean[] reduced, float[] x, float[] y);

  /** Sum over the axes flagged in {@code reduced}; y has the shape of x with those axes set to 1. */
  void reduceSum(int[] shape, boolean[] reduced, float[] x, float[] y);

  /** Maximum over the axes flagged in {@code reduced} (NaN if any element is NaN); shapes as {@link #reduceSum}. */
  void reduceMax(int[] shape, boolean[] reduced, float[] x, float[] y);

  /**
   * Layer normalization over the last axis of [rows, cols]:
   * y = (x − μ) / sqrt(σ² + ε)·γ[j] + β[j], with μ and σ² = mean((x − μ)²) of the row.
   * {@code beta} may be null (no shift).
   */
  void layerNorm(int rows, int cols, float[] x, float[] gamma, float[] beta, float epsilon, float[] y);

  /** ONNX Resize on the H and W axes of [N, C, H, W] into [N, C, outH, outW]; see {@link ResizeSpec}. */
  void resize2d(int n, int c, int h, int w, int outH, int outW, ResizeSpec spec, float[] x, float[] y);

  /**
   * {@link #resize2d} with the planes split over {@code parallel}'s threads; the result does not
   * depend on the split. The default runs on the calling thread alone.
   */
  default void resize2d(int n, int c, int h, int w, int outH, int outW, ResizeSpec spec, float[] x, float[] y,
      Parallel parallel) {
    resize2d(n, c, h, w, outH, outW, spec, x, y);
  }

  /** y = x with its axes permuted: output axis i is input axis perm[i]. */
  void transpose(int[] shape, int[] perm, float[] x, float[] y);

  /** Constant-mode Pad: output axis d has size padsBegin[d] + shape[d] + padsEnd[d]; pads are non-negative. */
  void pad(int[] shape, int[] padsBegin, int[] padsEnd, float value, float[] x, float[] y);

  /**
   * Strided slice: y[idx] = x[starts + idx·steps] per axis, for every index of {@code outShape}.
   * Starts are in range and steps non-zero (negative steps walk backwards).
   */
  void slice(int[] shape, int[] starts, int[] steps, int[] outShape, float[] x, float[] y);

  /** Gather on the middle axis of [outer, axisLen, inner]: y[o, i, r] = x[o, indices[i], r]; indices are in range. */
  void gather(int outer, int axisLen, int inner, int[] indices, float[] x, float[] y);

  /**
   * Concat on the middle axis: input j is [outer, axisLens[j], inner] and y is
   * [outer, Σ axisLens, inner].
   */
  void concat(int outer, int[] axisLens, int inner, float[][] xs, float[] y);

  /**
   * {@link #concat} with the copying split over {@code parallel}'s threads. The default runs on
   * the calling thread alone.
   */
  default void concat(int outer, int[] axisLens, int inner, float[][] xs, float[] y, Parallel parallel) {
    concat(outer, axisLens, inner, xs, y);
  }
}
