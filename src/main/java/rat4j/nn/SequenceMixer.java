package rat4j.nn;

/**
 * A sequence layer (RAT, attention, sliding-window attention, RNN): a residual block that mixes across time, and can
 * decode one token at a time from a cache. A cache holds B sequences ("slots"), each at its own position: a decoding
 * batch may mix prompts of different lengths.
 */
public interface SequenceMixer extends Block {
    /** The per-layer decoding state of B sequences, with the scratch one step needs (allocated once, here). */
    interface Cache {
        /** Bytes held for the keys/values/states (what grows with context), scratch excluded. */
        long bytes();

        /** B, the number of sequences. */
        int batch();

        /** Makes sequence {@code to} a copy of sequence {@code from} (a fork: both then decode independently). */
        void copy(int from, int to);
    }

    /** An empty cache for {@code batch} sequences of up to {@code maxLen} tokens each. */
    Cache newCache(int batch, int maxLen);

    /**
     * Fills sequence {@code slot} of {@code cache} from batch row {@code row} of the last forward, as if the first
     * {@code prefix} tokens of that row had been decoded one by one (prefill uses the parallel forward, not a loop of
     * steps). Requires 1 <= prefix <= the forward's T. The forward may run longer than prefix: every layer is
     * causal, so right-padding a shorter prompt changes nothing before its end.
     */
    void fillCache(Cache cache, int slot, int row, int prefix);

    /**
     * One token for each of n sequences: row r of inp, out (n, C) is sequence slots[r] of the cache, at position
     * positions[r] (its RoPE angle, chunk and cache fill follow from it). Reads and advances those sequences' state.
     * Slots must be distinct; allocates nothing but trivial objects.
     */
    void step(float[] inp, float[] out, Cache cache, int n, int[] slots, int[] positions);

    /** Bytes of weights one step reads (matrices in their decode format, norms, biases), whatever n is. */
    long stepWeightBytes();

    /** Bytes of cache one step reads for a sequence at position pos (the memory-bound figure of decoding). */
    long stepCacheBytes(int pos);
}
