package rat4j.bench;

import rat4j.kernel.Parallel;
import rat4j.model.LayerKind;
import rat4j.nn.GatedScan;
import rat4j.nn.SequenceMixer;
import rat4j.tensor.Sizes;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * The paper's single-layer latency benchmark (Figure 3; src/benchmark_eff/*_eff.py), on this machine: for each layer
 * and sequence length T, the time of a training step (forward + backward of out.mean()), of a prefill (the forward that
 * fills a cache of T tokens), and of one generation step at position T-1 against a full cache, batched and for one
 * sequence. As in the paper, batch x T is held constant for training and prefill ({@code tokensPerBatch}) and for
 * generation ({@code genTokens}: 262144 gives the paper's batch 64 at T = 4096).
 *
 * <p>Generation caches are filled by fillCache from the forward of the train/prefill measurement (or a forward of
 * min(batch, generation batch) sequences): those sequences hold a real prefix of T-1 tokens, the others' entries keep
 * their zeros. A decode step's time does not depend on the values it reads, only on how many.
 *
 * <p>On a shared machine every row also says how much of the machine other processes used while it was measured
 * ({@link Interference}); --breakdown splits each call into its GEMM and attention kernel time and the rest.
 */
public final class LayerBench {
    private LayerBench() {}

    /**
     * What to measure.
     *
     * @param tokensPerBatch batch x T for train and prefill: batch = max(1, tokensPerBatch / T)
     * @param genTokens      batch x T for the batched generation step: batch = max(1, genTokens / T)
     * @param lengths        the sequence lengths T (sorted, distinct, each >= 2)
     */
    public record Options(int dModel, int heads, int tokensPerBatch, int genTokens, List<Integer> lengths,
                          List<BenchLayer> layers, List<Phase> phases, Sampler sampler, boolean breakdown, long seed,
                          Machine.Probe probe) {
        public Options {
            if (dModel < 2) throw new IllegalArgumentException("d_model must be >= 2, got " + dModel);
            if (heads < 1 || dModel % heads != 0) throw new IllegalArgumentException("heads must divide d_model " + dModel + ", got " + heads);
            if ((dModel / heads) % 2 != 0) throw new IllegalArgumentException("head dim " + dModel / heads + " must be even (RoPE)");
            if (tokensPerBatch < 1) throw new IllegalArgumentException("tokens per batch must be >= 1, got " + tokensPerBatch);
            if (genTokens < 1) throw new IllegalArgumentException("generation tokens must be >= 1, got " + genTokens);
            if (lengths.isEmpty()) throw new IllegalArgumentException("no sequence length to measure");
            for (int t : lengths) if (t < 2) throw new IllegalArgumentException("sequence lengths must be >= 2 (a decode step needs a prefix), got " + t);
            if (layers.isEmpty()) throw new IllegalArgumentException("no layer to measure");
            if (phases.isEmpty()) throw new IllegalArgumentException("no phase to measure");
            Objects.requireNonNull(sampler, "sampler");
            Objects.requireNonNull(probe, "probe");
            lengths = List.copyOf(new TreeSet<>(lengths));
            layers = List.copyOf(new LinkedHashSet<>(layers));
            phases = List.copyOf(new LinkedHashSet<>(phases));
            for (int t : lengths) { // every array a point allocates must fit one Java array
                Sizes.product(Math.max(1, tokensPerBatch / t), t, dModel, 4);
                Sizes.product(Math.max(1, genTokens / t), dModel, 4);
            }
        }

        /** The issue's default sweep: d_model 1024, 16 heads, 16384 tokens per batch, T = 1K..16K, the paper's layers. */
        public static Options paper() {
            return new Options(1024, 16, 16384, 262144, List.of(1024, 2048, 4096, 8192, 16384), BenchLayer.paperSet(),
                    List.of(Phase.values()), new Sampler(1, 20, 1, 1.5), false, 1005, Machine.Probe.FULL);
        }

        /** A smoke run of seconds: d_model 128, T = 128..512, few repetitions. */
        public static Options quick() {
            return new Options(128, 4, 1024, 4096, List.of(128, 256, 512), BenchLayer.paperSet(),
                    List.of(Phase.values()), new Sampler(1, 10, 3, 0.1), false, 1005, Machine.Probe.QUICK);
        }

        public int batch(Phase phase, int seqLen) {
            return switch (phase) {
                case TRAIN, PREFILL -> Math.max(1, tokensPerBatch / seqLen);
                case GENERATE -> Math.max(1, genTokens / seqLen);
                case GENERATE_ONE -> 1;
            };
        }
    }

    /** Where a call's time went, per call: inside the GEMM and attention kernels, and the rest. */
    public record Split(double gemmMs, double attentionMs, double otherMs, double scanAloneMs) {}

    /**
     * One measurement, or why it was skipped (then timing is null).
     *
     * @param idealMs the roofline time of cost on the measured machine
     * @param split   null unless the breakdown was asked for
     * @param others  the share of the machine other processes used meanwhile ({@link Interference}); NaN if unknown
     */
    public record Row(BenchLayer layer, int seqLen, int batch, Phase phase, Cost cost, double idealMs,
                      Timing timing, Split split, double others, String skipped) {
        public boolean measured() { return timing != null; }

        /** idealMs / measured median: the fraction of the machine's roofline reached. */
        public double rooflineFraction() { return measured() ? idealMs / timing.median() : Double.NaN; }
    }

    public record Result(Machine machine, Options options, List<Row> rows) {
        public Result {
            rows = List.copyOf(rows);
        }

        /**
         * The same rows judged against another measurement of the machine (the benchmark measures it before and after
         * the sweep and keeps the better of the two, since a busy neighbour can only make a probe slower).
         */
        public Result withMachine(Machine m) {
            List<Row> rs = new ArrayList<>();
            for (Row r : rows) {
                rs.add(new Row(r.layer(), r.seqLen(), r.batch(), r.phase(), r.cost(), m.idealMs(r.cost()), r.timing(), r.split(), r.others(), r.skipped()));
            }
            return new Result(m, options, rs);
        }

        public Row find(BenchLayer layer, int seqLen, Phase phase) {
            for (Row r : rows) if (r.layer().equals(layer) && r.seqLen() == seqLen && r.phase() == phase) return r;
            return null;
        }

        /** Attention's median over this row's, at the same T and phase; NaN when either is missing. */
        public double speedup(Row r) {
            Row a = find(BenchLayer.attention(), r.seqLen(), r.phase());
            return a != null && a.measured() && r.measured() ? a.timing().median() / r.timing().median() : Double.NaN;
        }

        /** The same ratio of roofline times: what the FLOP and byte counts allow. */
        public double idealSpeedup(Row r) {
            Row a = find(BenchLayer.attention(), r.seqLen(), r.phase());
            return a != null ? a.idealMs() / r.idealMs() : Double.NaN;
        }
    }

    /**
     * Runs the sweep on a machine already measured; progress (may be null) gets a line per measurement. Lengths are
     * the outer loop, so the layers compared at one T are measured minutes apart at most, under the same load.
     */
    public static Result run(Options o, Machine machine, PrintWriter progress) {
        List<Row> calibration = prewarm(o, machine, progress);
        Progress p = new Progress(progress, o, machine, calibration);
        List<Row> rows = new ArrayList<>();
        for (int t : o.lengths()) {
            for (BenchLayer layer : o.layers()) {
                for (Row r : measurePoint(o, machine, layer, t, p)) {
                    rows.add(r);
                    p.done(r);
                }
                System.gc(); // the next point allocates its own buffers: free these while nothing is timed
            }
        }
        return new Result(machine, o, rows);
    }

    /** The warm-up pass: at the smallest length (at most this), at least this many calls of each layer and phase. */
    static final int PREWARM_MAX_T = 256, PREWARM_CALLS = 5, PREWARM_MAX_CALLS = 1000;

    /**
     * Runs every layer and phase at a small T first, at least {@link #PREWARM_CALLS} times and for up to a second
     * (the time budget), so that the JIT has compiled the code before any timed call: the Vector API kernels run
     * several times slower until C2 has compiled them, and a decode step's short loops need hundreds of calls (its
     * first calls take tens of ms at sizes where it then takes a fraction of one). The large points, which get no
     * warm-up call of their own, are then not charged for compilation.
     */
    static List<Row> prewarm(Options o, Machine machine, PrintWriter progress) {
        int t = Math.min(PREWARM_MAX_T, o.lengths().getFirst());
        Options small = new Options(o.dModel(), o.heads(), 2 * t, 4 * t, List.of(t), o.layers(), o.phases(),
                new Sampler(0, PREWARM_MAX_CALLS, PREWARM_CALLS, Math.min(1.0, o.sampler().budgetSeconds())), false, o.seed(), o.probe());
        long start = System.nanoTime();
        if (progress != null) {
            progress.printf("bench: warming up the JIT on every layer at T=%d ...%n", t);
            progress.flush();
        }
        List<Row> rows = new ArrayList<>();
        for (BenchLayer layer : o.layers()) rows.addAll(measurePoint(small, machine, layer, t, null));
        if (progress != null) {
            progress.printf("bench: warm-up done in %s%n", Progress.clock((System.nanoTime() - start) / 1e9));
            progress.flush();
        }
        return rows;
    }

    private static Row row(Options o, Machine m, BenchLayer layer, int t, Phase phase, Timing timing, Split split, double others, String skipped) {
        Cost cost = LayerCosts.of(layer, phase, o.dModel(), o.heads(), o.batch(phase, t), t);
        return new Row(layer, t, o.batch(phase, t), phase, cost, m.idealMs(cost), timing, split, others, skipped);
    }

    private static Row skipped(Options o, Machine m, BenchLayer layer, int t, Phase phase, String why) {
        return row(o, m, layer, t, phase, null, null, Double.NaN, why);
    }

    /** All phases of one (layer, T): one layer instance, its buffers reused across phases as a model would. */
    static List<Row> measurePoint(Options o, Machine m, BenchLayer layer, int t, Progress progress) {
        int c = o.dModel(), heads = o.heads(), batch = o.batch(Phase.TRAIN, t), nc = Sizes.product(batch, t, c);
        List<Row> rows = new ArrayList<>();
        boolean train = o.phases().contains(Phase.TRAIN);
        String shortfall = heapShortfall(LayerCosts.activationBytes(layer, c, heads, batch, t, train) + 2L * nc * 4);
        if (shortfall != null) {
            for (Phase ph : o.phases()) rows.add(skipped(o, m, layer, t, ph, shortfall));
            return rows;
        }
        BenchLayer.Built built = layer.build(c, heads, o.seed());
        SequenceMixer mixer = built.mixer();
        float[] inp = gaussian(nc, o.seed() + t, 0.02f), out = new float[nc]; // (B, T, C) as rat_eff.py: randn * 0.02
        int forwardBatch = 0; // batch of the mixer's last forward, whose activations fillCache reads
        for (Phase ph : o.phases()) {
            int b = o.batch(ph, t);
            try {
                Runnable call;
                switch (ph) {
                    case PREFILL -> {
                        String s = heapShortfall(LayerCosts.cacheBytes(layer, c, b, t));
                        if (s != null) {
                            rows.add(skipped(o, m, layer, t, ph, s));
                            continue;
                        }
                        SequenceMixer.Cache cache = mixer.newCache(b, t);
                        call = () -> {
                            mixer.forward(inp, out, b, t);
                            for (int r = 0; r < b; r++) mixer.fillCache(cache, r, r, t);
                        };
                        forwardBatch = b;
                    }
                    case TRAIN -> {
                        float[] dout = new float[nc], dinp = new float[nc], grads = built.grads();
                        Arrays.fill(dout, 1f / nc); // d mean(out) / d out
                        call = () -> {
                            mixer.forward(inp, out, b, t);
                            mixer.backward(dout, dinp, grads); // adds: dinp and grads grow, harmlessly
                        };
                        forwardBatch = b;
                    }
                    case GENERATE, GENERATE_ONE -> {
                        String s = heapShortfall(LayerCosts.cacheBytes(layer, c, b, t) + 4L * b * c * 4);
                        if (s != null) {
                            rows.add(skipped(o, m, layer, t, ph, s));
                            continue;
                        }
                        if (forwardBatch == 0 || forwardBatch > b) {
                            forwardBatch = Math.min(batch, b);
                            mixer.forward(inp, out, forwardBatch, t);
                        }
                        SequenceMixer.Cache cache = mixer.newCache(b, t);
                        for (int r = 0; r < b; r++) mixer.fillCache(cache, r, r % forwardBatch, t - 1);
                        float[] x = gaussian(Sizes.product(b, c), o.seed() - t, 0.02f), y = new float[x.length]; // (b, C)
                        int[] slots = new int[b], positions = new int[b];
                        for (int r = 0; r < b; r++) {
                            slots[r] = r;
                            positions[r] = t - 1;
                        }
                        call = () -> mixer.step(x, y, cache, b, slots, positions); // rewrites position t-1: every call is the same step
                    }
                    default -> throw new IllegalStateException(ph.toString());
                }
                Sampler sampler = progress == null ? o.sampler() : progress.samplerFor(layer, t, ph);
                rows.add(measure(o, m, layer, t, ph, sampler, call));
            } catch (OutOfMemoryError e) {
                rows.add(skipped(o, m, layer, t, ph, "out of memory (RAT4J_JAVA_OPTS=-Xmx... gives the JVM more)"));
            }
        }
        return rows;
    }

    /**
     * Read before every decode call, untimed: 128 MiB, several times a last-level cache, so that a decode step reads
     * the layer's weights and cache from memory as it does in a model, whose other layers pass through the caches in
     * between. Called again and again on its own, a layer whose weights and cache fit L3 (16 MiB of weights and a
     * 1K-token cache at d_model 1024) would be timed at cache speed. Training and prefill stream far more than that.
     * Read on the pool's threads, as a model's previous layer would keep them busy: read by one thread, the others
     * would park meanwhile and the step would pay for waking them.
     */
    private static final class Eviction {
        static final long[] BUFFER = new long[16 << 20];
        static final long[] SINKS = new long[Parallel.threads() * 8]; // one 64-byte line per thread

        static void run() {
            int lines = BUFFER.length / 8;
            Parallel.forRange(lines, 1, (from, to) -> {
                long s = 0;
                for (int i = from; i < to; i++) s += BUFFER[8 * i]; // one long per 64-byte line
                SINKS[8 * (from * Parallel.threads() / lines)] = s;
            });
        }
    }

    private static Row measure(Options o, Machine m, BenchLayer layer, int t, Phase ph, Sampler sampler, Runnable call) {
        Interference.Snapshot before = Interference.now();
        Runnable evict = ph.decodes() ? Eviction::run : () -> {};
        if (!o.breakdown()) {
            Timing timing = sampler.measure(call, () -> {}, evict);
            return row(o, m, layer, t, ph, timing, null, Interference.othersShare(before, Interference.now()), null);
        }
        Timing timing;
        double gemm, attention, others;
        try (Breakdown bd = Breakdown.install()) {
            timing = sampler.measure(call, bd::reset, evict);
            others = Interference.othersShare(before, Interference.now());
            gemm = bd.gemmMs() / timing.reps();
            attention = bd.attentionMs() / timing.reps();
        }
        double scan = scanAloneMs(o, layer, t, ph);
        return row(o, m, layer, t, ph, timing, new Split(gemm, attention, timing.mean() - gemm - attention, scan), others, null);
    }

    /**
     * The gated scans of a RAT or RNN forward (and backward, when training) timed alone on arrays of the layer's
     * shape: how much of the "other" time they are. NaN for layers without a scan and for decode steps.
     */
    static double scanAloneMs(Options o, BenchLayer layer, int t, Phase ph) {
        int scans = switch (layer.kind()) {
            case RAT -> 2;
            case RNN -> 1;
            default -> 0;
        };
        if (scans == 0 || ph.decodes()) return Double.NaN;
        int c = o.dModel(), b = o.batch(ph, t), nc = Sizes.product(b, t, c);
        int chunk = layer.kind() == LayerKind.RAT ? layer.param() : t;
        boolean train = ph == Phase.TRAIN;
        if (heapShortfall((train ? 6L : 3L) * nc * 4) != null) return Double.NaN;
        float[] h = new float[nc], u = gaussian(nc, 7, 1f), g = new float[nc]; // (B, T, C) each
        Arrays.fill(g, 0.9f);
        float[] dh = train ? gaussian(nc, 8, 1f) : null, du = train ? new float[nc] : null, dg = train ? new float[nc] : null;
        Timing tm = o.sampler().measure(() -> {
            for (int s = 0; s < scans; s++) {
                GatedScan.forward(h, 0, c, g, 0, c, u, 0, c, b, t, c, chunk);
                if (train) GatedScan.backward(du, 0, c, dg, 0, c, dh, 0, c, h, 0, c, g, 0, c, u, 0, c, b, t, c, chunk);
            }
        });
        return tm.median();
    }

    /** Null when about {@code bytes} more fit the heap, else a one-line reason. */
    static String heapShortfall(long bytes) {
        Runtime rt = Runtime.getRuntime();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        if (bytes <= free) return null;
        System.gc();
        free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        if (bytes <= free) return null;
        return String.format("needs ~%.1f GiB of heap, %.1f GiB free (RAT4J_JAVA_OPTS=-Xmx... gives the JVM more)",
                bytes / (double) (1L << 30), free / (double) (1L << 30));
    }

    static float[] gaussian(int n, long seed, float scale) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i += 2) { // Box-Muller, two values per draw
            double r = Math.sqrt(-2 * Math.log(1 - rng.nextDouble())) * scale, phi = 2 * Math.PI * rng.nextDouble();
            a[i] = (float) (r * Math.cos(phi));
            if (i + 1 < n) a[i + 1] = (float) (r * Math.sin(phi));
        }
        return a;
    }

    /**
     * A line per measurement on stderr with the elapsed time and an estimate of what remains: the cost model's ideal
     * times of the remaining measurements, scaled by how far from ideal the finished ones of the same layer and phase
     * ran (before any has, the warm-up pass's small ones of the same layer and phase).
     */
    static final class Progress {
        private final PrintWriter out;
        private final Options options;
        private final Machine machine;
        private final long start = System.nanoTime();
        private final int total;
        private int done;
        private final List<Row> finished = new ArrayList<>(), calibration;

        Progress(PrintWriter out, Options options, Machine machine, List<Row> calibration) {
            this.out = out;
            this.calibration = List.copyOf(calibration);
            this.options = options;
            this.machine = machine;
            this.total = options.lengths().size() * options.layers().size() * options.phases().size();
        }

        void done(Row r) {
            done++;
            finished.add(r);
            if (out == null) return;
            String what = String.format("%-12s T=%-6d B=%-4d %-10s", r.layer().name(), r.seqLen(), r.batch(), r.phase().label);
            String result = r.measured()
                    ? String.format("%10.2f ms ±%4.1f%% (%d reps, others %s)", r.timing().median(), 100 * r.timing().spread(), r.timing().reps(),
                    LayerReport.percent(r.others()))
                    : "skipped: " + r.skipped();
            double elapsed = (System.nanoTime() - start) / 1e9;
            out.printf("bench: [%3d/%d] %s %s   %s, ETA ~%s%n", done, total, what, result, clock(elapsed), clock(remainingSeconds()));
            out.flush();
        }

        /** Seconds still to go: each remaining measurement's calls times its predicted call time. */
        double remainingSeconds() {
            double sum = 0;
            int index = 0;
            for (int t : options.lengths()) {
                for (BenchLayer layer : options.layers()) {
                    for (Phase ph : options.phases()) {
                        if (index++ < done) continue;
                        double call = predictedSeconds(layer, t, ph);
                        sum += samplerFor(layer, t, ph).expectedCalls(call) * call;
                    }
                }
            }
            return sum;
        }

        /** The call time expected from the cost model and the finished rows of the same layer and phase. */
        double predictedSeconds(BenchLayer layer, int t, Phase ph) {
            Cost cost = LayerCosts.of(layer, ph, options.dModel(), options.heads(), options.batch(ph, t), t);
            return machine.idealMs(cost) / 1e3 * slowdown(r -> r.layer().equals(layer) && r.phase() == ph);
        }

        /**
         * The options' sampler, without its warm-up calls when one call is expected to exceed the time budget: after
         * the warm-up pass such a call has nothing left to warm but its buffers' first touch, a small fraction of it.
         */
        Sampler samplerFor(BenchLayer layer, int t, Phase ph) {
            Sampler s = options.sampler();
            if (s.warmup() == 0 || predictedSeconds(layer, t, ph) <= s.budgetSeconds()) return s;
            return new Sampler(0, s.reps(), s.minReps(), s.budgetSeconds());
        }

        /** Measured over ideal time of the finished rows that match, else of the matching calibration rows, else 3. */
        double slowdown(Predicate<Row> match) {
            double r = ratio(finished, match);
            if (Double.isNaN(r)) r = ratio(calibration, match);
            return Double.isNaN(r) ? 3 : r;
        }

        private static double ratio(List<Row> rows, Predicate<Row> match) {
            double actual = 0, ideal = 0;
            for (Row r : rows) {
                if (r.measured() && match.test(r)) {
                    actual += r.timing().median();
                    ideal += r.idealMs();
                }
            }
            return ideal > 0 ? actual / ideal : Double.NaN;
        }

        static String clock(double seconds) {
            long s = Math.round(seconds);
            return s >= 60 ? String.format("%dm%02ds", s / 60, s % 60) : s + "s";
        }
    }
}
