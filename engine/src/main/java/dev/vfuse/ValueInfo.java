package dev.vfuse;

import java.util.List;

/**
 * A graph input or output as the model declares it.
 *
 * @param name the ONNX value name
 * @param elementType the element type
 * @param dims one entry per axis: the size, or -1 when the model leaves it dynamic
 * @param dimNames one entry per axis: the symbolic name of a dynamic axis ("batch", "?"), or null for a fixed one
 */
public record ValueInfo(String name, ElementType elementType, List<Integer> dims, List<String> dimNames) {

  public ValueInfo {
    dims = List.copyOf(dims);
    dimNames = java.util.Collections.unmodifiableList(new java.util.ArrayList<>(dimNames));
  }

  public int rank() {
    return dims.size();
  }

  /** Like {@code x: FLOAT32 [N, 3, ?, ?]}. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder(name).append(": ").append(elementType).append(" [");
    for (int i = 0; i < dims.size(); i++) {
      if (i > 0) {
        sb.append(", ");
      }
      sb.append(dims.get(i) >= 0 ? String.valueOf(dims.get(i)) : (dimNames.get(i) == null ? "?" : dimNames.get(i)));
    }
    return sb.append(']').toString();
  }
}
