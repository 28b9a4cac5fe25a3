package dev.vfuse.reference;

import dev.vfuse.kernel.Activation;
import dev.vfuse.kernel.BinaryOp;
import dev.vfuse.kernel.ChannelBlocks;
import dev.vfuse.kernel.ConvEpilogue;
import dev.vfuse.kernel.ConvGeometry;
import dev.vfuse.kernel.ConvTransposeGeometry;
import dev.vfuse.kernel.Kernels;
import dev.vfuse.kernel.Parallel;
import dev.vfuse.kernel.PoolGeometry;
import dev.vfuse.kernel.PreparedConv;
import dev.vfuse.kernel.ResizeSpec;
import dev.vfuse.kernel.UnaryOp;
import java.util.Arrays;

/**
 * The scalar kernels: the specification every other backend is held to, and its fallback (the
 * simd backend extends this class and overrides what it vectorizes).
 *
 * <p>Each kernel is the formula of its Javadoc written as plain loops. Rules common to all:
 *
 * <ul>
 *   <li>Every reduction (conv, convTranspose, gemm, average pools, softmax's sum, reduceMean) sums
 *       in double and rounds to float once; a product of two floats is exact in double, so the only
 *       rounding before the last is that of the double additions. batchNorm and the bilinear blend
 *       of resize are also computed in double and rounded once. The other elementwise ops
 *       (activation, binary, scaleShift) are the float operations of their definition.
 *   <li>A window with no in-range position (possible only with pads or dilation at least the
 *       window's reach) gives −∞ for max pooling and 0 for average pooling. Max pooling skips NaN
 *       inputs.
 *   <li>Resize computes coordinates in float as ONNX Runtime does; see {@link ResizeAxis}.
 *   <li>The load-time fold arithmetic is the formulas of {@link dev.vfuse.kernel.FoldArithmetic}
 *       in double, element by element, stopping at the first value that refuses.
 *   <li>Scratch arrays are allocated per call, never per output element, so instances are stateless.
 * </ul>
 *
 * <p>Dimension letters follow {@code dev.vfuse.kernel}: N batch, C input channels, H×W input, K
 * output channels, R×S kernel, P×Q output.
 */
public class ReferenceKernels implements Kernels {

  @Override
  public String name() {
    return "reference";
  }

  @Override
  public String toString() {
    return name();
  }

  // ---------------------------------------------------------------- channel-blocked layout

  /**
   * Position by position within a block: the blocked array is written in order, from B channel
   * planes read side by side (B streams, each in order).
   */
  @Override
  public void toChannelBlocks(int n, int c, int plane, int block, float[] x, float[] y) {
    int blocks = ChannelBlocks.blocks(c, block);
    for (int b = 0; b < n; b++) {
      for (int kb = 0; kb < blocks; kb++) {
        int lanes = Math.min(block, c - kb * block);
        int in = (b * c + kb * block) * plane;
        int out = (b * blocks + kb) * plane * block;
        for (int j = 0; j < plane; j++, out += block) {
          for (int lane = 0; lane < lanes; lane++) {
            y[out + lane] = x[in + lane * plane + j];
          }
          for (int lane = lanes; lane < block; lane++) {
            y[out + lane] = 0f;
          }
        }
      }
    }
  }

  /** The inverse of {@link #toChannelBlocks}: the blocked array read in order, B channel planes written side by side. */
  @Override
  public void fromChannelBlocks(int n, int c, int plane, int block, float[] x, float[] y) {
    int blocks = ChannelBlocks.blocks(c, block);
    for (int b = 0; b < n; b++) {
      for (int kb = 0; kb < blocks; kb++) {
        int lanes = Math.min(block, c - kb * block);
        int in = (b * blocks + kb) * plane * block;
        int out = (b * c + kb * block) * plane;
        for (int j = 0; j < plane; j++, in += block) {
          for (int lane = 0; lane < lanes; lane++) {
            y[out + lane * plane + j] = x[in + lane];
          }
        }
      }
    }
  }

