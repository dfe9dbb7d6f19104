package rat4j.nn;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The scan's tiled input (RAT's keys read straight from the projection, channel j from column j mod uWidth) against
 * the same scan on an explicitly tiled copy, with the copy's gradient summed back per column, as RatLayer did before.
 */
class GatedScanTest {
    static float[] random(SplittableRandom rng, int n, double lo, double hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (lo + (hi - lo) * rng.nextDouble());
        return a;
    }

    @Test
    void tiledInputEqualsAnExplicitTiling() {
        SplittableRandom rng = new SplittableRandom(11);
        int variants = 0;
        // uWidth not dividing C, a partial last chunk, the RNN's single chunk, channel counts past one block (256)
        for (int[] s : new int[][] {{2, 7, 12, 5, 3}, {1, 9, 40, 16, 4}, {3, 5, 300, 80, 2}, {2, 6, 20, 8, 100}, {1, 4, 520, 520, 3}}) {
            int batch = s[0], seqLen = s[1], c = s[2], uWidth = s[3], chunk = s[4], n = batch * seqLen;
            int uStride = uWidth + 5, uOff = 2;
            float[] g = random(rng, n * c, 0.05, 0.95), u = random(rng, uOff + n * uStride, -1, 1), dh = random(rng, n * c, -1, 1);
            float[] tiled = new float[n * c];
            for (int i = 0; i < n; i++) for (int j = 0; j < c; j++) tiled[i * c + j] = u[uOff + i * uStride + j % uWidth];
            float[] h = new float[n * c], hRef = new float[n * c];
            GatedScan.forward(h, 0, c, g, 0, c, u, uOff, uStride, uWidth, batch, seqLen, c, chunk);
            GatedScan.forward(hRef, 0, c, g, 0, c, tiled, 0, c, batch, seqLen, c, chunk);
            assertArrayEquals(hRef, h, "forward " + java.util.Arrays.toString(s));

            float[] du = new float[u.length], dg = new float[n * c], dtiled = new float[n * c], dgRef = new float[n * c];
            GatedScan.backward(du, uOff, uStride, dg, 0, c, dh, 0, c, h, 0, c, g, 0, c, u, uOff, uStride, uWidth, batch, seqLen, c, chunk);
            GatedScan.backward(dtiled, 0, c, dgRef, 0, c, dh, 0, c, hRef, 0, c, g, 0, c, tiled, 0, c, batch, seqLen, c, chunk);
            float[] duRef = new float[u.length];
            for (int i = 0; i < n; i++) for (int j = 0; j < c; j++) duRef[uOff + i * uStride + j % uWidth] += dtiled[i * c + j];
            assertArrayEquals(dgRef, dg, "dg " + java.util.Arrays.toString(s));
            assertArrayEquals(duRef, du, "du " + java.util.Arrays.toString(s));
            variants++;
        }
        assertArrayEquals(new int[] {5}, new int[] {variants});
    }

    @Test
    void badWidthsAreOneLineErrors() {
        float[] a = new float[16];
        assertThrows(IllegalArgumentException.class, () -> GatedScan.forward(a, 0, 4, a, 0, 4, a, 0, 4, 5, 1, 4, 4, 2));
        assertThrows(IllegalArgumentException.class, () -> GatedScan.forward(a, 0, 4, a, 0, 4, a, 0, 4, 4, 1, 4, 4, 0));
    }
}
