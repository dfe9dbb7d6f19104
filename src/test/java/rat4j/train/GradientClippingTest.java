package rat4j.train;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class GradientClippingTest {
    static float[] random(int n, long seed, double scale) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] g = new float[n];
        for (int i = 0; i < n; i++) g[i] = (float) (r.nextGaussian() * scale);
        return g;
    }

    static double naiveNorm(float[] g) {
        double s = 0;
        for (float x : g) s += (double) x * x;
        return Math.sqrt(s);
    }

    @Test void normMatchesTheNaiveSumOnOddSizes() {
        for (int n : new int[] {0, 1, 3, 65_535, 65_537, 200_003}) {
            float[] g = random(n, n, 1);
            assertEquals(naiveNorm(g), GradientClipping.norm(g), 1e-9 * (1 + naiveNorm(g)), "n=" + n);
        }
        assertEquals(5.0, GradientClipping.norm(new float[] {3, 4}), 0);
    }

    @Test void largeGradientsAreScaledToTheMaxNorm() {
        float[] g = random(131_073, 1, 0.1);
        double before = naiveNorm(g);
        float[] want = g.clone();
        double coef = 1.0 / (before + 1e-6);
        for (int i = 0; i < want.length; i++) want[i] *= (float) coef;
        assertEquals(before, GradientClipping.clip(g, 1.0), 1e-9 * before);
        assertArrayEquals(want, g, "scaled by max / (norm + 1e-6), as torch's clip_grad_norm_");
        assertEquals(1.0, naiveNorm(g), 1e-5);
    }

    @Test void smallGradientsAreLeftBitIdentical() {
        float[] g = random(1001, 2, 1e-3);
        float[] before = g.clone();
        GradientClipping.clip(g, 1.0);
        assertArrayEquals(before, g);
        assertThrows(IllegalArgumentException.class, () -> GradientClipping.clip(g, 0));
    }
}
