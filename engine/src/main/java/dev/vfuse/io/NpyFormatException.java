package dev.vfuse.io;

import java.io.IOException;

/**
 * A {@code .npy} file vfuse cannot read: not NumPy, truncated, Fortran order, big-endian, an
 * unsupported dtype, or a shape that disagrees with the data. The message is one line and names
 * the file, e.g. {@code x.npy: big-endian dtype '>f4' is not supported; save with '<f4'}.
 */
public class NpyFormatException extends IOException {
  private static final long serialVersionUID = 1L;

  public NpyFormatException(String source, String message) {
    super(source + ": " + message);
  }
}
