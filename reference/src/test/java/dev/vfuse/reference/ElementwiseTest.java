package dev.vfuse.reference;

import static dev.vfuse.reference.Floats.assertClose;

import dev.vfuse.kernel.Activation;
import dev.vfuse.kernel.BinaryOp;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Activations, broadcast binary ops, batchNorm and scaleShift. */
class ElementwiseTest {

  private static final float NAN = Float.NaN;

  private final ReferenceKernels kernels = new ReferenceKernels();

  private void activation(Activation f, float[] x, float[] expected) {
    float[] y = Floats.output(x.length);
    kernels.activation(f, x.length, x, y);
    assertClose(f + " at " + Arrays.toString(x), expected, y, 1e-7);
  }

  @Test
  void relu() {
    activation(new Activation.Relu(), new float[] {-1, 0, 2.5f, NAN}, new float[] {0, 0, 2.5f, 0});
  }

  @Test
  void leakyRelu() {
    // −2 → 0.1·−2 = −0.2; 0 is on the x ≥ 0 side.
    activation(new Activation.LeakyRelu(0.1f), new float[] {-2, 0, 3}, new float[] {0.1f * -2f, 0, 3});
  }

  @Test
  void clipAsRelu6() {
    activation(new Activation.Clip(0, 6), new float[] {-1, 0, 3, 6, 7, NAN}, new float[] {0, 0, 3, 6, 6, NAN});
  }

  @Test
  void sigmoid() {
    // 1 / (1 + e^0) = 0.5; 1 / (1 + e^−2) = 1 / 1.13533528 = 0.88079708; 1 / (1 + e^2) = 0.11920292
    activation(new Activation.Sigmoid(), new float[] {0, 2, -2, 100}, new float[] {0.5f, 0.88079708f, 0.11920292f, 1});
  }

  @Test
  void hardSigmoid() {
    // 0.2x + 0.5: −3 → −0.1 → 0; −2.5 → 0 (boundary); 0 → 0.5; 1 → 0.7; 2.5 → 1 (boundary); 3 → 1.1 → 1
    activation(new Activation.HardSigmoid(0.2f, 0.5f), new float[] {-3, -2.5f, 0, 1, 2.5f, 3},
        new float[] {0, 0, 0.5f, 0.7f, 1, 1});
  }

  @Test
  void hardSwish() {
    // x·clamp01(x/6 + 1/2): −4 → 0; −3 → 0 (boundary); −1 → −1·(1/3) = −0.33333334; 0 → 0;
    // 1 → 1·(2/3) = 0.6666667; 3 → 3 (boundary); 4 → 4
    activation(new Activation.HardSwish(), new float[] {-4, -3, -1, 0, 1, 3, 4},
        new float[] {0, 0, -1 / 3f, 0, 2 / 3f, 3, 4});
  }

  @Test
  void tanh() {
    // tanh(1) = 0.76159416, tanh(−0.5) = −0.46211716, tanh(20) = 1 in float
    activation(new Activation.Tanh(), new float[] {0, 1, -0.5f, 20}, new float[] {0, 0.76159416f, -0.46211716f, 1});
  }

  @Test
  void activationInPlaceTouchesOnlyItsLength() {
    float[] x = {-1, 2, -3, Floats.SENTINEL, Floats.SENTINEL};
    kernels.activation(new Activation.Relu(), 3, x, x);
    assertClose("relu in place on 3 of 5", new float[] {0, 2, 0}, x, 0);
  }

  @Test
  void binaryBroadcastsAColumnOverARank3Tensor() {
    // a is [2, 3, 4] = 0..23 (strides 12, 4, 1); b is [3, 1] = [100, 200, 300], aligned to [1, 3, 1]
    // (strides 0, 1, 0). y[i, j, k] = a[12i + 4j + k] + b[j] = 12i + 4j + k + 100·(j + 1).
    float[] expected = new float[24];
    for (int i = 0; i < 2; i++) {
      for (int j = 0; j < 3; j++) {
        for (int k = 0; k < 4; k++) {
          expected[12 * i + 4 * j + k] = 12 * i + 4 * j + k + 100 * (j + 1);
        }
      }
    }
    float[] y = Floats.output(24);
    kernels.binary(BinaryOp.ADD, new int[] {2, 3, 4}, Floats.iota(24), new int[] {12, 4, 1},
        new float[] {100, 200, 300}, new int[] {0, 1, 0}, y);
    assertClose("[2,3,4] + [3,1]", expected, y, 0);
  }

  @Test
  void binaryInPlaceOnTheContiguousOperand() {
    // a = [2, 3] = [1..6] divided by a row b = [1, 2, 4] (strides 0, 1), written over a.
    float[] a = {1, 2, 3, 4, 5, 6, Floats.SENTINEL};
    kernels.binary(BinaryOp.DIV, new int[] {2, 3}, a, new int[] {3, 1}, new float[] {1, 2, 4}, new int[] {0, 1}, a);
    assertClose("[2,3] / [3] in place", new float[] {1, 1, 0.75f, 4, 2.5f, 1.5f}, a, 0);
  }

  @Test
  void binaryOfRankZeroIsOneElement() {
    float[] y = Floats.output(1);
    kernels.binary(BinaryOp.SUB, new int[0], new float[] {5}, new int[0], new float[] {7}, new int[0], y);
    assertClose("rank 0: 5 − 7", new float[] {-2}, y, 0);
    kernels.binary(BinaryOp.MUL, new int[0], new float[] {5}, new int[0], new float[] {7}, new int[0], y);
    assertClose("rank 0: 5 · 7", new float[] {35}, y, 0);
  }

  @Test
  void batchNorm() {
    // N 1, C 2, spatial 2, x = [1, 2 | 3, 4], ε = 0.25.
    // channel 0: γ 2, β 0.5, μ 1, var 3.75 → sqrt(4) = 2: y = 2·(x − 1)/2 + 0.5 = x − 0.5 → [0.5, 1.5]
    // channel 1: γ 1, β −1, μ 2, var 0 → sqrt(0.25) = 0.5: y = (x − 2)/0.5 − 1 = 2x − 5 → [1, 3]
    float[] y = Floats.output(4);
    kernels.batchNorm(1, 2, 2, new float[] {1, 2, 3, 4}, new float[] {2, 1}, new float[] {0.5f, -1},
        new float[] {1, 2}, new float[] {3.75f, 0}, 0.25f, y);
    assertClose("batchNorm", new float[] {0.5f, 1.5f, 1, 3}, y, 0);
  }

  @Test
  void batchNormInPlaceWithTheFloatEpsilonWidened() {
    // N 2, C 1, spatial 1: var 0 so the divisor is sqrt((double) 1e-5f) = 0.0031622776… (not of 1e-5 in double).
    float eps = 1e-5f;
    float[] x = {1, -1};
    float[] expected = {(float) (1 / Math.sqrt((double) eps)), (float) (-1 / Math.sqrt((double) eps))};
    kernels.batchNorm(2, 1, 1, x, new float[] {1}, new float[] {0}, new float[] {0}, new float[] {0}, eps, x);
    assertClose("batchNorm in place", expected, x, 0);
  }

  @Test
  void scaleShift() {
    // N 2, C 2, spatial 1: channel 0 → 2x + 1, channel 1 → −x + 0.5. x = [1, 2, 3, 4].
    float[] y = Floats.output(4);
    kernels.scaleShift(2, 2, 1, new float[] {1, 2, 3, 4}, new float[] {2, -1}, new float[] {1, 0.5f}, y);
    assertClose("scaleShift", new float[] {3, -1.5f, 7, -3.5f}, y, 0);
  }
}
