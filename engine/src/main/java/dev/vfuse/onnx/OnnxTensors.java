package dev.vfuse.onnx;

import ai.onnx.proto.OnnxMl.TensorProto;
import dev.vfuse.ModelFormatException;
import dev.vfuse.ir.NdArray;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Converts ONNX TensorProto to {@link NdArray}. Float and double become FLOAT32; every integer
 * type and bool becomes INT64 (the engine only does shape arithmetic with them).
 */
final class OnnxTensors {
  private OnnxTensors() {}

  static NdArray toNdArray(TensorProto t, String owner) throws ModelFormatException {
    String name = t.getName().isEmpty() ? "<unnamed>" : t.getName();
    if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL || t.getExternalDataCount() > 0) {
      String location = t.getExternalDataList().stream()
          .filter(e -> e.getKey().equals("location")).map(e -> e.getValue()).findFirst().orElse("?");
      throw new ModelFormatException(owner, "tensor '" + name + "' keeps its data in the external file '" + location
          + "'; vfuse loads self-contained models only (re-save it with onnx.save_model(..., save_as_external_data=False))");
    }
    int[] shape = new int[t.getDimsCount()];
    long size = 1;
    for (int i = 0; i < shape.length; i++) {
      long d = t.getDims(i);
      if (d < 0 || d > Integer.MAX_VALUE) {
        throw new ModelFormatException(owner, "tensor '" + name + "' has an invalid dimension " + d);
      }
      shape[i] = (int) d;
      size *= d;
    }
    if (size > Integer.MAX_VALUE) {
      throw new ModelFormatException(owner, "tensor '" + name + "' has more than 2^31 - 1 elements");
    }
    int n = (int) size;
    TensorProto.DataType type = TensorProto.DataType.forNumber(t.getDataType());
    if (type == null) {
      throw new ModelFormatException(owner, "tensor '" + name + "' has unknown data type " + t.getDataType());
    }
    boolean raw = !t.getRawData().isEmpty();
    ByteBuffer bytes = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    switch (type) {
      case FLOAT -> {
        float[] f = new float[n];
        if (raw) {
          expectBytes(bytes, n, 4, name, owner);
          bytes.asFloatBuffer().get(f);
        } else {
          expectCount(t.getFloatDataCount(), n, name, owner);
          for (int i = 0; i < n; i++) {
            f[i] = t.getFloatData(i);
          }
        }
        return NdArray.ofFloats(shape, f);
      }
      case DOUBLE -> {
        float[] f = new float[n];
        if (raw) {
          expectBytes(bytes, n, 8, name, owner);
          for (int i = 0; i < n; i++) {
            f[i] = (float) bytes.getDouble(i * 8);
          }
        } else {
          expectCount(t.getDoubleDataCount(), n, name, owner);
          for (int i = 0; i < n; i++) {
            f[i] = (float) t.getDoubleData(i);
          }
        }
        return NdArray.ofFloats(shape, f);
      }
      case INT64 -> {
        long[] l = new long[n];
        if (raw) {
          expectBytes(bytes, n, 8, name, owner);
          bytes.asLongBuffer().get(l);
        } else {
          expectCount(t.getInt64DataCount(), n, name, owner);
          for (int i = 0; i < n; i++) {
            l[i] = t.getInt64Data(i);
          }
        }
        return NdArray.ofLongs(shape, l);
      }
      case INT32, INT16, INT8, UINT8, UINT16, BOOL -> {
        // Stored in int32_data when not raw; raw bytes use the type's own width.
        int width = switch (type) {
          case INT32 -> 4;
          case INT16, UINT16 -> 2;
          default -> 1;
        };
        long[] l = new long[n];
        if (raw) {
          expectBytes(bytes, n, width, name, owner);
          for (int i = 0; i < n; i++) {
            l[i] = switch (type) {
              case INT32 -> bytes.getInt(i * 4);
              case INT16 -> bytes.getShort(i * 2);
              case UINT16 -> Short.toUnsignedInt(bytes.getShort(i * 2));
              case INT8 -> bytes.get(i);
              default -> Byte.toUnsignedInt(bytes.get(i));
            };
          }
        } else {
          expectCount(t.getInt32DataCount(), n, name, owner);
          for (int i = 0; i < n; i++) {
            l[i] = t.getInt32Data(i);
          }
        }
        return NdArray.ofLongs(shape, l);
      }
      default -> throw new ModelFormatException(owner, "tensor '" + name + "' has data type " + type
          + ", which vfuse does not support (float32, float64 and integer types only)");
    }
  }

  private static void expectBytes(ByteBuffer bytes, int n, int width, String name, String owner) throws ModelFormatException {
    if (bytes.remaining() != (long) n * width) {
      throw new ModelFormatException(owner, "tensor '" + name + "' should hold " + n + " elements (" + (long) n * width
          + " bytes) but its raw data has " + bytes.remaining() + " bytes");
    }
  }

  private static void expectCount(int count, int n, String name, String owner) throws ModelFormatException {
    if (count != n) {
      throw new ModelFormatException(owner, "tensor '" + name + "' should hold " + n + " elements but has " + count);
    }
  }
}
