package dev.vfuse.fusion;

import java.util.ArrayList;
import java.util.List;

/** What the passes did: each fusion with the nodes it consumed, and each candidate kept with the reason. */
public final class FusionLog {
  private static final System.Logger LOG = System.getLogger(FusionLog.class.getName());

  /** One line of the report: {@code fused} false means the nodes were kept as they are. */
  public record Entry(String pass, boolean fused, List<String> nodes, String message) {
    public Entry {
      nodes = List.copyOf(nodes);
    }
  }

  private final List<Entry> entries = new ArrayList<>();

  /** Records a fusion, e.g. {@code fused("conv-batchnorm", "fold BatchNorm bn3 into Conv conv3", "conv3", "bn3")}. */
  public void fused(String pass, String message, String... nodes) {
    entries.add(new Entry(pass, true, List.of(nodes), message));
    LOG.log(System.Logger.Level.DEBUG, "{0}: {1}", pass, message);
  }

  /** Records a candidate left alone, e.g. {@code kept("bn-conv", "bn7", "kept BatchNorm bn7: precedes a Conv with auto_pad")}. */
  public void kept(String pass, String message, String... nodes) {
    entries.add(new Entry(pass, false, List.of(nodes), message));
    LOG.log(System.Logger.Level.DEBUG, "{0}: {1}", pass, message);
  }

  public List<Entry> entries() {
    return List.copyOf(entries);
  }
}
