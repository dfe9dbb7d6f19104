package rat4j.kernel;

/**
 * The attention kernels the sequence layers use. All run block-wise with online softmax, so no T x T score matrix is
 * stored. LSE arrays are (B, H, T). Backward methods add into dq, dk, dv.
 */
public interface AttentionKernels {
    String name();

    /** Causal attention, query i sees keys j with 0 <= i - j <= window (Integer.MAX_VALUE: full). */
    void causalForward(int batch, int seqLen, int heads, int headDim, int window, float scale,
                       Strided q, Strided k, Strided v, Strided out, float[] lse);

    void causalBackward(int batch, int seqLen, int heads, int headDim, int window, float scale,
                        Strided q, Strided k, Strided v, Strided out, float[] lse,
                        Strided dout, Strided dq, Strided dk, Strided dv);

    /**
     * RAT's inter-chunk attention: query t in chunk c = t / chunkLen attends to the keys/values at the final
     * positions of chunks 0..c-1 and to its own position t, with one softmax.
     */
    void chunkForward(int batch, int seqLen, int heads, int headDim, int chunkLen, float scale,
                      Strided q, Strided k, Strided v, Strided out, float[] lse);

    void chunkBackward(int batch, int seqLen, int heads, int headDim, int chunkLen, float scale,
                       Strided q, Strided k, Strided v, Strided out, float[] lse,
                       Strided dout, Strided dq, Strided dk, Strided dv);
}
