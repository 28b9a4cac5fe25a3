package dev.vfuse.cli;

import dev.vfuse.VfuseException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/** Turns an exception into the one line after {@code vfuse: }. */
final class ErrorMessages {
  private ErrorMessages() {}

  /** Whether the error is the user's (a bad model, input, file or argument) rather than a bug in vfuse. */
  static boolean expected(Throwable t) {
    Throwable u = unwrap(t);
    return u instanceof VfuseException || u instanceof IOException || u instanceof UsageException;
  }

  /**
   * The message of an expected error; for anything else {@code internal error: Class: message}.
   * File-system errors always name the file and say what is wrong, e.g. {@code x.npy: no such file}.
   */
  static String describe(Throwable t) {
    Throwable u = unwrap(t);
    if (u instanceof FileSystemException f) {
      String reason = f.getReason() != null ? f.getReason() : switch (f) {
        case NoSuchFileException e -> "no such file";
        case AccessDeniedException e -> "permission denied";
        case FileAlreadyExistsException e -> "file already exists";
        case NotDirectoryException e -> "not a directory";
        case DirectoryNotEmptyException e -> "directory not empty";
        default -> u.getClass().getSimpleName();
      };
      String file = f.getFile() == null ? "" : f.getFile() + (f.getOtherFile() == null ? "" : " -> " + f.getOtherFile()) + ": ";
      return oneLine(file + reason);
    }
    String msg = u.getMessage();
    if (expected(u)) {
      return oneLine(msg == null || msg.isBlank() ? u.getClass().getSimpleName() : msg);
    }
    return oneLine("internal error: " + u.getClass().getName() + (msg == null ? "" : ": " + msg));
  }

  static String oneLine(String s) {
    return s.strip().replaceAll("\\s*\\R\\s*", " ");
  }

  private static Throwable unwrap(Throwable t) {
    return t instanceof UncheckedIOException && t.getCause() != null ? t.getCause() : t;
  }
}
