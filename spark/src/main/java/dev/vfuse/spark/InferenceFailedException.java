package dev.vfuse.spark;

/**
 * A row's input or run failed with {@link InferenceOptions#failFast()} set: thrown from the task,
 * so Spark retries it (up to {@code spark.task.maxFailures}) and then fails the job with this message.
 */
public final class InferenceFailedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public InferenceFailedException(String message) {
    super(message);
  }
}
