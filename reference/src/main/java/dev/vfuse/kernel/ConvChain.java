package dev.vfuse.kernel;

import java.util.List;

/**
 * Convolutions that feed one another (each reads only the previous one's output, as the 1×1 →
 * depthwise → 1×1 of an inverted residual block), run band by band instead of layer by layer:
 *
 * <pre>
 *   for each band of final output rows [a, b):
 *     for each stage s:  compute the rows of stage s that stage s + 1 reads for [a, b) and no
 *                        earlier band computed;  the last stage computes [a, b)
 * </pre>
 *
 * Every intermediate still has its full-size buffer (its rows are written once, where the plain
 * order would write them), but a band's intermediate rows are read back while they are in L2
 * instead of after the whole layer has pushed them out to L3 or memory: mobilenet_v2's 96-channel
 * 112×112 expansion writes 4.8 MB that the depthwise conv after it reads.
 *
 * <p>The result is the layer-by-layer result, bit for bit: each stage computes each of its rows
 * once per task with the kernel's own arithmetic ({@link BandedConv#runRows}).
 *
 * <p>Parallelism: the final rows of each image are cut into one segment per thread (segments of
 * at least {@value #MIN_SEGMENT_ROWS} rows); a segment's task runs its bands in order. The
 * intermediate rows that two neighbouring segments both read (a depthwise kernel's halo, and the
 * rows those need in the stages before) are the boundary's cone: they are computed first, once,
 * in a pass of their own, and the segments then skip them. No row is written by two tasks (a
 * kernel stores its sums before it applies the epilogue in place, so a second writer could
 * expose a half-finished row to the other task).
 */
public final class ConvChain {
  /**
   * Bytes of intermediate rows one band may need at most, all stages together: half of a 1 MB L2,
   * leaving room for the weights and the band's input and output. With 256 KB PP-OCRv3 det's 40×40
   * chains (336 channels, one-row bands) ran slower than layer by layer; with 512 KB at par.
   */
  static final long BAND_BYTES = 512 << 10;

  /** Bytes an intermediate must exceed for the bands to pay ({@link #pays}): L2's size. */
  public static final long MIN_INTERMEDIATE_BYTES = 1 << 20;

  /** Final rows of a segment at least: the rows of a boundary's cone run on one thread. */
  static final int MIN_SEGMENT_ROWS = 8;

  private final BandedConv[] stages;
  private final int block;
  private final ConvGeometry[] geometries;
  private final int bandRows;
  private final int scratchPerWorker;
  /**
   * The cones of the last segment count a run asked for: computed on the first run with that count,
   * then reused (an immutable record, published whole, so racing runs at worst compute it twice).
   */
  private volatile Cones cached;

  /** The cones (see {@link #cones}) of {@code segments} requested segments, fewer if their cones would overlap. */
  private record Cones(int requested, int[][] boundaries) {}

  /**
   * The chain of {@code stages} in order, on channel-blocked tensors of block {@code block} (for
   * the band size only). Stage s + 1's input must be stage s's output: same N, channels, rows and
   * columns.
   *
   * @throws IllegalArgumentException for fewer than two stages or stages that do not connect
   */
  public ConvChain(List<? extends BandedConv> stages, int block) {
    this(stages, block, 0);
  }

  private ConvChain(List<? extends BandedConv> stages, int block, int bandRows) {
    if (stages.size() < 2) {
      throw new IllegalArgumentException("a chain has at least two convolutions, got " + stages.size());
    }
    this.stages = stages.toArray(BandedConv[]::new);
    this.geometries = new ConvGeometry[stages.size()];
    int scratch = 0;
    for (int s = 0; s < stages.size(); s++) {
      geometries[s] = stages.get(s).geometry();
      scratch = Math.max(scratch, stages.get(s).scratchPerWorker());
      if (s > 0) {
        ConvGeometry prev = geometries[s - 1], g = geometries[s];
        if (g.n() != prev.n() || g.c() != prev.k() || g.h() != prev.p() || g.w() != prev.q()) {
          throw new IllegalArgumentException("stage " + s + " (" + g + ") does not read stage " + (s - 1) + "'s output ("
              + prev + ")");
        }
      }
    }
    this.scratchPerWorker = scratch;
    this.block = block;
    this.bandRows = bandRows > 0 ? bandRows : bandRows(geometries, block);
  }

