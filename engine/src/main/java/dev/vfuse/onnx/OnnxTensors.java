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
    long declared = 1;
    for (int i = 0; i < shape.length; i++) {
      long d = t.getDims(i);
      if (d < 0 || d > Integer.MAX_VALUE) {
        throw new ModelFormatException(owner, "tensor '" + name + "' has an invalid dimension " + d);
      }
      shape[i] = (int) d;
      declared = saturatingProduct(declared, d);
    }
    TensorProto.DataType type = TensorProto.DataType.forNumber(t.getDataType());
    if (type == null) {
      throw new ModelFormatException(owner, "tensor '" + name + "' has unknown data type " + t.getDataType());
    }
    boolean raw = !t.getRawData().isEmpty();
    ByteBuffer bytes = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    // Every count below is checked against the data the file holds before an array is allocated:
    // the declared dims alone may ask for any size.
    int width = switch (type) {
      case FLOAT, INT32 -> 4;
      case DOUBLE, INT64 -> 8;
      case INT16, UINT16 -> 2;
      case INT8, UINT8, BOOL -> 1;
      default -> throw new ModelFormatException(owner, "tensor '" + name + "' has data type " + type
          + ", which vfuse does not support (float32, float64 and integer types only)");
    };
    if (raw) {
      expectBytes(bytes, declared, width, t, type, owner);
    } else {
      int count = switch (type) {
        case FLOAT -> t.getFloatDataCount();
        case DOUBLE -> t.getDoubleDataCount();
        case INT64 -> t.getInt64DataCount();
        default -> t.getInt32DataCount(); // int32, int16, int8, uint8, uint16 and bool
      };
      expectCount(count, declared, t, type, owner);
    }
    if (declared > Integer.MAX_VALUE) {
      throw new ModelFormatException(owner, "tensor '" + name + "' has more than 2^31 - 1 elements");
    }
    int n = (int) declared;
    switch (type) {
      case FLOAT -> {
        float[] f = new float[n];
        if (raw) {
          bytes.asFloatBuffer().get(f);
        } else {
          for (int i = 0; i < n; i++) {
            f[i] = t.getFloatData(i);
          }
        }
        return NdArray.ofFloats(shape, f);
      }
      case DOUBLE -> {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
          f[i] = (float) (raw ? bytes.getDouble(i * 8) : t.getDoubleData(i));
        }
        return NdArray.ofFloats(shape, f);
      }
      case INT64 -> {
        long[] l = new long[n];
        if (raw) {
          bytes.asLongBuffer().get(l);
        } else {
          for (int i = 0; i < n; i++) {
            l[i] = t.getInt64Data(i);
          }
        }
        return NdArray.ofLongs(shape, l);
      }
      default -> {
        // int32, int16, int8, uint8, uint16, bool: int32_data when not raw, the type's own width when raw.
        long[] l = new long[n];
        for (int i = 0; i < n; i++) {
          l[i] = !raw ? t.getInt32Data(i) : switch (type) {
            case INT32 -> bytes.getInt(i * 4);
            case INT16 -> bytes.getShort(i * 2);
            case UINT16 -> Short.toUnsignedInt(bytes.getShort(i * 2));
            case INT8 -> bytes.get(i);
            default -> Byte.toUnsignedInt(bytes.get(i));
          };
        }
        return NdArray.ofLongs(shape, l);
      }
    }
  }

  /** a·b for non-negative factors, or Long.MAX_VALUE when it would overflow. */
  static long saturatingProduct(long a, long b) {
    if (a == 0 || b == 0) {
      return 0;
    }
    return a > Long.MAX_VALUE / b ? Long.MAX_VALUE : a * b;
  }

  private static String declaration(TensorProto t, long elements, TensorProto.DataType type) {
    String count = elements == Long.MAX_VALUE ? "more than 2^63 elements" : elements + " elements";
    return "tensor '" + (t.getName().isEmpty() ? "<unnamed>" : t.getName()) + "' declares dims " + t.getDimsList()
        + " = " + count + " of " + type;
  }

  private static void expectBytes(ByteBuffer bytes, long elements, int width, TensorProto t, TensorProto.DataType type,
      String owner) throws ModelFormatException {
    long needed = saturatingProduct(elements, width);
    if (bytes.remaining() != needed) {
      throw new ModelFormatException(owner, declaration(t, elements, type) + " ("
          + (needed == Long.MAX_VALUE ? "more than 2^63" : needed) + " bytes) but its raw data has " + bytes.remaining() + " bytes");
    }
  }

  private static void expectCount(int count, long elements, TensorProto t, TensorProto.DataType type, String owner)
      throws ModelFormatException {
    if (count != elements) {
      throw new ModelFormatException(owner, declaration(t, elements, type) + " but its data holds " + count + " elements");
    }
  }
}
