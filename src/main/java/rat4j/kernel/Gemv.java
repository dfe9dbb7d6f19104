package rat4j.kernel;

/**
 * The decode path's matrix product with float32 weights: out (n, rows) = x (n, cols) W^T, W stored (rows, cols)
 * row-major, for the few rows of a decode step (a GEMV when n = 1). Decoding is memory-bound, so an implementation
 * must read each weight from memory once per call whatever n is, and spread the rows of W over all threads (the
 * packing GEMM would copy W every step, and runs products this small on one thread). Implementations must be
 * deterministic: the same inputs give the same bits, whatever n is and whichever thread computes a row, so batched
 * decoding gives the same tokens as decoding alone.
 */
public interface Gemv {
    /** Short name for logs, e.g. "naive" or "java-vector(512-bit)". */
    String name();

    /**
     * @param x   (n, cols) at xOff, rows packed
     * @param w   (rows, cols) at wOff
     * @param out (n, rows) at outOff, overwritten
     */
    void gemv(int n, int rows, int cols, float[] x, int xOff, float[] w, int wOff, float[] out, int outOff);

    /** One-line argument checks shared by the implementations. */
    static void check(int n, int rows, int cols, float[] x, int xOff, float[] w, int wOff, float[] out, int outOff) {
        if (n < 0 || rows < 0 || cols < 0) throw new IllegalArgumentException("negative size n=" + n + " rows=" + rows + " cols=" + cols);
        if (xOff < 0 || wOff < 0 || outOff < 0) throw new IllegalArgumentException("negative offset x=" + xOff + " w=" + wOff + " out=" + outOff);
        if (xOff + (long) n * cols > x.length) throw new IllegalArgumentException("x: (" + n + ", " + cols + ") at " + xOff + " exceeds " + x.length + " floats");
        if (wOff + (long) rows * cols > w.length) throw new IllegalArgumentException("w: (" + rows + ", " + cols + ") at " + wOff + " exceeds " + w.length + " floats");
        if (outOff + (long) n * rows > out.length) throw new IllegalArgumentException("out: (" + n + ", " + rows + ") at " + outOff + " exceeds " + out.length + " floats");
    }
}
