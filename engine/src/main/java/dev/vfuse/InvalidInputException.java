package dev.vfuse;

/**
 * The inputs given to {@link Model#run} do not fit the model: a missing or unknown name, a wrong
 * rank, shape or element type, or a shape the model's operators cannot process.
 */
public class InvalidInputException extends VfuseException {
  private static final long serialVersionUID = 1L;

  public InvalidInputException(String message) {
    super(message);
  }

  public InvalidInputException(String nodeName, String message, Throwable cause) {
    super(nodeName, message, cause);
  }
}
