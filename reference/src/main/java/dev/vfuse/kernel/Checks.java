package dev.vfuse.kernel;

/** Argument checks shared by the geometry records. */
final class Checks {
  private Checks() {}

  static void positive(Object... namesAndValues) {
    for (int i = 0; i < namesAndValues.length; i += 2) {
      if ((Integer) namesAndValues[i + 1] <= 0) {
        throw new IllegalArgumentException(namesAndValues[i] + " must be positive, got " + namesAndValues[i + 1]);
      }
    }
  }

  static void nonNegative(Object... namesAndValues) {
    for (int i = 0; i < namesAndValues.length; i += 2) {
      if ((Integer) namesAndValues[i + 1] < 0) {
        throw new IllegalArgumentException(namesAndValues[i] + " must not be negative, got " + namesAndValues[i + 1]);
      }
    }
  }
}
