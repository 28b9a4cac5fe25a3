package dev.vfuse.ir;

/**
 * An operator cannot accept its inputs or attributes. Thrown inside the engine and turned into a
 * {@link dev.vfuse.VfuseException} naming the node by whoever knows the node.
 */
public final class ShapeException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ShapeException(String message) {
    super(message);
  }
}
