package rat4j.bench;

import rat4j.kernel.Gemm;
import rat4j.kernel.Kernels;
import rat4j.kernel.Parallel;

import java.util.SplittableRandom;

/**
 * What this machine can do, measured by the benchmark itself so that every time can be read as a fraction of it:
 * the GEMM backend's FLOP/s on a projection-shaped product, and the memory bandwidth of a STREAM-style triad on the
 * same thread pool.
 *
 * @param gemmGflops best GFLOP/s of sgemm (NT, the forward of a linear layer) over the repetitions
 * @param bandwidthGBs best GB/s of a[i] = b[i] + s * c[i] (STREAM counts 12 bytes per element)
 */
public record Machine(String gemm, String attention, int threads, double gemmGflops, double bandwidthGBs) {
    public Machine {
        if (!(gemmGflops > 0) || !(bandwidthGBs > 0)) throw new IllegalArgumentException("peak rates must be positive: " + gemmGflops + " GFLOP/s, " + bandwidthGBs + " GB/s");
    }

    public double flopsPerSecond() { return gemmGflops * 1e9; }

    public double bytesPerSecond() { return bandwidthGBs * 1e9; }

    /** The higher of each peak of two measurements of the same machine. */
    public Machine best(Machine other) {
        return new Machine(gemm, attention, threads, Math.max(gemmGflops, other.gemmGflops), Math.max(bandwidthGBs, other.bandwidthGBs));
    }

    /** One line: threads, backends and the measured peaks. */
    public String describe() {
        return String.format(java.util.Locale.ROOT, "machine: %d threads; gemm %s at %.1f GFLOP/s; triad %.1f GB/s; attention %s",
                threads, gemm, gemmGflops, bandwidthGBs, attention);
    }

    /** The roofline time of a cost on this machine, in ms. */
    public double idealMs(Cost cost) {
        return cost.idealSeconds(flopsPerSecond(), bytesPerSecond()) * 1e3;
    }

    /** Sizes of the two probes: (m, n, k) of the GEMM and floats per triad array. */
    public record Probe(int m, int n, int k, int triadFloats, int reps) {
        /** A layer's in_proj at 2048 tokens, d_model 1024; three 128 MiB arrays, well past any cache. */
        public static final Probe FULL = new Probe(2048, 3072, 1024, 32 << 20, 5);
        public static final Probe QUICK = new Probe(512, 768, 256, 4 << 20, 3);
    }

    public static Machine measure(Probe p) {
        Gemm g = Kernels.gemm();
        SplittableRandom rng = new SplittableRandom(1);
        float[] a = random(p.m() * p.k(), rng), b = random(p.n() * p.k(), rng), c = new float[p.m() * p.n()]; // (M,K) (N,K) (M,N)
        double flop = 2.0 * p.m() * p.n() * p.k();
        Runnable call = () -> g.sgemm(false, true, p.m(), p.n(), p.k(), 1f, a, 0, p.k(), b, 0, p.k(), 0f, c, 0, p.n());
        double best = fastestSeconds(call, p.reps());
        double gflops = flop / best / 1e9;
        return new Machine(g.name(), Kernels.attention().name(), Parallel.threads(), gflops, triadGBs(p.triadFloats(), p.reps()));
    }

    static double triadGBs(int n, int reps) {
        float[] x = new float[n], y = new float[n], z = new float[n];
        Parallel.forRange(n, 1 << 16, (from, to) -> { // first touch, on the threads that will stream them
            for (int i = from; i < to; i++) { y[i] = i & 7; z[i] = 1f; }
        });
        float[] s = {0.5f};
        double best = fastestSeconds(() -> {
            float k = s[0]++;
            Parallel.forRange(n, 1 << 16, (from, to) -> {
                for (int i = from; i < to; i++) x[i] = y[i] + k * z[i];
            });
        }, reps);
        return 12.0 * n / best / 1e9;
    }

    /**
     * The fastest of at least {@code reps} calls after warming up: calls until the JIT has had 20 calls or half a
     * second, since an uncompiled first call can be ten times slower, then timed calls for at least 0.2 s.
     */
    static double fastestSeconds(Runnable call, int reps) {
        long start = System.nanoTime();
        for (int i = 0; i < 20 && System.nanoTime() - start < 500_000_000L; i++) call.run();
        double best = Double.MAX_VALUE;
        start = System.nanoTime();
        for (int r = 0; r < reps || System.nanoTime() - start < 200_000_000L; r++) {
            long t0 = System.nanoTime();
            call.run();
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        return best;
    }

    private static float[] random(int n, SplittableRandom rng) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (rng.nextDouble() - 0.5);
        return a;
    }
}
