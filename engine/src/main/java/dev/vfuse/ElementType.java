package dev.vfuse;

/** Element types a {@link Tensor} can hold. Images and activations are FLOAT32; INT64 carries shapes and indices. */
public enum ElementType {
  FLOAT32, INT64
}
