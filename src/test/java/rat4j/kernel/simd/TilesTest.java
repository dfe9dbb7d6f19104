package rat4j.kernel.simd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/**
 * The register-blocked tile product against its definition, bit for bit: every element is the same fma chain
 * whichever kernel variant (4x4, 1x4, 4x3, 4x2, 4x1, 1x1 vectors, scalar tail) computes it.
 */
class TilesTest {
    private static final int V = FloatVector.SPECIES_PREFERRED.length();

    @Test
    void matchesDefinitionBitForBit() {
        Random rnd = new Random(5);
        // m across the 4-row groups, n across 4-vector groups, 1-3 vector tails and the scalar tail, k = 0 and odd
        int[] ms = {1, 3, 4, 5, 9};
        int[] ns = {1, V - 1, V, V + 3, 2 * V + 1, 3 * V, 4 * V, 5 * V + 1, 6 * V, 7 * V + 5, 8 * V};
        int[] ks = {0, 1, 7, 64};
        int variants = 0;
        for (int m : ms) {
            for (int n : ns) {
                for (int k : ks) {
                    for (boolean transposedA : new boolean[] {false, true}) {
                        for (boolean accumulate : new boolean[] {false, true}) {
                            int aOff = rnd.nextInt(3), bOff = rnd.nextInt(3), cOff = rnd.nextInt(3);
                            int lda = (transposedA ? m : k) + rnd.nextInt(3), ldb = n + rnd.nextInt(4), ldc = n + rnd.nextInt(4);
                            int aRow = transposedA ? 1 : lda, aCol = transposedA ? lda : 1;
                            float[] a = random(rnd, aOff + (transposedA ? k : m) * lda + 1);
                            float[] b = random(rnd, bOff + k * ldb + 1);
                            float[] c = random(rnd, cOff + m * ldc + 1), want = c.clone();
                            Tiles.mul(m, n, k, a, aOff, aRow, aCol, b, bOff, ldb, c, cOff, ldc, accumulate);
                            Tiles.reference(m, n, k, a, aOff, aRow, aCol, b, bOff, ldb, want, cOff, ldc, accumulate);
                            assertArrayEquals(want, c, "m=" + m + " n=" + n + " k=" + k + " transposedA=" + transposedA + " accumulate=" + accumulate);
                            variants++;
                        }
                    }
                }
            }
        }
        assertEquals(ms.length * ns.length * ks.length * 4, variants);
    }

    private static float[] random(Random rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian();
        return x;
    }
}
