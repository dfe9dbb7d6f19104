package rat4j.generate;

/**
 * How the next token is chosen from the logits, in this order: repetition penalty (the reference's rule, see
 * {@link Sampler}), then greedy argmax, or temperature, top-k, top-p (nucleus) and a draw from the seeded RNG.
 *
 * @param greedy            argmax (the reference's generate_greedy_search); the other fields but the penalty are ignored
 * @param temperature       logits are divided by it; 0 means greedy
 * @param topK              keep the k most likely tokens; 0 keeps all
 * @param topP              keep the smallest set of most likely tokens whose probability reaches p; 1 keeps all
 * @param repetitionPenalty 1 is none; r > 1 makes tokens already generated less likely
 * @param seed              sequence i of a batch draws from its own generator, seeded with seed + i
 */
public record Sampling(boolean greedy, double temperature, int topK, double topP, double repetitionPenalty, long seed) {
    public Sampling {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) throw new IllegalArgumentException("temperature must be a finite number >= 0, got " + temperature);
        if (topK < 0) throw new IllegalArgumentException("top-k must be >= 0 (0 keeps every token), got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must lie in (0, 1], got " + topP);
        if (!(repetitionPenalty > 0) || Double.isInfinite(repetitionPenalty)) {
            throw new IllegalArgumentException("repetition penalty must be a finite number > 0, got " + repetitionPenalty);
        }
    }

    /** Argmax decoding, no penalty. */
    public static Sampling argmax() {
        return new Sampling(true, 1, 0, 1, 1, 0);
    }

    /** Draws with the given temperature (0 = greedy), nothing else. */
    public static Sampling withTemperature(double temperature, long seed) {
        return new Sampling(false, temperature, 0, 1, 1, seed);
    }

    public Sampling withTopK(int k) { return new Sampling(greedy, temperature, k, topP, repetitionPenalty, seed); }

    public Sampling withTopP(double p) { return new Sampling(greedy, temperature, topK, p, repetitionPenalty, seed); }

    public Sampling withRepetitionPenalty(double r) { return new Sampling(greedy, temperature, topK, topP, r, seed); }

    /** Whether the choice is an argmax (greedy, or temperature 0). */
    public boolean isArgmax() {
        return greedy || temperature == 0;
    }
}
