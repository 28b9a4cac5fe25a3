package dev.vfuse.ops;

/**
 * An ONNX operator whose attributes have been read. Binding it to the types and shapes of its
 * inputs checks them and fixes the output shapes and the computation, once per input shape.
 */
public interface Op {

  /** Checks the inputs, throwing {@link dev.vfuse.ir.ShapeException} with the reason when they do not fit. */
  Bound bind(Value[] inputs);
}