  /** y[n, c, j] = x[n, c, j] · s[n, c]: Mul by a per-channel [N, C, 1, 1] tensor, on blocked x and y. */
  @Override
  public void scaleChannelsBlocked(int n, int c, int plane, int block, float[] x, float[] s, float[] y) {
    int blocks = ChannelBlocks.blocks(c, block);
    for (int b = 0; b < n; b++) {
      for (int ch = 0; ch < c; ch++) {
        int at = (b * blocks + ch / block) * plane * block + ch % block;
        float scale = s[b * c + ch];
        for (int j = 0; j < plane; j++) {
          y[at + j * block] = x[at + j * block] * scale;
        }
      }
    }
  }

  /** As {@link #globalAvgPool}: the sum in double, divided once, rounded once. */
  @Override
  public void globalAvgPoolBlocked(int n, int c, int plane, int block, float[] x, float[] y) {
    for (int b = 0; b < n; b++) {
      for (int ch = 0; ch < c; ch++) {
        double sum = 0.0;
        for (int j = 0; j < plane; j++) {
          sum += x[ChannelBlocks.index(c, plane, block, b, ch, j)];
        }
        y[b * c + ch] = (float) (sum / plane);
      }
    }
  }

  /**
   * The definition itself: the input (and residual) taken out of the blocked layout, the plain
   * {@link #conv2d(ConvGeometry, float[], float[], float[], ConvEpilogue, float[])}, the result put
   * back into blocks (padding lanes 0). Allocates per run; it is the specification, not a fast path.
   */
  @Override
  public PreparedConv prepareBlockedConv(ConvGeometry g, boolean blockedInput, int block, float[] weight, float[] bias,
      Activation activation) {
    checkBlockedConv(g, blockedInput, block);
    int plane = g.h() * g.w();
    int outPlane = g.p() * g.q();
    return new PreparedConv() {
      @Override
      public int scratchPerWorker() {
        return 0;
      }

      @Override
      public void run(float[] x, float[] residual, float[] y, float[] scratch, Parallel parallel) {
        float[] plainX = x;
        if (blockedInput) {
          plainX = new float[Math.toIntExact(g.inputSize())];
          fromChannelBlocks(g.n(), g.c(), plane, block, x, plainX);
        }
        float[] plainResidual = null;
        if (residual != null) {
          plainResidual = new float[Math.toIntExact(g.outputSize())];
          fromChannelBlocks(g.n(), g.k(), outPlane, block, residual, plainResidual);
        }
        float[] plainY = new float[Math.toIntExact(g.outputSize())];
        conv2d(g, plainX, weight, bias, new ConvEpilogue(null, plainResidual, activation), plainY);
        toChannelBlocks(g.n(), g.k(), outPlane, block, plainY, y);
      }
    };
  }

  /** The groupings {@link Kernels#prepareBlockedConv} supports, checked for every backend. */
  protected static void checkBlockedConv(ConvGeometry g, boolean blockedInput, int block) {
    if (block < 1) {
      throw new IllegalArgumentException("channel block must be at least 1, got " + block);
    }
    boolean depthwise = g.groups() == g.c() && g.groups() == g.k();
    if (g.groups() != 1 && !depthwise) {
      throw new IllegalArgumentException("a blocked convolution has one group or is depthwise: " + g);
    }
    if (depthwise && g.groups() > 1 && !blockedInput) {
      throw new IllegalArgumentException("a blocked depthwise convolution reads a blocked input: " + g);
    }
  }

  // ---------------------------------------------------------------- convolutions

