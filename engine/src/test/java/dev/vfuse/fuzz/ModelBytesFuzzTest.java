package dev.vfuse.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Coverage-guided fuzzing of {@code Model.load(byte[])} followed by a run, on raw bytes: the
 * protobuf parser, the importer's size checks, folding, planning and the kernels. In {@code mvn
 * test} it replays the committed corpus in {@code ModelBytesFuzzTestInputs/}; see docs/FUZZING.md
 * for a fuzzing run.
 */
class ModelBytesFuzzTest {

  @FuzzTest(maxDuration = "30m")
  void loadAndRun(byte[] onnx) {
    LoadAndRun.check(onnx);
  }
}
