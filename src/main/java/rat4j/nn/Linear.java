package rat4j.nn;

import rat4j.kernel.Gemm;
import rat4j.kernel.Kernels;

/** A bias-free linear layer y = x W^T with W stored (out, in), as torch.nn.Linear. */
public final class Linear {
    private Linear() {}

    /** out (N, outDim) = inp (N, inDim) * W^T, W (outDim, inDim) at wOff. */
    public static void forward(float[] out, float[] inp, float[] w, int wOff, int n, int inDim, int outDim) {
        Kernels.gemm().sgemm(false, true, n, outDim, inDim, 1f, inp, 0, inDim, w, wOff, inDim, 0f, out, 0, outDim);
    }

    /**
     * Adds the gradients of "out = inp W^T": dinp (N, inDim) += dout W; dW (outDim, inDim) += dout^T inp.
     * dinp may be null when the input needs no gradient.
     */
    public static void backward(float[] dinp, float[] dw, int dwOff, float[] dout, float[] inp, float[] w, int wOff,
                                int n, int inDim, int outDim) {
        Gemm g = Kernels.gemm();
        if (dinp != null) g.sgemm(false, false, n, inDim, outDim, 1f, dout, 0, outDim, w, wOff, inDim, 1f, dinp, 0, inDim);
        g.sgemm(true, false, outDim, inDim, n, 1f, dout, 0, outDim, inp, 0, inDim, 1f, dw, dwOff, inDim);
    }
}
