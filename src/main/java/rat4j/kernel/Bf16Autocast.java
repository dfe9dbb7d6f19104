package rat4j.kernel;

/**
 * The bf16 compute mode's product without a bf16 library: rounds the operands to bf16 (nearest, ties to even, as torch
 * autocast's casts) and multiplies the rounded values with an fp32 backend. The same numbers as oneDNN's bf16 matmul
 * (bf16 x bf16 products are exact in fp32; only the order of the fp32 sums differs) and no faster than fp32: it is the
 * reference for tests and the path where oneDNN is absent. Deterministic whenever the inner backend is.
 */
public final class Bf16Autocast implements Gemm {
    private final Gemm fp32;

    public Bf16Autocast(Gemm fp32) {
        this.fp32 = fp32;
    }

    @Override public String name() {
        return "bf16-autocast over " + fp32.name();
    }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k,
                      float alpha, float[] a, int aOff, int lda,
                      float[] b, int bOff, int ldb,
                      float beta, float[] c, int cOff, int ldc) {
        if (GemmArgs.checkAndFinishTrivial(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc)) return;
        // As stored: A is (m, k), or (k, m) when transposed; B is (k, n), or (n, k). The copies are packed (ld = cols).
        int aRows = transA ? k : m, aCols = transA ? m : k, bRows = transB ? n : k, bCols = transB ? k : n;
        float[] ar = rounded(a, aOff, lda, aRows, aCols), br = rounded(b, bOff, ldb, bRows, bCols);
        fp32.sgemm(transA, transB, m, n, k, alpha, ar, 0, aCols, br, 0, bCols, beta, c, cOff, ldc);
    }

    /** The (rows, cols) window of x at off with row stride ld, each value rounded to bf16, packed. */
    public static float[] rounded(float[] x, int off, int ld, int rows, int cols) {
        float[] out = new float[Math.multiplyExact(rows, cols)];
        Parallel.forRange(rows, Math.max(1, (1 << 16) / Math.max(1, cols)), (from, to) -> {
            for (int i = from; i < to; i++) {
                for (int j = 0; j < cols; j++) out[i * cols + j] = Bf16.round(x[off + i * ld + j]);
            }
        });
        return out;
    }
}
