package rat4j.nn;

/**
 * A sequence layer (RAT, attention, sliding-window attention, RNN): a residual block that mixes across time, and can
 * decode one token at a time from a cache.
 */
public interface SequenceMixer extends Block {
    /** The per-layer decoding state of a batch of sequences. */
    interface Cache {
        /** Bytes held for the keys/values/states (what grows with context). */
        long bytes();
    }

    /** An empty cache for {@code batch} sequences of up to {@code maxLen} tokens. */
    Cache newCache(int batch, int maxLen);

    /**
     * Fills {@code cache} from the last forward, as if its first {@code prefix} tokens had been decoded one by one
     * (prefill uses the parallel forward, not a loop of steps). Requires prefix <= the forward's T.
     */
    void fillCache(Cache cache, int prefix);

    /** One token per sequence at position {@code pos}: inp, out (B, C). Reads and advances the cache. */
    void step(float[] inp, float[] out, Cache cache, int batch, int pos);
}
