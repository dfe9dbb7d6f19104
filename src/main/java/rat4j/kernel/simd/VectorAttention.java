package rat4j.kernel.simd;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import rat4j.kernel.Attention;
import rat4j.kernel.Parallel;
import rat4j.kernel.Strided;

/**
 * Flash-attention style kernels for {@link Attention} (FlashAttention-2, Dao 2023): queries and keys are visited in
 * blocks, each query row keeps a running max m and sum l of its softmax, so no T x T score matrix exists and memory
 * is O(block) per thread whatever T is. Only key blocks inside a query block's band are visited: a window of W
 * costs O(T * W * D), chunk attention O(T * T/L * D).
 *
 * <p>Both kernels are one loop nest over a {@link Band}: key index f lives at row f*step + shift and query i sees
 * key indices [lo(i), hi(i)). Causal: step 1, shift 0, [i - W, i]. Chunk: step L, shift L-1 (the chunk finals),
 * [0, i/L), plus the query's own row as one more key (the "own state" term), merged into the same online softmax.
 *
 * <p>D-length work is the Vector API's: dot products (loop bound, fma, reduce, scalar tail, as llama3.java's
 * vectorDot; four keys per pass) for scores and dP, and fused multiply-add row updates for P.V and the gradients;
 * exp is vectorised over a block's scores. Each key block's k and v rows are first copied into a contiguous
 * per-thread block (see {@link Scratch}); in the backward its dk, dv accumulate there and are added back once.
 *
 * <p>Threads. The forward splits once over (b, h, query block): every query block owns its out rows and lse
 * entries. Query blocks of one head are enumerated zigzag (0, n-1, 1, n-2, ...) so the contiguous ranges that
 * {@link Parallel#forRange} hands out carry equal work although causal blocks grow with their index. The backward
 * has a race: dq_i sums over keys, dk_j and dv_j sum over queries. It takes one of two race-free schedules:
 * <ul>
 * <li>one pass per (b, h), key-block-major: each task owns its head's dq, dk, dv columns; 5 D-length operations per
 *     (query, key) pair (two dots: s and dP; three updates: dv, dk, dq). Used when there are enough heads to keep
 *     every thread busy.
 * <li>two passes, used when B*H is small against the thread count (B=1, H=8 on 16 cores): first over (b, h, key
 *     block) for dk, dv (4 operations per pair), then over (b, h, query block) for dq, recomputing s and dP (3 more).
 *     7 instead of 5, but every thread works and no scratch of size T is needed.
 * </ul>
 * {@link #onePass} picks the schedule with the smaller expected time, ceil(BH/P)*5 against BH*7/P.
 */
public final class VectorAttention implements Attention {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Queries per block: one block's m and l live in scratch, its q, out rows stream through L1. */
    static final int QB = 64;
    /** Keys per block: the block's k and v rows, packed (2 * 64 * D floats, 64 KiB at D=128), serve a whole query block. */
    static final int KB = 64;

    /**
     * Per-thread scratch, allocated once per pool thread (and again only for a larger D): one query row's scores and
     * one query block's m, l; one key block packed contiguously. The packing matters: k and v rows sit a row stride
     * apart (3C floats when they are slices of in_proj's output, L rows apart for chunk finals), often a multiple of
     * 4 KiB, so unpacked they all fall into the same few L1/L2 sets and a 64-row block evicts itself.
     */
    private static final class Scratch {
        final float[] s = new float[KB];   // (KB) scores, then probabilities
        final float[] ds = new float[KB];  // (KB) dP, then dS (backward)
        final float[] m = new float[QB];   // (QB) running max of each query row
        final float[] l = new float[QB];   // (QB) running sum of exp(s - m)
        float[] k = new float[0], v = k;   // (KB, D) the key block's k and v rows
        float[] dk = k, dv = k;            // (KB, D) the key block's gradients, added to dk, dv when done