  /**
   * y[n,k,p,q] = bias[k] + Σ_{c, r, s} w[k, c, r, s] · x[n, c0 + c, p·strideH − padTop + r·dilationH,
   * q·strideW − padLeft + s·dilationW] where c0 is the first input channel of k's group. The taps
   * r and s that land inside the input are worked out once per output row and column, so the
   * innermost loop has no bounds checks.
   */
  @Override
  public void conv2d(ConvGeometry g, float[] x, float[] weight, float[] bias, float[] y) {
    final int C = g.c(), H = g.h(), W = g.w(), K = g.k(), R = g.r(), S = g.s(), P = g.p(), Q = g.q();
    final int cPerGroup = g.inputChannelsPerGroup();
    final int kPerGroup = g.outputChannelsPerGroup();
    for (int n = 0; n < g.n(); n++) {
      for (int k = 0; k < K; k++) {
        int c0 = (k / kPerGroup) * cPerGroup;
        double b = bias == null ? 0.0 : bias[k];
        int yPlane = (n * K + k) * P * Q;
        for (int p = 0; p < P; p++) {
          int h0 = p * g.strideH() - g.padTop();
          int rFirst = Taps.first(h0, g.dilationH(), R);
          int rEnd = Taps.end(h0, g.dilationH(), H, R);
          for (int q = 0; q < Q; q++) {
            int w0 = q * g.strideW() - g.padLeft();
            int sFirst = Taps.first(w0, g.dilationW(), S);
            int sEnd = Taps.end(w0, g.dilationW(), W, S);
            double sum = 0.0;
            for (int c = 0; c < cPerGroup; c++) {
              int xPlane = (n * C + c0 + c) * H * W;
              int wPlane = (k * cPerGroup + c) * R * S;
              for (int r = rFirst; r < rEnd; r++) {
                int xRow = xPlane + (h0 + r * g.dilationH()) * W + w0;
                int wRow = wPlane + r * S;
                for (int s = sFirst; s < sEnd; s++) {
                  sum += (double) weight[wRow + s] * x[xRow + s * g.dilationW()];
                }
              }
            }
            y[yPlane + p * Q + q] = (float) (b + sum);
          }
        }
      }
    }
  }

  /** {@link #conv2d(ConvGeometry, float[], float[], float[], float[])}, then the epilogue as its record defines it. */
  @Override
  public void conv2d(ConvGeometry g, float[] x, float[] weight, float[] bias, ConvEpilogue epilogue, float[] y) {
    conv2d(g, x, weight, bias, y);
    epilogue.applyTo(g.n(), g.k(), g.p() * g.q(), y);
  }

  /** The transposed convolution, then the epilogue as its record defines it. */
  @Override
  public void convTranspose2d(ConvTransposeGeometry g, float[] x, float[] weight, float[] bias, ConvEpilogue epilogue, float[] y) {
    convTranspose2d(g, x, weight, bias, y);
    epilogue.applyTo(g.n(), g.k(), g.p() * g.q(), y);
  }

  /**
   * Gathers each output: y[n,k,p,q] = bias[k] + Σ x[n,c,h,w] · w[c, k − g·K/groups, r, s] over the
   * (c, r, h, s, w) of k's group with h·strideH + r·dilationH == p + padTop and
   * w·strideW + s·dilationW == q + padLeft. The matching (r, h) and (s, w) pairs are listed once per
   * output row and column.
   */
  @Override
  public void convTranspose2d(ConvTransposeGeometry g, float[] x, float[] weight, float[] bias, float[] y) {
    final int C = g.c(), H = g.h(), W = g.w(), K = g.k(), R = g.r(), S = g.s(), P = g.p(), Q = g.q();
    final int cPerGroup = C / g.groups();
    final int kPerGroup = K / g.groups();
    int[] rTaps = new int[R];
    int[] hTaps = new int[R];
    int[] sTaps = new int[S];
    int[] wTaps = new int[S];
    for (int n = 0; n < g.n(); n++) {
      for (int k = 0; k < K; k++) {
        int c0 = (k / kPerGroup) * cPerGroup;
        int kInGroup = k % kPerGroup;
        double b = bias == null ? 0.0 : bias[k];
        int yPlane = (n * K + k) * P * Q;
        for (int p = 0; p < P; p++) {
          int rCount = Taps.transposed(p + g.padTop(), g.strideH(), g.dilationH(), H, R, rTaps, hTaps);
          for (int q = 0; q < Q; q++) {
            int sCount = Taps.transposed(q + g.padLeft(), g.strideW(), g.dilationW(), W, S, sTaps, wTaps);
            double sum = 0.0;
            for (int c = c0; c < c0 + cPerGroup; c++) {
              int xPlane = (n * C + c) * H * W;
              int wPlane = (c * kPerGroup + kInGroup) * R * S;
              for (int i = 0; i < rCount; i++) {
                int xRow = xPlane + hTaps[i] * W;
                int wRow = wPlane + rTaps[i] * S;
                for (int j = 0; j < sCount; j++) {
                  sum += (double) weight[wRow + sTaps[j]] * x[xRow + wTaps[j]];
                }
              }
            }
            y[yPlane + p * Q + q] = (float) (b + sum);
          }
        }
      }
    }
  }

