package dev.vfuse.quant;

import dev.vfuse.kernel.Activation;

/**
 * E[f(X)] and Var[f(X)] for X ~ N(μ, σ²) and an activation f: how data-free bias correction turns
 * a folded BatchNorm's promise (its output is N(β, γ²) per channel) into the expected input of the
 * next layer.
 *
 * <p>Identity, ReLU and Clip (ReLU6 is Clip(0, 6)) use the closed form of a clipped normal (Nagel
 * et al. 2019, appendix C): with α = (a − μ)/σ and b' = (b − μ)/σ, Φ the normal CDF and φ its density,
 *
 * <pre>
 *   E[clip(X, a, b)] = a·Φ(α) + b·(1 − Φ(b')) + μ·(Φ(b') − Φ(α)) + σ·(φ(α) − φ(b'))
 *   E[clip(X, a, b)²] = a²·Φ(α) + b²·(1 − Φ(b')) + μ²·Z + 2μσ·(φ(α) − φ(b')) + σ²·(Z + α·φ(α) − b'·φ(b'))
 * </pre>
 *
 * with Z = Φ(b') − Φ(α). Other activations (HardSwish, HardSigmoid, Sigmoid, Tanh, LeakyRelu) are
 * integrated numerically: composite Simpson over μ ± 12σ on 4096 intervals, which the tests check
 * against the closed forms. σ = 0 gives f(μ).
 */
public final class NormalMoments {
  private static final int INTERVALS = 4096;
  private static final double SPAN = 12.0;
  private static final double INV_SQRT_2PI = 1.0 / Math.sqrt(2 * Math.PI);

  private NormalMoments() {}

  /** {E[f(X)], Var[f(X)]} for X ~ N(mean, std²); f null is the identity. */
  public static double[] of(Activation f, double mean, double std) {
    if (std == 0) {
      double v = f == null ? mean : f.apply((float) mean);
      return new double[] {v, 0};
    }
    return switch (f) {
      case null -> new double[] {mean, std * std};
      case Activation.Relu r -> clipped(mean, std, 0, Double.POSITIVE_INFINITY);
      case Activation.Clip c -> clipped(mean, std, c.min(), c.max());
      default -> numeric(f, mean, std);
    };
  }

  /** The moments of clip(X, a, b), a ≤ b (either may be infinite). */
  static double[] clipped(double mu, double sigma, double a, double b) {
    double alpha = (a - mu) / sigma;
    double beta = (b - mu) / sigma;
    double cdfA = Double.isInfinite(a) ? 0 : cdf(alpha);
    double cdfB = Double.isInfinite(b) ? 1 : cdf(beta);
    double pdfA = Double.isInfinite(a) ? 0 : pdf(alpha);
    double pdfB = Double.isInfinite(b) ? 0 : pdf(beta);
    double z = cdfB - cdfA;
    double lower = Double.isInfinite(a) ? 0 : a * cdfA;
    double upper = Double.isInfinite(b) ? 0 : b * (1 - cdfB);
    double m1 = lower + upper + mu * z + sigma * (pdfA - pdfB);
    double lower2 = Double.isInfinite(a) ? 0 : a * a * cdfA;
    double upper2 = Double.isInfinite(b) ? 0 : b * b * (1 - cdfB);
    double tailA = Double.isInfinite(a) ? 0 : alpha * pdfA;
    double tailB = Double.isInfinite(b) ? 0 : beta * pdfB;
    double m2 = lower2 + upper2 + mu * mu * z + 2 * mu * sigma * (pdfA - pdfB) + sigma * sigma * (z + tailA - tailB);
    return new double[] {m1, Math.max(0, m2 - m1 * m1)};
  }

  /** Simpson's rule for E[f] and E[f²] over μ ± 12σ. */
  static double[] numeric(Activation f, double mu, double sigma) {
    double h = 2 * SPAN / INTERVALS;
    double m1 = 0;
    double m2 = 0;
    for (int i = 0; i <= INTERVALS; i++) {
      double z = -SPAN + i * h;
      double w = (i == 0 || i == INTERVALS) ? 1 : (i % 2 == 1 ? 4 : 2);
      double v = f.apply((float) (mu + sigma * z));
      double p = w * pdf(z);
      m1 += p * v;
      m2 += p * v * v;
    }
    m1 *= h / 3;
    m2 *= h / 3;
    return new double[] {m1, Math.max(0, m2 - m1 * m1)};
  }

  static double pdf(double z) {
    return INV_SQRT_2PI * Math.exp(-0.5 * z * z);
  }

  /** Φ(z) = erfc(−z/√2)/2. */
  static double cdf(double z) {
    return 0.5 * erfc(-z / Math.sqrt(2));
  }

  /**
   * erfc by the Chebyshev-fitted formula of Numerical Recipes (erfcc), fractional error below
   * 1.2e-7 everywhere: far below what the statistics it feeds are known to.
   */
  static double erfc(double x) {
    double z = Math.abs(x);
    double t = 1 / (1 + 0.5 * z);
    double r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
        + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
        + t * (-0.82215223 + t * 0.17087277)))))))));
    return x >= 0 ? r : 2 - r;
  }
}