        Scratch fit(int D) {
            if (k.length < KB * D) {
                k = new float[KB * D];
                v = new float[KB * D];
                dk = new float[KB * D];
                dv = new float[KB * D];
            }
            return this;
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    @Override public String name() { return "java-vector(" + F.vectorBitSize() + "-bit)"; }

    /** The keys each query sees. Key index f is row f*step + shift of k and v; query i sees key indices [lo(i), hi(i)). */
    record Band(int window, int L, boolean chunk) {
        static Band causal(int window) { return new Band(window, 1, false); }
        static Band chunks(int L) { return new Band(Integer.MAX_VALUE, L, true); }

        int step() { return chunk ? L : 1; }
        int shift() { return chunk ? L - 1 : 0; }
        /** Number of key indices; for chunks, the finals of all chunks but the last (no query sees that one). T >= 1. */
        int keys(int T) { return chunk ? (T - 1) / L : T; }
        int lo(int i) { return chunk ? 0 : Math.max(0, i - window); }
        int hi(int i) { return chunk ? i / L : i + 1; }
        /** First query that sees key index f. */
        int firstQuery(int f) { return chunk ? (f + 1) * L : f; }
        /** One past the last query that sees key index f. */
        int endQuery(int f, int T) { return chunk ? T : (int) Math.min(T, (long) f + window + 1); }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // forward

    @Override
    public void causalForward(int B, int T, int H, int D, int window, float scale,
                              Strided q, Strided k, Strided v, Strided out, float[] lse) {
        Attention.checkWindow(window);
        Attention.checkForward(B, T, H, D, scale, q, k, v, out, lse);
        forward(B, T, H, D, Band.causal(window), scale, q, k, v, out, lse);
    }

    @Override
    public void chunkForward(int B, int T, int H, int D, int L, float scale,
                             Strided q, Strided k, Strided v, Strided out, float[] lse) {
        Attention.checkChunk(L);
        Attention.checkForward(B, T, H, D, scale, q, k, v, out, lse);
        forward(B, T, H, D, Band.chunks(L), scale, q, k, v, out, lse);
    }

    private static void forward(int B, int T, int H, int D, Band band, float scale,
                                Strided q, Strided k, Strided v, Strided out, float[] lse) {
        if (B == 0 || T == 0) return;
        int nqb = Math.ceilDiv(T, QB);
        Parallel.forRange(B * H * nqb, 1, (from, to) -> {
            Scratch sc = SCRATCH.get().fit(D);
            for (int p = from; p < to; p++) {
                int bh = p / nqb, i0 = zigzag(p % nqb, nqb) * QB;
                forwardBlock(T, H, D, band, scale, bh / H, bh % H, i0, Math.min(T, i0 + QB), q, k, v, out, lse, sc);
            }
        });
    }

    /** Queries [i0, i1) of head (b, h): out rows (i1 - i0, D) and lse entries, written. */
    private static void forwardBlock(int T, int H, int D, Band band, float scale, int b, int h, int i0, int i1,
                                     Strided q, Strided k, Strided v, Strided out, float[] lse, Scratch sc) {
        float[] m = sc.m, l = sc.l;
        int hd = h * D;
        for (int i = i0; i < i1; i++) {
            Arrays.fill(out.data(), out.row(b * T + i) + hd, out.row(b * T + i) + hd + D, 0f);
            m[i - i0] = Float.NEGATIVE_INFINITY;
            l[i - i0] = 0f;
        }
        // lo and hi never decrease with i, so the block's keys are [lo(i0), hi(i1 - 1))
        int fEnd = band.hi(i1 - 1);
        for (int f0 = band.lo(i0); f0 < fEnd; f0 += KB) {
            int f1 = Math.min(fEnd, f0 + KB);
            pack(k, b, T, hd, D, band, f0, f1, sc.k);
            pack(v, b, T, hd, D, band, f0, f1, sc.v);
            for (int i = i0; i < i1; i++) {
                int lo = Math.max(f0, band.lo(i)), hi = Math.min(f1, band.hi(i));
                if (lo >= hi) continue;
                rowForward(D, scale, q.data(), q.row(b * T + i) + hd, sc.k, (lo - f0) * D, D, sc.v, (lo - f0) * D, D,
                        hi - lo, out.data(), out.row(b * T + i) + hd, m, l, i - i0, sc.s);
            }
        }
        for (int i = i0; i < i1; i++) {
            int oi = out.row(b * T + i) + hd;
            if (band.chunk()) { // the own running state k[t], v[t]: one more key in the same softmax
                rowForward(D, scale, q.data(), q.row(b * T + i) + hd, k.data(), k.row(b * T + i) + hd, 0,
                        v.data(), v.row(b * T + i) + hd, 0, 1, out.data(), oi, m, l, i - i0, sc.s);
            }
            // out_i = sum_j exp(s_ij - m_i) v_j / l_i,  lse_i = m_i + log(l_i)
            scaleRow(out.data(), oi, D, 1f / l[i - i0]);
            lse[(b * H + h) * T + i] = m[i - i0] + (float) Math.log(l[i - i0]);
        }
    }

    /**
     * One query row against n keys at k[ki + a*kInc], v[vi + a*vInc]: the online-softmax update of m[r], l[r] and the
     * unnormalised output row o[oi..oi+D).
     */
    private static void rowForward(int D, float scale, float[] q, int qi, float[] k, int ki, int kInc,
                                   float[] v, int vi, int vInc, int n, float[] o, int oi,
                                   float[] m, float[] l, int r, float[] s) {
        dots(q, qi, k, ki, kInc, n, D, scale, s); // s_a = scale * q . k_a
        float max = Float.NEGATIVE_INFINITY;
        for (int a = 0; a < n; a++) max = Math.max(max, s[a]);
        float mNew = Math.max(m[r], max);
        float corr = (float) Math.exp(m[r] - mNew); // 0 on the first block, where m = -inf
        float sum = expShifted(s, n, mNew);         // s_a = exp(s_a - mNew)
        l[r] = l[r] * corr + sum;
        m[r] = mNew;
        if (corr != 1f) scaleRow(o, oi, D, corr);
        addRows(s, n, v, vi, vInc, o, oi, D); // o += sum_a p_a v_a
    }

    // ---------------------------------------------------------------------------------------------------------------
    // backward

    @Override
    public void causalBackward(int B, int T, int H, int D, int window, float scale,
                               Strided q, Strided k, Strided v, Strided out, float[] lse,
                               Strided dout, Strided dq, Strided dk, Strided dv) {
        Attention.checkWindow(window);
        Attention.checkBackward(B, T, H, D, scale, q, k, v, out, lse, dout, dq, dk, dv);
        backward(onePass(B * H), B, T, H, D, Band.causal(window), scale, q, k, v, out, lse, dout, dq, dk, dv);
    }

    @Override
    public void chunkBackward(int B, int T, int H, int D, int L, float scale,
                              Strided q, Strided k, Strided v, Strided out, float[] lse,
                              Strided dout, Strided dq, Strided dk, Strided dv) {
        Attention.checkChunk(L);
        Attention.checkBackward(B, T, H, D, scale, q, k, v, out, lse, dout, dq, dk, dv);
        backward(onePass(B * H), B, T, H, D, Band.chunks(L), scale, q, k, v, out, lse, dout, dq, dk, dv);
    }

    /** One pass per head when it finishes sooner than two passes spread evenly over all threads (see the class doc). */
    static boolean onePass(int heads) {
        long P = Parallel.threads();
        return 5L * Math.ceilDiv(heads, (int) P) * P <= 7L * heads;
    }

    /** Package-private so the tests run both schedules whatever the machine's thread count. */
    static void causalBackward(boolean onePass, int B, int T, int H, int D, int window, float scale,
                               Strided q, Strided k, Strided v, Strided out, float[] lse,
                               Strided dout, Strided dq, Strided dk, Strided dv) {
        Attention.checkWindow(window);
        Attention.checkBackward(B, T, H, D, scale, q, k, v, out, lse, dout, dq, dk, dv);
        backward(onePass, B, T, H, D, Band.causal(window), scale, q, k, v, out, lse, dout, dq, dk, dv);
    }

    static void chunkBackward(boolean onePass, int B, int T, int H, int D, int L, float scale,
                              Strided q, Strided k, Strided v, Strided out, float[] lse,
                              Strided dout, Strided dq, Strided dk, Strided dv) {
        Attention.checkChunk(L);
        Attention.checkBackward(B, T, H, D, scale, q, k, v, out, lse, dout, dq, dk, dv);
        backward(onePass, B, T, H, D, Band.chunks(L), scale, q, k, v, out, lse, dout, dq, dk, dv);
    }

    private static void backward(boolean onePass, int B, int T, int H, int D, Band band, float scale,
                                 Strided q, Strided k, Strided v, Strided out, float[] lse,
                                 Strided dout, Strided dq, Strided dk, Strided dv) {
        if (B == 0 || T == 0) return;
        int nkb = Math.ceilDiv(band.keys(T), KB);
        if (onePass) {
            Parallel.forRange(B * H, 1, (from, to) -> {
                Scratch sc = SCRATCH.get().fit(D);
                for (int bh = from; bh < to; bh++) {
                    int b = bh / H, h = bh % H;
                    for (int kb = 0; kb < nkb; kb++) {
                        keyBlockBackward(true, T, H, D, band, scale, b, h, kb, q, k, v, out, lse, dout, dq, dk, dv, sc);
                    }
                    if (band.chunk()) ownBackward(T, H, D, scale, b, h, 0, T, q, k, v, out, lse, dout, dq, dk, dv, sc);
                }
            });
            return;
        }
        // pass 1: dk, dv, split over (b, h, key block); every task owns its key rows
        Parallel.forRange(B * H * nkb, 1, (from, to) -> {
            Scratch sc = SCRATCH.get().fit(D);
            for (int p = from; p < to; p++) {
                int bh = p / nkb;
                keyBlockBackward(false, T, H, D, band, scale, bh / H, bh % H, zigzag(p % nkb, nkb),
                        q, k, v, out, lse, dout, dq, dk, dv, sc);
            }
        });
        // pass 2: dq, split over (b, h, query block), recomputing the scores; every task owns its query rows,
        // including their own-state key and value rows in chunk attention
        int nqb = Math.ceilDiv(T, QB);
        Parallel.forRange(B * H * nqb, 1, (from, to) -> {
            Scratch sc = SCRATCH.get().fit(D);
            for (int p = from; p < to; p++) {
                int bh = p / nqb, i0 = zigzag(p % nqb, nqb) * QB, i1 = Math.min(T, i0 + QB);
                int b = bh / H, h = bh % H;
                queryBlockBackward(T, H, D, band, scale, b, h, i0, i1, q, k, v, out, lse, dout, dq, sc);
                if (band.chunk()) ownBackward(T, H, D, scale, b, h, i0, i1, q, k, v, out, lse, dout, dq, dk, dv, sc);
            }
        });
    }

    /** Key block kb of head (b, h) against every query that sees it: dk, dv of the block, and dq when withDq. */
    private static void keyBlockBackward(boolean withDq, int T, int H, int D, Band band, float scale, int b, int h, int kb,
                                         Strided q, Strided k, Strided v, Strided out, float[] lse,
                                         Strided dout, Strided dq, Strided dk, Strided dv, Scratch sc) {
        int f0 = kb * KB, f1 = Math.min(band.keys(T), f0 + KB), n = (f1 - f0) * D, hd = h * D;
        pack(k, b, T, hd, D, band, f0, f1, sc.k);
        pack(v, b, T, hd, D, band, f0, f1, sc.v);
        Arrays.fill(sc.dk, 0, n, 0f);
        Arrays.fill(sc.dv, 0, n, 0f);
        int iEnd = band.endQuery(f1 - 1, T);
        for (int i = band.firstQuery(f0); i < iEnd; i++) {
            int lo = Math.max(f0, band.lo(i)), hi = Math.min(f1, band.hi(i));
            if (lo >= hi) continue;
            pairBackward(true, withDq, T, H, D, scale, b, h, i, lo - f0, hi - lo, q, out, lse, dout, dq, sc);
        }
        unpackAdd(sc.dk, dk, b, T, hd, D, band, f0, f1);
        unpackAdd(sc.dv, dv, b, T, hd, D, band, f0, f1);
    }

    /** Queries [i0, i1) of head (b, h) against every key block they see: dq only. */
    private static void queryBlockBackward(int T, int H, int D, Band band, float scale, int b, int h, int i0, int i1,
                                           Strided q, Strided k, Strided v, Strided out, float[] lse,
                                           Strided dout, Strided dq, Scratch sc) {
        int fEnd = band.hi(i1 - 1), hd = h * D;
        for (int f0 = band.lo(i0); f0 < fEnd; f0 += KB) {
            int f1 = Math.min(fEnd, f0 + KB);
            pack(k, b, T, hd, D, band, f0, f1, sc.k);
            pack(v, b, T, hd, D, band, f0, f1, sc.v);
            for (int i = i0; i < i1; i++) {
                int lo = Math.max(f0, band.lo(i)), hi = Math.min(f1, band.hi(i));
                if (lo >= hi) continue;
                pairBackward(false, true, T, H, D, scale, b, h, i, lo - f0, hi - lo, q, out, lse, dout, dq, sc);
            }
        }
    }

    /** Chunk attention's own-state term of queries [i0, i1): dq_i, dk_i, dv_i at the query's own row. */
    private static void ownBackward(int T, int H, int D, float scale, int b, int h, int i0, int i1,
                                    Strided q, Strided k, Strided v, Strided out, float[] lse,
                                    Strided dout, Strided dq, Strided dk, Strided dv, Scratch sc) {
        int hd = h * D;
        for (int i = i0; i < i1; i++) {
            int r = b * T + i;
            rowBackward(true, true, D, scale, q.data(), q.row(r) + hd, dout.data(), dout.row(r) + hd,
                    lse[(b * H + h) * T + i], dot(dout.data(), dout.row(r) + hd, out.data(), out.row(r) + hd, D),
                    k.data(), k.row(r) + hd, 0, v.data(), v.row(r) + hd, 0,
                    dk.data(), dk.row(r) + hd, 0, dv.data(), dv.row(r) + hd, 0, 1, dq.data(), dq.row(r) + hd, sc.s, sc.ds);
        }
    }

    /** Query i of head (b, h) against the n packed keys from row a0 of the scratch key block. */
    private static void pairBackward(boolean withKv, boolean withDq, int T, int H, int D, float scale,
                                     int b, int h, int i, int a0, int n,
                                     Strided q, Strided out, float[] lse, Strided dout, Strided dq, Scratch sc) {
        int hd = h * D, r = b * T + i, ki = a0 * D;
        // delta_i = dout_i . out_i = sum_j p_ij dP_ij (FlashAttention-2's D_i), recomputed per key block: D flops
        // against the block's KB * 5 * D
        float delta = dot(dout.data(), dout.row(r) + hd, out.data(), out.row(r) + hd, D);
        rowBackward(withKv, withDq, D, scale, q.data(), q.row(r) + hd, dout.data(), dout.row(r) + hd,
                lse[(b * H + h) * T + i], delta, sc.k, ki, D, sc.v, ki, D, sc.dk, ki, D, sc.dv, ki, D,
                n, dq.data(), dq.row(r) + hd, sc.s, sc.ds);
    }

    /**
     * One query row against n keys (k, v, dk, dv rows at index + a*inc): the FlashAttention-2 backward of
     * p_a = exp(scale * q . k_a - lse), out = sum_a p_a v_a.
     */
    private static void rowBackward(boolean withKv, boolean withDq, int D, float scale,
                                    float[] q, int qi, float[] dout, int doi, float lse, float delta,
                                    float[] k, int ki, int kInc, float[] v, int vi, int vInc,
                                    float[] dk, int dki, int dkInc, float[] dv, int dvi, int dvInc, int n,
                                    float[] dq, int dqi, float[] s, float[] ds) {
        // "s_a = scale * q . k_a", "p_a = exp(s_a - lse)"
        dots(q, qi, k, ki, kInc, n, D, scale, s);
        expShifted(s, n, lse);
        // "o += sum_a p_a v_a": dP_a = dout . v_a
        dots(dout, doi, v, vi, vInc, n, D, 1f, ds);
        // softmax: dS_a = p_a (dP_a - delta), times scale for "s_a = scale * q . k_a"
        for (int a = 0; a < n; a++) ds[a] = scale * s[a] * (ds[a] - delta);
        if (withKv) {
            for (int a = 0; a < n; a++) {
                axpy(s[a], dout, doi, dv, dvi + a * dvInc, D); // dv_a += p_a dout
                axpy(ds[a], q, qi, dk, dki + a * dkInc, D);    // dk_a += scale dS_a q
            }
        }
        if (withDq) addRows(ds, n, k, ki, kInc, dq, dqi, D);   // dq += sum_a scale dS_a k_a
    }

    // ---------------------------------------------------------------------------------------------------------------
    // decode

    @Override
    public void decode(int B, int H, int D, int n, int capacity, float scale, Strided q,
                       float[] kCache, float[] vCache, int cacheOff, Strided ownK, Strided ownV, Strided out) {
        Attention.checkDecode(B, H, D, n, capacity, scale, q, kCache, vCache, cacheOff, ownK, ownV, out);
        // one task per (b, h) only when a head's work (n * D * 4 flops) is worth a pool hop
        int grain = (int) Math.max(1, Math.min(Integer.MAX_VALUE, (1L << 16) / ((long) (n + 1) * D)));
        Parallel.forRange(B * H, grain, (from, to) -> {
            Scratch sc = SCRATCH.get().fit(D);
            for (int bh = from; bh < to; bh++) {
                int b = bh / H, hd = (bh % H) * D, oi = out.row(b) + hd, qi = q.row(b) + hd;
                int cache = cacheOff + bh * capacity * D;
                Arrays.fill(out.data(), oi, oi + D, 0f);
                sc.m[0] = Float.NEGATIVE_INFINITY;
                sc.l[0] = 0f;
                for (int j0 = 0; j0 < n; j0 += KB) {
                    rowForward(D, scale, q.data(), qi, kCache, cache + j0 * D, D, vCache, cache + j0 * D, D,
                            Math.min(KB, n - j0), out.data(), oi, sc.m, sc.l, 0, sc.s);
                }
                if (ownK != null) {
                    rowForward(D, scale, q.data(), qi, ownK.data(), ownK.row(b) + hd, 0, ownV.data(), ownV.row(b) + hd, 0,
                            1, out.data(), oi, sc.m, sc.l, 0, sc.s);
                }
                scaleRow(out.data(), oi, D, 1f / sc.l[0]);
            }
        });
    }

    // ---------------------------------------------------------------------------------------------------------------
    // D-length vector operations

    static float dot(float[] a, int ai, float[] b, int bi, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0, bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            acc = FloatVector.fromArray(F, a, ai + i).fma(FloatVector.fromArray(F, b, bi + i), acc);
        }
        float r = Lanes.sum(acc);
        for (; i < n; i++) r += a[ai + i] * b[bi + i];
        return r;
    }

    /** dst (f1 - f0, D) = head columns hd.. of the rows of x holding key indices [f0, f1) of batch b. */
    private static void pack(Strided x, int b, int T, int hd, int D, Band band, int f0, int f1, float[] dst) {
        for (int f = f0; f < f1; f++) {
            System.arraycopy(x.data(), x.row(b * T + f * band.step() + band.shift()) + hd, dst, (f - f0) * D, D);
        }
    }

    /** The rows of x holding key indices [f0, f1) of batch b, head columns hd.. += src (f1 - f0, D). */
    private static void unpackAdd(float[] src, Strided x, int b, int T, int hd, int D, Band band, int f0, int f1) {
        for (int f = f0; f < f1; f++) {
            axpy(1f, src, (f - f0) * D, x.data(), x.row(b * T + f * band.step() + band.shift()) + hd, D);
        }
    }

    /**
     * s[a] = scale * x . y_a for the n rows y_a = y[yi + a*yInc ..+D): four rows per pass share the loads of x and
     * run four independent fma chains, so the fma latency is hidden; the rest go one by one.
     */
    static void dots(float[] x, int xi, float[] y, int yi, int yInc, int n, int D, float scale, float[] s) {
        int a = 0, bound = F.loopBound(D);
        for (; a + 4 <= n; a += 4) {
            int y0 = yi + a * yInc, y1 = y0 + yInc, y2 = y1 + yInc, y3 = y2 + yInc;
            FloatVector acc0 = FloatVector.zero(F), acc1 = acc0, acc2 = acc0, acc3 = acc0;
            int d = 0;
            for (; d < bound; d += F.length()) {
                FloatVector xv = FloatVector.fromArray(F, x, xi + d);
                acc0 = xv.fma(FloatVector.fromArray(F, y, y0 + d), acc0);
                acc1 = xv.fma(FloatVector.fromArray(F, y, y1 + d), acc1);
                acc2 = xv.fma(FloatVector.fromArray(F, y, y2 + d), acc2);
                acc3 = xv.fma(FloatVector.fromArray(F, y, y3 + d), acc3);
            }
            float s0 = Lanes.sum(acc0), s1 = Lanes.sum(acc1);
            float s2 = Lanes.sum(acc2), s3 = Lanes.sum(acc3);
            for (; d < D; d++) {
                float xd = x[xi + d];
                s0 += xd * y[y0 + d];
                s1 += xd * y[y1 + d];
                s2 += xd * y[y2 + d];
                s3 += xd * y[y3 + d];
            }
            s[a] = scale * s0;
            s[a + 1] = scale * s1;
            s[a + 2] = scale * s2;
            s[a + 3] = scale * s3;
        }
        for (; a < n; a++) s[a] = scale * dot(x, xi, y, yi + a * yInc, D);
    }

    /** o += sum_a w[a] * y_a over the n rows y_a = y[yi + a*yInc ..+D): o is loaded and stored once per four rows. */
    static void addRows(float[] w, int n, float[] y, int yi, int yInc, float[] o, int oi, int D) {
        int a = 0, bound = F.loopBound(D);
        for (; a + 4 <= n; a += 4) {
            int y0 = yi + a * yInc, y1 = y0 + yInc, y2 = y1 + yInc, y3 = y2 + yInc;
            float w0 = w[a], w1 = w[a + 1], w2 = w[a + 2], w3 = w[a + 3];
            FloatVector v0 = FloatVector.broadcast(F, w0), v1 = FloatVector.broadcast(F, w1);
            FloatVector v2 = FloatVector.broadcast(F, w2), v3 = FloatVector.broadcast(F, w3);
            int d = 0;
            for (; d < bound; d += F.length()) {
                FloatVector acc = FloatVector.fromArray(F, o, oi + d);
                acc = FloatVector.fromArray(F, y, y0 + d).fma(v0, acc);
                acc = FloatVector.fromArray(F, y, y1 + d).fma(v1, acc);
                acc = FloatVector.fromArray(F, y, y2 + d).fma(v2, acc);
                acc = FloatVector.fromArray(F, y, y3 + d).fma(v3, acc);
                acc.intoArray(o, oi + d);
            }
            for (; d < D; d++) o[oi + d] += w0 * y[y0 + d] + w1 * y[y1 + d] + w2 * y[y2 + d] + w3 * y[y3 + d];
        }
        for (; a < n; a++) axpy(w[a], y, yi + a * yInc, o, oi, D);
    }

    /** y += alpha * x over n elements. */
    static void axpy(float alpha, float[] x, int xi, float[] y, int yi, int n) {
        FloatVector va = FloatVector.broadcast(F, alpha);
        int i = 0, bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            FloatVector.fromArray(F, x, xi + i).fma(va, FloatVector.fromArray(F, y, yi + i)).intoArray(y, yi + i);
        }
        for (; i < n; i++) y[yi + i] += alpha * x[xi + i];
    }

    static void scaleRow(float[] y, int yi, int n, float c) {
        int i = 0, bound = F.loopBound(n);
        for (; i < bound; i += F.length()) FloatVector.fromArray(F, y, yi + i).mul(c).intoArray(y, yi + i);
        for (; i < n; i++) y[yi + i] *= c;
    }

    /** s[a] = exp(s[a] - shift) for a < n; returns their sum. */
    static float expShifted(float[] s, int n, float shift) {
        FloatVector sum = FloatVector.zero(F);
        int a = 0, bound = F.loopBound(n);
        for (; a < bound; a += F.length()) {
            FloatVector e = Lanes.exp(FloatVector.fromArray(F, s, a).sub(shift));
            e.intoArray(s, a);
            sum = sum.add(e);
        }
        float r = Lanes.sum(sum);
        for (; a < n; a++) r += s[a] = Lanes.exp(s[a] - shift);
        return r;
    }

    /** Block index of the r-th of n blocks in the order 0, n-1, 1, n-2, ...: consecutive pairs carry equal causal work. */
    static int zigzag(int r, int n) {
        return (r & 1) == 0 ? r >> 1 : n - 1 - (r >> 1);
    }
}
