package rat4j.generate;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplerTest {
    static float[] randomLogits(int v, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] l = new float[v];
        for (int i = 0; i < v; i++) l[i] = (float) (rng.nextGaussian() * 3);
        return l;
    }

    /** Draws n tokens from fresh copies of the logits (no penalty history), counting each id. */
    static int[] histogram(Sampling s, float[] logits, int n) {
        Sampler sampler = new Sampler(s, logits.length, 7);
        int[] counts = new int[logits.length];
        for (int i = 0; i < n; i++) counts[sampler.next(logits.clone(), 0)]++;
        return counts;
    }

    /** Ids sorted by decreasing logit. */
    static int[] ranking(float[] logits) {
        return java.util.stream.IntStream.range(0, logits.length).boxed()
                .sorted((a, b) -> Float.compare(logits[b], logits[a])).mapToInt(Integer::intValue).toArray();
    }

    @Test void topKNeverDrawsOutsideTheTopK() {
        for (int k : new int[] {1, 3, 10}) {
            float[] l = randomLogits(37, k);
            int[] counts = histogram(Sampling.withTemperature(2.0, 1).withTopK(k), l, 4000);
            int[] rank = ranking(l);
            int inside = 0;
            for (int r = 0; r < rank.length; r++) {
                if (r >= k) assertEquals(0, counts[rank[r]], "k=" + k + ": token of rank " + r + " drawn");
                else if (counts[rank[r]] > 0) inside++;
            }
            assertEquals(k, inside, "k=" + k + ": every one of the top k is drawn at temperature 2");
        }
    }

    @Test void topPKeepsTheSmallestNucleusAndItsProportions() {
        float[] l = {2f, 1f, 0f, -1f, 0.5f, -3f}; // probabilities .48 .18 .06 .02 .11 .002 (normalised below)
        double[] p = new double[l.length];
        double z = 0;
        for (int i = 0; i < l.length; i++) z += p[i] = Math.exp(l[i]);
        for (int i = 0; i < l.length; i++) p[i] /= z;
        // mass of the top 3 (ids 0, 1, 4) is 0.869 and of the top 2 0.76: p = 0.8 keeps exactly ids 0, 1, 4
        int n = 20000;
        int[] counts = histogram(Sampling.withTemperature(1, 3).withTopP(0.8), l, n);
        assertEquals(0, counts[2] + counts[3] + counts[5]);
        double kept = p[0] + p[1] + p[4];
        for (int id : new int[] {0, 1, 4}) {
            double want = p[id] / kept, got = counts[id] / (double) n;
            assertEquals(want, got, 4 * Math.sqrt(want * (1 - want) / n), "id " + id);
        }
        // p small enough keeps only the argmax
        int[] one = histogram(Sampling.withTemperature(1, 3).withTopP(0.1), l, 500);
        assertEquals(500, one[0]);
    }

    @Test void withoutTruncationTheDrawFollowsTheSoftmax() {
        float[] l = {0f, 1f, 2f};
        int n = 30000;
        int[] counts = histogram(Sampling.withTemperature(0.5, 9), l, n);
        double z = 1 + Math.exp(2) + Math.exp(4);
        double[] want = {1 / z, Math.exp(2) / z, Math.exp(4) / z};
        for (int i = 0; i < 3; i++) assertEquals(want[i], counts[i] / (double) n, 4 * Math.sqrt(want[i] / n) + 1e-3, "id " + i);
    }

    @Test void temperatureToZeroIsGreedy() {
        for (int seed = 0; seed < 20; seed++) {
            float[] l = randomLogits(101, seed);
            int greedy = new Sampler(Sampling.argmax(), 101, 0).next(l.clone(), 0);
            assertEquals(ranking(l)[0], greedy);
            assertEquals(greedy, new Sampler(Sampling.withTemperature(0, seed), 101, seed).next(l.clone(), 0));
            assertEquals(greedy, new Sampler(Sampling.withTemperature(1e-4, seed), 101, seed).next(l.clone(), 0));
        }
        assertEquals(1, Sampler.argmax(new float[] {0f, 3f, 3f, -1f}, 0, 4), "ties go to the lowest id");
    }

    /** The reference's rule on a hand example: l < 0 -> l * r, else l / r, once per distinct generated token. */
    @Test void repetitionPenaltyFollowsTheReference() {
        Sampler s = new Sampler(Sampling.argmax().withRepetitionPenalty(2.0), 5, 0);
        float[] l = {4f, 3f, -1f, 1.5f, -0.4f};
        assertEquals(0, s.next(l, 0));
        assertArrayEquals(new float[] {4f, 3f, -1f, 1.5f, -0.4f}, l, "no token generated yet: no penalty");
        s.accept(0);
        s.accept(2);
        s.accept(0); // a repeat is penalised once, as gather/scatter does
        float[] l2 = {4f, 3f, -1f, 1.5f, -0.4f};
        assertEquals(1, s.next(l2, 0));
        assertArrayEquals(new float[] {2f, 3f, -2f, 1.5f, -0.4f}, l2);
        Sampler strong = new Sampler(Sampling.argmax().withRepetitionPenalty(4.0), 5, 0);
        strong.accept(0);
        strong.accept(1);
        assertEquals(3, strong.next(new float[] {4f, 3f, -1f, 1.5f, -0.4f}, 0), "1.5 beats 4/4 and 3/4");
    }

    @Test void theSameSeedGivesTheSameTokens() {
        Sampling s = new Sampling(false, 0.9, 20, 0.95, 1.2, 0);
        int[][] runs = new int[3][];
        long[] seeds = {42, 42, 43};
        for (int r = 0; r < 3; r++) {
            Sampler sampler = new Sampler(s, 200, seeds[r]);
            runs[r] = new int[50];
            for (int i = 0; i < 50; i++) {
                runs[r][i] = sampler.next(randomLogits(200, i), 0);
                sampler.accept(runs[r][i]);
            }
        }
        assertArrayEquals(runs[0], runs[1]);
        assertNotEquals(java.util.Arrays.toString(runs[0]), java.util.Arrays.toString(runs[2]));
    }

    @Test void samplingReadsOnlyItsSliceOfTheLogits() {
        float[] rows = new float[3 * 4];
        rows[4 + 2] = 10f; // row 1: id 2
        rows[2 * 4] = 10f; // row 2: id 0
        Sampler s = new Sampler(Sampling.withTemperature(0.1, 0), 4, 0);
        assertEquals(2, s.next(rows, 4));
        assertEquals(0, s.next(rows, 8));
    }

    @Test void badSettingsAndNaNsAreRefused() {
        assertEquals("top-p must lie in (0, 1], got 0.0", assertThrows(IllegalArgumentException.class, () -> Sampling.argmax().withTopP(0)).getMessage());
        assertEquals("top-k must be >= 0 (0 keeps every token), got -1", assertThrows(IllegalArgumentException.class, () -> Sampling.argmax().withTopK(-1)).getMessage());
        assertEquals("temperature must be a finite number >= 0, got -1.0", assertThrows(IllegalArgumentException.class, () -> Sampling.withTemperature(-1, 0)).getMessage());
        assertEquals("repetition penalty must be a finite number > 0, got 0.0",
                assertThrows(IllegalArgumentException.class, () -> Sampling.argmax().withRepetitionPenalty(0)).getMessage());
        assertEquals("the logit of token 1 is NaN",
                assertThrows(IllegalStateException.class, () -> new Sampler(Sampling.argmax(), 2, 0).next(new float[] {0f, Float.NaN}, 0)).getMessage());
    }

    @Test void allButOneTokenAtMinusInfinityAlwaysGivesThatToken() {
        float[] l = {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, Float.NEGATIVE_INFINITY};
        int[] counts = histogram(new Sampling(false, 1.3, 0, 0.5, 1, 0), l, 200);
        assertEquals(200, counts[2]);
        assertTrue(histogram(Sampling.withTemperature(1, 0), l, 200)[2] == 200);
    }
}
