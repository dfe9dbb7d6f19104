package rat4j.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import rat4j.kernel.Kernels;
import rat4j.kernel.PanelMatrix;
import rat4j.kernel.WeightFormat;

/**
 * The matrix products of one decode step of rat-base (12 layers of in_proj (2560, 768), out_proj (768, 768),
 * fc1 (3072, 768), fc2 (768, 3072), then the LM head (32000, 768): 111M weights), for n rows, by kernel:
 * "gemm" is the training GEMM (Linear's path, packing W when n > 8), "fp32" and "bf16" the decode kernel on packed
 * weights of that format. The score is steps per second; bytes of W per step over the time per step is the bandwidth
 * reached (426.9 MiB fp32, 213.5 MiB bf16), 2 x 111M x n over it the GFLOP/s. Compare kernels side by side in one
 * run: bin/jmh DecodeGemvBench.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 4, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx3g"})
public class DecodeGemvBench {
    @Param({"gemm", "fp32", "bf16"})
    public String kernel;

    @Param({"1", "16"})
    public int n;

    private static final int C = 768, LAYERS = 12;
    private int[][] shapes;  // (rows, cols) of each product in step order
    private int[] offsets;
    private float[] w, x, out;
    private PanelMatrix[] packed;

    @Setup public void setUp() {
        shapes = new int[4 * LAYERS + 1][];
        for (int l = 0; l < LAYERS; l++) {
            shapes[4 * l] = new int[] {2560, C};
            shapes[4 * l + 1] = new int[] {C, C};
            shapes[4 * l + 2] = new int[] {3072, C};
            shapes[4 * l + 3] = new int[] {C, 3072};
        }
        shapes[4 * LAYERS] = new int[] {32000, C};
        offsets = new int[shapes.length];
        int total = 0;
        for (int i = 0; i < shapes.length; i++) {
            offsets[i] = total;
            total = Math.addExact(total, shapes[i][0] * shapes[i][1]);
        }
        SplittableRandom r = new SplittableRandom(1);
        w = new float[total];
        for (int i = 0; i < total; i++) w[i] = (float) r.nextGaussian() * 0.02f;
        if (!kernel.equals("gemm")) {
            packed = new PanelMatrix[shapes.length];
            for (int i = 0; i < shapes.length; i++) packed[i] = PanelMatrix.pack(w, offsets[i], shapes[i][0], shapes[i][1], WeightFormat.parse(kernel));
            w = null;
        }
        x = new float[n * 3072];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        out = new float[n * 32000];
    }

    @Benchmark public float step() {
        for (int i = 0; i < shapes.length; i++) {
            int rows = shapes[i][0], cols = shapes[i][1];
            if (packed == null) Kernels.gemm().sgemm(false, true, n, rows, cols, 1f, x, 0, cols, w, offsets[i], cols, 0f, out, 0, rows);
            else Kernels.decodeGemm().apply(n, x, 0, packed[i], out, 0);
        }
        return out[0];
    }
}
