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

import rat4j.kernel.Gemm;
import rat4j.kernel.GemmBackends;

/**
 * The three products of a linear layer at LM sizes, per backend. T tokens, C model dim, F hidden dim:
 * NT is the forward Y = X W^T, NN the input gradient dX = dY W, TN the weight gradient dW = dY^T X; each 2*T*C*F flops.
 *
 * <p>The score is calls per second (time per call = 1 / score); the secondary result "gflops" is GFLOP/s.
 * Run with bin/jmh GemmBench.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class GemmBench {
    /** onednn-bf16: the bf16 compute mode's product (operands rounded to bf16 by the call, fp32 sums). */
    @Param({"openblas", "java", "onednn-bf16"})
    public String backend;

    @Param({"NT", "NN", "TN"})
    public String shape;

    @Param("4096")
    public int tokens; // T

    @Param("1024")
    public int dim; // C

    @Param("3072")
    public int hidden; // F

    private Gemm gemm;
    private boolean transA, transB;
    private int m, n, k, lda, ldb, ldc;
    private float[] a, b, c;
    private double gflop;

    /** GFLOP done, reported by JMH per second of the iteration: GFLOP/s. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Flops {
        public double gflops;

        @Setup(Level.Iteration)
        public void reset() {
            gflops = 0;
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        gemm = GemmBackends.byName(backend);
        int t = tokens, cd = dim, f = hidden;
        switch (shape) {
            case "NT" -> { // Y (T, F) = X (T, C) * W (F, C)^T
                set(false, true, t, f, cd, cd, cd, f);
                a = random(t * cd, 1); // X (T, C)
                b = random(f * cd, 2); // W (F, C)
            }
            case "NN" -> { // dX (T, C) = dY (T, F) * W (F, C)
                set(false, false, t, cd, f, f, cd, cd);
                a = random(t * f, 3); // dY (T, F)
                b = random(f * cd, 2); // W (F, C)
            }
            case "TN" -> { // dW (F, C) = dY (T, F)^T * X (T, C)
                set(true, false, f, cd, t, f, cd, cd);
                a = random(t * f, 3); // dY (T, F)
                b = random(t * cd, 1); // X (T, C)
            }
            default -> throw new IllegalArgumentException("shape " + shape + " is not one of NT, NN, TN");
        }
        c = new float[m * n];
        gflop = 2.0 * m * n * k * 1e-9;
        System.out.println("# " + gemm.name() + ": " + shape + " m=" + m + " n=" + n + " k=" + k);
    }

    private void set(boolean ta, boolean tb, int m, int n, int k, int lda, int ldb, int ldc) {
        this.transA = ta;
        this.transB = tb;
        this.m = m;
        this.n = n;
        this.k = k;
        this.lda = lda;
        this.ldb = ldb;
        this.ldc = ldc;
    }

    private static float[] random(int size, long seed) {
        Random r = new Random(seed);
        float[] x = new float[size];
        for (int i = 0; i < size; i++) x[i] = r.nextFloat() - 0.5f;
        return x;
    }

    @Benchmark
    public float[] sgemm(Flops flops) {
        gemm.sgemm(transA, transB, m, n, k, 1f, a, 0, lda, b, 0, ldb, 0f, c, 0, ldc);
        flops.gflops += gflop;
        return c;
    }
}
