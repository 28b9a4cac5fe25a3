package dev.vfuse.cli;

import java.time.Duration;

/**
 * The value of {@code --warmup} ({@code run --repeat} and {@code profile}): {@code auto} (until the
 * latency settles, at most 60 s), a run count, or a duration in seconds such as {@code 10s}.
 *
 * @param runs exactly this many warm-up runs, or null to run until the latency settles
 * @param budget the most time a warm-up that runs until the latency settles may take
 */
record WarmupOption(Integer runs, Duration budget) {
  static final Duration AUTO_BUDGET = Duration.ofSeconds(60);

  /** Parses {@code auto}, {@code N} or {@code Ss}; anything else is a usage error. */
  static WarmupOption parse(String value) {
    if (value.matches("\\d+")) {
      return new WarmupOption(Integer.parseInt(value), AUTO_BUDGET);
    }
    if (value.matches("\\d+(\\.\\d+)?s")) {
      return new WarmupOption(null, Duration.ofMillis(Math.round(Double.parseDouble(value.substring(0, value.length() - 1)) * 1000)));
    }
    if (!value.equals("auto")) {
      throw new UsageException("--warmup takes auto, a run count or a duration in seconds such as 10s; got '" + value + "'");
    }
    return new WarmupOption(null, AUTO_BUDGET);
  }

  /** The run count {@code Model.warmUpAndTime} takes: −1 for until the latency settles. */
  int runCount() {
    return runs == null ? -1 : runs;
  }

  /** What the warm-up did, for the command's output. */
  String describe(dev.vfuse.Warmup w) {
    return runs != null ? "warmup " + runs + " runs in " + Summaries.ms(w.elapsed().toNanos()) + " ms" : "warmup " + w;
  }
}
