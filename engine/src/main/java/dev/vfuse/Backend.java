package dev.vfuse;

/** Which implementation of the kernel contract runs the model. */
public enum Backend {
  /** The scalar specification in {@code vfuse-reference}: slow, obvious, the oracle for the others. */
  REFERENCE,
  /** The Vector API kernels in {@code vfuse-simd}, each tested against the reference. */
  SIMD;

  /** Parses "reference" or "simd", ignoring case. */
  public static Backend parse(String name) {
    for (Backend b : values()) {
      if (b.name().equalsIgnoreCase(name)) {
        return b;
      }
    }
    throw new IllegalArgumentException("unknown backend '" + name + "': expected reference or simd");
  }
}
