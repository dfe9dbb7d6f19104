package rat4j.kernel.simd;

import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

import rat4j.kernel.GemmConformance;
import rat4j.kernel.GemmConformance.Shape;
import rat4j.kernel.NaiveGemm;
import rat4j.kernel.Parallel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VectorGemmTest {
    private static final int MR = VectorGemm.MR, NR = VectorGemm.NR, KC = VectorGemm.DEFAULT_KC;

    @Test
    void defaultBlockingMatchesNaive() {
        List<Shape> shapes = GemmConformance.shapes(
                0, 5, 3, 5, 0, 3, 4, 6, 0, // empty C, and k == 0 (C = beta * C)
                1, 1, 1,
                1, NR + 1, 17, // one row: a GEMV
                MR + 1, 1, 9, // one column
                MR, NR, 16, // exactly one tile
                MR + 1, NR + 1, 7, // one past a tile in both directions
                2 * MR + 1, NR + NR / 2 - 1, 31, // row tail of 1, column tail inside the second vector
                11, NR - 1, KC + 1, // k one past a cache block
                VectorGemm.DEFAULT_MC + 8, 70, KC + 44, // m past an mc block
                MR + 1, VectorGemm.DEFAULT_NC + 37, 5, // n past an nc block
                // At most SKINNY_M rows: B read in place; a lone last row, and column tails under four vectors.
                2, 8 * NR + NR / 2 + 3, 40,
                5, 2 * NR + 1, 33,
                VectorGemm.SKINNY_M, 4 * NR - 1, 70);
        assertEquals(12 * shapes.size(), GemmConformance.check(new VectorGemm(), shapes, 42));
    }

    @Test
    void smallBlocksCrossEveryBlockEdge() {
        // mc = 2 tiles, kc = 16, nc = 2 panels, always parallel: many blocks of every kind at small sizes.
        VectorGemm g = new VectorGemm(2 * MR, 16, 2 * NR, 0);
        List<Shape> shapes = GemmConformance.shapes(
                1, 1, 1,
                30, 70, 40,
                5 * MR - 1, 5 * NR + 3, 33,
                VectorGemm.SKINNY_M + 1, 4 * NR + 1, 17, // one row panel: threads split the columns
                VectorGemm.SKINNY_M - 3, 9 * NR + 5, 20, // B read in place, threads split the columns
                100, 9, 50,
                2 * MR, 2 * NR, 32);
        assertEquals(12 * shapes.size(), GemmConformance.check(g, shapes, 7));
    }

    @Test
    void operandsMayShareOneArray() {
        // A (m, k) at 0, B (k, n) after it, C (m, n) after that, all in one array: packing must not clobber B or A.
        int m = 29, n = 45, k = 37;
        float[] all = new float[m * k + k * n + m * n];
        Random rnd = new Random(3);
        for (int i = 0; i < m * k + k * n; i++) all[i] = rnd.nextFloat() - 0.5f;
        float[] expected = all.clone();
        new NaiveGemm().sgemm(false, false, m, n, k, 1f, expected, 0, k, expected, m * k, n, 0f,
                expected, m * k + k * n, n);
        new VectorGemm(MR, 8, NR, 0).sgemm(false, false, m, n, k, 1f, all, 0, k, all, m * k, n, 0f, all, m * k + k * n, n);
        for (int i = 0; i < all.length; i++) assertEquals(expected[i], all[i], 1e-4f, "element " + i);
    }

    @Test
    void oneInstanceServesConcurrentCallers() throws Exception {
        // Small products run on the caller, 150x200x600 (36 MFLOP) on the pool split by rows; buffers are per thread.
        Shape[] sizes = {new Shape(40, 50, 30), new Shape(2 * MR + 5, 3 * NR + 7, 2 * KC + 3), new Shape(150, 200, 600)};
        assertTrue(2L * 150 * 200 * 600 >= VectorGemm.DEFAULT_PARALLEL_MIN_FLOPS, "a shape runs on threads");
        int callers = 3, rounds = 4;
        assertEquals((callers + Parallel.threads()) * rounds * sizes.length,
                GemmConformance.checkConcurrent(new VectorGemm(), sizes, callers, rounds));
    }

    @Test
    void rejectsBadArguments() {
        GemmConformance.checkRejectsBadArguments(new VectorGemm());
        assertThrows(IllegalArgumentException.class, () -> new VectorGemm(MR + 1, KC, NR, 0));
        assertThrows(IllegalArgumentException.class, () -> new VectorGemm(MR, KC, NR + 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new VectorGemm(MR, 0, NR, 0));
    }
}
