package dev.vfuse.simd;

import static dev.vfuse.simd.FloatData.assertSame;
import static dev.vfuse.simd.FloatData.bits;
import static org.assertj.core.api.Assertions.assertThat;

import dev.vfuse.kernel.BinaryOp;
import dev.vfuse.kernel.Parallel;
import dev.vfuse.reference.ReferenceKernels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link SimdKernels#binary} against the reference, bit for bit, on every species, op and stride
 * pattern; each case also states which path it must take, so a plan that silently falls back to
 * the reference fails here.
 */
class SimdBinaryTest {

  private static final ReferenceKernels REFERENCE = new ReferenceKernels();

  /** The path {@link SimdKernels.RunPlan} must choose. */
  enum Path { VECTOR_VECTOR, VECTOR_SCALAR, SCALAR_VECTOR, REFERENCE, EMPTY }

  /** One stride pattern: output shape, the operands' strides over it, and the expected path. */
  record Case(VectorSpecies<Float> species, String label, int[] shape, int[] aStrides, int[] bStrides, Path path) {
    @Override
    public String toString() {
      return bits(species) + " " + label + " out" + Arrays.toString(shape) + " aStrides" + Arrays.toString(aStrides)
          + " bStrides" + Arrays.toString(bStrides) + " -> " + path;
    }
  }

  static Stream<Arguments> cases() {
    return VectorWidth.all().stream()
        .flatMap(species -> casesFor(species).stream())
        .flatMap(c -> Arrays.stream(BinaryOp.values()).map(op -> Arguments.of(c, op)));
  }

  static List<Case> casesFor(VectorSpecies<Float> sp) {
    int l = sp.length();
    List<Case> cases = new ArrayList<>();
    FloatData.lengthsAround(sp).forEach(n -> cases.add(broadcast(sp, "same shape", new int[] {n}, new int[] {n},
        new int[] {n}, n == 0 ? Path.EMPTY : n == 1 ? Path.REFERENCE : Path.VECTOR_VECTOR)));
    cases.add(broadcast(sp, "same shape 4-D", new int[] {2, 3, 5, l + 1}, new int[] {2, 3, 5, l + 1},
        new int[] {2, 3, 5, l + 1}, Path.VECTOR_VECTOR));
    cases.add(broadcast(sp, "per-channel b, HW=L-1", new int[] {2, 3, 1, l - 1}, new int[] {2, 3, 1, l - 1},
        new int[] {1, 3, 1, 1}, Path.VECTOR_SCALAR));
    cases.add(broadcast(sp, "per-channel b, HW=3(L+1)", new int[] {2, 3, 3, l + 1}, new int[] {2, 3, 3, l + 1},
        new int[] {1, 3, 1, 1}, Path.VECTOR_SCALAR));
    cases.add(broadcast(sp, "per-channel b, W=1", new int[] {2, 3, 2 * l + 3, 1}, new int[] {2, 3, 2 * l + 3, 1},
        new int[] {1, 3, 1, 1}, Path.VECTOR_SCALAR));
    cases.add(broadcast(sp, "per-channel a", new int[] {2, 3, 3, l + 1}, new int[] {1, 3, 1, 1},
        new int[] {2, 3, 3, l + 1}, Path.SCALAR_VECTOR));
    cases.add(broadcast(sp, "scalar b", new int[] {2, 3, 3, l + 1}, new int[] {2, 3, 3, l + 1},
        new int[] {1, 1, 1, 1}, Path.VECTOR_SCALAR));
    cases.add(broadcast(sp, "scalar a", new int[] {3, 2 * l + 3}, new int[] {1, 1}, new int[] {3, 2 * l + 3},
        Path.SCALAR_VECTOR));
    cases.add(broadcast(sp, "row bias b", new int[] {5, 2 * l + 3}, new int[] {5, 2 * l + 3}, new int[] {1, 2 * l + 3},
        Path.VECTOR_VECTOR));
    cases.add(broadcast(sp, "b broadcast over C", new int[] {2, 4, 3, l - 1}, new int[] {2, 4, 3, l - 1},
        new int[] {2, 1, 3, l - 1}, Path.VECTOR_VECTOR));
    cases.add(broadcast(sp, "a broadcast over C", new int[] {2, 3, l + 1}, new int[] {2, 1, l + 1},
        new int[] {2, 3, l + 1}, Path.VECTOR_VECTOR));
    cases.add(broadcast(sp, "per-channel b after global pool", new int[] {2, 2 * l + 3, 1, 1},
        new int[] {2, 2 * l + 3, 1, 1}, new int[] {1, 2 * l + 3, 1, 1}, Path.VECTOR_VECTOR));
    cases.add(new Case(sp, "odd stride on a size-1 axis", new int[] {2, 1, l + 1}, new int[] {l + 1, 999, 1},
        new int[] {l + 1, l + 1, 1}, Path.VECTOR_VECTOR));
    cases.add(new Case(sp, "transposed a", new int[] {l + 1, 3}, new int[] {1, l + 1}, new int[] {3, 1},
        Path.REFERENCE));
    cases.add(broadcast(sp, "both broadcast over the last axis", new int[] {4, l + 1}, new int[] {4, 1},
        new int[] {1, 1}, Path.REFERENCE));
    cases.add(new Case(sp, "rank 0", new int[] {}, new int[] {}, new int[] {}, Path.REFERENCE));
    return cases;
  }

