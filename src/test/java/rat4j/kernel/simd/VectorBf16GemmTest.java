package rat4j.kernel.simd;

import org.junit.jupiter.api.Test;
import rat4j.kernel.Bf16;
import rat4j.kernel.Bf16Gemm;
import rat4j.kernel.NaiveBf16Gemm;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VectorBf16GemmTest {
    @Test void roundingIsToNearestEven() {
        assertEquals(1.0f, Bf16.round(1.0f));
        float ulp = Math.ulp(1.0f) * (1 << 16); // bf16 spacing at 1: 2^-7
        assertEquals(1.0f, Bf16.round(1.0f + ulp / 2), "a tie rounds to the even mantissa (1.0)");
        assertEquals(1.0f + 2 * ulp, Bf16.round(1.0f + 1.5f * ulp), "a tie rounds to the even mantissa (1 + 2 ulp)");
        assertEquals(1.0f + ulp, Bf16.round(1.0f + ulp * 0.75f));
        assertEquals(-3.0f, Bf16.round(-3.0f));
        assertEquals(Float.POSITIVE_INFINITY, Bf16.round(Float.POSITIVE_INFINITY));
        assertEquals(Float.POSITIVE_INFINITY, Bf16.round(Float.MAX_VALUE), "beyond the largest bf16: infinity, as torch");
        assertTrue(Float.isNaN(Bf16.round(Float.NaN)));
        assertTrue(Float.isNaN(Bf16.round(Float.intBitsToFloat(0x7fffffff))), "a NaN whose rounding would carry stays NaN");
        SplittableRandom rng = new SplittableRandom(1);
        for (int i = 0; i < 10000; i++) {
            float x = (float) (rng.nextGaussian() * Math.pow(10, rng.nextInt(-5, 5)));
            float r = Bf16.round(x);
            assertTrue(Math.abs(r - x) <= Math.abs(x) * 0x1p-8f, x + " -> " + r);
            assertEquals(r, Bf16.round(r), "bf16 values are fixed points");
        }
    }

    static float[] random(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rng.nextGaussian();
        return a;
    }

    @Test void matchesTheNaiveReferenceOnOddShapesAndGivesEachRowTheSameBitsWhateverN() {
        Bf16Gemm fast = new VectorBf16Gemm(), naive = new NaiveBf16Gemm();
        int variants = 0;
        for (int cols : new int[] {1, 7, 16, 31, 32, 33, 64, 100, 257, 1100}) { // 1100: past two column blocks of the 4 x 4 tile, with a tail
            for (int rows : new int[] {1, 3, 17}) {
                short[] w = Bf16.fromFloats(random(rows * cols + 5, cols * 31L + rows), 0, rows * cols + 5);
                for (int n : new int[] {0, 1, 2, 4, 5, 9, 16}) {
                    float[] x = random(n * cols + 3, n);
                    float[] want = new float[n * rows + 2], got = new float[n * rows + 2];
                    naive.gemm(n, rows, cols, x, 3, w, 5, want, 2);
                    fast.gemm(n, rows, cols, x, 3, w, 5, got, 2);
                    for (int i = 0; i < n * rows; i++) {
                        assertEquals(want[2 + i], got[2 + i], 1e-5 * Math.sqrt(cols) * 4, "cols " + cols + " rows " + rows + " n " + n + " at " + i);
                    }
                    for (int i = 0; i < n; i++) { // row i alone: the same bits as in the batch
                        float[] alone = new float[rows];
                        fast.gemm(1, rows, cols, x, 3 + i * cols, w, 5, alone, 0);
                        for (int j = 0; j < rows; j++) {
                            assertEquals(Float.floatToRawIntBits(got[2 + i * rows + j]), Float.floatToRawIntBits(alone[j]), "row " + i + " of " + n);
                        }
                    }
                    variants++;
                }
            }
        }
        assertEquals(10 * 3 * 7, variants);
    }

    @Test void badArgumentsAreNamed() {
        Bf16Gemm g = new VectorBf16Gemm();
        assertEquals("w: (3, 4) at 0 exceeds 11 bf16 values",
                assertThrows(IllegalArgumentException.class, () -> g.gemm(1, 3, 4, new float[4], 0, new short[11], 0, new float[3], 0)).getMessage());
        assertEquals("out: (2, 3) at 1 exceeds 6 floats",
                assertThrows(IllegalArgumentException.class, () -> g.gemm(2, 3, 4, new float[8], 0, new short[12], 0, new float[6], 1)).getMessage());
    }
}
