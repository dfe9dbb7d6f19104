package rat4j.kernel.simd;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LanesTest {
    static final int LANES = FloatVector.SPECIES_PREFERRED.length();

    @Test
    void expIsAccurateAndEqualsItsScalarTwinOnEveryLane() {
        SplittableRandom rng = new SplittableRandom(1);
        float[] x = new float[LANES], y = new float[LANES];
        double worstUlps = 0;
        int checked = 0;
        for (int round = 0; round < 20000; round++) {
            for (int i = 0; i < LANES; i++) x[i] = (float) (rng.nextDouble() * 175 - 87); // [-87, 88)
            Lanes.exp(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, x, 0)).intoArray(y, 0);
            for (int i = 0; i < LANES; i++) {
                assertEquals(Float.floatToIntBits(Lanes.exp(x[i])), Float.floatToIntBits(y[i]), "lane and scalar differ at " + x[i]);
                double exact = Math.exp(x[i]);
                worstUlps = Math.max(worstUlps, Math.abs(y[i] - exact) / Math.ulp((float) exact));
                checked++;
            }
        }
        assertTrue(worstUlps <= 2.5, "worst error " + worstUlps + " ulp");
        assertEquals(20000 * LANES, checked);
    }

    @Test
    void expEdgeCases() {
        assertEquals(0f, Lanes.exp(Float.NEGATIVE_INFINITY));
        assertEquals(0f, Lanes.exp(-1000f));
        assertEquals(1f, Lanes.exp(0f));
        assertEquals(Float.POSITIVE_INFINITY, Lanes.exp(1000f));
        assertTrue(Float.isNaN(Lanes.exp(Float.NaN)));
        float[] x = new float[LANES], y = new float[LANES];
        x[0] = Float.NEGATIVE_INFINITY;
        x[1 % LANES] = Float.NaN;
        Lanes.exp(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, x, 0)).intoArray(y, 0);
        assertEquals(0f, y[0]);
        if (LANES > 1) assertTrue(Float.isNaN(y[1]));
    }

    @Test
    void sumIsAFixedPairwiseTree() {
        float[] x = new float[LANES];
        SplittableRandom rng = new SplittableRandom(2);
        for (int round = 0; round < 1000; round++) {
            for (int i = 0; i < LANES; i++) x[i] = (float) ((rng.nextDouble() - 0.5) * Math.pow(10, rng.nextInt(8)));
            float[] level = x.clone();
            for (int width = LANES; width > 1; width /= 2) { // pairs (i, i + width/2): the tree Lanes.sum uses
                for (int i = 0; i < width / 2; i++) level[i] = level[i] + level[i + width / 2];
            }
            float got = Lanes.sum(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, x, 0));
            assertEquals(Float.floatToIntBits(level[0]), Float.floatToIntBits(got), "round " + round);
        }
    }
}
