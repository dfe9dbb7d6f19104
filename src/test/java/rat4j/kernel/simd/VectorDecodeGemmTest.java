package rat4j.kernel.simd;

import org.junit.jupiter.api.Test;
import rat4j.kernel.Bf16;
import rat4j.kernel.DecodeGemm;
import rat4j.kernel.NaiveDecodeGemm;
import rat4j.kernel.PanelMatrix;
import rat4j.kernel.WeightFormat;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VectorDecodeGemmTest {
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

    /** Exact sum in double of x row i . W row j as the products read W. */
    private static double exact(float[] x, int xi, PanelMatrix w, int j) {
        double s = 0;
        for (int k = 0; k < w.cols(); k++) s += (double) x[xi + k] * w.weight(j, k);
        return s;
    }

    @Test void givesTheNaiveReferencesBitsOnOddShapesWhateverN() {
        DecodeGemm fast = new VectorDecodeGemm(), naive = new NaiveDecodeGemm();
        int variants = 0;
        // cols past one and two column blocks (KC = 256), rows past one and two panels (32), n across the 12/4/1-row tiles
        for (int cols : new int[] {0, 1, 7, 16, 33, 256, 257, 600}) {
            for (int rows : new int[] {1, 17, 32, 33, 70}) {
                float[] raw = random(rows * cols + 5, cols * 31L + rows);
                for (WeightFormat format : WeightFormat.values()) {
                    PanelMatrix w = PanelMatrix.pack(raw, 5, rows, cols, format);
                    for (int n : new int[] {0, 1, 3, 4, 5, 12, 16, 29}) {
                        float[] x = random(n * cols + 3, n);
                        float[] want = new float[n * rows + 2], got = new float[n * rows + 2];
                        naive.apply(n, x, 3, w, want, 2);
                        fast.apply(n, x, 3, w, got, 2);
                        String where = format + " cols " + cols + " rows " + rows + " n " + n;
                        for (int i = 0; i < n * rows + 2; i++) {
                            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), where + " at " + i);
                        }
                        for (int i = 0; i < n; i++) {
                            for (int j = 0; j < rows; j++) {
                                assertEquals(exact(x, 3 + i * cols, w, j), got[2 + i * rows + j], 1e-5 * Math.sqrt(cols + 1) * 4, where);
                            }
                        }
                        variants++;
                    }
                }
            }
        }
        assertEquals(8 * 5 * 2 * 8, variants);
    }

    @Test void packingKeepsEveryWeightAndRoundsBf16ToNearestEven() {
        int rows = 45, cols = 9;
        float[] raw = random(rows * cols, 7);
        PanelMatrix f32 = PanelMatrix.pack(raw, 0, rows, cols, WeightFormat.FP32), bf16 = PanelMatrix.pack(raw, 0, rows, cols, WeightFormat.BF16);
        for (int j = 0; j < rows; j++) {
            for (int k = 0; k < cols; k++) {
                assertEquals(raw[j * cols + k], f32.weight(j, k));
                assertEquals(Bf16.round(raw[j * cols + k]), bf16.weight(j, k));
            }
        }
        assertEquals(2L * 32 * cols * 4, f32.bytes(), "two panels, the second padded");
        assertEquals(2L * 32 * cols * 2, bf16.bytes());
    }

    @Test void badArgumentsAreNamed() {
        DecodeGemm g = new VectorDecodeGemm();
        PanelMatrix w = PanelMatrix.pack(new float[12], 0, 3, 4, WeightFormat.BF16);
        assertEquals("x: (2, 4) at 1 exceeds 8 floats",
                assertThrows(IllegalArgumentException.class, () -> g.apply(2, new float[8], 1, w, new float[6], 0)).getMessage());
        assertEquals("out: (2, 3) at 1 exceeds 6 floats",
                assertThrows(IllegalArgumentException.class, () -> g.apply(2, new float[8], 0, w, new float[6], 1)).getMessage());
        assertEquals("matrix (3, 4) at 1 exceeds 12 floats",
                assertThrows(IllegalArgumentException.class, () -> PanelMatrix.pack(new float[12], 1, 3, 4, WeightFormat.FP32)).getMessage());
    }
}
