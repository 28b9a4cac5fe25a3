package dev.vfuse.exec;

import dev.vfuse.kernel.Kernels;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Which backend methods each step of a run calls, and whose implementation ran them: a profile's
 * answer to "scalar or vector" for steps that run the backend's plain methods rather than a
 * prepared kernel. One untimed run goes through a {@link Proxy} of the {@link Kernels} interface
 * that notes, per step, {@code simd.binary} when the method is the one {@code SimdKernels}
 * declares and {@code reference.resize2d} when the scalar reference's runs. Only profiling makes
 * one; ordinary runs call the kernels directly.
 */
final class KernelCalls {
  private final Kernels target;
  private final StepRecorder recorder;
  private final List<Set<String>> calls = new ArrayList<>();

  KernelCalls(Kernels target, StepRecorder recorder) {
    this.target = target;
    this.recorder = recorder;
    for (int s = 0; s < recorder.steps(); s++) {
      calls.add(new LinkedHashSet<>());
    }
  }

  /** The kernels to run with: {@link #target}, each call noted under the step in flight. */
  Kernels kernels() {
    return (Kernels) Proxy.newProxyInstance(Kernels.class.getClassLoader(), new Class<?>[] {Kernels.class},
        (proxy, method, args) -> {
          int step = recorder.currentStep();
          if (step >= 0 && method.getDeclaringClass() != Object.class) {
            String name = implementor(method) + "." + method.getName();
            synchronized (calls) {
              calls.get(step).add(name);
            }
          }
          try {
            return method.invoke(target, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
  }

  /** {@code simd} or {@code reference}: the backend whose class declares the method that runs. */
  private String implementor(Method method) {
    try {
      Class<?> c = target.getClass().getMethod(method.getName(), method.getParameterTypes()).getDeclaringClass();
      String simple = c.getSimpleName();
      return simple.endsWith("Kernels") && simple.length() > "Kernels".length()
          ? simple.substring(0, simple.length() - "Kernels".length()).toLowerCase(java.util.Locale.ROOT) : simple;
    } catch (NoSuchMethodException e) {
      return target.getClass().getSimpleName();
    }
  }

  /** The calls of each step, in plan order. */
  List<List<String>> byStep() {
    List<List<String>> out = new ArrayList<>();
    synchronized (calls) {
      for (Set<String> s : calls) {
        out.add(List.copyOf(s));
      }
    }
    return out;
  }
}
