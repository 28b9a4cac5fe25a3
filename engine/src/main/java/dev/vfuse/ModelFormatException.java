package dev.vfuse;

/**
 * The file is not a model vfuse can load: not ONNX, truncated, structurally inconsistent (a node
 * reads a value nothing produces), weights stored in external files, or weights that are NaN or
 * infinite.
 */
public class ModelFormatException extends VfuseException {
  private static final long serialVersionUID = 1L;

  public ModelFormatException(String message) {
    super(message);
  }

  public ModelFormatException(String nodeName, String message) {
    super(nodeName, message, null);
  }

  public ModelFormatException(String nodeName, String message, Throwable cause) {
    super(nodeName, message, cause);
  }
}
