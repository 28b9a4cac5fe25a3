package dev.vfuse;

/** The model uses an operator, an operator form or an opset that vfuse does not implement. */
public class UnsupportedOperatorException extends VfuseException {
  private static final long serialVersionUID = 1L;
  private final String opType;

  public UnsupportedOperatorException(String opType, String nodeName, String message) {
    super(nodeName, message, null);
    this.opType = opType;
  }

  /** The ONNX op type, with its domain when not the default one. */
  public String opType() {
    return opType;
  }
}
