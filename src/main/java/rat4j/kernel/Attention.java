package rat4j.kernel;

import rat4j.tensor.Sizes;

/**
 * The attention kernels the layers call. Dimension letters: B batch, T time, H heads, D head dim, L chunk length,
 * W window. Activations are {@link Strided} rows: element (b, t, h, d) of a (B, T, H, D) tensor x lives at
 * x.data()[x.row(b*T + t) + h*D + d]. Log-sum-exp arrays are (B, H, T) packed from index 0 and hold, per query,
 * log(sum_j exp(scale * q.k_j)) over the keys it sees; the backward passes reuse them instead of a second softmax.
 * Backward methods ADD into dq, dk, dv (the caller zeroes them). Outputs must not overlap the inputs.
 *
 * <p>Two kernels: causal attention (full, or windowed as in the reference's local_attention.py) and RAT's chunk
 * attention (rat.py): query t of chunk c = t / L attends with one softmax to the keys/values at the last position of
 * every earlier chunk, k[j*L + L-1] for j < c, and to its own running state k[t], v[t]. That single softmax equals
 * the reference's flex_attention over the chunk finals (mask q//L > kv) merged with the own-state term through
 * their log-sum-exps (merge_last_token_naive).
 */
public interface Attention {

    /** Short name for logs, e.g. "naive" or "java-vector(512-bit)". */
    String name();

    /**
     * Query i sees keys j with 0 <= i - j <= window (window = Integer.MAX_VALUE: full causal attention).
     * q, k, v, out: (B, T, H, D); lse: (B, H, T), written.
     */
    void causalForward(int B, int T, int H, int D, int window, float scale,
                       Strided q, Strided k, Strided v, Strided out, float[] lse);

    /** Adds the gradients of causalForward into dq, dk, dv (B, T, H, D), given out, lse from it and dout (B, T, H, D). */
    void causalBackward(int B, int T, int H, int D, int window, float scale,
                        Strided q, Strided k, Strided v, Strided out, float[] lse,
                        Strided dout, Strided dq, Strided dk, Strided dv);

    /**
     * RAT inter-chunk attention with chunk length L; T need not be a multiple of L. q: rotated queries, k: rotated
     * running key states, v: running value states, all (B, T, H, D); out (B, T, H, D) and lse (B, H, T), written.
     */
    void chunkForward(int B, int T, int H, int D, int L, float scale,
                      Strided q, Strided k, Strided v, Strided out, float[] lse);

    /**
     * Adds the gradients of chunkForward into dq, dk, dv (B, T, H, D). A chunk-final position receives gradient both
     * as its own query's own state and as a key of every later chunk's queries.
     */
    void chunkBackward(int B, int T, int H, int D, int L, float scale,
                       Strided q, Strided k, Strided v, Strided out, float[] lse,
                       Strided dout, Strided dq, Strided dk, Strided dv);

    /**
     * One decoding step. For each (b, h) the query q (B, H, D) attends, with one softmax, to the first n entries of
     * the caches kCache, vCache, laid out (B, H, capacity, D) from cacheOff, and, when ownK is not null, to one more
     * key/value ownK, ownV (B, H, D) (RAT's running state). q, ownK, ownV, out are Strided with B rows of width H*D.
     * Slot order does not matter (a ring buffer works), as keys carry their positions through RoPE.
     */
    void decode(int B, int H, int D, int n, int capacity, float scale, Strided q,
                float[] kCache, float[] vCache, int cacheOff, Strided ownK, Strided ownV, Strided out);

    // ---- argument checks shared by the implementations: one-line messages naming the bad argument ----

    static void checkSizes(int B, int T, int H, int D, float scale) {
        if (B < 0 || T < 0) throw new IllegalArgumentException("negative size B=" + B + " T=" + T);
        if (H < 1 || D < 1) throw new IllegalArgumentException("heads and head dim must be positive, got H=" + H + " D=" + D);
        if (!Float.isFinite(scale)) throw new IllegalArgumentException("softmax scale must be finite, got " + scale);
        // the kernels index with int: B*T rows, B*H*T log-sum-exps and H*D row widths must fit
        Sizes.product(B, T);
        Sizes.product(B, H, T);
        Sizes.product(H, D);
    }

    static void checkForward(int B, int T, int H, int D, float scale,
                             Strided q, Strided k, Strided v, Strided out, float[] lse) {
        checkSizes(B, T, H, D, scale);
        long rows = (long) B * T;
        int width = H * D;
        q.check("q", rows, width);
        k.check("k", rows, width);
        v.check("v", rows, width);
        out.check("out", rows, width);
        if (lse == null) throw new IllegalArgumentException("lse: array is null");
        if ((long) B * H * T > lse.length) {
            throw new IllegalArgumentException("lse: (B, H, T) = " + (long) B * H * T + " floats, the array has " + lse.length);
        }
    }

    static void checkBackward(int B, int T, int H, int D, float scale,
                              Strided q, Strided k, Strided v, Strided out, float[] lse,
                              Strided dout, Strided dq, Strided dk, Strided dv) {
        checkForward(B, T, H, D, scale, q, k, v, out, lse);
        long rows = (long) B * T;
        int width = H * D;
        dout.check("dout", rows, width);
        dq.check("dq", rows, width);
        dk.check("dk", rows, width);
        dv.check("dv", rows, width);
    }

    static void checkWindow(int window) {
        if (window < 0) throw new IllegalArgumentException("window must be >= 0, got " + window);
    }

    static void checkChunk(int L) {
        if (L < 1) throw new IllegalArgumentException("chunk length L must be >= 1, got " + L);
    }

    static void checkDecode(int B, int H, int D, int n, int capacity, float scale, Strided q,
                            float[] kCache, float[] vCache, int cacheOff, Strided ownK, Strided ownV, Strided out) {
        checkSizes(B, 1, H, D, scale);
        if (n < 0 || n > capacity) throw new IllegalArgumentException("cached entries n=" + n + " must lie in [0, capacity=" + capacity + "]");
        if ((ownK == null) != (ownV == null)) throw new IllegalArgumentException("ownK and ownV must both be given or both be null");
        if (n == 0 && ownK == null) throw new IllegalArgumentException("decode with no cached entry and no own key attends to nothing");
        int width = H * D;
        q.check("q", B, width);
        out.check("out", B, width);
        if (ownK != null) {
            ownK.check("ownK", B, width);
            ownV.check("ownV", B, width);
        }
        if (cacheOff < 0) throw new IllegalArgumentException("cache offset must be >= 0, got " + cacheOff);
        long need = cacheOff + (long) B * H * capacity * D;
        if (kCache == null || kCache.length < need) throw new IllegalArgumentException("kCache: (B, H, capacity, D) needs " + need + " floats");
        if (vCache == null || vCache.length < need) throw new IllegalArgumentException("vCache: (B, H, capacity, D) needs " + need + " floats");
    }

}
