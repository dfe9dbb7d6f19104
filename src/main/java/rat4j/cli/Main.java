package rat4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.concurrent.Callable;

/**
 * The rat4j command line. Each subcommand parses and validates its arguments and calls library methods. Every error
 * is one line on stderr, "rat4j: error: ...", exit code 1 (2 for usage errors); RAT4J_DEBUG=1 adds the stack trace.
 */
@Command(name = "rat4j", mixinStandardHelpOptions = true, version = "rat4j 0.1.0",
        description = "RAT language models on the JVM.",
        subcommands = {InfoCommand.class, ImportCommand.class, ScoreCommand.class, ConfigCommand.class, TokenizeCommand.class,
                PrepareCommand.class, TrainCommand.class, PlotCommand.class, GenerateCommand.class, BenchCommand.class})
public final class Main implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Override public Integer call() {
        throw new ParameterException(spec.commandLine(), "missing command: one of " + String.join(", ", spec.subcommands().keySet()));
    }

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        System.exit(execute(out, err, "1".equals(System.getenv("RAT4J_DEBUG")), args));
    }

    /** Runs the command line and returns its exit code; output and errors go to the given writers. */
    static int execute(PrintWriter out, PrintWriter err, boolean debug, String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler((ex, a) -> {
            // picocli prefixes some of its messages with "Error: "; ours already says so.
            String m = oneLine(ex.getMessage()).replaceFirst("^Error: ", "");
            err.println("rat4j: error: " + m + " (see '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help')");
            if (debug) ex.printStackTrace(err);
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            err.println("rat4j: error: " + message(ex));
            if (debug) ex.printStackTrace(err);
            return 1;
        });
        int rc;
        try {
            rc = cl.execute(args);
        } catch (OutOfMemoryError e) {
            err.println("rat4j: error: out of memory; give the JVM more with RAT4J_JAVA_OPTS=-Xmx...");
            if (debug) e.printStackTrace(err);
            rc = 1;
        }
        out.flush();
        err.flush();
        return rc;
    }

    /** One line naming the problem; the JDK's file-system exceptions carry only the path, so say what happened. */
    static String message(Throwable ex) {
        String m = switch (ex) {
            case NoSuchFileException e -> e.getFile() + ": " + (e.getReason() != null ? e.getReason() : "no such file or directory");
            case AccessDeniedException e -> e.getFile() + ": permission denied";
            case FileAlreadyExistsException e -> e.getFile() + ": already exists";
            case FileSystemException e -> e.getMessage();
            default -> ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
        };
        return oneLine(m);
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s*\\R\\s*", " ").trim();
    }
}
