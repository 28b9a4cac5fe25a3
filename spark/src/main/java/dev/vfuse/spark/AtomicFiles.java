package dev.vfuse.spark;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.UUID;

/**
 * Writes a file so that readers see either nothing, the old file or the whole new one: the bytes go
 * to a hidden temporary file beside the target ({@code .NAME.UUID.tmp}), which is then renamed over
 * it. A task that dies half-way (an executor lost, a retried attempt) leaves at most a temporary
 * file, never a truncated {@code NAME}; two attempts of one task both write whole files, and the
 * last rename wins.
 */
final class AtomicFiles {
  private AtomicFiles() {}

  static void write(Path target, byte[] bytes) throws IOException {
    Path tmp = target.resolveSibling("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
    try {
      Files.write(tmp, bytes);
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}
