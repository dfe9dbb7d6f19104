package rat4j.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The machine's fp32 FMA peak as the Vector API reaches it: twelve independent fma chains on registers, no memory
 * traffic. The secondary result "gflops" (GFLOP/s, one fma = 2 flops) is the ceiling the GEMM and attention
 * benchmarks are measured against; run with "-t 2" for both cores.
 *   bin/jmh PeakBench -f 1 -wi 3 -i 5
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class PeakBench {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int STEPS = 1 << 16, CHAINS = 12;

    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Flops {
        public double gflops;

        @Setup(Level.Iteration)
        public void reset() { gflops = 0; }
    }

    float x = 0.999f, y = 1e-6f;

    @Benchmark
    public float fma(Flops flops) {
        FloatVector vx = FloatVector.broadcast(F, x), vy = FloatVector.broadcast(F, y);
        FloatVector a0 = vy, a1 = vy, a2 = vy, a3 = vy, a4 = vy, a5 = vy, a6 = vy, a7 = vy, a8 = vy, a9 = vy, a10 = vy, a11 = vy;
        for (int i = 0; i < STEPS; i++) {
            a0 = a0.fma(vx, vy); a1 = a1.fma(vx, vy); a2 = a2.fma(vx, vy); a3 = a3.fma(vx, vy);
            a4 = a4.fma(vx, vy); a5 = a5.fma(vx, vy); a6 = a6.fma(vx, vy); a7 = a7.fma(vx, vy);
            a8 = a8.fma(vx, vy); a9 = a9.fma(vx, vy); a10 = a10.fma(vx, vy); a11 = a11.fma(vx, vy);
        }
        flops.gflops += 2.0 * CHAINS * F.length() * STEPS / 1e9;
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11).lane(0);
    }
}
