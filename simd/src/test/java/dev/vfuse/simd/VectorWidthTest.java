package dev.vfuse.simd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The species choice and its system property; also the no-arg {@link SimdKernels} constructor that uses it. */
class VectorWidthTest {

  private String saved;

  @BeforeEach
  void saveProperty() {
    saved = System.getProperty(VectorWidth.PROPERTY);
    System.clearProperty(VectorWidth.PROPERTY);
  }

  @AfterEach
  void restoreProperty() {
    if (saved == null) {
      System.clearProperty(VectorWidth.PROPERTY);
    } else {
      System.setProperty(VectorWidth.PROPERTY, saved);
    }
  }

  @Test
  void unsetMeansPreferred() {
    assertThat(VectorWidth.selected()).isEqualTo(FloatVector.SPECIES_PREFERRED);
    assertThat(VectorWidth.fromProperty(null)).isEqualTo(FloatVector.SPECIES_PREFERRED);
    assertThat(new SimdKernels().species()).isEqualTo(FloatVector.SPECIES_PREFERRED);
  }

  @ParameterizedTest
  @ValueSource(ints = {128, 256, 512})
  void propertyForcesTheWidth(int bits) {
    System.setProperty(VectorWidth.PROPERTY, Integer.toString(bits));
    assertThat(VectorWidth.selected().vectorBitSize()).isEqualTo(bits);
    assertThat(VectorWidth.selected().length()).isEqualTo(bits / 32);
    assertThat(new SimdKernels().species().vectorBitSize()).isEqualTo(bits);
    assertThat(VectorWidth.fromProperty(" " + bits + " ").vectorBitSize()).isEqualTo(bits);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", " ", "64", "1024", "0", "-256", "256bits", "wide", "2.5E2"})
  void badPropertyValueFailsWithAClearMessage(String value) {
    System.setProperty(VectorWidth.PROPERTY, value);
    assertThatThrownBy(VectorWidth::selected)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("vfuse.simd.bits")
        .hasMessageContaining("128, 256 or 512")
        .hasMessageContaining("'" + value + "'");
    assertThatThrownBy(SimdKernels::new).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void forBitsGivesEachSpecies() {
    assertThat(VectorWidth.forBits(128)).isEqualTo(FloatVector.SPECIES_128);
    assertThat(VectorWidth.forBits(256)).isEqualTo(FloatVector.SPECIES_256);
    assertThat(VectorWidth.forBits(512)).isEqualTo(FloatVector.SPECIES_512);
    assertThat(VectorWidth.all())
        .containsExactly(FloatVector.SPECIES_128, FloatVector.SPECIES_256, FloatVector.SPECIES_512);
    assertThatThrownBy(() -> VectorWidth.forBits(64))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("64");
  }

  @Test
  void kernelsNameAndSpecies() {
    SimdKernels k = new SimdKernels(FloatVector.SPECIES_256);
    assertThat(k.name()).isEqualTo("simd");
    assertThat(k.species()).isEqualTo(FloatVector.SPECIES_256);
    assertThat(k).hasToString("simd(256-bit, 8 floats)");
    assertThatThrownBy(() -> new SimdKernels(null)).isInstanceOf(NullPointerException.class);
  }
}