  // ---------------------------------------------------------------- pooling

  @Override
  public void maxPool2d(PoolGeometry g, float[] x, float[] y) {
    pool2d(g, true, false, x, y);
  }

  /**
   * The definition: each lane of each block pooled as its own plane, {@link #maxPool2d}'s walk;
   * runs on the calling thread.
   */
  @Override
  public void maxPool2dBlocked(PoolGeometry g, int block, float[] x, float[] y, Parallel parallel) {
    int planes = g.n() * ChannelBlocks.blocks(g.c(), block);
    int inPlane = g.h() * g.w(), outPlane = g.p() * g.q();
    PoolGeometry lane = new PoolGeometry(1, 1, g.h(), g.w(), g.r(), g.s(), g.strideH(), g.strideW(), g.dilationH(),
        g.dilationW(), g.padTop(), g.padLeft(), g.padBottom(), g.padRight(), g.ceilMode());
    float[] in = new float[inPlane];
    float[] out = new float[outPlane];
    for (int plane = 0; plane < planes; plane++) {
      for (int l = 0; l < block; l++) {
        for (int j = 0; j < inPlane; j++) {
          in[j] = x[(plane * inPlane + j) * block + l];
        }
        pool2d(lane, true, false, in, out);
        for (int j = 0; j < outPlane; j++) {
          y[(plane * outPlane + j) * block + l] = out[j];
        }
      }
    }
  }

  @Override
  public void avgPool2d(PoolGeometry g, boolean countIncludePad, float[] x, float[] y) {
    pool2d(g, false, countIncludePad, x, y);
  }

  /**
   * One window walk for both pools. Max: the largest in-range value. Average: the in-range sum
   * divided by the number of in-range positions, or with {@code countIncludePad} by the number of
   * positions inside [−padTop, H + padBottom) × [−padLeft, W + padRight) (never those beyond the
   * declared pads that ceil mode adds).
   */
  private static void pool2d(PoolGeometry g, boolean max, boolean countIncludePad, float[] x, float[] y) {
    final int H = g.h(), W = g.w(), R = g.r(), S = g.s(), P = g.p(), Q = g.q();
    final int dH = g.dilationH(), dW = g.dilationW();
    for (int plane = 0; plane < g.n() * g.c(); plane++) {
      int xPlane = plane * H * W;
      int yPlane = plane * P * Q;
      for (int p = 0; p < P; p++) {
        int h0 = p * g.strideH() - g.padTop();
        int rFirst = Taps.first(h0, dH, R);
        int rEnd = Taps.end(h0, dH, H, R);
        int rPadded = Taps.count(h0 + g.padTop(), dH, g.padTop() + H + g.padBottom(), R);
        for (int q = 0; q < Q; q++) {
          int w0 = q * g.strideW() - g.padLeft();
          int sFirst = Taps.first(w0, dW, S);
          int sEnd = Taps.end(w0, dW, W, S);
          float result;
          if (max) {
            float m = Float.NEGATIVE_INFINITY;
            for (int r = rFirst; r < rEnd; r++) {
              int xRow = xPlane + (h0 + r * dH) * W + w0;
              for (int s = sFirst; s < sEnd; s++) {
                float v = x[xRow + s * dW];
                if (v > m) {
                  m = v;
                }
              }
            }
            result = m;
          } else {
            double sum = 0.0;
            for (int r = rFirst; r < rEnd; r++) {
              int xRow = xPlane + (h0 + r * dH) * W + w0;
              for (int s = sFirst; s < sEnd; s++) {
                sum += x[xRow + s * dW];
              }
            }
            int count = countIncludePad
                ? rPadded * Taps.count(w0 + g.padLeft(), dW, g.padLeft() + W + g.padRight(), S)
                : Math.max(0, rEnd - rFirst) * Math.max(0, sEnd - sFirst);
            result = count == 0 ? 0f : (float) (sum / count);
          }
          y[yPlane + p * Q + q] = result;
        }
      }
    }
  }

