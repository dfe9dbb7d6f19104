package rat4j.kernel.simd;

import org.junit.jupiter.api.Test;
import rat4j.kernel.Gemv;
import rat4j.kernel.NaiveGemv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class VectorGemvTest {
    @Test void matchesTheNaiveReferenceOnOddShapesAndGivesEachRowTheSameBitsWhateverN() {
        Gemv fast = new VectorGemv(), naive = new NaiveGemv();
        int variants = 0;
        // 1100 columns cross two column blocks of the 4 x 4 tile (KB) and leave a tail; 17 rows leave a weight row over
        for (int cols : new int[] {1, 7, 16, 31, 33, 100, 257, 1100}) {
            for (int rows : new int[] {1, 4, 17}) {
                float[] w = VectorBf16GemmTest.random(rows * cols + 5, cols * 31L + rows);
                for (int n : new int[] {0, 1, 3, 4, 5, 9, 16}) {
                    float[] x = VectorBf16GemmTest.random(n * cols + 3, n);
                    float[] want = new float[n * rows + 2], got = new float[n * rows + 2];
                    naive.gemv(n, rows, cols, x, 3, w, 5, want, 2);
                    fast.gemv(n, rows, cols, x, 3, w, 5, got, 2);
                    for (int i = 0; i < n * rows; i++) {
                        assertEquals(want[2 + i], got[2 + i], 1e-5 * Math.sqrt(cols) * 4, "cols " + cols + " rows " + rows + " n " + n + " at " + i);
                    }
                    for (int i = 0; i < n; i++) { // row i alone: the same bits as in the batch
                        float[] alone = new float[rows];
                        fast.gemv(1, rows, cols, x, 3 + i * cols, w, 5, alone, 0);
                        for (int j = 0; j < rows; j++) {
                            assertEquals(Float.floatToRawIntBits(got[2 + i * rows + j]), Float.floatToRawIntBits(alone[j]), "row " + i + " of " + n);
                        }
                    }
                    variants++;
                }
            }
        }
        assertEquals(8 * 3 * 7, variants);
    }

    @Test void aLargeProductSplitOverThreadsGivesTheBitsOfOneRowAtATime() {
        int rows = 1000, cols = 768, n = 6; // rows * cols well past MIN_TASK_WEIGHTS: split over the pool
        float[] w = VectorBf16GemmTest.random(rows * cols, 7), x = VectorBf16GemmTest.random(n * cols, 8);
        float[] all = new float[n * rows];
        new VectorGemv().gemv(n, rows, cols, x, 0, w, 0, all, 0);
        for (int j = 0; j < rows; j++) {
            for (int i = 0; i < n; i++) {
                assertEquals(Float.floatToRawIntBits(VectorGemv.dot(cols, x, i * cols, w, j * cols)), Float.floatToRawIntBits(all[i * rows + j]), "row " + i + " col " + j);
            }
        }
    }

    @Test void badArgumentsAreNamed() {
        Gemv g = new VectorGemv();
        assertEquals("w: (3, 4) at 0 exceeds 11 floats",
                assertThrows(IllegalArgumentException.class, () -> g.gemv(1, 3, 4, new float[4], 0, new float[11], 0, new float[3], 0)).getMessage());
        assertEquals("x: (2, 4) at 1 exceeds 8 floats",
                assertThrows(IllegalArgumentException.class, () -> g.gemv(2, 3, 4, new float[8], 1, new float[12], 0, new float[6], 0)).getMessage());
    }
}
