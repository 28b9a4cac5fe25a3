package dev.vfuse;

/**
 * Base of every error vfuse reports for bad input: a malformed model, an unsupported operator, a
 * wrong input. Checked, so callers decide what a bad model means for them. When the error belongs
 * to one node of the graph, {@link #nodeName()} names it and the message starts with it.
 */
public class VfuseException extends Exception {
  private static final long serialVersionUID = 1L;
  private final String nodeName;

  public VfuseException(String message) {
    this(null, message, null);
  }

  public VfuseException(String nodeName, String message, Throwable cause) {
    super(nodeName == null ? message : "node '" + nodeName + "': " + message, cause);
    this.nodeName = nodeName;
  }

  /** The ONNX node the error belongs to, or null when it concerns the model as a whole. */
  public String nodeName() {
    return nodeName;
  }
}
