package dev.vfuse;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link MachineProbe}: a measurement gives finite positive roofs at the kernels' width; the cache
 * keeps it in one file, returns it unchanged the second time, and measures again when the file is
 * damaged. No speed is asserted: the figures depend on the machine and its load.
 */
class MachineProbeTest {
  @TempDir Path dir;

  @Test
  void measuresOnceAndThenReadsTheCache() throws Exception {
    MachineProbe first = MachineProbe.cached(dir);
    assertThat(first.fromCache()).isFalse();
    assertThat(first.peakGflops()).isFinite().isPositive();
    assertThat(first.bandwidthGBs()).isFinite().isPositive();
    assertThat(first.vectorBits()).isIn(128, 256, 512);
    assertThat(first.jdk()).isEqualTo(System.getProperty("java.runtime.version"));
    assertThat(first.cpu()).isNotBlank();
    assertThat(first.ridgeFlopsPerByte()).isEqualTo(first.peakGflops() / first.bandwidthGBs());
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.toList();
    }
    assertThat(files).hasSize(1);
    assertThat(Files.readString(files.get(0))).contains(MachineProbe.key().replace(":", "\\:"));

    MachineProbe second = MachineProbe.cached(dir);
    assertThat(second.fromCache()).isTrue();
    assertThat(second.peakGflops()).isEqualTo(first.peakGflops());
    assertThat(second.bandwidthGBs()).isEqualTo(first.bandwidthGBs());
    assertThat(second.toString()).contains("cached");

    Files.writeString(files.get(0), "peak_gflops=-1\n");
    MachineProbe remeasured = MachineProbe.cached(dir);
    assertThat(remeasured.fromCache()).isFalse();
    assertThat(remeasured.peakGflops()).isFinite().isPositive();
  }
}
