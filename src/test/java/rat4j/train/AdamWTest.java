package rat4j.train;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdamWTest {
    static final AdamW RECIPE = new AdamW(0.9, 0.95, 1e-8, 0.1);

    /** torch.optim.AdamW's step in double precision, written out term by term. */
    static void referenceStep(double[] p, double[] g, double[] m, double[] v, int t, double lr, AdamW o) {
        for (int i = 0; i < p.length; i++) {
            p[i] *= 1 - lr * o.weightDecay();
            m[i] = o.beta1() * m[i] + (1 - o.beta1()) * g[i];
            v[i] = o.beta2() * v[i] + (1 - o.beta2()) * g[i] * g[i];
            double mHat = m[i] / (1 - Math.pow(o.beta1(), t)), vHat = v[i] / (1 - Math.pow(o.beta2(), t));
            p[i] -= lr * mHat / (Math.sqrt(vHat) + o.eps());
        }
    }

    @Test void twoStepsMatchHandComputedValues() {
        float[] p = {1.0f, -2.0f, 0.5f}, m = new float[3], v = new float[3];
        // Step 1: m = 0.1 g, v = 0.05 g^2, so m^ = g, v^ = g^2 and the update is lr * g / (|g| + eps) = lr * sign(g)
        // (up to eps): p = p * (1 - 0.1 * 0.1) - 0.1 * sign(g).
        AdamW o = RECIPE;
        o.step(p, new float[] {0.5f, -0.25f, 2.0f}, m, v, 1, 0.1);
        assertArrayEquals(new float[] {0.99f - 0.1f, -1.98f + 0.1f, 0.495f - 0.1f}, p, 1e-6f);
        assertArrayEquals(new float[] {0.05f, -0.025f, 0.2f}, m, 1e-7f);
        assertArrayEquals(new float[] {0.0125f, 0.003125f, 0.2f}, v, 1e-7f);
        // Step 2 with g = (1, 0, -1), lr 0.05: for the first element m = 0.9 * 0.05 + 0.1 = 0.145, m^ = 0.145 / 0.19,
        // v = 0.95 * 0.0125 + 0.05 = 0.061875, v^ = 0.061875 / 0.0975, p = 0.89 * 0.995 - 0.05 * m^ / sqrt(v^).
        o.step(p, new float[] {1f, 0f, -1f}, m, v, 2, 0.05);
        double m0 = 0.145 / 0.19, v0 = 0.061875 / 0.0975;
        assertEquals(0.89 * 0.995 - 0.05 * m0 / Math.sqrt(v0), p[0], 1e-6);
        // the second element saw no gradient: its moments decay and it still moves by the momentum
        double m1 = 0.9 * -0.025 / 0.19, v1 = 0.95 * 0.003125 / 0.0975;
        assertEquals(-1.88 * 0.995 - 0.05 * m1 / Math.sqrt(v1), p[1], 1e-6);
    }

    @Test void manyStepsOnOddSizesFollowTheDoubleReference() {
        for (int n : new int[] {0, 1, 7, 16_385, 100_003}) {
            SplittableRandom r = new SplittableRandom(n);
            float[] p = new float[n], m = new float[n], v = new float[n], g = new float[n];
            double[] pd = new double[n], md = new double[n], vd = new double[n], gd = new double[n];
            for (int i = 0; i < n; i++) pd[i] = p[i] = (float) r.nextGaussian();
            for (int t = 1; t <= 5; t++) {
                for (int i = 0; i < n; i++) gd[i] = g[i] = (float) (r.nextGaussian() * 0.1);
                double lr = 1e-3 * t;
                RECIPE.step(p, g, m, v, t, lr);
                referenceStep(pd, gd, md, vd, t, lr, RECIPE);
            }
            for (int i = 0; i < n; i++) assertEquals(pd[i], p[i], 1e-5 * (1 + Math.abs(pd[i])), "n=" + n + " i=" + i);
        }
    }

    @Test void theParallelLoopIsDeterministic() {
        int n = 300_001;
        SplittableRandom r = new SplittableRandom(3);
        float[] g = new float[n], p0 = new float[n];
        for (int i = 0; i < n; i++) {
            g[i] = (float) r.nextGaussian();
            p0[i] = (float) r.nextGaussian();
        }
        float[] a = p0.clone(), b = p0.clone();
        RECIPE.step(a, g, new float[n], new float[n], 1, 1e-3);
        RECIPE.step(b, g, new float[n], new float[n], 1, 1e-3);
        assertArrayEquals(a, b);
    }

    @Test void weightDecayAppliesToEveryParameterEvenWithoutGradient() {
        float[] p = {2f, -3f}, m = new float[2], v = new float[2];
        new AdamW(0.9, 0.95, 1e-8, 0.5).step(p, new float[2], m, v, 1, 0.1);
        assertArrayEquals(new float[] {2f * 0.95f, -3f * 0.95f}, p, 1e-7f);
    }

    @Test void badInputsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> RECIPE.step(new float[2], new float[3], new float[2], new float[2], 1, 1e-3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RECIPE.step(new float[1], new float[1], new float[1], new float[1], 0, 1e-3));
        assertTrue(e.getMessage().contains("start at 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new AdamW(1.0, 0.95, 1e-8, 0.1));
        assertThrows(IllegalArgumentException.class, () -> new AdamW(0.9, 0.95, 0, 0.1));
        assertThrows(IllegalArgumentException.class, () -> new AdamW(0.9, 0.95, 1e-8, -1));
    }
}
