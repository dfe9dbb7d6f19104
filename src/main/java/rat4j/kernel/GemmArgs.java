package rat4j.kernel;

/**
 * Argument checks and the degenerate cases shared by every {@link Gemm} backend, so that bad input fails with one
 * line naming the problem (instead of an index error deep in a kernel, or OpenBLAS's xerbla message on stderr).
 */
public final class GemmArgs {
    private GemmArgs() {}

    /** Throws IllegalArgumentException naming the first bad argument; extents are computed in long. */
    public static void check(boolean transA, boolean transB, int m, int n, int k,
                             float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                             float[] c, int cOff, int ldc) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("sgemm: negative size m=" + m + " n=" + n + " k=" + k);
        }
        // As stored: A is (m, k), or (k, m) when transposed; B is (k, n), or (n, k).
        matrix("A", a, aOff, lda, transA ? k : m, transA ? m : k);
        matrix("B", b, bOff, ldb, transB ? n : k, transB ? k : n);
        matrix("C", c, cOff, ldc, m, n);
    }

    private static void matrix(String name, float[] x, int off, int ld, int rows, int cols) {
        if (x == null) throw new IllegalArgumentException("sgemm: " + name + " is null");
        if (ld < Math.max(1, cols)) {
            throw new IllegalArgumentException("sgemm: ld" + name.toLowerCase() + "=" + ld + " < " + Math.max(1, cols)
                    + " columns of " + name + " (" + rows + " x " + cols + ")");
        }
        if (off < 0) throw new IllegalArgumentException("sgemm: negative offset " + off + " of " + name);
        long end = rows == 0 || cols == 0 ? off : off + (long) (rows - 1) * ld + cols;
        if (end > x.length) {
            throw new IllegalArgumentException("sgemm: " + name + " (" + rows + " x " + cols + ", ld " + ld + ") at offset "
                    + off + " needs " + end + " elements, array has " + x.length);
        }
    }

    /** C = beta * C over the (m, n) window, the whole product when k == 0 or alpha == 0; beta == 0 writes zeros. */
    public static void scaleC(float beta, float[] c, int cOff, int ldc, int m, int n) {
        if (beta == 1f) return;
        for (int i = 0; i < m; i++) {
            int row = cOff + i * ldc;
            for (int j = 0; j < n; j++) c[row + j] = beta == 0f ? 0f : beta * c[row + j];
        }
    }

    /**
     * The prologue every backend shares: checks the arguments, then finishes the products that need no multiply
     * (an empty C; k == 0 or alpha == 0, which leave C = beta * C). Returns true when nothing is left to compute.
     * Doing the degenerate cases here keeps beta == 0 with NaN in C identical across backends (BLAS leaves them to beta).
     */
    public static boolean checkAndFinishTrivial(boolean transA, boolean transB, int m, int n, int k,
                                                float alpha, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                                float beta, float[] c, int cOff, int ldc) {
        check(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        if (m == 0 || n == 0) return true;
        if (k == 0 || alpha == 0f) {
            scaleC(beta, c, cOff, ldc, m, n);
            return true;
        }
        return false;
    }
}
