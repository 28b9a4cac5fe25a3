package dev.vfuse.cli;

/**
 * A command line that parses but makes no sense for the model or the files given: an unknown
 * input name, an ambiguous unnamed {@code --input}, a negative repeat count. Reported as
 * {@code vfuse: message} with exit code {@value VfuseCli#EXIT_USAGE}.
 */
public final class UsageException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public UsageException(String message) {
    super(message);
  }
}
