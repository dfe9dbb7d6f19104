package rat4j.bench;

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
import rat4j.kernel.Strided;
import rat4j.kernel.simd.VectorAttention;

/**
 * The Vector API attention kernels at the layer bench's shape: C=1024 in heads of D (H = C/D), B = tokens/T sequences
 * (the layer bench keeps B*T = 16K), q, k, v as column slices of one
 * (B*T, 3C) in_proj output as the layers pass them, causal attention over the full sequence and RAT chunk attention
 * with L=16. One op is one call for the whole (B, T, H, D) activation. The backward adds into its gradients
 * without zeroing (the timing does not depend on their values). The Vector API code reaches full speed only after
 * C2 has compiled it (the first call runs several times slower), hence five warm-up iterations.
 *
 * <p>Work per op: causal forward 2*T*T*D*H flops (QK and PV over the T*T/2 pairs), backward 5*T*T*D*H (two dot
 * products and three row updates per pair); chunk attention with L=16 visits T*T/(2L) pairs, 16x fewer.
 * The secondary result "gflops" is GFLOP/s by these counts (throughput mode: an auxiliary counter is reported per
 * second only there; in average-time mode JMH would print it as time per count); compare it with GemmBench or
 * PeakBench in the same run.
 *   bin/jmh 'AttentionBench|GemmBench' -f 1 -wi 2 -i 3 -p T=4096 -p D=64 -p shape=NN -p backend=java
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
public class AttentionBench {
    static final int C = 1024, L = 16;

    @Param({"1024", "4096"})
    int T;

    /** Head dimension; the layer bench's 16 heads have D = 64. */
    @Param({"64", "128"})
    int D;

    /** B * T: the layer bench's 16K tokens per batch. */
    @Param("16384")
    int tokens;

    int B, H;

    /** GFLOP done, reported by JMH per second of the iteration: GFLOP/s. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Flops {
        public double gflops;

        @Setup(Level.Iteration)
        public void reset() { gflops = 0; }
    }

    /** GFLOP of one causal pass over all T*T/2 pairs with the given flops per pair-dimension. */
    private double causalGflop(int perPair) { return perPair * (double) B * T * T / 2 * D * H / 1e9; }

    final VectorAttention attn = new VectorAttention();
    float scale;
    Strided q, k, v, out, dout, dq, dk, dv;
    float[] lse, chunkLse;
    Strided chunkOut;

    @Setup(Level.Trial)
    public void setup() {
        if (C % D != 0) throw new IllegalArgumentException("D=" + D + " does not divide C=" + C);
        H = C / D;
        B = Math.max(1, tokens / T);
        scale = (float) (1 / Math.sqrt(D));
        Random rnd = new Random(1);
        float[] qkv = new float[B * T * 3 * C];     // (B, T, 3C): q | k | v columns of one row
        float[] grad = new float[B * T * 3 * C];    // (B, T, 3C): dq | dk | dv
        for (int i = 0; i < qkv.length; i++) qkv[i] = (float) rnd.nextGaussian();
        q = new Strided(qkv, 0, 3 * C);
        k = new Strided(qkv, C, 3 * C);
        v = new Strided(qkv, 2 * C, 3 * C);
        dq = new Strided(grad, 0, 3 * C);
        dk = new Strided(grad, C, 3 * C);
        dv = new Strided(grad, 2 * C, 3 * C);
        out = Strided.dense(new float[B * T * C], C);       // (B, T, C)
        chunkOut = Strided.dense(new float[B * T * C], C);  // (B, T, C)
        float[] g = new float[B * T * C];
        for (int i = 0; i < g.length; i++) g[i] = (float) rnd.nextGaussian();
        dout = Strided.dense(g, C);                         // (B, T, C)
        lse = new float[B * H * T];                         // (B, H, T)
        chunkLse = new float[B * H * T];                    // (B, H, T)
        attn.causalForward(B, T, H, D, Integer.MAX_VALUE, scale, q, k, v, out, lse);
        attn.chunkForward(B, T, H, D, L, scale, q, k, v, chunkOut, chunkLse);
    }

    @Benchmark
    public float causalForward(Flops flops) {
        flops.gflops += causalGflop(4);
        attn.causalForward(B, T, H, D, Integer.MAX_VALUE, scale, q, k, v, out, lse);
        return lse[0];
    }

    @Benchmark
    public float causalBackward(Flops flops) {
        flops.gflops += causalGflop(10);
        attn.causalBackward(B, T, H, D, Integer.MAX_VALUE, scale, q, k, v, out, lse, dout, dq, dk, dv);
        return dq.data()[0];
    }

    @Benchmark
    public float chunkForward(Flops flops) {
        flops.gflops += causalGflop(4) / L;
        attn.chunkForward(B, T, H, D, L, scale, q, k, v, chunkOut, chunkLse);
        return chunkLse[0];
    }

    @Benchmark
    public float chunkBackward(Flops flops) {
        flops.gflops += causalGflop(10) / L;
        attn.chunkBackward(B, T, H, D, L, scale, q, k, v, chunkOut, chunkLse, dout, dq, dk, dv);
        return dq.data()[0];
    }
}
