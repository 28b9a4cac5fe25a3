package dev.vfuse.simd;

import dev.vfuse.kernel.ConvGeometry;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * f32 conv2d for groups == 1 as GEMM on {@link F32GemmPacked}, one batch image at a time.
 *
 * <ul>
 *   <li>1×1, stride 1, no padding: y[n] (K×PQ) = W (K×C) · x[n] (C×HW), x read in place.
 *   <li>Anything else: im2col into col [C·R·S, P·Q] with col[(c·R + r)·S + s, p·Q + q] =
 *       x[n, c, p·strideH − padTop + r·dilationH, q·strideW − padLeft + s·dilationW] (0 outside the
 *       input), then y[n] = W [K, C·R·S] · col.
 * </ul>
 *
 * Then y[n, k, ·] += bias[k]. The column buffer is allocated once per call (C·R·S·P·Q floats) and
 * reused for every image.
 */
final class F32ConvIm2col {

  private F32ConvIm2col() {}

  static void conv2d(VectorSpecies<Float> species, ConvGeometry g, float[] x, float[] w, float[] bias, float[] y) {
    if (g.groups() != 1) {
      throw new IllegalArgumentException("F32ConvIm2col takes groups == 1, got " + g.groups());
    }
    final int C = g.c(), H = g.h(), W = g.w(), K = g.k(), R = g.r(), S = g.s(), P = g.p(), Q = g.q();
    final int pq = P * Q;
    final int crs = C * R * S;
    F32GemmPacked gemm = new F32GemmPacked(species);
    boolean pointwise = R == 1 && S == 1 && g.strideH() == 1 && g.strideW() == 1 && !g.hasPadding();
    float[] col = pointwise ? null : new float[crs * pq];
    for (int n = 0; n < g.n(); n++) {
      int yOff = n * K * pq;
      if (pointwise) {
        gemm.gemm(false, false, K, pq, C, 1f, w, 0, C, x, n * C * H * W, H * W, 0f, y, yOff, pq);
      } else {
        im2col(g, x, n, col);
        gemm.gemm(false, false, K, pq, crs, 1f, w, 0, crs, col, 0, pq, 0f, y, yOff, pq);
      }
      if (bias != null) {
        addBias(species, K, pq, bias, y, yOff);
      }
    }
  }

  /** col[(c·R + r)·S + s, p·Q + q] for image n, as in the class comment. */
  static void im2col(ConvGeometry g, float[] x, int n, float[] col) {
    final int C = g.c(), H = g.h(), W = g.w(), R = g.r(), S = g.s(), P = g.p(), Q = g.q();
    final int sH = g.strideH(), sW = g.strideW(), dH = g.dilationH(), dW = g.dilationW();
    int row = 0;
    for (int c = 0; c < C; c++) {
      int xPlane = (n * C + c) * H * W;
      for (int r = 0; r < R; r++) {
        for (int s = 0; s < S; s++, row++) {
          int colRow = row * P * Q;
          // Input column of output q: q·sW + w0; in range for q in [qLo, qHi).
          int w0 = s * dW - g.padLeft();
          int qLo = Math.min(Q, Math.max(0, ceilDiv(-w0, sW)));
          int qHi = Math.max(qLo, Math.min(Q, Math.floorDiv(W - 1 - w0, sW) + 1));
          for (int p = 0; p < P; p++) {
            int dst = colRow + p * Q;
            int h = p * sH - g.padTop() + r * dH;
            if (h < 0 || h >= H) {
              Arrays.fill(col, dst, dst + Q, 0f);
              continue;
            }
            Arrays.fill(col, dst, dst + qLo, 0f);
            int src = xPlane + h * W + w0;
            if (sW == 1) {
              System.arraycopy(x, src + qLo, col, dst + qLo, qHi - qLo);
            } else {
              for (int q = qLo; q < qHi; q++) {
                col[dst + q] = x[src + q * sW];
              }
            }
            Arrays.fill(col, dst + qHi, dst + Q, 0f);
          }
        }
      }
    }
  }

  private static int ceilDiv(int a, int b) {
    return -Math.floorDiv(-a, b);
  }

  private static void addBias(VectorSpecies<Float> sp, int K, int pq, float[] bias, float[] y, int yOff) {
    for (int k = 0; k < K; k++) {
      FloatVector vb = FloatVector.broadcast(sp, bias[k]);
      int off = yOff + k * pq;
      int i = 0;
      for (int bound = sp.loopBound(pq); i < bound; i += sp.length()) {
        FloatVector.fromArray(sp, y, off + i).add(vb).intoArray(y, off + i);
      }
      if (i < pq) {
        VectorMask<Float> m = sp.indexInRange(i, pq);
        FloatVector.fromArray(sp, y, off + i, m).add(vb).intoArray(y, off + i, m);
      }
    }
  }
}
