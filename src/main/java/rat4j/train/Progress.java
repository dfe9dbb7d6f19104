package rat4j.train;

import java.io.OutputStream;
import java.io.PrintWriter;

/**
 * A live status line on stderr. On a terminal it is rewritten in place (at most ten times a second); in a log file it
 * is printed as a plain line at most every ten seconds, so logs stay readable.
 */
public final class Progress {
    private static final long TERMINAL_INTERVAL = 100_000_000L, LOG_INTERVAL = 10_000_000_000L;

    private final PrintWriter out;
    private final boolean interactive;
    private long lastPrint;
    private boolean printedOnce;
    private int shownLength; // characters of the status line now on the terminal, 0 when none

    public Progress(PrintWriter out, boolean interactive) {
        this.out = out;
        this.interactive = interactive;
    }

    /** Status on {@code err}, rewritten in place when the process's stderr is a terminal. */
    public static Progress stderr(PrintWriter err) {
        java.io.Console c = System.console();
        return new Progress(err, c != null && c.isTerminal());
    }

    public static Progress silent() {
        return new Progress(new PrintWriter(OutputStream.nullOutputStream()), false);
    }

    /** Shows {@code line} unless a line was shown too recently. */
    public void update(String line) {
        long now = System.nanoTime();
        if (printedOnce && now - lastPrint < (interactive ? TERMINAL_INTERVAL : LOG_INTERVAL)) return;
        show(line, now);
    }

    /** Shows {@code line} now and keeps it (the final state of a task). */
    public void finish(String line) {
        show(line, System.nanoTime());
        if (interactive) {
            out.println();
            shownLength = 0;
        }
        printedOnce = false;
    }

    /** Prints a message on its own line, above the status line. */
    public void message(String msg) {
        clear();
        out.println(msg);
        out.flush();
    }

    private void show(String line, long now) {
        if (interactive) {
            out.print("\r" + line + " ".repeat(Math.max(0, shownLength - line.length())));
            shownLength = line.length();
        } else {
            out.println(line);
        }
        out.flush();
        lastPrint = now;
        printedOnce = true;
    }

    private void clear() {
        if (interactive && shownLength > 0) {
            out.print("\r" + " ".repeat(shownLength) + "\r");
            shownLength = 0;
        }
    }

    /** "[########------------]" for a fraction in [0, 1]. */
    public static String bar(double fraction, int width) {
        int full = (int) Math.round(Math.max(0, Math.min(1, fraction)) * width);
        return "[" + "#".repeat(full) + "-".repeat(width - full) + "]";
    }

    /** "3h05m", "4m07s", "12s"; "?" when unknown. */
    public static String duration(double seconds) {
        if (!Double.isFinite(seconds) || seconds < 0) return "?";
        long s = Math.round(seconds);
        if (s >= 3600) return String.format("%dh%02dm", s / 3600, s % 3600 / 60);
        if (s >= 60) return String.format("%dm%02ds", s / 60, s % 60);
        return s + "s";
    }

    /** 1234567 as "1.23M", 12345 as "12.3k". */
    public static String count(double n) {
        if (n >= 1e9) return String.format("%.2fG", n / 1e9);
        if (n >= 1e6) return String.format("%.2fM", n / 1e6);
        if (n >= 1e4) return String.format("%.1fk", n / 1e3);
        return String.format("%.0f", n);
    }
}
