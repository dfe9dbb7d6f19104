package rat4j.kernel;

/**
 * The decode path's matrix product with bf16 weights: out (n, rows) = x (n, cols) W^T, W stored (rows, cols)
 * row-major as bf16 in a short[] (see {@link Bf16}), x and out float32, sums in float32. Decoding is memory-bound
 * (every weight is read once per step for n of at most a few dozen rows), so halving the bytes of W halves the time.
 * Implementations must be deterministic: the same inputs give the same bits, whatever n is and whichever thread
 * computes a row.
 */
public interface Bf16Gemm {
    /** Short name for logs, e.g. "naive" or "java-vector(512-bit)". */
    String name();

    /**
     * @param x   (n, cols) at xOff, rows packed
     * @param w   (rows, cols) bf16 at wOff
     * @param out (n, rows) at outOff, overwritten
     */
    void gemm(int n, int rows, int cols, float[] x, int xOff, short[] w, int wOff, float[] out, int outOff);

    /** One-line argument checks shared by the implementations. */
    static void check(int n, int rows, int cols, float[] x, int xOff, short[] w, int wOff, float[] out, int outOff) {
        if (n < 0 || rows < 0 || cols < 0) throw new IllegalArgumentException("negative size n=" + n + " rows=" + rows + " cols=" + cols);
        if (xOff < 0 || wOff < 0 || outOff < 0) throw new IllegalArgumentException("negative offset x=" + xOff + " w=" + wOff + " out=" + outOff);
        if (xOff + (long) n * cols > x.length) throw new IllegalArgumentException("x: (" + n + ", " + cols + ") at " + xOff + " exceeds " + x.length + " floats");
        if (wOff + (long) rows * cols > w.length) throw new IllegalArgumentException("w: (" + rows + ", " + cols + ") at " + wOff + " exceeds " + w.length + " bf16 values");
        if (outOff + (long) n * rows > out.length) throw new IllegalArgumentException("out: (" + n + ", " + rows + ") at " + outOff + " exceeds " + out.length + " floats");
    }
}
