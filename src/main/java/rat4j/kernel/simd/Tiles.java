package rat4j.kernel.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The small matrix products inside the attention kernels' (query block, key block) tiles: C (m, n) = or += A (m, k) B
 * (k, n), with A read through arbitrary row and column strides (so A or its transpose, packed or a view of strided
 * activation rows) and B, C row-major with any row stride. Vectors run along n; every element of A is broadcast.
 * Register blocking as in a GEMM micro-kernel (BLIS): 4 rows x 4 vectors of C stay in 16 registers while k runs,
 * so each step loads 4 vectors of B and 4 scalars of A for 16 fused multiply-adds.
 *
 * <p>Every element of C is one fma chain over p = 0, 1, ..., k-1 starting from 0 or from C's old value, whichever
 * kernel variant (4x4, 1x4, 4x3, 4x2, 4x1, 1x1 vectors, or the scalar column tail with Math.fma) computes it. So the result
 * does not depend on the tile an element falls into, on the thread, or on whether the JIT compiled the code, and two
 * calls that cover the same element with different m, n or offsets give the same bits.
 */
final class Tiles {
    private Tiles() {}

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int V = F.length();
    /**
     * 6 x 4 tiles where the registers hold them: 24 accumulators, 4 vectors of B and a broadcast need 29 of AVX-512's
     * 32 vector registers (AVX2 has 16), and 24 fmas per 4 loads and 6 broadcasts instead of 16 per 4 and 4.
     */
    private static final boolean SIX_ROWS = F.vectorBitSize() >= 512;

    /**
     * C[i*ldc + j] (+)= sum_p A[i*aRow + p*aCol] * B[p*ldb + j] for i < m, j < n, offsets aOff, bOff, cOff added;
     * accumulate: start from C's value, else from 0.
     */
    static void mul(int m, int n, int k, float[] a, int aOff, int aRow, int aCol, float[] b, int bOff, int ldb,
                    float[] c, int cOff, int ldc, boolean accumulate) {
        int j = 0;
        for (; j + 4 * V <= n; j += 4 * V) {
            int i = 0;
            if (SIX_ROWS) {
                for (; i + 6 <= m; i += 6) mul6x4(k, a, aOff + i * aRow, aRow, aCol, b, bOff + j, ldb, c, cOff + i * ldc + j, ldc, accumulate);
            }
            for (; i + 4 <= m; i += 4) mul4x4(k, a, aOff + i * aRow, aRow, aCol, b, bOff + j, ldb, c, cOff + i * ldc + j, ldc, accumulate);
            for (; i < m; i++) mul1x4(k, a, aOff + i * aRow, aCol, b, bOff + j, ldb, c, cOff + i * ldc + j, accumulate);
        }
        // the last 1-3 whole vectors as one tile: three 1-vector tiles would load each A element three times and
        // run 4 fma chains per step, too few to hide the fma latency (thin score tiles of chunk attention)
        int vecs = (n - j) / V;
        if (vecs > 0) {
            int i = 0;
            for (; i + 4 <= m; i += 4) {
                int ai = aOff + i * aRow, ci = cOff + i * ldc + j;
                switch (vecs) {
                    case 3 -> mul4x3(k, a, ai, aRow, aCol, b, bOff + j, ldb, c, ci, ldc, accumulate);
                    case 2 -> mul4x2(k, a, ai, aRow, aCol, b, bOff + j, ldb, c, ci, ldc, accumulate);
                    default -> mul4x1(k, a, ai, aRow, aCol, b, bOff + j, ldb, c, ci, ldc, accumulate);
                }
            }
            for (; i < m; i++) {
                for (int u = 0; u < vecs; u++) mul1x1(k, a, aOff + i * aRow, aCol, b, bOff + j + u * V, ldb, c, cOff + i * ldc + j + u * V, accumulate);
            }
            j += vecs * V;
        }
        for (; j < n; j++) {
            for (int i = 0; i < m; i++) {
                int ci = cOff + i * ldc + j, ai = aOff + i * aRow;
                float s = accumulate ? c[ci] : 0f;
                for (int p = 0; p < k; p++) s = Math.fma(a[ai + p * aCol], b[bOff + p * ldb + j], s);
                c[ci] = s;
            }
        }
    }

