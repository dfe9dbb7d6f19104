package rat4j.bench;

import java.util.Random;

import org.junit.jupiter.api.Test;

import rat4j.kernel.Bf16Autocast;
import rat4j.kernel.Compute;
import rat4j.kernel.Gemm;
import rat4j.kernel.GemmBackends;
import rat4j.kernel.Kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A RAT layer's forward and backward in the bf16 compute mode stay close to fp32 (bf16 keeps 8 bits of mantissa, so
 * about 0.4% per rounding; a loose bound), and the two bf16 backends (oneDNN, the Java autocast) agree more tightly
 * with each other, since they round the same operands and differ only in the order of fp32 sums.
 */
class Bf16ComputeTest {
    private static final int C = 64, HEADS = 4, BATCH = 2, T = 40; // T not a multiple of the chunk length 16

    /** The layer's output (B, T, C), input gradient (B, T, C) and parameter gradients, with the given GEMM. */
    private static float[][] run(Gemm gemm) {
        Gemm previous = Kernels.gemm();
        Kernels.useGemm(gemm);
        try {
            BenchLayer.Built b = BenchLayer.rat(16).build(C, HEADS, 7);
            Random rnd = new Random(3);
            float[] inp = new float[BATCH * T * C], out = new float[inp.length], dout = new float[inp.length], dinp = new float[inp.length];
            for (int i = 0; i < inp.length; i++) {
                inp[i] = (float) rnd.nextGaussian();
                dout[i] = (float) rnd.nextGaussian() / inp.length;
            }
            b.mixer().forward(inp, out, BATCH, T);
            b.mixer().backward(dout, dinp, b.grads());
            return new float[][] {out, dinp, b.grads()};
        } finally {
            Kernels.useGemm(previous);
        }
    }

    private static double relativeError(float[] x, float[] ref) {
        double d = 0, r = 0;
        for (int i = 0; i < x.length; i++) {
            d += (x[i] - (double) ref[i]) * (x[i] - (double) ref[i]);
            r += (double) ref[i] * ref[i];
        }
        return Math.sqrt(d / r);
    }

    @Test
    void bf16LayerGradientsAreCloseToFp32() {
        float[][] fp32 = run(GemmBackends.best()), bf16 = run(Compute.BF16.choose().gemm()), java = run(new Bf16Autocast(GemmBackends.best()));
        String[] what = {"output", "input gradient", "parameter gradients"};
        int checked = 0;
        for (int i = 0; i < 3; i++) {
            double vsFp32 = relativeError(bf16[i], fp32[i]), vsJava = relativeError(bf16[i], java[i]);
            assertTrue(vsFp32 < 3e-2, what[i] + ": bf16 vs fp32 relative error " + vsFp32);
            System.err.printf("bf16 %s: vs fp32 %.2e, vs java autocast %.2e%n", what[i], vsFp32, vsJava);
            // The output holds the residual input, which no GEMM touches, so its relative error is the smallest.
            assertTrue(vsFp32 > 1e-6, what[i] + ": bf16 equals fp32 (" + vsFp32 + "), so nothing was rounded");
            assertTrue(vsJava < 1e-5, what[i] + ": two bf16 backends differ by " + vsJava);
            checked++;
        }
        assertEquals(3, checked);
    }
}
