package rat4j.kernel;

/**
 * Element-wise kernels that dominate once the matrix products are fast: the softmax of the LM head's logits (V exps
 * per token), the FFN's exact GELU (4C erfs per token), and RAT's and the RNN's gates, gated scan and RoPE (issue 5:
 * with scalar loops they cost a RAT layer more than its attention). Callers split work over threads; these run on one
 * range. Results are deterministic for a given implementation, whatever the JIT has compiled.
 */
public interface Elementwise {
    String name();

    /** The largest of x[off .. off + n), n >= 1. */
    float max(float[] x, int off, int n);

    /** out[outOff + i] = exp(x[xOff + i] - shift) for i < n; returns their sum (summed in a fixed order). */
    float expShifted(float[] x, int xOff, float shift, float[] out, int outOff, int n);

    /** out[i] = gelu(x[i]) = x * Phi(x) (exact, erf-based GELU) for i in [from, to). */
    void gelu(float[] x, float[] out, int from, int to);

    /** d[i] *= gelu'(x[i]) = Phi(x) + x * phi(x) for i in [from, to): the backward of out = gelu(x). */
    void geluBackward(float[] x, float[] d, int from, int to);

    /** out[outOff + i] = sigmoid(x[xOff + i] + bias[bOff + i]) for i < n; bias null adds nothing. out may be x (in place). */
    void sigmoid(float[] x, int xOff, float[] bias, int bOff, float[] out, int outOff, int n);

    /**
     * The gated linear recurrence over n channels and rows consecutive rows cut into chunks of chunkLen (the last may
     * be shorter): h_r = g_r * h_{r-1} + (1 - g_r) * u_r, with h_{r-1} = 0 at every chunk's first row. Channel j of
     * row r lives at s.data()[s.row(r) + j] for each of h (written), g and u (read). h may be u (in place) but no
     * other overlap. Callers hand over many chunks per call: one call is a loop long enough to be compiled on its own.
     */
    void scanForward(Strided h, Strided g, Strided u, int rows, int chunkLen, int n);

    /**
     * The backward of {@link #scanForward} on the same rows: ADDS du_r += (1 - g_r) dH_r and dg_r += dH_r (h_{r-1} - u_r),
     * where dH_r = dh_r + g_{r+1} dH_{r+1} within a chunk (walking its rows backwards; 0 past its end), given dh and the
     * forward's h, g, u.
     */
    void scanBackward(Strided du, Strided dg, Strided dh, Strided h, Strided g, Strided u, int rows, int chunkLen, int n);

    /**
     * Rotary embedding in the rotate-half convention on one row of heads heads of size 2 * half at a[off]: pairs
     * (i, i + half) of each head turn by the angle whose cos and sin are cos[tab + i], sin[tab + i]:
     * [x1, x2] -> [x1 c - x2 s, x2 c + x1 s]; inverse uses -s (the transpose: the backward of the forward rotation).
     */
    void rotateHalf(float[] a, int off, int heads, int half, float[] cos, float[] sin, int tab, boolean inverse);
}
