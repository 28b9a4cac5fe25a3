package dev.vfuse.serve;

/**
 * The bounds of an {@link InferenceServer}: everything that could grow under load has one.
 *
 * @param port the TCP port (0: any free one)
 * @param modelName the name clients address the model by, as in {@code /v2/models/NAME/infer}
 * @param workers inference runs at once, each on its own thread (the model's intra-op threads come on top)
 * @param maxBatch the most samples one run joins from requests waiting together; 1 turns batching off
 * @param maxQueue the most requests waiting for a worker; one more gets 503 with {@code Retry-After}
 * @param maxBodyBytes the largest request body read; a larger one gets 413
 */
public record ServerConfig(int port, String modelName, int workers, int maxBatch, int maxQueue, long maxBodyBytes) {
  public ServerConfig {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be 0..65535, got " + port);
    }
    if (modelName == null || modelName.isBlank() || modelName.contains("/")) {
      throw new IllegalArgumentException("the model name must be non-empty and contain no '/', got '" + modelName + "'");
    }
    requirePositive("workers", workers);
    requirePositive("max batch", maxBatch);
    requirePositive("max queue", maxQueue);
    if (maxBodyBytes < 1) {
      throw new IllegalArgumentException("max body bytes must be at least 1, got " + maxBodyBytes);
    }
  }

  /**
   * HTTP handler threads: one for every request that can be admitted (waiting or running) plus a
   * few for health, metrics and the fast 503 answers, so that an admitted request never waits for
   * a thread to be read.
   */
  int httpThreads() {
    return maxQueue + workers * maxBatch + 4;
  }

  private static void requirePositive(String what, int value) {
    if (value < 1) {
      throw new IllegalArgumentException(what + " must be at least 1, got " + value);
    }
  }
}
