package dev.vfuse.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code vfuse} command: {@code run}, {@code inspect}, {@code demo}, {@code ocr} and {@code serve}.
 *
 * <p>Errors print one line, {@code vfuse: message}, on stderr and exit with {@value #EXIT_USAGE}
 * for a bad command line and {@value #EXIT_ERROR} for a bad model, input or file (or a bug). A
 * stack trace follows only with {@code -v}/{@code --verbose} or when the environment variable
 * {@code VFUSE_DEBUG} is set.
 */
@Command(name = "vfuse", mixinStandardHelpOptions = true, versionProvider = VfuseCli.Version.class,
    sortOptions = false, usageHelpAutoWidth = true,
    description = "Pure-Java CPU inference for ONNX convolutional networks.",
    subcommands = {RunCommand.class, InspectCommand.class, DemoCommand.class, OcrCommand.class, ServeCommand.class, CommandLine.HelpCommand.class},
    footer = {"", "Set VFUSE_DEBUG=1 to get stack traces of errors, like --verbose."})
public final class VfuseCli implements Callable<Integer> {
  public static final int EXIT_OK = 0;
  public static final int EXIT_ERROR = 1;
  public static final int EXIT_USAGE = 2;

  @Spec CommandSpec spec;

  @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT, description = "Print the stack trace of an error.")
  boolean verbose;

  @Override
  public Integer call() {
    throw new UsageException("missing command: run, inspect, demo, ocr or serve (see 'vfuse --help')");
  }

  public static void main(String[] args) {
    System.setProperty("java.awt.headless", "true");
    boolean debug = debugFromEnvironment();
    int code;
    try {
      code = commandLine(debug).execute(args);
    } catch (Throwable t) { // errors picocli does not handle: OutOfMemoryError, StackOverflowError
      System.out.flush();
      System.err.println("vfuse: " + (t instanceof OutOfMemoryError
          ? "out of memory (" + t.getMessage() + "); give the JVM more with -Xmx via JAVA_TOOL_OPTIONS"
          : ErrorMessages.describe(t)));
      if (debug || java.util.Arrays.asList(args).contains("-v") || java.util.Arrays.asList(args).contains("--verbose")) {
        t.printStackTrace();
      }
      code = EXIT_ERROR;
    }
    System.exit(code);
  }

  /** Whether VFUSE_DEBUG is set to anything but "", "0" or "false". */
  static boolean debugFromEnvironment() {
    String v = System.getenv("VFUSE_DEBUG");
    return v != null && !v.isBlank() && !v.equals("0") && !v.equalsIgnoreCase("false");
  }

  /** The configured command line; {@code debug} prints stack traces as {@code --verbose} does. */
  public static CommandLine commandLine(boolean debug) {
    CommandLine cl = new CommandLine(new VfuseCli());
    cl.setParameterExceptionHandler((ex, args) -> {
      CommandLine cmd = ex.getCommandLine();
      PrintWriter err = cmd.getErr();
      cmd.getOut().flush();
      String hint = "";
      if (ex instanceof UnmatchedArgumentException u) {
        List<String> near = suggestions(u.getUnmatched(), cmd.getSubcommands().keySet());
        if (!near.isEmpty()) {
          hint = "; did you mean " + String.join(" or ", near) + "?";
        }
      }
      err.println("vfuse: " + ErrorMessages.oneLine(ex.getMessage()) + hint
          + " (see '" + cmd.getCommandSpec().qualifiedName() + " --help')");
      if (debug) {
        ex.printStackTrace(err);
      }
      err.flush();
      return EXIT_USAGE;
    });
    cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
      PrintWriter err = cmd.getErr();
      cmd.getOut().flush();
      boolean trace = debug || verbose(parseResult);
      String line = ErrorMessages.describe(ex);
      if (!ErrorMessages.expected(ex) && !trace) {
        line += " (run with --verbose for the stack trace)";
      }
      err.println("vfuse: " + line);
      if (trace) {
        ex.printStackTrace(err);
      }
      err.flush();
      return ex instanceof UsageException || ex instanceof ParameterException ? EXIT_USAGE : EXIT_ERROR;
    });
    return cl;
  }

  /** The commands within edit distance 2 of the first unmatched argument, for typos like {@code rnu}. */
  static List<String> suggestions(List<String> unmatched, Collection<String> commands) {
    if (unmatched.isEmpty() || unmatched.get(0).startsWith("-")) {
      return List.of();
    }
    String typed = unmatched.get(0);
    List<String> out = new ArrayList<>();
    for (String c : commands) {
      if (!c.equals("help") && editDistance(typed, c) <= 2) {
        out.add(c);
      }
    }
    return out;
  }

  /** Levenshtein distance with adjacent transpositions counted as one edit. */
  static int editDistance(String a, String b) {
    int[][] d = new int[a.length() + 1][b.length() + 1];
    for (int i = 0; i <= a.length(); i++) {
      d[i][0] = i;
    }
    for (int j = 0; j <= b.length(); j++) {
      d[0][j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
        if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
          d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    return d[a.length()][b.length()];
  }

  /** Whether -v/--verbose was given on the top command or a subcommand. */
  private static boolean verbose(ParseResult pr) {
    for (ParseResult p = pr; p != null; p = p.subcommand()) {
      if (p.hasMatchedOption("--verbose")) {
        return true;
      }
    }
    return false;
  }

  /** The version of this build, from the jar's Maven metadata, or "(development build)". */
  static String version() {
    String version = "(development build)";
    try (InputStream in = VfuseCli.class.getResourceAsStream("/META-INF/maven/dev.vfuse/vfuse-cli/pom.properties")) {
      if (in != null) {
        Properties p = new Properties();
        p.load(in);
        version = p.getProperty("version", version);
      }
    } catch (IOException e) {
      // keep the placeholder
    }
    return version;
  }

  /** {@code vfuse VERSION}, the JVM, and whether the Vector API module is present. */
  static final class Version implements IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = version();
      boolean vector = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
      return new String[] {
        "vfuse " + version,
        "Java " + System.getProperty("java.runtime.version") + " (" + System.getProperty("java.vendor") + ") on "
            + System.getProperty("os.name") + " " + System.getProperty("os.arch"),
        "Vector API: " + (vector ? "jdk.incubator.vector present" : "not enabled (start the JVM with --add-modules=jdk.incubator.vector)")
      };
    }
  }
}