  @Override
  public void globalAvgPool(int planes, int spatial, float[] x, float[] y) {
    for (int i = 0; i < planes; i++) {
      double sum = 0.0;
      for (int j = i * spatial; j < (i + 1) * spatial; j++) {
        sum += x[j];
      }
      y[i] = (float) (sum / spatial);
    }
  }

  // ---------------------------------------------------------------- per-channel affine

  /** y = (float) (γ·(x − μ) / sqrt(var + ε) + β), all in double; the square root is taken once per channel. */
  @Override
  public void batchNorm(int n, int c, int spatial, float[] x, float[] gamma, float[] beta, float[] mean,
      float[] var, float epsilon, float[] y) {
    for (int ch = 0; ch < c; ch++) {
      double std = Math.sqrt((double) var[ch] + (double) epsilon);
      double g = gamma[ch];
      double b = beta[ch];
      double mu = mean[ch];
      for (int i = 0; i < n; i++) {
        int base = (i * c + ch) * spatial;
        for (int j = base; j < base + spatial; j++) {
          y[j] = (float) (g * (x[j] - mu) / std + b);
        }
      }
    }
  }

  /** y = x·scale[c] + shift[c] in float: a product rounded to float, then a sum rounded to float. */
  @Override
  public void scaleShift(int n, int c, int spatial, float[] x, float[] scale, float[] shift, float[] y) {
    for (int i = 0; i < n; i++) {
      for (int ch = 0; ch < c; ch++) {
        int base = (i * c + ch) * spatial;
        for (int j = base; j < base + spatial; j++) {
          y[j] = x[j] * scale[ch] + shift[ch];
        }
      }
    }
  }

  // ---------------------------------------------------------------- elementwise

  @Override
  public void activation(Activation f, int length, float[] x, float[] y) {
    for (int i = 0; i < length; i++) {
      y[i] = f.apply(x[i]);
    }
  }

  @Override
  public void binary(BinaryOp op, int[] outShape, float[] a, int[] aStrides, float[] b, int[] bStrides, float[] y) {
    int[] index = new int[outShape.length];
    int size = Shapes.size(outShape);
    for (int i = 0; i < size; i++) {
      y[i] = op.apply(a[Shapes.offset(index, aStrides)], b[Shapes.offset(index, bStrides)]);
      Shapes.increment(index, outShape);
    }
  }

  @Override
  public void unary(UnaryOp op, int length, float[] x, float[] y) {
    for (int i = 0; i < length; i++) {
      y[i] = op.apply(x[i]);
    }
  }

  // ---------------------------------------------------------------- gemm

