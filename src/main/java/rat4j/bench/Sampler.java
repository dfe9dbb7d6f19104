package rat4j.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * How a point is repeated: warm-up calls (untimed: JIT compilation, first touch of fresh buffers), then timed calls
 * until {@code reps} are done, or, once {@code minReps} are, until {@code budgetSeconds} of timed calls have passed,
 * so that a slow point costs a bounded time while a fast one gets all its repetitions.
 */
public record Sampler(int warmup, int reps, int minReps, double budgetSeconds) {
    public Sampler {
        if (warmup < 0) throw new IllegalArgumentException("warm-up runs must be >= 0, got " + warmup);
        if (reps < 1) throw new IllegalArgumentException("repetitions must be >= 1, got " + reps);
        if (minReps < 1 || minReps > reps) throw new IllegalArgumentException("minimum repetitions must lie in [1, " + reps + "], got " + minReps);
        if (!(budgetSeconds > 0)) throw new IllegalArgumentException("time budget must be > 0 seconds, got " + budgetSeconds);
    }

    /** Times run under this policy with the wall clock. */
    public Timing measure(Runnable run) {
        return measure(run, () -> {}, () -> {}, System::nanoTime);
    }

    /**
     * Times run; afterWarmup runs once between the warm-up and the timed calls (to reset counters), beforeEach before
     * every call, untimed (to evict the caches).
     */
    public Timing measure(Runnable run, Runnable afterWarmup, Runnable beforeEach) {
        return measure(run, afterWarmup, beforeEach, System::nanoTime);
    }

    /** Times run with the given nanosecond clock (tests pass a fake one). */
    Timing measure(Runnable run, Runnable afterWarmup, Runnable beforeEach, LongSupplier clock) {
        for (int i = 0; i < warmup; i++) {
            beforeEach.run();
            run.run();
        }
        afterWarmup.run();
        List<Double> samples = new ArrayList<>();
        long spent = 0;
        while (samples.size() < reps) {
            beforeEach.run();
            long t0 = clock.getAsLong();
            run.run();
            long dt = clock.getAsLong() - t0;
            samples.add(dt / 1e6);
            spent += dt;
            if (samples.size() >= minReps && spent / 1e9 >= budgetSeconds) break;
        }
        return new Timing(samples.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /** The calls (warm-up included) a point whose call takes callSeconds will make: for progress estimates. */
    public int expectedCalls(double callSeconds) {
        int timed = callSeconds <= 0 ? reps : (int) Math.min(reps, Math.max(minReps, Math.ceil(budgetSeconds / callSeconds)));
        return warmup + timed;
    }
}
