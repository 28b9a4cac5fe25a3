package dev.vfuse;

/** Which implementation of the kernel contract runs the model. */
public enum Backend {
  /** The scalar specification in {@code vfuse-reference}: slow, obvious, the oracle for the others. */
  REFERENCE,
  /** The Vector API kernels in {@code vfuse-simd}, each tested against the reference. */
  SIMD;

  /** The system property that forces the default backend: {@code reference} or {@code simd}. */
  public static final String PROPERTY = "vfuse.backend";

  /**
   * The default backend: {@link #SIMD}, unless the system property {@value #PROPERTY} names
   * another (the width of the simd kernels is forced separately, with {@code vfuse.simd.bits}).
   *
   * @throws IllegalArgumentException if the property names no backend
   */
  public static Backend selected() {
    String forced = System.getProperty(PROPERTY);
    return forced == null ? SIMD : parse(forced);
  }

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
