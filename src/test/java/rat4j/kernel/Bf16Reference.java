package rat4j.kernel;

/**
 * The bf16 compute mode's product written out plainly, for tests: each operand rounded to bf16 ({@link Bf16#round}),
 * products summed in double, C = alpha * sum + beta * C (beta == 0 ignores C).
 */
public final class Bf16Reference implements Gemm {
    @Override public String name() { return "bf16-reference"; }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                      float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        GemmArgs.check(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    float av = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                    float bv = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                    sum += (double) Bf16.round(av) * Bf16.round(bv);
                }
                int ci = cOff + i * ldc + j;
                c[ci] = (float) (alpha * sum + (beta == 0f ? 0 : (double) beta * c[ci]));
            }
        }
    }
}
