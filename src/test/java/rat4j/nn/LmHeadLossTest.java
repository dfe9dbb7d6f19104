package rat4j.nn;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LmHeadLossTest {

    /** The blocked head against the whole-batch one (all logits at once, then CrossEntropy and Linear.backward). */
    @Test
    void blocksGiveTheWholeBatchLossAndGradients() {
        int v = 32_000, c = 8;
        int n = 2 * LmHeadLoss.blockRows(v) + 37; // two full blocks and a partial one
        assertTrue(n > 2 * LmHeadLoss.blockRows(v));
        Random rnd = new Random(5);
        float[] hn = random(rnd, n * c), w = random(rnd, v * c);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) labels[i] = i % 7 == 3 ? CrossEntropy.IGNORE_INDEX : rnd.nextInt(v);

        float[] logits = new float[n * v];
        Linear.forward(logits, hn, w, 0, n, c, v);
        double expectedLoss = CrossEntropy.forwardBackward(logits, labels, n, v, logits);
        float[] expectedDhn = new float[n * c], expectedDw = new float[v * c + 3];
        Linear.backward(expectedDhn, expectedDw, 3, logits, hn, w, 0, n, c, v);

        float[] dhn = new float[n * c], dw = new float[v * c + 3];
        float[] block = new float[LmHeadLoss.blockRows(v) * v];
        double loss = LmHeadLoss.forwardBackward(dhn, dw, 3, hn, w, 0, labels, n, c, v, block);

        assertEquals(expectedLoss, loss, 1e-6 * expectedLoss);
        assertClose(expectedDhn, dhn, 1e-5);
        assertClose(expectedDw, dw, 1e-5);
        assertEquals(0f, dw[0]); // nothing written before dwOff
    }

    @Test
    void noLabelGivesNaNAndZeroGradients() {
        int n = 5, c = 3, v = 11;
        float[] dhn = new float[n * c], dw = new float[v * c];
        int[] labels = new int[n];
        java.util.Arrays.fill(labels, CrossEntropy.IGNORE_INDEX);
        double loss = LmHeadLoss.forwardBackward(dhn, dw, 0, random(new Random(1), n * c), random(new Random(2), v * c), 0,
                labels, n, c, v, new float[n * v]);
        assertTrue(Double.isNaN(loss));
        for (float x : dhn) assertEquals(0f, x);
        for (float x : dw) assertEquals(0f, x);
    }

    @Test
    void tooSmallScratchIsRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> LmHeadLoss.forwardBackward(new float[6], new float[22], 0,
                new float[6], new float[22], 0, new int[] {1, 2, 3}, 3, 2, 11, new float[32]));
        assertTrue(e.getMessage().contains("need 33"), e.getMessage());
    }

    private static float[] random(Random rnd, int size) {
        float[] x = new float[size];
        for (int i = 0; i < size; i++) x[i] = (float) rnd.nextGaussian();
        return x;
    }

    private static void assertClose(float[] expected, float[] actual, double relative) {
        double max = 0, err = 0;
        for (int i = 0; i < expected.length; i++) {
            max = Math.max(max, Math.abs(expected[i]));
            err = Math.max(err, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(err <= relative * max, "max |error| " + err + " over max |expected| " + max);
    }
}
