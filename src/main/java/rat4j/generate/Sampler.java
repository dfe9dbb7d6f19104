package rat4j.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Chooses one sequence's next tokens. Owns the scratch of a choice (allocated once, V entries) and the sequence's RNG,
 * so the same seed and logits give the same tokens.
 *
 * <p>Repetition penalty, as the reference's apply_repetition_penalty (src/utils/gen.py) applies it in
 * generate_greedy_search: every distinct token generated so far (the prompt is not included) has its logit l replaced
 * by l * r when l < 0 and l / r otherwise, once however often it occurred; then the choice is made.
 */
public final class Sampler {
    private final Sampling sampling;
    private final int vocab;
    private final SplittableRandom rng;
    private final boolean[] generated; // (V) tokens generated so far
    private final int[] distinct;      // the same, as a list
    private int distinctCount;
    private final long[] keys;         // (V) (sortable logit << 32 | ~id): candidates in order of logit, then of id
    private final double[] probs;      // (V) probabilities of the candidates, in key order

    public Sampler(Sampling sampling, int vocab, long seed) {
        if (vocab < 1) throw new IllegalArgumentException("vocabulary of " + vocab + " tokens");
        this.sampling = sampling;
        this.vocab = vocab;
        this.rng = new SplittableRandom(seed);
        this.generated = new boolean[vocab];
        this.distinct = new int[vocab];
        this.keys = new long[vocab];
        this.probs = new double[vocab];
    }

    /** Records a token as generated (for the repetition penalty). */
    public void accept(int token) {
        if (!generated[token]) {
            generated[token] = true;
            distinct[distinctCount++] = token;
        }
    }

    /**
     * The next token given logits[off, off + V). The logits are changed in place (penalty, temperature). The caller
     * {@link #accept}s the token it keeps.
     */
    public int next(float[] logits, int off) {
        for (int i = 0; i < vocab; i++) {
            if (Float.isNaN(logits[off + i])) throw new IllegalStateException("the logit of token " + i + " is NaN");
        }
        double r = sampling.repetitionPenalty();
        if (r != 1) {
            for (int j = 0; j < distinctCount; j++) {
                int t = off + distinct[j];
                logits[t] = logits[t] < 0 ? (float) (logits[t] * r) : (float) (logits[t] / r);
            }
        }
        if (sampling.isArgmax()) return argmax(logits, off, vocab);
        float invT = (float) (1 / sampling.temperature());
        int k = sampling.topK() == 0 ? vocab : Math.min(sampling.topK(), vocab);
        int n; // candidates keys[0, n), most likely first
        if (k < vocab || sampling.topP() < 1) {
            for (int i = 0; i < vocab; i++) keys[i] = key(logits[off + i], i);
            Arrays.sort(keys);
            for (int i = 0, j = vocab - 1; i < j; i++, j--) { long t = keys[i]; keys[i] = keys[j]; keys[j] = t; }
            n = k;
        } else {
            for (int i = 0; i < vocab; i++) keys[i] = key(logits[off + i], i);
            n = vocab; // unsorted: every token is a candidate
        }
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, logits[off + id(keys[i])] * invT);
        double total = 0;
        for (int i = 0; i < n; i++) {
            double p = Math.exp(logits[off + id(keys[i])] * invT - max);
            probs[i] = p;
            total += p;
        }
        if (sampling.topP() < 1) { // the smallest prefix whose mass reaches p
            double want = sampling.topP() * total, mass = 0;
            int keep = 0;
            while (keep < n && mass < want) mass += probs[keep++];
            n = Math.max(1, keep);
            total = mass;
        }
        double u = rng.nextDouble() * total, acc = 0;
        for (int i = 0; i < n; i++) {
            acc += probs[i];
            if (u < acc) return id(keys[i]);
        }
        for (int i = n - 1; i >= 0; i--) if (probs[i] > 0) return id(keys[i]); // u rounded onto the total
        return id(keys[0]);
    }

    /** The first index of the largest logit in logits[off, off + n). */
    static int argmax(float[] logits, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) if (logits[off + i] > logits[off + best]) best = i;
        return best;
    }

    /** A long that sorts by logit, then (among equal logits) by decreasing id, so that reversed the lower id comes first. */
    private static long key(float logit, int id) {
        int bits = Float.floatToRawIntBits(logit);
        bits ^= (bits >> 31) & 0x7fffffff; // order-preserving map of floats onto signed ints
        return ((long) bits << 32) | (~id & 0xffffffffL);
    }

    private static int id(long key) {
        return ~(int) key;
    }
}
