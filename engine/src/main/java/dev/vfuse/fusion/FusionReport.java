package dev.vfuse.fusion;

import java.util.List;
import java.util.Map;

/**
 * The result of fusion for one model: op counts before and after (a fused node counts once,
 * under its main op: a Conv with a folded BatchNorm and a fused Relu is one {@code Conv}), every
 * fusion and every refusal with its reason, and, when verification was asked for, the error of
 * each fused layer against its unfused original.
 */
public record FusionReport(Map<String, Integer> before, Map<String, Integer> after, List<FusionLog.Entry> entries,
    List<LayerCheck> checks) {

  /**
   * How far one fused node moved from the nodes it replaced, on probe inputs that reach every
   * border: the largest absolute difference, and that difference over the largest |unfused value|.
   */
  public record LayerCheck(String node, List<String> replaced, double maxAbsError, double maxRelError) {}

  public FusionReport {
    before = Map.copyOf(before);
    after = Map.copyOf(after);
    entries = List.copyOf(entries);
    checks = List.copyOf(checks);
  }

  /** The same report with other "before" counts (the model as imported, before constant folding). */
  public FusionReport withBefore(Map<String, Integer> counts) {
    return new FusionReport(counts, after, entries, checks);
  }

  /** The same report with per-layer verification results. */
  public FusionReport withChecks(List<LayerCheck> layerChecks) {
    return new FusionReport(before, after, entries, layerChecks);
  }

  /**
   * The same report after the layout pass (which runs after quantization): its entries appended,
   * the "after" counts those of the graph that runs.
   */
  public FusionReport withLayout(List<FusionLog.Entry> layoutEntries, Map<String, Integer> afterLayout) {
    List<FusionLog.Entry> all = new java.util.ArrayList<>(entries);
    all.addAll(layoutEntries);
    return new FusionReport(before, afterLayout, all, checks);
  }

  public long fusedCount() {
    return entries.stream().filter(FusionLog.Entry::fused).count();
  }

  /** The report as JSON: {"before": {...}, "after": {...}, "fused": [...], "kept": [...], "verification": [...]}. */
  public String toJson() {
    StringBuilder sb = new StringBuilder("{\n");
    sb.append("  \"before\": ").append(histogram(before)).append(",\n");
    sb.append("  \"after\": ").append(histogram(after)).append(",\n");
    sb.append("  \"fused\": ").append(entries(true)).append(",\n");
    sb.append("  \"kept\": ").append(entries(false)).append(",\n");
    sb.append("  \"verification\": [");
    for (int i = 0; i < checks.size(); i++) {
      LayerCheck c = checks.get(i);
      sb.append(i == 0 ? "\n" : ",\n").append("    {\"node\": ").append(quote(c.node())).append(", \"replaced\": ")
          .append(names(c.replaced())).append(", \"max_abs_error\": ").append(number(c.maxAbsError()))
          .append(", \"max_rel_error\": ").append(number(c.maxRelError())).append('}');
    }
    sb.append(checks.isEmpty() ? "]\n" : "\n  ]\n");
    return sb.append("}\n").toString();
  }

  private String entries(boolean fused) {
    StringBuilder sb = new StringBuilder("[");
    boolean first = true;
    for (FusionLog.Entry e : entries) {
      if (e.fused() != fused) {
        continue;
      }
      sb.append(first ? "\n" : ",\n").append("    {\"pass\": ").append(quote(e.pass())).append(", \"nodes\": ")
          .append(names(e.nodes())).append(", \"message\": ").append(quote(e.message())).append('}');
      first = false;
    }
    return sb.append(first ? "]" : "\n  ]").toString();
  }

  private static String histogram(Map<String, Integer> h) {
    StringBuilder sb = new StringBuilder("{");
    new java.util.TreeMap<>(h).forEach((op, count) -> sb.append(sb.length() > 1 ? ", " : "").append(quote(op)).append(": ").append(count));
    return sb.append('}').toString();
  }

  private static String names(List<String> names) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < names.size(); i++) {
      sb.append(i > 0 ? ", " : "").append(quote(names.get(i)));
    }
    return sb.append(']').toString();
  }

  private static String number(double v) {
    return Double.isFinite(v) ? String.valueOf(v) : "null";
  }

  /** s as a JSON string literal. */
  public static String quote(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (char ch : s.toCharArray()) {
      switch (ch) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\t' -> sb.append("\\t");
        default -> {
          if (ch < 0x20) {
            sb.append(String.format("\\u%04x", (int) ch));
          } else {
            sb.append(ch);
          }
        }
      }
    }
    return sb.append('"').toString();
  }
}
