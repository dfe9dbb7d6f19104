package rat4j.kernel;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;

/** The one thread pool of the process. Kernels split work once, at the call site, over an axis without write races. */
public final class Parallel {
    private static final ForkJoinPool POOL = new ForkJoinPool(Runtime.getRuntime().availableProcessors());

    private Parallel() {}

    public static int threads() {
        return POOL.getParallelism();
    }

    /** A body over the half-open index range [from, to). */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    /**
     * Runs body over [0, n) split into contiguous ranges, at most one per thread and none smaller than minGrain.
     * Runs inline when one range suffices, so no pool hop is paid for small work.
     */
    public static void forRange(int n, int minGrain, RangeBody body) {
        if (n <= 0) return;
        int parts = Math.min(threads(), Math.max(1, n / Math.max(1, minGrain)));
        if (parts <= 1 || ForkJoinTask.getPool() == POOL) {
            body.run(0, n);
            return;
        }
        RecursiveAction[] tasks = new RecursiveAction[parts];
        for (int p = 0; p < parts; p++) {
            int from = (int) ((long) n * p / parts), to = (int) ((long) n * (p + 1) / parts);
            tasks[p] = new RecursiveAction() {
                @Override protected void compute() { body.run(from, to); }
            };
        }
        POOL.invoke(new RecursiveAction() {
            @Override protected void compute() { invokeAll(tasks); }
        });
    }
}
