package rat4j.train;

/**
 * The reference's learning-rate schedule (src/optim/scheduler.py, its CosineAnnealingLR with warmup; T_max is the run's
 * number of optimizer steps): step s (0-based) uses
 * <pre>
 *   s &lt; W:  (s + 1) / W * lr
 *   else:   eta_min + (lr - eta_min) * (1 + cos(pi * (s - W) / (T - W))) / 2
 * </pre>
 * with W = int(warmup_fraction * T).
 */
public record CosineSchedule(double lr, long warmupSteps, long totalSteps, double etaMin) {
    public CosineSchedule {
        if (!(lr > 0)) throw new IllegalArgumentException("learning rate must be > 0, got " + lr);
        if (totalSteps < 1) throw new IllegalArgumentException("total steps must be >= 1, got " + totalSteps);
        if (warmupSteps < 0 || warmupSteps >= totalSteps) throw new IllegalArgumentException("warmup steps must be in [0, " + totalSteps + "), got " + warmupSteps);
        if (!(etaMin >= 0 && etaMin <= lr)) throw new IllegalArgumentException("eta_min must be in [0, lr], got " + etaMin);
    }

    /** The schedule of a run of {@code totalSteps} with warmup over the first int(warmupFraction x totalSteps). */
    public static CosineSchedule of(double lr, double warmupFraction, long totalSteps, double etaMin) {
        if (!(warmupFraction >= 0 && warmupFraction < 1)) throw new IllegalArgumentException("warmup fraction must be in [0, 1), got " + warmupFraction);
        return new CosineSchedule(lr, (long) (warmupFraction * totalSteps), totalSteps, etaMin);
    }

    /** The learning rate of step s (0-based). */
    public double at(long s) {
        if (s < 0 || s >= totalSteps) throw new IllegalArgumentException("step " + s + " is outside the schedule [0, " + totalSteps + ")");
        if (s < warmupSteps) return (double) (s + 1) / warmupSteps * lr;
        return etaMin + (lr - etaMin) * (1 + Math.cos(Math.PI * (s - warmupSteps) / (totalSteps - warmupSteps))) / 2;
    }
}
