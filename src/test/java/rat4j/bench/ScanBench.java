package rat4j.bench;

import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import rat4j.nn.GatedScan;

/**
 * The gated scan h_t = g_t h_{t-1} + (1 - g_t) u_t of RAT (restarting every L tokens) and of the RNN (L = T) at the
 * layer bench's shape: C = 1024 channels, B = tokens / T sequences, (B, T, C) arrays with row stride C. The scan is
 * a few flops per element, so it is measured in memory traffic: forward reads g and u and writes h (12 bytes per
 * element), backward reads dh, h, g, u and adds into du and dg (24 read, 8 written). The secondary result "gbs" is
 * GB/s by these counts; compare it with the triad bandwidth that `rat4j bench layer` prints.
 *   bin/jmh ScanBench -f 1 -wi 3 -i 3 -w 1 -r 1
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
public class ScanBench {
    static final int C = 1024;

    @Param("4096")
    int T;

    /** Chunk length: 16 for RAT(L=16); 0 for the RNN (one chunk of T). */
    @Param({"16", "0"})
    int L;

    /** B * T: the layer bench's 16K tokens per batch. */
    @Param("16384")
    int tokens;

    int B, chunk;
    float[] h, g, u, dh, du, dg;

    /** GB moved, reported by JMH per second of the iteration: GB/s. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Traffic {
        public double gbs;

        @Setup(Level.Iteration)
        public void reset() { gbs = 0; }
    }

    @Setup(Level.Trial)
    public void setup() {
        B = Math.max(1, tokens / T);
        chunk = L == 0 ? T : L;
        int n = B * T * C;
        Random rnd = new Random(1);
        h = new float[n];
        g = new float[n];
        u = new float[n];
        dh = new float[n];
        du = new float[n];
        dg = new float[n];
        for (int i = 0; i < n; i++) {
            g[i] = 0.5f + 0.49f * rnd.nextFloat(); // gates in (0, 1), as a sigmoid gives them
            u[i] = (float) rnd.nextGaussian();
            dh[i] = (float) rnd.nextGaussian();
        }
        Arrays.fill(du, 0f);
        GatedScan.forward(h, 0, C, g, 0, C, u, 0, C, B, T, C, chunk);
    }

    private double gigabytes(int bytesPerElement) { return (double) bytesPerElement * B * T * C / 1e9; }

    @Benchmark
    public float forward(Traffic traffic) {
        traffic.gbs += gigabytes(12);
        GatedScan.forward(h, 0, C, g, 0, C, u, 0, C, B, T, C, chunk);
        return h[h.length - 1];
    }

    @Benchmark
    public float backward(Traffic traffic) {
        traffic.gbs += gigabytes(32);
        GatedScan.backward(du, 0, C, dg, 0, C, dh, 0, C, h, 0, C, g, 0, C, u, 0, C, B, T, C, chunk);
        return du[0];
    }
}
