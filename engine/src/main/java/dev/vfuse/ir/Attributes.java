package dev.vfuse.ir;

import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.Set;

/**
 * A node's attributes, converted from protobuf at import: ints and floats as Long and Float,
 * lists as long[] and float[], strings as String, tensors as {@link NdArray}. Reading a missing
 * required attribute or one of the wrong kind throws {@link ShapeException} with the name.
 */
public final class Attributes {
  private final Map<String, Object> values;

  public Attributes(Map<String, Object> values) {
    this.values = Collections.unmodifiableMap(values);
  }

  public static Attributes empty() {
    return new Attributes(Map.of());
  }

  public boolean has(String name) {
    return values.containsKey(name);
  }

  public Set<String> names() {
    return values.keySet();
  }

  /** A mutable copy of the values, from which a pass builds changed attributes. */
  public Map<String, Object> toMap() {
    return new java.util.LinkedHashMap<>(values);
  }

  public long getLong(String name, long defaultValue) {
    Object v = values.get(name);
    return v == null ? defaultValue : as(name, v, Long.class);
  }

  public int getInt(String name, int defaultValue) {
    long v = getLong(name, defaultValue);
    if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
      throw new ShapeException("attribute '" + name + "' = " + v + " is out of int range");
    }
    return (int) v;
  }

  public float getFloat(String name, float defaultValue) {
    Object v = values.get(name);
    if (v == null) {
      return defaultValue;
    }
    if (v instanceof Long l) {
      return l;
    }
    return as(name, v, Float.class);
  }

  public String getString(String name, String defaultValue) {
    Object v = values.get(name);
    return v == null ? defaultValue : as(name, v, String.class);
  }

  /** An ints attribute, or null when absent. */
  public long[] getLongs(String name) {
    Object v = values.get(name);
    return v == null ? null : as(name, v, long[].class).clone();
  }

  /** An ints attribute narrowed to int, or {@code defaultValue} when absent. */
  public int[] getInts(String name, int[] defaultValue) {
    long[] v = getLongs(name);
    if (v == null) {
      return defaultValue;
    }
    int[] out = new int[v.length];
    for (int i = 0; i < v.length; i++) {
      if (v[i] < Integer.MIN_VALUE || v[i] > Integer.MAX_VALUE) {
        throw new ShapeException("attribute '" + name + "' = " + Arrays.toString(v) + " is out of int range");
      }
      out[i] = (int) v[i];
    }
    return out;
  }

  public float[] getFloats(String name) {
    Object v = values.get(name);
    return v == null ? null : as(name, v, float[].class).clone();
  }

  public NdArray getTensor(String name) {
    Object v = values.get(name);
    return v == null ? null : as(name, v, NdArray.class);
  }

  private static <T> T as(String name, Object v, Class<T> type) {
    if (!type.isInstance(v)) {
      throw new ShapeException("attribute '" + name + "' has the wrong kind: expected " + type.getSimpleName()
          + ", found " + v.getClass().getSimpleName());
    }
    return type.cast(v);
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("{");
    values.forEach((k, v) -> {
      if (sb.length() > 1) {
        sb.append(", ");
      }
      sb.append(k).append('=');
      sb.append(switch (v) {
        case long[] a -> Arrays.toString(a);
        case float[] a -> Arrays.toString(a);
        default -> String.valueOf(v);
      });
    });
    return sb.append('}').toString();
  }
}
