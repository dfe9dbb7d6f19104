package rat4j.kernel;

/**
 * Single-precision matrix product on row-major float arrays: C = alpha * op(A) * op(B) + beta * C, where op(A) is
 * (m, k) and op(B) is (k, n). lda/ldb/ldc are row strides of the arrays as stored (BLAS row-major convention: for
 * transA, A is stored (k, m) with stride lda >= m). Offsets address the first element of each matrix.
 * With beta == 0, C is overwritten and its old content (even NaN) is ignored.
 */
public interface Gemm {
    /** Short name printed at start-up, e.g. "openblas(SkylakeX, 2 threads)" or "java-vector(512-bit)". */
    String name();

    void sgemm(boolean transA, boolean transB, int m, int n, int k,
               float alpha, float[] a, int aOff, int lda,
               float[] b, int bOff, int ldb,
               float beta, float[] c, int cOff, int ldc);
}