  /** A case whose operands have numpy shapes of the output's rank, broadcast where their size is 1. */
  static Case broadcast(VectorSpecies<Float> sp, String label, int[] out, int[] aShape, int[] bShape, Path path) {
    return new Case(sp, label, out, broadcastStrides(out, aShape), broadcastStrides(out, bShape), path);
  }

  static int[] broadcastStrides(int[] out, int[] shape) {
    int[] strides = contiguousStrides(shape);
    for (int d = 0; d < out.length; d++) {
      if (shape[d] == 1 && out[d] != 1) {
        strides[d] = 0;
      }
    }
    return strides;
  }

  static int[] contiguousStrides(int[] shape) {
    int[] strides = new int[shape.length];
    int s = 1;
    for (int d = shape.length - 1; d >= 0; d--) {
      strides[d] = s;
      s *= shape[d];
    }
    return strides;
  }

  /** Elements an operand with these strides reaches: 1 + Σ (dim − 1)·stride, 0 for an empty output. */
  static int extent(int[] shape, int[] strides) {
    int last = 0;
    for (int d = 0; d < shape.length; d++) {
      if (shape[d] == 0) {
        return 0;
      }
      last += (shape[d] - 1) * strides[d];
    }
    return last + 1;
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("cases")
  void matchesReference(Case c, BinaryOp op) {
    SplittableRandom rnd = FloatData.random(c.species().vectorBitSize(), op.ordinal(), c.label().hashCode(),
        Arrays.hashCode(c.shape()));
    int size = extent(c.shape(), contiguousStrides(c.shape()));
    float[] a = FloatData.floats(rnd, extent(c.shape(), c.aStrides()), 0.1);
    float[] b = FloatData.floats(rnd, extent(c.shape(), c.bStrides()), 0.1);
    SimdKernels simd = new SimdKernels(c.species());
    String context = "binary " + op + " " + c + ", species " + c.species();

    assertThat(pathOf(SimdKernels.RunPlan.of(c.shape(), c.aStrides(), c.bStrides())))
        .as("path of %s", c)
        .isEqualTo(c.path());

    float[] expected = FloatData.sentinels(size);
    REFERENCE.binary(op, c.shape(), a.clone(), c.aStrides(), b.clone(), c.bStrides(), expected);
    int[] contiguous = contiguousStrides(c.shape());
    for (Parallel parallel : List.of(Parallel.SERIAL, TwoThreads.INSTANCE)) {
      String on = context + ", " + parallel;
      float[] actual = FloatData.sentinels(size);
      float[] aIn = a.clone();
      float[] bIn = b.clone();
      simd.binary(op, c.shape(), aIn, c.aStrides(), bIn, c.bStrides(), actual, parallel);
      assertSame(on, expected, actual);
      assertSame(on + ": a changed", a, aIn);
      assertSame(on + ": b changed", b, bIn);

      // y may be an operand whose strides are the contiguous ones of the output.
      if (Arrays.equals(c.aStrides(), contiguous)) {
        float[] refA = a.clone();
        REFERENCE.binary(op, c.shape(), refA, c.aStrides(), b.clone(), c.bStrides(), refA);
        float[] simdA = a.clone();
        simd.binary(op, c.shape(), simdA, c.aStrides(), b.clone(), c.bStrides(), simdA, parallel);
        assertSame(on + ", y = a", refA, simdA);
      }
      if (Arrays.equals(c.bStrides(), contiguous)) {
        float[] refB = b.clone();
        REFERENCE.binary(op, c.shape(), a.clone(), c.aStrides(), refB, c.bStrides(), refB);
        float[] simdB = b.clone();
        simd.binary(op, c.shape(), a.clone(), c.aStrides(), simdB, c.bStrides(), simdB, parallel);
        assertSame(on + ", y = b", refB, simdB);
      }
    }
  }

  private static Path pathOf(SimdKernels.RunPlan plan) {
    if (plan == null) {
      return Path.REFERENCE;
    }
    if (plan.run() == 0) {
      return Path.EMPTY;
    }
    if (plan.aContiguous()) {
      return plan.bContiguous() ? Path.VECTOR_VECTOR : Path.VECTOR_SCALAR;
    }
    return Path.SCALAR_VECTOR;
  }
}