    /** The definition of {@link #mul}, for the tests. */
    static void reference(int m, int n, int k, float[] a, int aOff, int aRow, int aCol, float[] b, int bOff, int ldb,
                          float[] c, int cOff, int ldc, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = accumulate ? c[cOff + i * ldc + j] : 0f;
                for (int p = 0; p < k; p++) s = Math.fma(a[aOff + i * aRow + p * aCol], b[bOff + p * ldb + j], s);
                c[cOff + i * ldc + j] = s;
            }
        }
    }

    private static FloatVector init(boolean accumulate, float[] c, int ci) {
        return accumulate ? FloatVector.fromArray(F, c, ci) : FloatVector.zero(F);
    }

    private static void mul4x4(int k, float[] a, int ai, int aRow, int aCol, float[] b, int bi, int ldb,
                               float[] c, int ci, int ldc, boolean acc) {
        int c1 = ci + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
        FloatVector c00 = init(acc, c, ci), c01 = init(acc, c, ci + V), c02 = init(acc, c, ci + 2 * V), c03 = init(acc, c, ci + 3 * V);
        FloatVector c10 = init(acc, c, c1), c11 = init(acc, c, c1 + V), c12 = init(acc, c, c1 + 2 * V), c13 = init(acc, c, c1 + 3 * V);
        FloatVector c20 = init(acc, c, c2), c21 = init(acc, c, c2 + V), c22 = init(acc, c, c2 + 2 * V), c23 = init(acc, c, c2 + 3 * V);
        FloatVector c30 = init(acc, c, c3), c31 = init(acc, c, c3 + V), c32 = init(acc, c, c3 + 2 * V), c33 = init(acc, c, c3 + 3 * V);
        for (int p = 0; p < k; p++) {
            int bp = bi + p * ldb, ap = ai + p * aCol;
            FloatVector b0 = FloatVector.fromArray(F, b, bp), b1 = FloatVector.fromArray(F, b, bp + V);
            FloatVector b2 = FloatVector.fromArray(F, b, bp + 2 * V), b3 = FloatVector.fromArray(F, b, bp + 3 * V);
            FloatVector a0 = FloatVector.broadcast(F, a[ap]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01); c02 = a0.fma(b2, c02); c03 = a0.fma(b3, c03);
            FloatVector a1 = FloatVector.broadcast(F, a[ap + aRow]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11); c12 = a1.fma(b2, c12); c13 = a1.fma(b3, c13);
            FloatVector a2 = FloatVector.broadcast(F, a[ap + 2 * aRow]);
            c20 = a2.fma(b0, c20); c21 = a2.fma(b1, c21); c22 = a2.fma(b2, c22); c23 = a2.fma(b3, c23);
            FloatVector a3 = FloatVector.broadcast(F, a[ap + 3 * aRow]);
            c30 = a3.fma(b0, c30); c31 = a3.fma(b1, c31); c32 = a3.fma(b2, c32); c33 = a3.fma(b3, c33);
        }
        c00.intoArray(c, ci); c01.intoArray(c, ci + V); c02.intoArray(c, ci + 2 * V); c03.intoArray(c, ci + 3 * V);
        c10.intoArray(c, c1); c11.intoArray(c, c1 + V); c12.intoArray(c, c1 + 2 * V); c13.intoArray(c, c1 + 3 * V);
        c20.intoArray(c, c2); c21.intoArray(c, c2 + V); c22.intoArray(c, c2 + 2 * V); c23.intoArray(c, c2 + 3 * V);
        c30.intoArray(c, c3); c31.intoArray(c, c3 + V); c32.intoArray(c, c3 + 2 * V); c33.intoArray(c, c3 + 3 * V);
    }

    private static void mul6x4(int k, float[] a, int ai, int aRow, int aCol, float[] b, int bi, int ldb,
                               float[] c, int ci, int ldc, boolean acc) {
        int c1 = ci + ldc, c2 = c1 + ldc, c3 = c2 + ldc, c4 = c3 + ldc, c5 = c4 + ldc;
        FloatVector c00 = init(acc, c, ci), c01 = init(acc, c, ci + V), c02 = init(acc, c, ci + 2 * V), c03 = init(acc, c, ci + 3 * V);
        FloatVector c10 = init(acc, c, c1), c11 = init(acc, c, c1 + V), c12 = init(acc, c, c1 + 2 * V), c13 = init(acc, c, c1 + 3 * V);
        FloatVector c20 = init(acc, c, c2), c21 = init(acc, c, c2 + V), c22 = init(acc, c, c2 + 2 * V), c23 = init(acc, c, c2 + 3 * V);
        FloatVector c30 = init(acc, c, c3), c31 = init(acc, c, c3 + V), c32 = init(acc, c, c3 + 2 * V), c33 = init(acc, c, c3 + 3 * V);
        FloatVector c40 = init(acc, c, c4), c41 = init(acc, c, c4 + V), c42 = init(acc, c, c4 + 2 * V), c43 = init(acc, c, c4 + 3 * V);
        FloatVector c50 = init(acc, c, c5), c51 = init(acc, c, c5 + V), c52 = init(acc, c, c5 + 2 * V), c53 = init(acc, c, c5 + 3 * V);
        for (int p = 0; p < k; p++) {
            int bp = bi + p * ldb, ap = ai + p * aCol;
            FloatVector b0 = FloatVector.fromArray(F, b, bp), b1 = FloatVector.fromArray(F, b, bp + V);
            FloatVector b2 = FloatVector.fromArray(F, b, bp + 2 * V), b3 = FloatVector.fromArray(F, b, bp + 3 * V);
            FloatVector a0 = FloatVector.broadcast(F, a[ap]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01); c02 = a0.fma(b2, c02); c03 = a0.fma(b3, c03);
            FloatVector a1 = FloatVector.broadcast(F, a[ap + aRow]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11); c12 = a1.fma(b2, c12); c13 = a1.fma(b3, c13);
            FloatVector a2 = FloatVector.broadcast(F, a[ap + 2 * aRow]);
            c20 = a2.fma(b0, c20); c21 = a2.fma(b1, c21); c22 = a2.fma(b2, c22); c23 = a2.fma(b3, c23);
            FloatVector a3 = FloatVector.broadcast(F, a[ap + 3 * aRow]);
            c30 = a3.fma(b0, c30); c31 = a3.fma(b1, c31); c32 = a3.fma(b2, c32); c33 = a3.fma(b3, c33);
            FloatVector a4 = FloatVector.broadcast(F, a[ap + 4 * aRow]);
            c40 = a4.fma(b0, c40); c41 = a4.fma(b1, c41); c42 = a4.fma(b2, c42); c43 = a4.fma(b3, c43);
            FloatVector a5 = FloatVector.broadcast(F, a[ap + 5 * aRow]);
            c50 = a5.fma(b0, c50); c51 = a5.fma(b1, c51); c52 = a5.fma(b2, c52); c53 = a5.fma(b3, c53);
        }
        c00.intoArray(c, ci); c01.intoArray(c, ci + V); c02.intoArray(c, ci + 2 * V); c03.intoArray(c, ci + 3 * V);
        c10.intoArray(c, c1); c11.intoArray(c, c1 + V); c12.intoArray(c, c1 + 2 * V); c13.intoArray(c, c1 + 3 * V);
        c20.intoArray(c, c2); c21.intoArray(c, c2 + V); c22.intoArray(c, c2 + 2 * V); c23.intoArray(c, c2 + 3 * V);
        c30.intoArray(c, c3); c31.intoArray(c, c3 + V); c32.intoArray(c, c3 + 2 * V); c33.intoArray(c, c3 + 3 * V);
        c40.intoArray(c, c4); c41.intoArray(c, c4 + V); c42.intoArray(c, c4 + 2 * V); c43.intoArray(c, c4 + 3 * V);
        c50.intoArray(c, c5); c51.intoArray(c, c5 + V); c52.intoArray(c, c5 + 2 * V); c53.intoArray(c, c5 + 3 * V);
    }

    private static void mul1x4(int k, float[] a, int ai, int aCol, float[] b, int bi, int ldb,
                               float[] c, int ci, boolean acc) {
        FloatVector c0 = init(acc, c, ci), c1 = init(acc, c, ci + V), c2 = init(acc, c, ci + 2 * V), c3 = init(acc, c, ci + 3 * V);
        for (int p = 0; p < k; p++) {
            int bp = bi + p * ldb;
            FloatVector a0 = FloatVector.broadcast(F, a[ai + p * aCol]);
            c0 = a0.fma(FloatVector.fromArray(F, b, bp), c0);
            c1 = a0.fma(FloatVector.fromArray(F, b, bp + V), c1);
            c2 = a0.fma(FloatVector.fromArray(F, b, bp + 2 * V), c2);
            c3 = a0.fma(FloatVector.fromArray(F, b, bp + 3 * V), c3);
        }
        c0.intoArray(c, ci); c1.intoArray(c, ci + V); c2.intoArray(c, ci + 2 * V); c3.intoArray(c, ci + 3 * V);
    }

    private static void mul4x1(int k, float[] a, int ai, int aRow, int aCol, float[] b, int bi, int ldb,
                               float[] c, int ci, int ldc, boolean acc) {
        int c1 = ci + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
        FloatVector s0 = init(acc, c, ci), s1 = init(acc, c, c1), s2 = init(acc, c, c2), s3 = init(acc, c, c3);
        for (int p = 0; p < k; p++) {
            int ap = ai + p * aCol;
            FloatVector b0 = FloatVector.fromArray(F, b, bi + p * ldb);
            s0 = FloatVector.broadcast(F, a[ap]).fma(b0, s0);
            s1 = FloatVector.broadcast(F, a[ap + aRow]).fma(b0, s1);
            s2 = FloatVector.broadcast(F, a[ap + 2 * aRow]).fma(b0, s2);
            s3 = FloatVector.broadcast(F, a[ap + 3 * aRow]).fma(b0, s3);
        }
        s0.intoArray(c, ci); s1.intoArray(c, c1); s2.intoArray(c, c2); s3.intoArray(c, c3);
    }

    private static void mul4x3(int k, float[] a, int ai, int aRow, int aCol, float[] b, int bi, int ldb,
                               float[] c, int ci, int ldc, boolean acc) {
        int c1 = ci + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
        FloatVector c00 = init(acc, c, ci), c01 = init(acc, c, ci + V), c02 = init(acc, c, ci + 2 * V);
        FloatVector c10 = init(acc, c, c1), c11 = init(acc, c, c1 + V), c12 = init(acc, c, c1 + 2 * V);
        FloatVector c20 = init(acc, c, c2), c21 = init(acc, c, c2 + V), c22 = init(acc, c, c2 + 2 * V);
        FloatVector c30 = init(acc, c, c3), c31 = init(acc, c, c3 + V), c32 = init(acc, c, c3 + 2 * V);
        for (int p = 0; p < k; p++) {
            int bp = bi + p * ldb, ap = ai + p * aCol;
            FloatVector b0 = FloatVector.fromArray(F, b, bp), b1 = FloatVector.fromArray(F, b, bp + V), b2 = FloatVector.fromArray(F, b, bp + 2 * V);
            FloatVector a0 = FloatVector.broadcast(F, a[ap]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01); c02 = a0.fma(b2, c02);
            FloatVector a1 = FloatVector.broadcast(F, a[ap + aRow]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11); c12 = a1.fma(b2, c12);
            FloatVector a2 = FloatVector.broadcast(F, a[ap + 2 * aRow]);
            c20 = a2.fma(b0, c20); c21 = a2.fma(b1, c21); c22 = a2.fma(b2, c22);
            FloatVector a3 = FloatVector.broadcast(F, a[ap + 3 * aRow]);
            c30 = a3.fma(b0, c30); c31 = a3.fma(b1, c31); c32 = a3.fma(b2, c32);
        }
        c00.intoArray(c, ci); c01.intoArray(c, ci + V); c02.intoArray(c, ci + 2 * V);
        c10.intoArray(c, c1); c11.intoArray(c, c1 + V); c12.intoArray(c, c1 + 2 * V);
        c20.intoArray(c, c2); c21.intoArray(c, c2 + V); c22.intoArray(c, c2 + 2 * V);
        c30.intoArray(c, c3); c31.intoArray(c, c3 + V); c32.intoArray(c, c3 + 2 * V);
    }

    private static void mul4x2(int k, float[] a, int ai, int aRow, int aCol, float[] b, int bi, int ldb,
                               float[] c, int ci, int ldc, boolean acc) {
        int c1 = ci + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
        FloatVector c00 = init(acc, c, ci), c01 = init(acc, c, ci + V), c10 = init(acc, c, c1), c11 = init(acc, c, c1 + V);
        FloatVector c20 = init(acc, c, c2), c21 = init(acc, c, c2 + V), c30 = init(acc, c, c3), c31 = init(acc, c, c3 + V);
        for (int p = 0; p < k; p++) {
            int bp = bi + p * ldb, ap = ai + p * aCol;
            FloatVector b0 = FloatVector.fromArray(F, b, bp), b1 = FloatVector.fromArray(F, b, bp + V);
            FloatVector a0 = FloatVector.broadcast(F, a[ap]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(F, a[ap + aRow]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(F, a[ap + 2 * aRow]);
            c20 = a2.fma(b0, c20); c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(F, a[ap + 3 * aRow]);
            c30 = a3.fma(b0, c30); c31 = a3.fma(b1, c31);
        }
        c00.intoArray(c, ci); c01.intoArray(c, ci + V); c10.intoArray(c, c1); c11.intoArray(c, c1 + V);
        c20.intoArray(c, c2); c21.intoArray(c, c2 + V); c30.intoArray(c, c3); c31.intoArray(c, c3 + V);
    }

    private static void mul1x1(int k, float[] a, int ai, int aCol, float[] b, int bi, int ldb,
                               float[] c, int ci, boolean acc) {
        FloatVector s = init(acc, c, ci);
        for (int p = 0; p < k; p++) s = FloatVector.broadcast(F, a[ai + p * aCol]).fma(FloatVector.fromArray(F, b, bi + p * ldb), s);
        s.intoArray(c, ci);
    }
}
