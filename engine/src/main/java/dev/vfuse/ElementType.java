package dev.vfuse;

/**
 * Element types. A {@link Tensor} holds FLOAT32 (images, activations) or INT64 (shapes, indices);
 * INT8 exists only inside a loaded model, for weights quantized at load.
 */
public enum ElementType {
  FLOAT32, INT64, INT8
}