  /** This chain with bands of {@code rows} final rows (≥ 1), for tests that need many bands and halos on small planes. */
  public ConvChain withBandRows(int rows) {
    if (rows < 1) {
      throw new IllegalArgumentException("a band has at least one row, got " + rows);
    }
    return new ConvChain(List.of(stages), block, rows);
  }

  /**
   * Whether the bands pay: some intermediate is larger than {@link #MIN_INTERMEDIATE_BYTES}. Smaller
   * ones stay in L2 from one layer to the next anyway, and there the layer-by-layer kernels split
   * the work over threads more finely (by channel blocks, with no cone run on one thread first).
   */
  public boolean pays() {
    for (int s = 0; s < geometries.length - 1; s++) {
      ConvGeometry g = geometries[s];
      if ((long) g.n() * ChannelBlocks.blocks(g.k(), block) * block * g.p() * g.q() * Float.BYTES > MIN_INTERMEDIATE_BYTES) {
        return true;
      }
    }
    return false;
  }

  /** Floats of scratch one worker needs in {@link #run}. */
  public int scratchPerWorker() {
    return scratchPerWorker;
  }

  /** Final output rows of one band. */
  public int bandRows() {
    return bandRows;
  }

  /**
   * Runs the chain: stage 0 reads x, stage s writes {@code intermediates[s]} (the last one y), each
   * with its residual ({@code residuals[s]}, null for none).
   *
   * @param intermediates the outputs of stages 0 … S − 2, each the size of that stage's output
   * @param scratch at least {@link #scratchPerWorker()}·{@code parallel.threads()} floats
   */
  public void run(float[] x, float[][] residuals, float[][] intermediates, float[] y, float[] scratch, Parallel parallel) {
    int last = stages.length - 1;
    ConvGeometry fin = geometries[last];
    int rows = fin.p();
    int segments = Math.clamp(Math.ceilDiv(parallel.threads(), fin.n()), 1, Math.max(1, rows / MIN_SEGMENT_ROWS));
    Cones c = cached;
    if (c == null || c.requested() != segments) {
      int[][] cones = cones(segments);
      for (int fewer = segments; cones == null; ) {
        cones = cones(--fewer);
      }
      cached = c = new Cones(segments, cones);
    }
    int[][] shared = c.boundaries();
    int parts = shared.length + 1;
    if (parts > 1) {
      parallel.forEach(fin.n() * (parts - 1), (task, worker) -> {
        int image = task / (parts - 1);
        int[] cone = shared[task % (parts - 1)];
        for (int s = 0; s < last; s++) {
          if (cone[2 * s] < cone[2 * s + 1]) {
            stages[s].runRows(s == 0 ? x : intermediates[s - 1], residuals[s], intermediates[s], scratch,
                worker * scratchPerWorker, image, cone[2 * s], cone[2 * s + 1]);
          }
        }
      });
    }
    parallel.forEach(fin.n() * parts, (task, worker) -> {
      int image = task / parts, segment = task % parts;
      int from = (int) ((long) rows * segment / parts), to = (int) ((long) rows * (segment + 1) / parts);
      int[] below = segment == 0 ? null : shared[segment - 1];
      int[] above = segment == parts - 1 ? null : shared[segment];
      int[] done = new int[last];
      java.util.Arrays.fill(done, -1);
      int[] need = new int[2 * stages.length];
      for (int a = from; a < to; a += bandRows) {
        int b = Math.min(to, a + bandRows);
        need[2 * last] = a;
        need[2 * last + 1] = b;
        for (int s = last - 1; s >= 0; s--) {
          ConvGeometry next = geometries[s + 1];
          need[2 * s] = firstInputRow(next, need[2 * s + 2]);
          need[2 * s + 1] = Math.max(need[2 * s], endInputRow(next, need[2 * s + 3]));
        }
        for (int s = 0; s <= last; s++) {
          int lo = need[2 * s], hi = need[2 * s + 1];
          if (s < last) {
            lo = done[s] < 0 ? lo : Math.max(lo, done[s]);
            done[s] = Math.max(done[s], hi);
            // rows of the cones at this segment's edges were computed before
            lo = below == null ? lo : Math.max(lo, below[2 * s + 1]);
            hi = above == null ? hi : Math.min(hi, above[2 * s]);
          }
          if (lo < hi) {
            stages[s].runRows(s == 0 ? x : intermediates[s - 1], residuals[s], s == last ? y : intermediates[s], scratch,
                worker * scratchPerWorker, image, lo, hi);
          }
        }
      }
    });
  }

