package dev.vfuse.quant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.vfuse.kernel.Activation;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The clipped-normal closed forms against numeric integration and sampling, and known values. */
class NormalMomentsTest {

  @Test
  void reluOfAStandardNormalHasMeanOneOverRootTwoPi() {
    double[] m = NormalMoments.of(new Activation.Relu(), 0, 1);
    assertThat(m[0]).isCloseTo(1 / Math.sqrt(2 * Math.PI), within(1e-7));
    // E[relu(X)²] = 1/2, so Var = 1/2 − 1/(2π).
    assertThat(m[1]).isCloseTo(0.5 - 1 / (2 * Math.PI), within(1e-7));
  }

  @Test
  void identityKeepsTheMomentsAndZeroSpreadGivesTheActivationOfTheMean() {
    assertThat(NormalMoments.of(null, 1.5, 2)).containsExactly(1.5, 4.0);
    assertThat(NormalMoments.of(new Activation.Clip(0, 6), 7.5, 0)[0]).isEqualTo(6.0);
  }

  @ParameterizedTest
  @CsvSource({"0, 1", "2, 0.5", "-1.5, 2", "5.5, 1", "3, 3"})
  void closedFormsMatchNumericIntegration(double mu, double sigma) {
    for (Activation f : new Activation[] {new Activation.Relu(), new Activation.Clip(0, 6), new Activation.Clip(-1, 1)}) {
      double[] closed = NormalMoments.of(f, mu, sigma);
      double[] numeric = NormalMoments.numeric(f, mu, sigma);
      // erfc's 1.2e-7 relative error bounds the closed form; Simpson's error is far smaller.
      assertThat(closed[0]).as("%s mean", f).isCloseTo(numeric[0], within(1e-6 * (1 + Math.abs(mu) + sigma)));
      assertThat(closed[1]).as("%s variance", f).isCloseTo(numeric[1], within(1e-6 * (1 + mu * mu + sigma * sigma)));
    }
  }

  @ParameterizedTest
  @CsvSource({"0.3, 1.2", "-2, 1.5", "4, 0.7"})
  void numericMomentsMatchSampling(double mu, double sigma) {
    SplittableRandom random = new SplittableRandom(3);
    int n = 400_000;
    for (Activation f : new Activation[] {new Activation.HardSwish(), new Activation.Sigmoid(),
        new Activation.HardSigmoid(0.2f, 0.5f), new Activation.Relu()}) {
      double s1 = 0, s2 = 0;
      for (int i = 0; i < n; i++) {
        double v = f.apply((float) (mu + sigma * random.nextGaussian()));
        s1 += v;
        s2 += v * v;
      }
      double mean = s1 / n;
      double var = s2 / n - mean * mean;
      double[] m = NormalMoments.of(f, mu, sigma);
      // Six standard errors of the sample mean.
      assertThat(m[0]).as("%s mean", f).isCloseTo(mean, within(6 * Math.sqrt(var / n) + 1e-9));
      assertThat(m[1]).as("%s variance", f).isCloseTo(var, within(0.02 * var + 1e-9));
    }
  }
}
