package dev.vfuse.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.vfuse.ElementType;
import dev.vfuse.Tensor;
import dev.vfuse.io.Npy;
import dev.vfuse.io.NpyFormatException;

/**
 * Coverage-guided fuzzing of {@link Npy#read(byte[], String)}: every malformed file must give an
 * {@link NpyFormatException}, and a file that reads must write back to the same bytes' tensor.
 */
class NpyFuzzTest {

  @FuzzTest(maxDuration = "30m")
  void read(byte[] bytes) throws NpyFormatException {
    Tensor t;
    try {
      t = Npy.read(bytes, "fuzz.npy");
    } catch (NpyFormatException expected) {
      return;
    }
    Tensor again = Npy.read(Npy.toBytes(t), "rewritten.npy");
    boolean floats = t.elementType() == ElementType.FLOAT32;
    boolean same = java.util.Arrays.equals(t.shape(), again.shape()) && t.elementType() == again.elementType()
        && (floats ? java.util.Arrays.equals(t.floats(), again.floats()) : java.util.Arrays.equals(t.longs(), again.longs()));
    if (!same) {
      throw new AssertionError("write then read changed " + t + " into " + again);
    }
  }
}
