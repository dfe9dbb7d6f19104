package rat4j.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How much of the machine other processes used while something was measured: the machine's busy fraction from
 * /proc/stat minus this process's own CPU time over the same wall time. On a shared machine a row measured at 50% is
 * roughly twice as slow as it would be alone; NaN where /proc/stat cannot be read (not Linux).
 */
public final class Interference {
    private Interference() {}

    /** busy, total: the first line of /proc/stat summed (in clock ticks); cpu: this process's CPU ns; wall: ns. */
    public record Snapshot(long busyTicks, long totalTicks, long cpuNanos, long wallNanos) {}

    private static final Path PROC_STAT = Path.of("/proc/stat");

    public static Snapshot now() {
        long busy = -1, total = -1;
        try {
            String line = Files.readAllLines(PROC_STAT).getFirst();
            long[] t = parseCpuLine(line);
            total = 0;
            for (long x : t) total += x;
            busy = total - t[3] - (t.length > 4 ? t[4] : 0); // idle and iowait are not busy
        } catch (IOException | RuntimeException e) {
            // not Linux, or an unreadable /proc: othersShare reports NaN
        }
        return new Snapshot(busy, total, processCpuNanos(), System.nanoTime());
    }

    /** The counters of "cpu  user nice system idle iowait irq softirq steal ..." (guest time is inside user). */
    static long[] parseCpuLine(String line) {
        String[] f = line.trim().split("\\s+");
        if (!f[0].equals("cpu") || f.length < 5) throw new IllegalArgumentException("not the aggregate cpu line of /proc/stat: " + line);
        int n = Math.min(f.length - 1, 8);
        long[] t = new long[n];
        for (int i = 0; i < n; i++) t[i] = Long.parseLong(f[i + 1]);
        return t;
    }

    private static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) return os.getProcessCpuTime();
        return -1;
    }

    /** The share of all CPUs that other processes used between a and b, in [0, 1]; NaN when unknown. */
    public static double othersShare(Snapshot a, Snapshot b) {
        return othersShare(a, b, Runtime.getRuntime().availableProcessors());
    }

    static double othersShare(Snapshot a, Snapshot b, int cpus) {
        long total = b.totalTicks() - a.totalTicks(), wall = b.wallNanos() - a.wallNanos();
        if (a.busyTicks() < 0 || b.busyTicks() < 0 || a.cpuNanos() < 0 || total <= 0 || wall <= 0) return Double.NaN;
        double busy = (b.busyTicks() - a.busyTicks()) / (double) total;
        double ours = (b.cpuNanos() - a.cpuNanos()) / ((double) wall * cpus);
        return Math.clamp(busy - ours, 0.0, 1.0);
    }
}
