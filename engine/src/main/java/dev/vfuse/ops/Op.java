package dev.vfuse.ops;

import dev.vfuse.kernel.Kernels;

/**
 * An ONNX operator whose attributes have been read. Binding it to the types and shapes of its
 * inputs checks them and fixes the output shapes and the computation, once per input shape.
 */
public interface Op {

  /** Checks the inputs, throwing {@link dev.vfuse.ir.ShapeException} with the reason when they do not fit. */
  Bound bind(Value[] inputs);

  /**
   * {@link #bind(Value[])} for a backend known in advance, so an operator with constant weights can
   * have the backend prepare them (repack once, at plan time). The default ignores the backend.
   */
  default Bound bind(Value[] inputs, Kernels kernels) {
    return bind(inputs);
  }
}
