package rat4j.generate;

import rat4j.kernel.Elementwise;
import rat4j.kernel.Kernels;
import rat4j.kernel.Parallel;

import java.util.concurrent.atomic.DoubleAccumulator;

/**
 * A STREAM-like measurement of main-memory bandwidth (McCalpin's copy and triad, plus a read-only pass: a vector max
 * over one array), on the process's thread pool, over arrays far larger than any cache. Decoding one token reads every
 * weight once, so this bounds decode speed: tokens/s <= bandwidth / bytes read per token. Bytes are counted as STREAM
 * counts them (reads plus writes, no write-allocate traffic). On this project's VMs copy reaches about twice what
 * reads alone do (copy 57-69 GB/s, reads 30-35 GB/s on 2 cores), so both bounds are reported.
 */
public final class MemoryBandwidth {
    private MemoryBandwidth() {}

    /** Bytes per second of each kernel: the median of the repeats (a shared machine gives outliers both ways). */
    public record Result(double copy, double triad, double read) {
        /** The higher of copy and triad: the bound it gives is the harder to reach. */
        public double best() { return Math.max(copy, triad); }

        public String summary() {
            return String.format("memory bandwidth %.1f GB/s (STREAM copy %.1f, triad %.1f); reads alone %.1f GB/s",
                    best() / 1e9, copy / 1e9, triad / 1e9, read / 1e9);
        }
    }

    /** Default: three arrays of 32M floats (384 MiB), 9 repeats. */
    public static Result measure() {
        return measure(32 << 20, 9);
    }

    public static Result measure(int n, int repeats) {
        if (n < 1 || repeats < 1) throw new IllegalArgumentException("need n >= 1 and repeats >= 1, got " + n + ", " + repeats);
        float[] a = new float[n], b = new float[n], c = new float[n];
        Parallel.forRange(n, 1 << 16, (from, to) -> {
            for (int i = from; i < to; i++) {
                b[i] = i;
                c[i] = 1f;
            }
        });
        long[] copy = new long[repeats], triad = new long[repeats], read = new long[repeats];
        Elementwise ew = Kernels.elementwise();
        DoubleAccumulator largest = new DoubleAccumulator(Math::max, Double.NEGATIVE_INFINITY);
        for (int r = 0; r < repeats; r++) {
            long t = System.nanoTime();
            Parallel.forRange(n, 1 << 16, (from, to) -> System.arraycopy(b, from, a, from, to - from));
            copy[r] = System.nanoTime() - t;
            t = System.nanoTime();
            float s = 3f;
            Parallel.forRange(n, 1 << 16, (from, to) -> {
                for (int i = from; i < to; i++) a[i] = b[i] + s * c[i];
            });
            triad[r] = System.nanoTime() - t;
            t = System.nanoTime();
            Parallel.forRange(n, 1 << 16, (from, to) -> largest.accumulate(ew.max(c, from, to - from)));
            read[r] = System.nanoTime() - t;
        }
        if (largest.get() != 1.0) throw new IllegalStateException("the read pass computed nothing");
        if (a[n - 1] != b[n - 1] + 3f) throw new IllegalStateException("bandwidth kernels computed nothing");
        double bytes = 4.0 * n;
        return new Result(2 * bytes / median(copy) * 1e9, 3 * bytes / median(triad) * 1e9, bytes / median(read) * 1e9);
    }

    private static double median(long[] t) {
        long[] s = t.clone();
        java.util.Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2.0;
    }
}
