/**
 * The Vector API implementation of the kernel contract. It requires {@code jdk.incubator.vector},
 * so that an application on the module path gets the incubator module resolved without
 * {@code --add-modules}. Not API: only the engine may read it.
 */
@SuppressWarnings("module") // dev.vfuse.engine is compiled after this one
module dev.vfuse.simd {
  requires dev.vfuse.reference;
  requires jdk.incubator.vector;

  exports dev.vfuse.simd to dev.vfuse.engine;
}
