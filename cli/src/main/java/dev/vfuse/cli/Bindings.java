package dev.vfuse.cli;

import dev.vfuse.ValueInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Binds {@code --input}/{@code --output} arguments to the model's value names.
 *
 * <p>An argument is {@code NAME=FILE} when the text before the first {@code =} is one of the
 * model's names (names may contain {@code /}, so this is checked first), otherwise it is a bare
 * {@code FILE} when it has no {@code =}, when the text before {@code =} contains a {@code /}, or,
 * for inputs, when the whole argument names an existing file. Anything else is an unknown name.
 *
 * <p>An unnamed input binds to the one model input no named argument gives; an unnamed output
 * binds to the first output. Every model input must be given; outputs without a file are only
 * printed.
 */
final class Bindings {
  private Bindings() {}

  /** One parsed argument: {@code name} is null for a bare file. */
  record Spec(String name, Path file, String raw) {}

  /** Model input name to file, in the model's input order. */
  static Map<String, Path> inputs(List<String> args, List<ValueInfo> model, Path cwd) {
    List<String> names = names(model);
    Map<String, Path> named = new LinkedHashMap<>();
    List<Spec> unnamed = new ArrayList<>();
    for (String raw : args) {
      Spec s = parse(raw, names, "--input", "input", cwd, true);
      if (s.name == null) {
        unnamed.add(s);
      } else if (named.putIfAbsent(s.name, s.file) != null) {
        throw new UsageException("input '" + s.name + "' is given twice");
      }
    }
    if (unnamed.size() > 1) {
      throw new UsageException(unnamed.size() + " --input files have no name; use --input NAME=FILE (the model's inputs are "
          + join(names) + ")");
    }
    List<String> open = names.stream().filter(n -> !named.containsKey(n)).toList();
    if (unnamed.size() == 1) {
      Spec s = unnamed.get(0);
      if (open.size() != 1) {
        throw new UsageException(open.isEmpty()
            ? "--input " + s.raw + " has no name and every model input is already given"
            : "--input " + s.raw + " has no name but " + open.size() + " model inputs are not given (" + join(open)
                + "); use --input NAME=FILE");
      }
      named.put(open.get(0), s.file);
    }
    Map<String, Path> ordered = new LinkedHashMap<>();
    for (ValueInfo v : model) {
      Path p = named.get(v.name());
      if (p == null) {
        throw new UsageException("no --input for model input " + v + (model.size() == 1 ? "" : "; use --input " + v.name() + "=FILE"));
      }
      ordered.put(v.name(), p);
    }
    return ordered;
  }

  /** Model output name to file, in the model's output order; outputs not asked for are absent. */
  static Map<String, Path> outputs(List<String> args, List<ValueInfo> model, Path cwd) {
    List<String> names = names(model);
    Map<String, Path> named = new LinkedHashMap<>();
    Spec unnamed = null;
    for (String raw : args) {
      Spec s = parse(raw, names, "--output", "output", cwd, false);
      if (s.name == null) {
        if (unnamed != null) {
          throw new UsageException("several --output files have no name; use --output NAME=FILE (the model's outputs are "
              + join(names) + ")");
        }
        unnamed = s;
      } else if (named.putIfAbsent(s.name, s.file) != null) {
        throw new UsageException("output '" + s.name + "' is given twice");
      }
    }
    if (unnamed != null) {
      if (names.isEmpty()) {
        throw new UsageException("the model has no outputs");
      }
      if (named.putIfAbsent(names.get(0), unnamed.file) != null) {
        throw new UsageException("output '" + names.get(0) + "' is given twice (an unnamed --output means the first output)");
      }
    }
    Map<String, Path> ordered = new LinkedHashMap<>();
    for (String n : names) {
      if (named.containsKey(n)) {
        ordered.put(n, named.get(n));
      }
    }
    return ordered;
  }

  static Spec parse(String raw, List<String> names, String option, String what, Path cwd, boolean mustExist) {
    int eq = raw.indexOf('=');
    if (eq < 0) {
      return new Spec(null, cwd.resolve(raw), raw);
    }
    String name = raw.substring(0, eq);
    String file = raw.substring(eq + 1);
    if (names.contains(name)) {
      if (file.isEmpty()) {
        throw new UsageException(option + " " + raw + " has no file after '='");
      }
      return new Spec(name, cwd.resolve(file), raw);
    }
    if (name.contains("/") || (mustExist && Files.exists(cwd.resolve(raw)))) {
      return new Spec(null, cwd.resolve(raw), raw);
    }
    throw new UsageException("unknown " + what + " '" + name + "' in " + option + " " + raw + "; the model's " + what + "s are "
        + join(names));
  }

  private static List<String> names(List<ValueInfo> model) {
    return model.stream().map(ValueInfo::name).toList();
  }

  private static String join(List<String> names) {
    return names.isEmpty() ? "(none)" : names.stream().collect(Collectors.joining(", "));
  }

  /**
   * Calibration samples from a folder: for a one-input model each {@code .npy} file is a sample;
   * otherwise each subfolder is one, holding {@code NAME.npy} for every input. Sorted by name.
   */
  static List<Map<String, dev.vfuse.Tensor>> samples(Path dir, List<ValueInfo> model) {
    List<Map<String, dev.vfuse.Tensor>> out = new java.util.ArrayList<>();
    try (var entries = java.nio.file.Files.list(dir)) {
      List<Path> sorted = entries.sorted().toList();
      for (Path p : sorted) {
        if (model.size() == 1 && p.toString().endsWith(".npy")) {
          out.add(Map.of(model.get(0).name(), dev.vfuse.io.Npy.read(p)));
        } else if (model.size() > 1 && java.nio.file.Files.isDirectory(p)) {
          Map<String, dev.vfuse.Tensor> sample = new java.util.LinkedHashMap<>();
          for (ValueInfo v : model) {
            Path f = p.resolve(v.name() + ".npy");
            if (!java.nio.file.Files.isRegularFile(f)) {
              throw new UsageException("calibration sample " + p + " lacks " + v.name() + ".npy");
            }
            sample.put(v.name(), dev.vfuse.io.Npy.read(f));
          }
          out.add(sample);
        }
      }
    } catch (java.io.IOException e) {
      throw new UsageException("cannot read calibration folder " + dir + ": " + e.getMessage());
    }
    if (out.isEmpty()) {
      throw new UsageException("calibration folder " + dir + " holds no "
          + (model.size() == 1 ? ".npy files" : "sample subfolders"));
    }
    return out;
  }
}
