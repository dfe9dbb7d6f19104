package rat4j.kernel;

/**
 * Element-wise kernels that dominate once the matrix products are fast: the softmax of the LM head's logits (V exps
 * per token) and the FFN's exact GELU (4C erfs per token). Callers split work over threads; these run on one range.
 * Results are deterministic for a given implementation, whatever the JIT has compiled.
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
}
