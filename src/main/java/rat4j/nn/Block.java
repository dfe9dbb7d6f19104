package rat4j.nn;

/**
 * A residual sub-layer over a (B, T, C) stream: out = inp + f(inp). Each instance owns views of its weights and the
 * activations its last forward saved for backward (reallocated only when (B, T) grows), so one instance serves one
 * stream at a time.
 */
public interface Block {
    /** out (B, T, C) = inp + f(inp); saves what backward needs (inp is kept by reference and must not change). */
    void forward(float[] inp, float[] out, int batch, int seqLen);

    /**
     * Backward of the last forward: dinp (B, T, C) += d out/d inp . dout; grads (the model's gradient storage, laid out
     * like its parameters) += the weight gradients.
     */
    void backward(float[] dout, float[] dinp, float[] grads);
}
