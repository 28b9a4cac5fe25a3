package dev.vfuse;

/**
 * The backend a model was to run on cannot run in this JVM. The one case today: {@link Backend#SIMD}
 * needs the JDK's incubator module {@code jdk.incubator.vector}, which a JVM resolves only when
 * asked, with {@value #ADD_MODULES} on its command line (or {@code requires jdk.incubator.vector}
 * in a module on the module path). vfuse does not fall back to the scalar backend by itself: it is
 * 10–100× slower, and a service should learn that at start-up, not from its latency.
 */
public class BackendUnavailableException extends VfuseException {
  private static final long serialVersionUID = 1L;

  /** The JVM option that makes the Vector API available. */
  public static final String ADD_MODULES = "--add-modules=jdk.incubator.vector";

  public BackendUnavailableException(String message) {
    super(message);
  }

  /** Throws unless this JVM has resolved the Vector API module the simd backend is written against. */
  static void checkSimdAvailable() throws BackendUnavailableException {
    if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
      throw new BackendUnavailableException("the simd backend needs the JDK module jdk.incubator.vector, which this JVM"
          + " has not loaded: start java with " + ADD_MODULES + " (or choose Backend.REFERENCE, the scalar kernels,"
          + " 10-100x slower: ModelOptions.withBackend or -D" + Backend.PROPERTY + "=reference)");
    }
  }
}
