/**
 * The kernel contract ({@code dev.vfuse.kernel}) and its scalar implementation, the specification
 * every optimized kernel is held to. Not API: only the vfuse modules may read it.
 */
@SuppressWarnings("module") // the modules named below are compiled after this one
module dev.vfuse.reference {
  exports dev.vfuse.kernel to dev.vfuse.simd, dev.vfuse.engine;
  exports dev.vfuse.reference to dev.vfuse.simd, dev.vfuse.engine;
}
