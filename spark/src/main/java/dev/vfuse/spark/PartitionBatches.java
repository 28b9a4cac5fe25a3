package dev.vfuse.spark;

import dev.vfuse.VfuseException;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.sql.Row;

/**
 * A partition's rows with their outcomes, computed a batch at a time: it takes up to {@code
 * batchSize} rows, decodes each (a bad input becomes that row's error), runs them ({@link
 * BatchRunner}) and hands them out, then takes the next batch. Nothing is read before it is asked
 * for, so a partition is never held in memory whole, and the model is loaded (once per JVM) only
 * when the first batch runs: an empty partition loads nothing.
 */
final class PartitionBatches implements Iterator<PartitionBatches.Scored> {
  /** A row and its outcome. */
  record Scored(Row row, BatchRunner.Outcome outcome) {}

  private final Iterator<Row> rows;
  private final ModelRef model;
  private final int column;
  private final int shapeColumn;
  private final ArrayDeque<Scored> ready = new ArrayDeque<>();
  private BatchRunner runner;

  PartitionBatches(Iterator<Row> rows, ModelRef model, int column, int shapeColumn) {
    this.rows = rows;
    this.model = model;
    this.column = column;
    this.shapeColumn = shapeColumn;
  }

  @Override
  public boolean hasNext() {
    return !ready.isEmpty() || rows.hasNext();
  }

  @Override
  public Scored next() {
    if (ready.isEmpty()) {
      if (!rows.hasNext()) {
        throw new NoSuchElementException();
      }
      runBatch();
    }
    return ready.removeFirst();
  }

  private void runBatch() {
    InferenceOptions o = model.options();
    List<Row> batch = new ArrayList<>(o.batchSize());
    List<BatchRunner.Input> inputs = new ArrayList<>(o.batchSize());
    while (batch.size() < o.batchSize() && rows.hasNext()) {
      Row row = rows.next();
      batch.add(row);
      try {
        inputs.add(new BatchRunner.Input(Inputs.decode(row, column, shapeColumn, o), null));
      } catch (IOException | RuntimeException e) {
        inputs.add(BatchRunner.Input.failed(message(e)));
      }
    }
    if (runner == null) {
      try {
        runner = model.runner();
      } catch (VfuseException e) {
        throw new IllegalStateException("cannot load the model: " + e.getMessage(), e);
      }
    }
    List<BatchRunner.Outcome> outcomes = runner.run(inputs);
    for (int i = 0; i < batch.size(); i++) {
      BatchRunner.Outcome out = outcomes.get(i);
      if (out.error() != null && o.failFast()) {
        Row row = batch.get(i);
        String which = row.isNullAt(column) || row.get(column) instanceof byte[] ? "a row" : "'" + row.get(column) + "'";
        throw new InferenceFailedException(which + ": " + out.error());
      }
      ready.addLast(new Scored(batch.get(i), out));
    }
  }

  /** The scored rows of {@code rows}, each turned into what {@code f} makes of it, lazily. */
  static <T> Iterator<T> map(Iterator<Row> rows, ModelRef model, int column, int shapeColumn,
      java.util.function.Function<Scored, T> f) {
    PartitionBatches scored = new PartitionBatches(rows, model, column, shapeColumn);
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return scored.hasNext();
      }

      @Override
      public T next() {
        return f.apply(scored.next());
      }
    };
  }

  private static String message(Exception e) {
    String m = e.getMessage();
    if (e instanceof java.nio.file.NoSuchFileException) {
      return m + ": no such file";
    }
    return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
  }
}