  /**
   * C(i, j) = (float) (alpha·Σ_l A(i, l)·B(l, j) + beta·C(i, j)) in double, where A(i, l) is
   * a[aOff + i·lda + l] or, transposed, a[aOff + l·lda + i], and likewise B; with beta == 0 the
   * old C is not read.
   */
  @Override
  public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
      float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
    // A(i, l) = a[aOff + i·aRow + l·aCol], B(l, j) = b[bOff + l·bRow + j·bCol].
    int aRow = transA ? 1 : lda;
    int aCol = transA ? lda : 1;
    int bRow = transB ? 1 : ldb;
    int bCol = transB ? ldb : 1;
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double sum = 0.0;
        for (int l = 0; l < k; l++) {
          sum += (double) a[aOff + i * aRow + l * aCol] * b[bOff + l * bRow + j * bCol];
        }
        int ci = cOff + i * ldc + j;
        double result = alpha * sum;
        if (beta != 0f) {
          result += (double) beta * c[ci];
        }
        c[ci] = (float) result;
      }
    }
  }

  /** Each batch's product by {@link #gemm}, summed in double and rounded once. */
  @Override
  public void batchedMatMul(int batches, int m, int n, int k, float[] a, int[] aOffsets, float[] b, int[] bOffsets,
      float[] c) {
    for (int t = 0; t < batches; t++) {
      gemm(false, false, m, n, k, 1f, a, aOffsets[t], k, b, bOffsets[t], n, 0f, c, t * m * n, n);
    }
  }

  // ---------------------------------------------------------------- reductions over an axis

  /** y = exp(x − max) / Σ exp(x − max) along the middle axis, exp and sum in double. */
  @Override
  public void softmax(int outer, int axis, int inner, float[] x, float[] y) {
    for (int o = 0; o < outer; o++) {
      for (int i = 0; i < inner; i++) {
        int base = o * axis * inner + i;
        float max = Float.NEGATIVE_INFINITY;
        for (int a = 0; a < axis; a++) {
          max = Math.max(max, x[base + a * inner]);
        }
        double sum = 0.0;
        for (int a = 0; a < axis; a++) {
          sum += Math.exp((double) x[base + a * inner] - max);
        }
        for (int a = 0; a < axis; a++) {
          y[base + a * inner] = (float) (Math.exp((double) x[base + a * inner] - max) / sum);
        }
      }
    }
  }

  /** Sums every x into its output slot (the index with reduced axes at 0) in double, then divides by the count. */
  @Override
  public void reduceMean(int[] shape, boolean[] reduced, float[] x, float[] y) {
    int count = 1;
    for (int d = 0; d < shape.length; d++) {
      if (reduced[d]) {
        count *= shape[d];
      }
    }
    double[] sums = sums(shape, reduced, x);
    for (int j = 0; j < sums.length; j++) {
      y[j] = (float) (sums[j] / count);
    }
  }

  /** Sums every x into its output slot in double, rounded once. */
  @Override
  public void reduceSum(int[] shape, boolean[] reduced, float[] x, float[] y) {
    double[] sums = sums(shape, reduced, x);
    for (int j = 0; j < sums.length; j++) {
      y[j] = (float) sums[j];
    }
  }

  @Override
  public void reduceMax(int[] shape, boolean[] reduced, float[] x, float[] y) {
    int[] yStrides = reducedStrides(shape, reduced);
    Arrays.fill(y, 0, outputSize(shape, reduced), Float.NEGATIVE_INFINITY);
    int[] index = new int[shape.length];
    int size = Shapes.size(shape);
    for (int i = 0; i < size; i++) {
      int j = Shapes.offset(index, yStrides);
      y[j] = Math.max(y[j], x[i]);
      Shapes.increment(index, shape);
    }
  }

  /** Per output slot, the sum in double of the x that land on it. */
  private static double[] sums(int[] shape, boolean[] reduced, float[] x) {
    int[] yStrides = reducedStrides(shape, reduced);
    double[] sums = new double[outputSize(shape, reduced)];
    int[] index = new int[shape.length];
    int size = Shapes.size(shape);
    for (int i = 0; i < size; i++) {
      sums[Shapes.offset(index, yStrides)] += x[i];
      Shapes.increment(index, shape);
    }
    return sums;
  }

  private static int outputSize(int[] shape, boolean[] reduced) {
    int n = 1;
    for (int d = 0; d < shape.length; d++) {
      n *= reduced[d] ? 1 : shape[d];
    }
    return n;
  }

  /** Contiguous strides of the reduced shape, 0 on the reduced axes, so every x index lands on its output slot. */
  private static int[] reducedStrides(int[] shape, boolean[] reduced) {
    int[] yShape = shape.clone();
    for (int d = 0; d < shape.length; d++) {
      if (reduced[d]) {
        yShape[d] = 1;
      }
    }
    int[] yStrides = Shapes.contiguousStrides(yShape);
    for (int d = 0; d < shape.length; d++) {
      if (reduced[d]) {
        yStrides[d] = 0;
      }
    }
    return yStrides;
  }

  /** Mean, then variance as the mean of squared deviations (two passes), and the output, all in double, rounded once. */
  @Override
  public void layerNorm(int rows, int cols, float[] x, float[] gamma, float[] beta, float epsilon, float[] y) {
    for (int r = 0; r < rows; r++) {
      int base = r * cols;
      double sum = 0.0;
      for (int j = 0; j < cols; j++) {
        sum += x[base + j];
      }
      double mean = sum / cols;
      double squares = 0.0;
      for (int j = 0; j < cols; j++) {
        double d = x[base + j] - mean;
        squares += d * d;
      }
      double inverseStd = 1.0 / Math.sqrt(squares / cols + epsilon);
      for (int j = 0; j < cols; j++) {
        double v = (x[base + j] - mean) * inverseStd * gamma[j];
        y[base + j] = (float) (beta == null ? v : v + beta[j]);
      }
    }
  }

  // ---------------------------------------------------------------- resize

  /**
   * NEAREST copies the input element at the rounded, clamped coordinate; LINEAR blends the four
   * neighbours: y = (1−fy)(1−fx)·x[y0,x0] + (1−fy)fx·x[y0,x1] + fy(1−fx)·x[y1,x0] + fy·fx·x[y1,x1],
   * in double, rounded once.
   */
  @Override
  public void resize2d(int n, int c, int h, int w, int outH, int outW, ResizeSpec spec, float[] x, float[] y) {
    int planes = n * c;
    if (spec.mode() == ResizeSpec.Mode.NEAREST) {
      int[] row = ResizeAxis.nearest(spec, spec.scaleH(), h, outH);
      int[] col = ResizeAxis.nearest(spec, spec.scaleW(), w, outW);
      for (int plane = 0; plane < planes; plane++) {
        for (int i = 0; i < outH; i++) {
          int xRow = (plane * h + row[i]) * w;
          int yRow = (plane * outH + i) * outW;
          for (int j = 0; j < outW; j++) {
            y[yRow + j] = x[xRow + col[j]];
          }
        }
      }
      return;
    }
    ResizeAxis.Linear rows = ResizeAxis.Linear.of(spec, spec.scaleH(), h, outH);
    ResizeAxis.Linear cols = ResizeAxis.Linear.of(spec, spec.scaleW(), w, outW);
    for (int plane = 0; plane < planes; plane++) {
      for (int i = 0; i < outH; i++) {
        int top = (plane * h + rows.lo()[i]) * w;
        int bottom = (plane * h + rows.hi()[i]) * w;
        double fy = rows.frac()[i];
        int yRow = (plane * outH + i) * outW;
        for (int j = 0; j < outW; j++) {
          int left = cols.lo()[j];
          int right = cols.hi()[j];
          double fx = cols.frac()[j];
          y[yRow + j] = (float) ((1 - fy) * (1 - fx) * x[top + left] + (1 - fy) * fx * x[top + right]
              + fy * (1 - fx) * x[bottom + left] + fy * fx * x[bottom + right]);
        }
      }
    }
  }

  // ---------------------------------------------------------------- data movement

  @Override
  public void transpose(int[] shape, int[] perm, float[] x, float[] y) {
    int rank = shape.length;
    int[] xStrides = Shapes.contiguousStrides(shape);
    int[] outShape = new int[rank];
    int[] strides = new int[rank]; // the x stride of each output axis
    for (int i = 0; i < rank; i++) {
      outShape[i] = shape[perm[i]];
      strides[i] = xStrides[perm[i]];
    }
    int[] index = new int[rank];
    int size = Shapes.size(outShape);
    for (int i = 0; i < size; i++) {
      y[i] = x[Shapes.offset(index, strides)];
      Shapes.increment(index, outShape);
    }
  }

  @Override
  public void pad(int[] shape, int[] padsBegin, int[] padsEnd, float value, float[] x, float[] y) {
    int rank = shape.length;
    int[] outShape = new int[rank];
    for (int d = 0; d < rank; d++) {
      outShape[d] = padsBegin[d] + shape[d] + padsEnd[d];
    }
    Arrays.fill(y, 0, Shapes.size(outShape), value);
    int[] yStrides = Shapes.contiguousStrides(outShape);
    int origin = Shapes.offset(padsBegin, yStrides); // where x[0, …, 0] lands
    int[] index = new int[rank];
    int size = Shapes.size(shape);
    for (int i = 0; i < size; i++) {
      y[origin + Shapes.offset(index, yStrides)] = x[i];
      Shapes.increment(index, shape);
    }
  }

  @Override
  public void slice(int[] shape, int[] starts, int[] steps, int[] outShape, float[] x, float[] y) {
    int rank = shape.length;
    int[] xStrides = Shapes.contiguousStrides(shape);
    int[] strides = new int[rank]; // how far one step along each output axis moves in x
    for (int d = 0; d < rank; d++) {
      strides[d] = steps[d] * xStrides[d];
    }
    int origin = Shapes.offset(starts, xStrides);
    int[] index = new int[rank];
    int size = Shapes.size(outShape);
    for (int i = 0; i < size; i++) {
      y[i] = x[origin + Shapes.offset(index, strides)];
      Shapes.increment(index, outShape);
    }
  }

  @Override
  public void gather(int outer, int axisLen, int inner, int[] indices, float[] x, float[] y) {
    for (int o = 0; o < outer; o++) {
      for (int i = 0; i < indices.length; i++) {
        System.arraycopy(x, (o * axisLen + indices[i]) * inner, y, (o * indices.length + i) * inner, inner);
      }
    }
  }

  @Override
  public void concat(int outer, int[] axisLens, int inner, float[][] xs, float[] y) {
    int yPos = 0;
    for (int o = 0; o < outer; o++) {
      for (int j = 0; j < xs.length; j++) {
        int block = axisLens[j] * inner;
        System.arraycopy(xs[j], o * block, y, yPos, block);
        yPos += block;
      }
    }
  }

  // ---------------------------------------------------------------- fold arithmetic (load time, in double)

  @Override
  public boolean scaleBlocks(int n, float[] w, int block, double[] scale, float[] out) {
    // Block by block rather than scale[i / block] per element: the same products, without a
    // division per weight (this runs at load, on every weight, mostly before the JIT has compiled it).
    for (int j = 0, blocks = Math.ceilDiv(n, block); j < blocks; j++) {
      double s = scale[j];
      for (int i = j * block, end = (int) Math.min(n, (long) (j + 1) * block); i < end; i++) {
        double v = w[i] * s;
        if (Math.abs(v) > Float.MAX_VALUE) {
          return false;
        }
        out[i] = (float) v;
      }
    }
    return true;
  }

  @Override
  public boolean affineBias(int channels, float[] b, double[] scale, double[] shift, float[] out) {
    for (int k = 0; k < channels; k++) {
      double v = (b == null ? 0.0 : b[k]) * scale[k] + shift[k];
      if (Math.abs(v) > Float.MAX_VALUE) {
        return false;
      }
      out[k] = (float) v;
    }
    return true;
  }

  @Override
  public boolean roundToFloat(int n, double[] v, float[] out) {
    for (int i = 0; i < n; i++) {
      if (!(Math.abs(v[i]) <= Float.MAX_VALUE)) {
        return false;
      }
      out[i] = (float) v[i];
    }
    return true;
  }

  @Override
  public int batchNormAffine(int channels, float[] gamma, float[] beta, float[] mean, float[] var, float epsilon,
      double[] scale, double[] shift) {
    double eps = epsilon;
    for (int c = 0; c < channels; c++) {
      double d = (double) var[c] + eps;
      scale[c] = gamma[c] / Math.sqrt(d);
      shift[c] = beta[c] - mean[c] * scale[c];
      if (!(d > 0) || !(Math.abs(scale[c]) <= Float.MAX_VALUE) || !(Math.abs(shift[c]) <= Float.MAX_VALUE)) {
        return c;
      }
    }
    return -1;
  }
}