  /**
   * For each boundary between {@code segments} segments of the final rows, the rows [a_s, b_s) of
   * each intermediate stage s that both neighbouring segments need, with the rows those need in
   * turn: the boundary's cone, computed once before the segments run. Null when two cones would
   * share a row (segments too short for their halos).
   */
  private int[][] cones(int segments) {
    int last = stages.length - 1;
    int rows = geometries[last].p();
    int[][] cones = new int[Math.max(0, segments - 1)][2 * last];
    for (int k = 0; k + 1 < segments; k++) {
      int boundary = (int) ((long) rows * (k + 1) / segments);
      int[] cone = cones[k];
      int belowEnd = boundary, aboveFirst = boundary, coneFirst = 0, coneEnd = 0;
      for (int s = last - 1; s >= 0; s--) {
        ConvGeometry next = geometries[s + 1];
        int inFirst = firstInputRow(next, coneFirst), inEnd = endInputRow(next, coneEnd);
        boolean coneAbove = coneFirst < coneEnd;
        belowEnd = endInputRow(next, belowEnd);
        aboveFirst = firstInputRow(next, aboveFirst);
        int first = aboveFirst, end = belowEnd;
        if (coneAbove) {
          first = Math.min(first, inFirst);
          end = Math.max(end, inEnd);
        }
        if (first >= end) {
          first = end = belowEnd; // nothing shared: the segments meet where the lower one's need ends
        }
        cone[2 * s] = first;
        cone[2 * s + 1] = end;
        coneFirst = first;
        coneEnd = end;
      }
      if (k > 0) {
        for (int s = 0; s < last; s++) {
          if (cones[k - 1][2 * s + 1] > cone[2 * s]) {
            return null;
          }
        }
      }
    }
    return cones;
  }

  /** The first input row that output row p's taps reach (clamped to the input). */
  static int firstInputRow(ConvGeometry g, int p) {
    return Math.clamp((long) p * g.strideH() - g.padTop(), 0, g.h());
  }

  /** One past the last input row that output rows before {@code pEnd} reach (clamped to the input). */
  static int endInputRow(ConvGeometry g, int pEnd) {
    if (pEnd <= 0) {
      return 0;
    }
    return Math.clamp((long) (pEnd - 1) * g.strideH() - g.padTop() + (long) (g.r() - 1) * g.dilationH() + 1, 0, g.h());
  }

  /**
   * The most final rows a band can have while the intermediate rows it needs (stage by stage,
   * kernel halos included) take at most {@link #BAND_BYTES}; at least one.
   */
  static int bandRows(ConvGeometry[] geometries, int block) {
    int last = geometries.length - 1;
    int best = 1;
    for (int rows = 1; rows <= geometries[last].p(); rows++) {
      long bytes = 0;
      long need = rows;
      for (int s = last - 1; s >= 0; s--) {
        ConvGeometry next = geometries[s + 1];
        need = Math.min(next.h(), (need - 1) * next.strideH() + (long) (next.r() - 1) * next.dilationH() + 1);
        ConvGeometry g = geometries[s];
        bytes += need * g.q() * ChannelBlocks.blocks(g.k(), block) * (long) block * Float.BYTES;
      }
      if (bytes > BAND_BYTES) {
        break;
      }
      best = rows;
    }
    return best;
  }
}
