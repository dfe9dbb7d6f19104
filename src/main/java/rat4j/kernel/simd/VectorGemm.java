package rat4j.kernel.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import rat4j.kernel.Gemm;
import rat4j.kernel.GemmArgs;
import rat4j.kernel.Parallel;

/**
 * sgemm in pure Java on the Vector API, organised as in BLIS (Van Zee and van de Geijn, "BLIS: A Framework for
 * Rapidly Instantiating BLAS Functionality", 2015): C is computed in (MR, NR) tiles held in registers while a
 * (kc, NR) micro-panel of B stays in L1, an (mc, kc) block of A in L2 and a (kc, nc) block of B in L3. Packing copies
 * op(A) and op(B) into those panels, so the transposes and strides are handled there and the micro-kernel only ever
 * reads contiguous memory.
 *
 * <p>Threads split C by rows (or by column panels when it has too few rows), so no two write the same element; the
 * packed B block is shared and packed by all threads together. Products under parallelMinFlops run on the calling
 * thread only.
 */
public final class VectorGemm implements Gemm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Rows of a register tile: 12 broadcasts of A per step of k. */
    public static final int MR = 12;
    /** Columns of a register tile: two vectors of B, so 24 accumulators + 2 of B + 1 of A fit 32 registers. */
    public static final int NR = 2 * L;

    public static final int DEFAULT_MC = 192, DEFAULT_KC = 384, DEFAULT_NC = 4096;
    /**
     * Below this many flops (2mnk) a product runs on the calling thread. Measured on the 2-core EPYC: 192^3 takes 85 us
     * on one thread and 97 us on two (waking a parked pool worker costs tens of microseconds), 256^3 (34 MFLOP) is
     * even, 384^3 is 1.2x faster on two.
     */
    public static final long DEFAULT_PARALLEL_MIN_FLOPS = 32L << 20;

    private static final long PARALLEL_PACK_MIN = 128 * 1024;
    /**
     * Products with at most this many rows skip packing (see skinny). Measured at n=3072, k=1024: m=8 takes 0.7 ms
     * unpacked and 1.0-1.5 ms packed; m=12 is faster packed (0.7-1.0 ms against 1.2-2.1).
     */
    public static final int SKINNY_M = 8;

    private final int mc, kc, nc;
    private final long parallelMinFlops;
    /** Packed A block of the thread running a part of the product, (mc/MR, kc, MR). */
    private final ThreadLocal<float[]> packedA = ThreadLocal.withInitial(() -> new float[0]);
    /** Register tile of that thread on its way to C, (MR, NR). */
    private final ThreadLocal<float[]> tiles = ThreadLocal.withInitial(() -> new float[MR * NR]);
    /** Packed B block of the thread that called sgemm, (nc/NR, kc, NR); read by all threads of that call. */
    private final ThreadLocal<float[]> packedB = ThreadLocal.withInitial(() -> new float[0]);

    public VectorGemm() {
        this(DEFAULT_MC, DEFAULT_KC, DEFAULT_NC, DEFAULT_PARALLEL_MIN_FLOPS);
    }

    /** Explicit cache blocks (mc a multiple of MR, nc of NR), for tuning and for tests that cross block edges cheaply. */
    public VectorGemm(int mc, int kc, int nc, long parallelMinFlops) {
        if (mc <= 0 || mc % MR != 0) throw new IllegalArgumentException("mc=" + mc + " must be a positive multiple of MR=" + MR);
        if (nc <= 0 || nc % NR != 0) throw new IllegalArgumentException("nc=" + nc + " must be a positive multiple of NR=" + NR);
        if (kc <= 0) throw new IllegalArgumentException("kc=" + kc + " must be positive");
        if (parallelMinFlops < 0) throw new IllegalArgumentException("parallelMinFlops=" + parallelMinFlops + " < 0");
        this.mc = mc;
        this.kc = kc;
        this.nc = nc;
        this.parallelMinFlops = parallelMinFlops;
    }

    @Override public String name() {
        return "java-vector(" + S.vectorBitSize() + "-bit, " + Parallel.threads() + " threads)";
    }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k,
                      float alpha, float[] a, int aOff, int lda,
                      float[] b, int bOff, int ldb,
                      float beta, float[] c, int cOff, int ldc) {
        if (GemmArgs.checkAndFinishTrivial(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc)) return;
        boolean parallel = Parallel.threads() > 1 && 2L * m * n * k >= parallelMinFlops;
        if (m <= SKINNY_M) {
            skinny(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, parallel);
            return;
        }
        int mPanels = Math.ceilDiv(m, MR);
        float[] bp = buffer(packedB, Math.multiplyExact(Math.min(kc, k), Math.ceilDiv(Math.min(nc, n), NR) * NR));

        for (int jc = 0; jc < n; jc += nc) {
            int ncur = Math.min(nc, n - jc), nPanels = Math.ceilDiv(ncur, NR);
            // Rows give every thread whole B panels and pack A once; columns only when C is too short to share.
            boolean byRows = mPanels >= 4 * Parallel.threads() || mPanels >= nPanels;
            for (int pc = 0; pc < k; pc += kc) {
                int kcur = Math.min(kc, k - pc);
                float betaNow = pc == 0 ? beta : 1f;
                int j0 = jc, p0 = pc;
                Parallel.RangeBody pack = (t0, t1) -> packB(transB, b, bOff, ldb, p0, kcur, j0, ncur, bp, t0, t1);
                // A fork costs about as much as packing 100K floats, so small blocks are packed by the caller.
                if (parallel && (long) kcur * ncur >= PARALLEL_PACK_MIN) Parallel.forRange(nPanels, 4, pack);
                else pack.run(0, nPanels);

                Parallel.RangeBody compute = byRows
                        ? (r0, r1) -> block(transA, a, aOff, lda, r0 * MR, Math.min(m, r1 * MR), p0, kcur,
                                bp, j0, ncur, 0, nPanels, alpha, betaNow, c, cOff, ldc)
                        : (t0, t1) -> block(transA, a, aOff, lda, 0, m, p0, kcur,
                                bp, j0, ncur, t0, t1, alpha, betaNow, c, cOff, ldc);
                int units = byRows ? mPanels : nPanels;
                if (parallel) Parallel.forRange(units, 1, compute);
                else compute.run(0, units);
            }
        }
    }

    /**
     * C with at most SKINNY_M rows (a decode step, a GEMV): op(A)'s rows are copied out, B is read in place, once,
     * since packing B would cost more than the product. Threads split the columns.
     */
    private void skinny(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                        float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc, boolean parallel) {
        float[] ar = buffer(packedB, m * k); // op(A) (m, k)
        for (int i = 0; i < m; i++) {
            for (int p = 0; p < k; p++) ar[i * k + p] = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
        }
        Parallel.RangeBody body = transB
                ? (j0, j1) -> skinnyNT(m, k, alpha, ar, b, bOff, ldb, beta, c, cOff, ldc, j0, j1)
                : (q0, q1) -> skinnyNN(m, n, k, alpha, ar, b, bOff, ldb, beta, c, cOff, ldc, q0 * 4 * L, Math.min(n, q1 * 4 * L));
        int units = transB ? n : Math.ceilDiv(n, 4 * L);
        if (parallel) Parallel.forRange(units, 1, body);
        else body.run(0, units);
    }

    /** C[0:m, j0:j1] = alpha * ar (m, k) * B (k, n) + beta * C, two rows by four vectors of columns at a time. */
    private static void skinnyNN(int m, int n, int k, float alpha, float[] ar, float[] b, int bOff, int ldb,
                                 float beta, float[] c, int cOff, int ldc, int j0, int j1) {
        for (int j = j0; j < j1; j += 4 * L) {
            // Rows inside the column block, so its (k, 4L) strip of B is read from memory once and then from cache.
            for (int i = 0; i < m; i += 2) {
                if (j + 4 * L > j1) {
                    columnTail(i, Math.min(m, i + 2), k, alpha, ar, b, bOff, ldb, beta, c, cOff, ldc, j, j1);
                    continue;
                }
                // A lone last row repeats row i (i2 == i) and is not stored twice.
                int i2 = Math.min(i + 1, m - 1);
                FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0, t0 = s0, t1 = s0, t2 = s0, t3 = s0;
                for (int p = 0; p < k; p++) {
                    int bi = bOff + p * ldb + j;
                    FloatVector b0 = FloatVector.fromArray(S, b, bi), b1 = FloatVector.fromArray(S, b, bi + L);
                    FloatVector b2 = FloatVector.fromArray(S, b, bi + 2 * L), b3 = FloatVector.fromArray(S, b, bi + 3 * L);
                    FloatVector av = FloatVector.broadcast(S, ar[i * k + p]);
                    s0 = b0.fma(av, s0); s1 = b1.fma(av, s1); s2 = b2.fma(av, s2); s3 = b3.fma(av, s3);
                    av = FloatVector.broadcast(S, ar[i2 * k + p]);
                    t0 = b0.fma(av, t0); t1 = b1.fma(av, t1); t2 = b2.fma(av, t2); t3 = b3.fma(av, t3);
                }
                int ci = cOff + i * ldc + j;
                store(c, ci, alpha, beta, s0);
                store(c, ci + L, alpha, beta, s1);
                store(c, ci + 2 * L, alpha, beta, s2);
                store(c, ci + 3 * L, alpha, beta, s3);
                if (i2 != i) {
                    ci = cOff + i2 * ldc + j;
                    store(c, ci, alpha, beta, t0);
                    store(c, ci + L, alpha, beta, t1);
                    store(c, ci + 2 * L, alpha, beta, t2);
                    store(c, ci + 3 * L, alpha, beta, t3);
                }
            }
        }
    }

    /** C[i0:i1, j:j1] of skinnyNN for the last, narrower than four vectors, block of columns, one masked vector at a time. */
    private static void columnTail(int i0, int i1, int k, float alpha, float[] ar, float[] b, int bOff, int ldb,
                                   float beta, float[] c, int cOff, int ldc, int j, int j1) {
        for (int i = i0; i < i1; i++) {
            for (int jj = j; jj < j1; jj += L) {
                VectorMask<Float> mask = S.indexInRange(jj, j1);
                FloatVector acc = FloatVector.zero(S);
                for (int p = 0; p < k; p++) {
                    acc = FloatVector.fromArray(S, b, bOff + p * ldb + jj, mask)
                            .fma(FloatVector.broadcast(S, ar[i * k + p]), acc);
                }
                FloatVector r = acc.mul(alpha);
                int ci = cOff + i * ldc + jj;
                if (beta != 0f) r = FloatVector.fromArray(S, c, ci, mask).fma(FloatVector.broadcast(S, beta), r);
                r.intoArray(c, ci, mask);
            }
        }
    }

    private static void store(float[] c, int ci, float alpha, float beta, FloatVector v) {
        FloatVector r = v.mul(alpha);
        if (beta != 0f) r = FloatVector.fromArray(S, c, ci).fma(FloatVector.broadcast(S, beta), r);
        r.intoArray(c, ci);
    }

    /** C[0:m, j0:j1] = alpha * ar (m, k) * B^T + beta * C with B stored (n, k): dot products of contiguous rows. */
    private static void skinnyNT(int m, int k, float alpha, float[] ar, float[] b, int bOff, int ldb,
                                 float beta, float[] c, int cOff, int ldc, int j0, int j1) {
        int bound = S.loopBound(k);
        for (int j = j0; j < j1; j++) {
            int bj = bOff + j * ldb;
            for (int i = 0; i < m; i++) {
                FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
                int p = 0, ai = i * k;
                for (; p + 4 * L <= bound; p += 4 * L) {
                    s0 = FloatVector.fromArray(S, ar, ai + p).fma(FloatVector.fromArray(S, b, bj + p), s0);
                    s1 = FloatVector.fromArray(S, ar, ai + p + L).fma(FloatVector.fromArray(S, b, bj + p + L), s1);
                    s2 = FloatVector.fromArray(S, ar, ai + p + 2 * L).fma(FloatVector.fromArray(S, b, bj + p + 2 * L), s2);
                    s3 = FloatVector.fromArray(S, ar, ai + p + 3 * L).fma(FloatVector.fromArray(S, b, bj + p + 3 * L), s3);
                }
                for (; p < bound; p += L) {
                    s0 = FloatVector.fromArray(S, ar, ai + p).fma(FloatVector.fromArray(S, b, bj + p), s0);
                }
                float dot = Lanes.sum(s0.add(s1).add(s2.add(s3)));
                for (; p < k; p++) dot += ar[ai + p] * b[bj + p];
                int ci = cOff + i * ldc + j;
                c[ci] = beta == 0f ? alpha * dot : alpha * dot + beta * c[ci];
            }
        }
    }

    /**
     * C[i0:i1, jc + t0*NR : jc + t1*NR] (clipped to ncur) = alpha * op(A)[i0:i1, p0:p0+kcur] * Bpacked + beta * C,
     * one mc block of A packed at a time.
     */
    private void block(boolean transA, float[] a, int aOff, int lda, int i0, int i1, int p0, int kcur,
                       float[] bp, int jc, int ncur, int t0, int t1, float alpha, float beta,
                       float[] c, int cOff, int ldc) {
        float[] ap = buffer(packedA, mc * kcur), tile = tiles.get();
        for (int ic = i0; ic < i1; ic += mc) {
            int mcur = Math.min(mc, i1 - ic);
            packA(transA, a, aOff, lda, ic, mcur, p0, kcur, ap);
            for (int t = t0; t < t1; t++) {
                int nr = Math.min(NR, ncur - t * NR);
                int cCol = cOff + jc + t * NR;
                for (int ir = 0; ir < mcur; ir += MR) {
                    kernel(kcur, ap, ir * kcur, bp, t * kcur * NR, tile);
                    update(tile, c, cCol + (ic + ir) * ldc, ldc, Math.min(MR, mcur - ir), nr, alpha, beta);
                }
            }
        }
    }

    /** ap (mcur/MR panels, kcur, MR) = op(A)[i0:i0+mcur, p0:p0+kcur], rows past mcur zero. */
    static void packA(boolean transA, float[] a, int aOff, int lda, int i0, int mcur, int p0, int kcur, float[] ap) {
        for (int ir = 0; ir < mcur; ir += MR) {
            int rows = Math.min(MR, mcur - ir), base = ir * kcur;
            if (!transA) {
                for (int r = 0; r < rows; r++) {
                    int src = aOff + (i0 + ir + r) * lda + p0;
                    for (int p = 0; p < kcur; p++) ap[base + p * MR + r] = a[src + p];
                }
            } else {
                for (int p = 0; p < kcur; p++) {
                    int src = aOff + (p0 + p) * lda + i0 + ir;
                    for (int r = 0; r < rows; r++) ap[base + p * MR + r] = a[src + r];
                }
            }
            if (rows < MR) {
                for (int p = 0; p < kcur; p++) {
                    for (int r = rows; r < MR; r++) ap[base + p * MR + r] = 0f;
                }
            }
        }
    }

    /** Panels [t0, t1) of bp (ncur/NR panels, kcur, NR) = op(B)[p0:p0+kcur, j0:j0+ncur], columns past ncur zero. */
    static void packB(boolean transB, float[] b, int bOff, int ldb, int p0, int kcur, int j0, int ncur,
                      float[] bp, int t0, int t1) {
        for (int t = t0; t < t1; t++) {
            int cols = Math.min(NR, ncur - t * NR), base = t * kcur * NR;
            if (!transB) {
                for (int p = 0; p < kcur; p++) {
                    System.arraycopy(b, bOff + (p0 + p) * ldb + j0 + t * NR, bp, base + p * NR, cols);
                }
            } else {
                for (int j = 0; j < cols; j++) {
                    int src = bOff + (j0 + t * NR + j) * ldb + p0;
                    for (int p = 0; p < kcur; p++) bp[base + p * NR + j] = b[src + p];
                }
            }
            if (cols < NR) {
                for (int p = 0; p < kcur; p++) {
                    for (int j = cols; j < NR; j++) bp[base + p * NR + j] = 0f;
                }
            }
        }
    }

    /** The micro-kernel: tile (MR, NR) = Apanel * Bpanel, with ap (kc, MR) from ai and bp (kc, NR) from bi. */
    static void kernel(int kc, float[] ap, int ai, float[] bp, int bi, float[] tile) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
        FloatVector c40 = z, c41 = z, c50 = z, c51 = z, c60 = z, c61 = z, c70 = z, c71 = z;
        FloatVector c80 = z, c81 = z, c90 = z, c91 = z, ca0 = z, ca1 = z, cb0 = z, cb1 = z;
        for (int p = 0; p < kc; p++) {
            int pa = ai + p * MR, pb = bi + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, bp, pb);
            FloatVector b1 = FloatVector.fromArray(S, bp, pb + L);
            FloatVector av = FloatVector.broadcast(S, ap[pa]);
            c00 = av.fma(b0, c00); c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(S, ap[pa + 1]);
            c10 = av.fma(b0, c10); c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(S, ap[pa + 2]);
            c20 = av.fma(b0, c20); c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(S, ap[pa + 3]);
            c30 = av.fma(b0, c30); c31 = av.fma(b1, c31);
            av = FloatVector.broadcast(S, ap[pa + 4]);
            c40 = av.fma(b0, c40); c41 = av.fma(b1, c41);
            av = FloatVector.broadcast(S, ap[pa + 5]);
            c50 = av.fma(b0, c50); c51 = av.fma(b1, c51);
            av = FloatVector.broadcast(S, ap[pa + 6]);
            c60 = av.fma(b0, c60); c61 = av.fma(b1, c61);
            av = FloatVector.broadcast(S, ap[pa + 7]);
            c70 = av.fma(b0, c70); c71 = av.fma(b1, c71);
            av = FloatVector.broadcast(S, ap[pa + 8]);
            c80 = av.fma(b0, c80); c81 = av.fma(b1, c81);
            av = FloatVector.broadcast(S, ap[pa + 9]);
            c90 = av.fma(b0, c90); c91 = av.fma(b1, c91);
            av = FloatVector.broadcast(S, ap[pa + 10]);
            ca0 = av.fma(b0, ca0); ca1 = av.fma(b1, ca1);
            av = FloatVector.broadcast(S, ap[pa + 11]);
            cb0 = av.fma(b0, cb0); cb1 = av.fma(b1, cb1);
        }
        // Through a tile rather than straight into C: stores in helper methods taking the 24 vectors are not inlined
        // into a method this large (C2's node-count cut-off), and every accumulator would then be boxed.
        c00.intoArray(tile, 0); c01.intoArray(tile, L);
        c10.intoArray(tile, NR); c11.intoArray(tile, NR + L);
        c20.intoArray(tile, 2 * NR); c21.intoArray(tile, 2 * NR + L);
        c30.intoArray(tile, 3 * NR); c31.intoArray(tile, 3 * NR + L);
        c40.intoArray(tile, 4 * NR); c41.intoArray(tile, 4 * NR + L);
        c50.intoArray(tile, 5 * NR); c51.intoArray(tile, 5 * NR + L);
        c60.intoArray(tile, 6 * NR); c61.intoArray(tile, 6 * NR + L);
        c70.intoArray(tile, 7 * NR); c71.intoArray(tile, 7 * NR + L);
        c80.intoArray(tile, 8 * NR); c81.intoArray(tile, 8 * NR + L);
        c90.intoArray(tile, 9 * NR); c91.intoArray(tile, 9 * NR + L);
        ca0.intoArray(tile, 10 * NR); ca1.intoArray(tile, 10 * NR + L);
        cb0.intoArray(tile, 11 * NR); cb1.intoArray(tile, 11 * NR + L);
    }

    /** c[ci + r*ldc + j] = alpha * tile[r][j] + beta * c[...] for r < mr, j < nr; beta == 0 never reads c (may be NaN). */
    static void update(float[] tile, float[] c, int ci, int ldc, int mr, int nr, float alpha, float beta) {
        FloatVector va = FloatVector.broadcast(S, alpha), vb = FloatVector.broadcast(S, beta);
        for (int r = 0; r < mr; r++) {
            int row = ci + r * ldc;
            for (int j = 0; j < nr; j += L) {
                FloatVector v = FloatVector.fromArray(S, tile, r * NR + j).mul(va);
                if (j + L <= nr) {
                    if (beta != 0f) v = FloatVector.fromArray(S, c, row + j).fma(vb, v);
                    v.intoArray(c, row + j);
                } else {
                    VectorMask<Float> mask = S.indexInRange(j, nr);
                    if (beta != 0f) v = FloatVector.fromArray(S, c, row + j, mask).fma(vb, v);
                    v.intoArray(c, row + j, mask);
                }
            }
        }
    }

    private static float[] buffer(ThreadLocal<float[]> local, int size) {
        float[] buf = local.get();
        if (buf.length < size) {
            buf = new float[size];
            local.set(buf);
        }
        return buf;
    }
}
