package dev.vfuse.spark;

import dev.vfuse.VfuseException;
import java.io.Serializable;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.util.LongAccumulator;

/**
 * What a task needs to reach its executor's model: the broadcast ONNX bytes, the key the model is
 * held under in the executor JVM ({@link ExecutorModels}), the options, and an accumulator that
 * counts loads across the cluster. Serializable; the bytes travel as a broadcast (once per
 * executor), never inside the task.
 */
final class ModelRef implements Serializable {
  private static final long serialVersionUID = 1L;

  private final Broadcast<byte[]> bytes;
  private final String key;
  private final InferenceOptions options;
  private final LongAccumulator loads;

  ModelRef(Broadcast<byte[]> bytes, String digest, InferenceOptions options, LongAccumulator loads) {
    this.bytes = bytes;
    this.key = digest + "/" + options.loadKey();
    this.options = options;
    this.loads = loads;
  }

  /** The first 16 bytes of the SHA-256 of {@code onnx}, in hex: the model's identity across JVMs. */
  static String digest(byte[] onnx) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(onnx);
      return HexFormat.of().formatHex(d, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  String key() {
    return key;
  }

  InferenceOptions options() {
    return options;
  }

  /** A runner on this JVM's model, loading it (once per JVM) if no task here has yet. */
  BatchRunner runner() throws VfuseException {
    var model = ExecutorModels.get(key, bytes::value, options.modelOptions(), () -> loads.add(1));
    return new BatchRunner(model, options.outputName());
  }

  /** Unpersists the broadcast and closes the model in this JVM (the driver's, which in local mode is the executor's). */
  void release() {
    ExecutorModels.close(key);
    bytes.destroy();
  }
}
