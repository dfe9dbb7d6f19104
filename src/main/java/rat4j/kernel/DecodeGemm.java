package rat4j.kernel;

/**
 * The decode path's matrix product: out (n, rows) = x (n, cols) W^T for the few rows of a decode step (a GEMV when
 * n = 1), with W packed once in panels ({@link PanelMatrix}, float32 or bf16). Implementations read W from memory
 * once per call whatever n is, and spread its panels over all threads.
 *
 * <p>Every output is one fused multiply-add chain in column order: s = 0; for k: s = fma(x[i, k], W[j, k], s). So
 * results do not depend on n (batched decoding gives the same bits as decoding alone), on the thread split, on the
 * tile that computed them, nor on JIT state, and the naive reference gives the same bits.
 */
public interface DecodeGemm {
    /** Short name for logs, e.g. "naive" or "java-vector(512-bit)". */
    String name();

    /**
     * @param x   (n, w.cols()) at xOff, rows packed
     * @param out (n, w.rows()) at outOff, overwritten
     */
    void apply(int n, float[] x, int xOff, PanelMatrix w, float[] out, int outOff);

    /** One-line argument checks shared by the implementations. */
    static void check(int n, float[] x, int xOff, PanelMatrix w, float[] out, int outOff) {
        if (n < 0) throw new IllegalArgumentException("negative row count n=" + n);
        if (xOff < 0 || outOff < 0) throw new IllegalArgumentException("negative offset x=" + xOff + " out=" + outOff);
        if (xOff + (long) n * w.cols() > x.length) throw new IllegalArgumentException("x: (" + n + ", " + w.cols() + ") at " + xOff + " exceeds " + x.length + " floats");
        if (outOff + (long) n * w.rows() > out.length) throw new IllegalArgumentException("out: (" + n + ", " + w.rows() + ") at " + outOff + " exceeds " + out.length + " floats");
    }
}
