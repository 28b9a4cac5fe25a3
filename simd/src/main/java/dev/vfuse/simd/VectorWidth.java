package dev.vfuse.simd;

import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one place that chooses the {@link VectorSpecies} of the float kernels.
 *
 * <p>By default the species is {@link FloatVector#SPECIES_PREFERRED}, the widest the CPU runs
 * natively (512 bits on an AVX-512 machine, 256 on AVX2). The system property
 * {@value #PROPERTY} = {@code 128 | 256 | 512} forces a width. A width wider than the hardware
 * still computes correct results, but the Vector API then runs it in its Java fallback, which is
 * many times slower; forcing is meant for tests and for measuring.
 *
 * <p>Tests obtain each species explicitly with {@link #forBits(int)} or {@link #all()}: the Vector
 * API runs every width on every machine, so all of them are tested everywhere.
 */
public final class VectorWidth {

  /** The system property that forces a vector width in bits. */
  public static final String PROPERTY = "vfuse.simd.bits";

  private static final List<VectorSpecies<Float>> ALL =
      List.of(FloatVector.SPECIES_128, FloatVector.SPECIES_256, FloatVector.SPECIES_512);

  private VectorWidth() {}

  /**
   * The species to use: the one {@value #PROPERTY} forces, else {@link FloatVector#SPECIES_PREFERRED}.
   * The property is read on every call, so a bad value fails here, where the kernels are made.
   *
   * @throws IllegalArgumentException if the property is set to anything but 128, 256 or 512
   */
  public static VectorSpecies<Float> selected() {
    return fromProperty(System.getProperty(PROPERTY));
  }

  /** The width in bits of {@link #selected()}: for callers that do not read the Vector API themselves. */
  public static int selectedBits() {
    return selected().vectorBitSize();
  }

  /**
   * The species a value of {@value #PROPERTY} stands for; {@code null} (property unset) means
   * {@link FloatVector#SPECIES_PREFERRED}.
   *
   * @throws IllegalArgumentException if {@code value} is not null and not 128, 256 or 512
   */
  public static VectorSpecies<Float> fromProperty(String value) {
    if (value == null) {
      return FloatVector.SPECIES_PREFERRED;
    }
    int bits;
    try {
      bits = Integer.parseInt(value.strip());
    } catch (NumberFormatException e) {
      throw badValue(value);
    }
    if (bits != 128 && bits != 256 && bits != 512) {
      throw badValue(value);
    }
    return forBits(bits);
  }

  /**
   * The float species of exactly {@code bits} bits.
   *
   * @throws IllegalArgumentException unless bits is 128, 256 or 512
   */
  public static VectorSpecies<Float> forBits(int bits) {
    return switch (bits) {
      case 128 -> FloatVector.SPECIES_128;
      case 256 -> FloatVector.SPECIES_256;
      case 512 -> FloatVector.SPECIES_512;
      default -> throw new IllegalArgumentException(
          "unsupported vector width " + bits + " bits; vfuse supports 128, 256 and 512");
    };
  }

  /** Every species vfuse supports, narrowest first: 128, 256 and 512 bits. */
  public static List<VectorSpecies<Float>> all() {
    return ALL;
  }

  private static IllegalArgumentException badValue(String value) {
    return new IllegalArgumentException("system property " + PROPERTY + " must be 128, 256 or 512 (bits), got '"
        + value + "'; leave it unset to use the preferred width "
        + FloatVector.SPECIES_PREFERRED.vectorBitSize());
  }
}
