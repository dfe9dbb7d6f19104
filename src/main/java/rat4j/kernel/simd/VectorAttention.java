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
 * <p>The kernels are loop nests over a {@link Band}: key index f lives at row f*step + shift and query i sees key
 * indices [lo(i), hi(i)). Causal: step 1, shift 0, [i - W, i]. Chunk: step L, shift L-1 (the chunk finals),
 * [0, i/L), plus the query's own row as one more key (the "own state" term), merged into the same online softmax.
 *
 * <p>A (query block, key block) pair is a handful of small matrix products, each register-blocked like a GEMM
 * micro-kernel ({@link Tiles}: 4 rows x 4 vectors of the result in registers), so the D-length work runs at close
 * to GEMM speed instead of one dot product (and one lane reduction) per (query, key) pair:
 * <ul>
 * <li>forward (causal, window and chunk attention alike), vectors along the QB queries of a block: S^T = K Q^T
 *     with Q^T packed once per query block, so the online softmax runs down the KB rows of S^T with element-wise
 *     max, exp and sum (no lane reductions); then O += P V with P^T read by broadcasts, vectors along D. A head's
 *     keys (k and v rows; for chunk attention its chunk finals) are packed once per head, not once per (query
 *     block, key block) pair: at T = 16K the per-pair packing was 36% of the causal forward (JFR), its rows a page
 *     apart and read again by every query block. Chunk attention's own running state then joins each row's softmax
 *     as one more key ({@link #finishChunk}). (A variant with vectors along the keys, S = Q K^T over up to 256 chunk
 *     finals with a row-wise softmax, ran no faster: AttentionBench.chunkForward at D = 64, T = 4K and 16K.)
 * <li>backward, vectors along the KB keys of a block: S = Q K^T and dP = dO V^T with K^T, V^T packed once per key
 *     block and the q and dout rows once per head; P = exp(S - lse) and dS = P (dP - delta) element-wise; dV += P^T
 *     dO, dK += dS^T Q, dQ += dS K.
 * </ul>
 * Every element of every product is one fma chain in a fixed order (see {@link Tiles}), and exp is {@link Lanes#exp},
 * so results do not depend on threads, tiling edges or the JIT.
 *
 * <p>Threads. The forward splits once over (b, h, query block): every query block owns its out rows and lse
 * entries. Query blocks of one head are enumerated zigzag (0, n-1, 1, n-2, ...) so the contiguous ranges that
 * {@link Parallel#forRange} hands out carry equal work although causal blocks grow with their index. A range holds
 * whole heads but at its two ends, so both forwards pack a head's keys (chunk finals) when its range reaches the
 * head: about B*H + P packs in all, whatever the split. The backward
 * has a race: dq_i sums over keys, dk_j and dv_j sum over queries. It takes one of two race-free schedules:
 * <ul>
 * <li>one pass per (b, h), key-block-major: each task owns its head's dq, dk, dv columns; 5 products per
 *     (query block, key block) pair (S, dP, dV, dK, dQ). Used when there are enough heads to keep every thread busy.
 * <li>two passes, used when B*H is small against the thread count (B=1, H=8 on 16 cores): first over (b, h, key
 *     block) for dk, dv (4 products per pair), then over (b, h, query block) for dq, recomputing S and dP (3 more).
 *     7 instead of 5, but every thread works.
 * </ul>
 * Before its pairs, each query's delta_i = dout_i . out_i is computed once (not once per pair) together with chunk
 * attention's own-state term, which touches only the query's own rows: in the one-pass schedule just before the
 * query block's first pair (its rows are read then anyway), in the two-pass schedule in a pass of its own. Both add
 * the own-state gradients before the key blocks'.
 * Both visit the same (query block, key block) pairs on the same grid ({@link #meets}) with the same arithmetic,
 * and add into dq in ascending key-block order, so they give bit-identical gradients. {@link #onePass} picks the
 * schedule with the smaller expected time, ceil(BH/P)*5 against BH*7/P.
 */
public final class VectorAttention implements Attention {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Queries per block: Q^T (D, QB) and O (QB, D) of one block stay in L2 while its keys stream past. */
    static final int QB = 64;
    /** Keys per block: K, K^T, V^T of one block (3 * 64 * D floats, 96 KiB at D=128) serve every query block. */
    static final int KB = 64;
    /** QB and KB rounded up to whole vectors: the widths of the score tiles, whose vectors run along them. */
    private static final int QBP = Math.ceilDiv(QB, F.length()) * F.length(), KBP = Math.ceilDiv(KB, F.length()) * F.length();

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

    /**
     * Per-thread tiles of one (query block, key block) pair, allocated once per pool thread (again only for a larger
     * D). Packing matters beyond layout: k and v rows sit a row stride apart (3C floats when they are slices of
     * in_proj's output, L rows apart for chunk finals), often a multiple of 4 KiB, so read in place a 64-row block
     * would fall into a few L1/L2 sets and evict itself.
     */
    private static final class Tile {
        final float[] s = new float[Math.max(KB * QBP, QB * KBP)]; // forward S^T, P^T (KB, QBP); backward S, P (QB, KBP)
        final float[] ds = new float[QB * KBP];                     // backward: dP, then dS (QB, KBP)
        final float[] m = new float[QBP], l = new float[QBP];      // (QBP) running max and sum of each query
        final float[] corr = new float[QBP];                       // (QBP) exp(m_old - m_new) of the last key block
        float[] qt = new float[0], o = qt;                         // forward: Q^T (D, QBP), zero past the block; O (QB, D)
        float[] k = qt;                                            // backward: the key block's k rows (KB, D)
        float[] headK = qt, headV = qt;                            // forward: one head's k and v rows (keys, D)
        float[] headQ = qt, headDo = qt;                           // backward: one head's q and dout rows (T, D)
        float[] kt = qt, vt = qt;                                  // backward: K^T, V^T (D, KBP), zero past the block
        float[] dk = qt, dv = qt;                                  // backward: the key block's gradients (KB, D)
        final float[] own = new float[QBP];                        // chunk forward: own-state scores, then weights
        boolean[] met = new boolean[0];                            // one-pass backward: query blocks of the head met so far

        Tile fit(int D, int T) {
            if (met.length < Math.ceilDiv(T, QB)) met = new boolean[Math.ceilDiv(T, QB)];
            return fit(D);
        }

        Tile fit(int D) {
            if (k.length < KB * D) {
                qt = new float[D * QBP];
                o = new float[QB * D];
                k = new float[KB * D];
                kt = new float[D * KBP];
                vt = new float[D * KBP];
                dk = new float[KB * D];
                dv = new float[KB * D];
            }
            return this;
        }

        /** Room for the q and dout rows of one head. */
        Tile fitQueries(int D, int T) {
            int size = Math.multiplyExact(D, T);
            if (headQ.length < size) {
                headQ = new float[size];
                headDo = new float[size];
            }
            return this;
        }

        /** Room for the k and v rows of one head's keys. */
        Tile fitHead(int D, int keys) {
            int size = Math.multiplyExact(D, keys);
            if (headV.length < size) {
                headK = new float[size];
                headV = new float[size];
            }
            return this;
        }
    }

    private static final ThreadLocal<Tile> TILE = ThreadLocal.withInitial(Tile::new);

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

    /**
     * Whether some query of [i0, i1) sees some key of [f0, f1). lo and hi never decrease with i and consecutive
     * queries' ranges touch, so the block's keys are exactly [lo(i0), hi(i1 - 1)).
     */
    static boolean meets(Band band, int i0, int i1, int f0, int f1) {
        return band.lo(i0) < f1 && f0 < band.hi(i1 - 1);
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

    /**
     * The own running state k[t], v[t] of each query row joins its softmax as one more key, then the rows are
     * normalised: out_i = (o_i corr + p v_i) / l_i, lse_i = m_i + log(l_i), from the block's O, m, l and own-state
     * scores in w. A method of its own, over C2's FreqInlineSize, for the reason given at softmaxColumns: its vector
     * exps inlined into forwardBlock could push that compilation past C2's node budget.
     */
    private static void finishChunk(int T, int H, int D, int b, int h, int i0, int nq, Strided v, Strided out, float[] lse, Tile w) {
        float[] o = w.o, m = w.m, l = w.l, own = w.own;
        int hd = h * D;
        // the scalars of all rows first, then the rows: the v and out rows, a row stride apart, then stream in
        // together instead of one per pass of the scalar work. The scalars a vector of rows at a time (Lanes.exp gives
        // the bits of its scalar twin; the lanes past nq, up to QBP, are computed and unused):
        // m_new = max(m, s_own), corr = exp(m - m_new), p = exp(s_own - m_new), l_new = l corr + p
        float[] a = w.corr, c = own, va = v.data(), od = out.data();
        FloatVector one = FloatVector.broadcast(F, 1f);
        for (int r = 0; r < nq; r += F.length()) {
            FloatVector mOld = FloatVector.fromArray(F, m, r), sOwn = FloatVector.fromArray(F, own, r), mNew = mOld.max(sOwn);
            FloatVector corr = Lanes.exp(mOld.sub(mNew)), p = Lanes.exp(sOwn.sub(mNew));
            FloatVector lNew = FloatVector.fromArray(F, l, r).mul(corr).add(p), inv = one.div(lNew);
            mNew.intoArray(m, r);
            lNew.intoArray(l, r);
            corr.mul(inv).intoArray(a, r);
            p.mul(inv).intoArray(c, r);
        }
        for (int r = 0; r < nq; r++) lse[(b * H + h) * T + i0 + r] = m[r] + (float) Math.log(l[r]); // lse_i = m_i + log(l_i)
        for (int r = 0; r < nq; r++) {
            int row = b * T + i0 + r, vi = v.row(row) + hd, oi = out.row(row) + hd, d = 0;
            FloatVector ar = FloatVector.broadcast(F, a[r]), cr = FloatVector.broadcast(F, c[r]);
            for (int bound = F.loopBound(D); d < bound; d += F.length()) {
                FloatVector.fromArray(F, va, vi + d).fma(cr, FloatVector.fromArray(F, o, r * D + d).mul(ar)).intoArray(od, oi + d);
            }
            for (; d < D; d++) od[oi + d] = Math.fma(va[vi + d], c[r], o[r * D + d] * a[r]);
        }
    }

    private static void forward(int B, int T, int H, int D, Band band, float scale,
                                Strided q, Strided k, Strided v, Strided out, float[] lse) {
        if (B == 0 || T == 0) return;
        int nqb = Math.ceilDiv(T, QB), keys = band.keys(T);
        Parallel.forRange(B * H * nqb, 1, (from, to) -> {
            Tile w = TILE.get().fit(D).fitHead(D, keys);
            int packed = -1; // the head (b * H + h) whose k and v rows w holds
            for (int p = from; p < to; p++) {
                int bh = p / nqb, i0 = zigzag(p % nqb, nqb) * QB;
                if (bh != packed) {
                    pack(k, bh / H, T, (bh % H) * D, D, band, 0, keys, w.headK);
                    pack(v, bh / H, T, (bh % H) * D, D, band, 0, keys, w.headV);
                    packed = bh;
                }
                forwardBlock(T, H, D, band, scale, bh / H, bh % H, i0, Math.min(T, i0 + QB), q, k, v, out, lse, w);
            }
        });
    }

    /** Queries [i0, i1) of head (b, h), whose k and v rows w holds: out rows (i1 - i0, D) and lse entries, written. */
    private static void forwardBlock(int T, int H, int D, Band band, float scale, int b, int h, int i0, int i1,
                                     Strided q, Strided k, Strided v, Strided out, float[] lse, Tile w) {
        int nq = i1 - i0, hd = h * D;
        float[] qt = w.qt, o = w.o, s = w.s, m = w.m, l = w.l;
        // Q^T (D, QBP): the block's queries as columns; the padding columns (past T) are scored and dropped
        if (nq < QBP) Arrays.fill(qt, 0, D * QBP, 0f);
        for (int r = 0; r < nq; r++) {
            int qi = q.row(b * T + i0 + r) + hd;
            for (int d = 0; d < D; d++) qt[d * QBP + r] = q.data()[qi + d];
        }
        Arrays.fill(o, 0, nq * D, 0f);
        Arrays.fill(m, Float.NEGATIVE_INFINITY);
        Arrays.fill(l, 0f);
        int fEnd = band.hi(i1 - 1);
        for (int f0 = band.lo(i0); f0 < fEnd; f0 += KB) {
            int f1 = Math.min(fEnd, f0 + KB), n = f1 - f0;
            // S^T (n, QBP) = K Q^T, before the scale: "s_ij = scale * q_i . k_j"
            Tiles.mul(n, QBP, D, w.headK, f0 * D, D, 1, qt, 0, QBP, s, 0, QBP, false);
            softmaxColumns(T, band, i0, nq, f0, n, D, scale, s, m, l, w.corr, o);
            // O (nq, D) += P V: "o_i = sum_j p_ij v_j", P read from P^T (n, QBP)
            Tiles.mul(nq, D, n, s, 0, 1, QBP, w.headV, f0 * D, D, o, 0, D, true);
        }
        if (band.chunk()) { // the own running state: one more key, "s_ii = scale * q_i . k_i"
            for (int r = 0; r < nq; r++) {
                int row = b * T + i0 + r;
                w.own[r] = scale * dot(q.data(), q.row(row) + hd, k.data(), k.row(row) + hd, D);
            }
            finishChunk(T, H, D, b, h, i0, nq, v, out, lse, w);
            return;
        }
        float[] od = out.data();
        for (int r = 0; r < nq; r++) {
            int i = i0 + r, oi = out.row(b * T + i) + hd;
            // out_i = sum_j exp(s_ij - m_i) v_j / l_i
            float inv = 1f / l[r];
            for (int d = 0; d < D; d++) od[oi + d] = o[r * D + d] * inv;
            // lse_i = m_i + log(l_i)
            lse[(b * H + h) * T + i] = m[r] + (float) Math.log(l[r]);
        }
    }

    private static int clamp(long r) {
        return (int) Math.max(0, Math.min(QBP, r));
    }

    /**
     * The online-softmax step of key block [f0, f0 + n) for the QBP query columns of S^T (n, QBP), queries i0.. of
     * which nq are real: -inf where a key is outside a query's band, s = scale * s, m_new = max(m, max_a s_a), s_a =
     * exp(s_a - m_new) (the probabilities P^T), l = l * corr + sum_a s_a and the rows of O (nq, D) *= corr with corr
     * = exp(m - m_new), written to corr. Element-wise down the n rows, so no lane reduction.
     *
     * <p>One method with the masking and the rescaling, over C2's FreqInlineSize (325 bytecodes), so that it is
     * compiled on its own: inlined into forwardBlock, the compilation outgrew C2's node budget
     * (NodeCountInliningCutoff), its two Lanes.exp were called out of line on boxed vectors and the forward ran up
     * to a third slower, by more or less from one JVM to the next (-XX:+PrintInlining shows it).
     */
    private static void softmaxColumns(int T, Band band, int i0, int nq, int f0, int n, int D, float scale,
                                       float[] s, float[] m, float[] l, float[] corr, float[] o) {
        for (int a = 0; a < n; a++) { // -inf where key f0 + a is outside a query's band
            int f = f0 + a;
            int rLo = clamp(band.firstQuery(f) - i0), rEnd = clamp(band.endQuery(f, T) - i0);
            if (rLo > 0) Arrays.fill(s, a * QBP, a * QBP + rLo, Float.NEGATIVE_INFINITY); // inside the band: no call
            if (rEnd < QBP) Arrays.fill(s, a * QBP + rEnd, a * QBP + QBP, Float.NEGATIVE_INFINITY);
        }
        FloatVector negInf = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY), one = FloatVector.broadcast(F, 1f);
        boolean rescale = false;
        for (int g = 0; g < QBP; g += F.length()) {
            FloatVector mOld = FloatVector.fromArray(F, m, g), mx = mOld;
            for (int a = 0; a < n; a++) {
                FloatVector x = FloatVector.fromArray(F, s, a * QBP + g).mul(scale);
                x.intoArray(s, a * QBP + g);
                mx = mx.max(x);
            }
            // a column that has seen only masked keys keeps m = -inf; shifting by 0 then gives p = 0, not NaN
            FloatVector shift = mx.blend(0f, mx.compare(VectorOperators.EQ, negInf));
            FloatVector c = Lanes.exp(mOld.sub(shift)), sum = FloatVector.zero(F);
            for (int a = 0; a < n; a++) {
                FloatVector p = Lanes.exp(FloatVector.fromArray(F, s, a * QBP + g).sub(shift));
                p.intoArray(s, a * QBP + g);
                sum = sum.add(p);
            }
            FloatVector.fromArray(F, l, g).fma(c, sum).intoArray(l, g);
            mx.intoArray(m, g);
            c.intoArray(corr, g);
            rescale |= c.compare(VectorOperators.NE, one).anyTrue();
        }
        if (rescale) {
            for (int r = 0; r < nq; r++) if (corr[r] != 1f) scaleRow(o, r * D, D, corr[r]);
        }
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
        int nkb = Math.ceilDiv(band.keys(T), KB), nqb = Math.ceilDiv(T, QB);
        float[] delta = new float[B * H * T]; // (B, H, T) dout_i . out_i (FlashAttention-2's D_i)
        if (onePass) {
            // a query block's delta and own-state term (see queryBlockBackward) just before its first pair, while its
            // rows are being read anyway; before all pairs for the blocks that see no key
            Parallel.forRange(B * H, 1, (from, to) -> {
                Tile w = TILE.get().fit(D, T).fitQueries(D, T);
                for (int bh = from; bh < to; bh++) {
                    int b = bh / H, h = bh % H;
                    packQueries(q, dout, b, T, h * D, D, w);
                    Arrays.fill(w.met, 0, nqb, false);
                    for (int qb = 0; qb < nqb; qb++) {
                        int i0 = qb * QB, i1 = Math.min(T, i0 + QB);
                        if (band.hi(i1 - 1) <= band.lo(i0)) {
                            w.met[qb] = true;
                            queryBlockBackward(band.chunk(), T, H, D, scale, b, h, i0, i1, q, k, v, out, lse, dout, dq, dk, dv, delta);
                        }
                    }
                    for (int kb = 0; kb < nkb; kb++) {
                        keyBlockBackward(true, T, H, D, band, scale, b, h, kb, q, k, v, out, lse, delta, dout, dq, dk, dv, w);
                    }
                }
            });
            return;
        }
        // pass 0, split over (b, h, query block): delta once per query rather than once per (query block, key block)
        // pair, and chunk attention's own-state term, which touches only the query's own rows. Both schedules add
        // the own-state gradients first, then the key blocks'.
        Parallel.forRange(B * H * nqb, 1, (from, to) -> {
            for (int p = from; p < to; p++) {
                int bh = p / nqb, i0 = (p % nqb) * QB;
                queryBlockBackward(band.chunk(), T, H, D, scale, bh / H, bh % H, i0, Math.min(T, i0 + QB),
                        q, k, v, out, lse, dout, dq, dk, dv, delta);
            }
        });
        // pass 1: dk, dv, split over (b, h, key block); every task owns its key rows
        Parallel.forRange(B * H * nkb, 1, (from, to) -> {
            Tile w = TILE.get().fit(D).fitQueries(D, T);
            int packed = -1; // the head (b * H + h) whose q and dout rows w holds
            for (int p = from; p < to; p++) {
                int bh = p / nkb;
                if (bh != packed) {
                    packQueries(q, dout, bh / H, T, (bh % H) * D, D, w);
                    packed = bh;
                }
                keyBlockBackward(false, T, H, D, band, scale, bh / H, bh % H, zigzag(p % nkb, nkb),
                        q, k, v, out, lse, delta, dout, dq, dk, dv, w);
            }
        });
        // pass 2: dq, split over (b, h, query block), recomputing the scores; every task owns its query rows
        Parallel.forRange(B * H * nqb, 1, (from, to) -> {
            Tile w = TILE.get().fit(D);
            for (int p = from; p < to; p++) {
                int bh = p / nqb, i0 = zigzag(p % nqb, nqb) * QB, i1 = Math.min(T, i0 + QB);
                int b = bh / H, h = bh % H, hd = h * D;
                // the key blocks of the same grid as pass 1, in ascending order as in the one-pass schedule
                for (int kb = band.lo(i0) / KB, kbEnd = Math.ceilDiv(band.hi(i1 - 1), KB); kb < kbEnd; kb++) {
                    int f0 = kb * KB, f1 = Math.min(band.keys(T), f0 + KB);
                    if (f0 >= f1 || !meets(band, i0, i1, f0, f1)) continue;
                    packKeys(k, v, b, T, hd, D, band, f0, f1, w);
                    pairBackward(false, true, T, H, D, band, scale, b, h, i0, i1, f0, f1, q.data(), q.row(b * T + i0) + hd,
                            q.stride(), dout.data(), dout.row(b * T + i0) + hd, dout.stride(), lse, delta, dq, w);
                }
            }
        });
    }

    /**
     * Key block kb of head (b, h), whose q and dout rows w holds (packQueries), against every query block that sees
     * it: dk, dv of the block, and dq when withDq.
     */
    private static void keyBlockBackward(boolean withDq, int T, int H, int D, Band band, float scale, int b, int h, int kb,
                                         Strided q, Strided k, Strided v, Strided out, float[] lse, float[] delta,
                                         Strided dout, Strided dq, Strided dk, Strided dv, Tile w) {
        int f0 = kb * KB, f1 = Math.min(band.keys(T), f0 + KB), hd = h * D;
        packKeys(k, v, b, T, hd, D, band, f0, f1, w);
        Arrays.fill(w.dk, 0, (f1 - f0) * D, 0f);
        Arrays.fill(w.dv, 0, (f1 - f0) * D, 0f);
        for (int qb = band.firstQuery(f0) / QB, qbEnd = Math.ceilDiv(band.endQuery(f1 - 1, T), QB); qb < qbEnd; qb++) {
            int i0 = qb * QB, i1 = Math.min(T, i0 + QB);
            if (!meets(band, i0, i1, f0, f1)) continue;
            if (withDq && !w.met[qb]) { // one pass: this query block's first pair
                w.met[qb] = true;
                queryBlockBackward(band.chunk(), T, H, D, scale, b, h, i0, i1, q, k, v, out, lse, dout, dq, dk, dv, delta);
            }
            pairBackward(true, withDq, T, H, D, band, scale, b, h, i0, i1, f0, f1, w.headQ, i0 * D, D, w.headDo, i0 * D, D,
                    lse, delta, dq, w);
        }
        unpackAdd(w.dk, dk, b, T, hd, D, band, f0, f1);
        unpackAdd(w.dv, dv, b, T, hd, D, band, f0, f1);
    }

    /**
     * The q and dout rows of head columns hd.. of batch b into w.headQ, w.headDo (T, D): read by every key block of
     * the head, and in place they lie a multiple of 4 KiB apart (3C and C floats), where a block's rows share a few
     * L1 sets and evict each other.
     */
    private static void packQueries(Strided q, Strided dout, int b, int T, int hd, int D, Tile w) {
        for (int i = 0; i < T; i++) {
            System.arraycopy(q.data(), q.row(b * T + i) + hd, w.headQ, i * D, D);
            System.arraycopy(dout.data(), dout.row(b * T + i) + hd, w.headDo, i * D, D);
        }
    }

    /** The key block [f0, f1) of head (b, h): its k rows (n, D) into w.k, K^T and V^T (D, KBP) into w.kt, w.vt. */
    private static void packKeys(Strided k, Strided v, int b, int T, int hd, int D, Band band, int f0, int f1, Tile w) {
        int n = f1 - f0;
        float[] kt = w.kt, vt = w.vt;
        if (n < KBP) { // the padding columns are scored and masked, so they must hold finite values
            Arrays.fill(kt, 0, D * KBP, 0f);
            Arrays.fill(vt, 0, D * KBP, 0f);
        }
        pack(k, b, T, hd, D, band, f0, f1, w.k);
        for (int a = 0; a < n; a++) {
            int row = b * T + (f0 + a) * band.step() + band.shift();
            int ki = k.row(row) + hd, vi = v.row(row) + hd;
            for (int d = 0; d < D; d++) {
                kt[d * KBP + a] = k.data()[ki + d];
                vt[d * KBP + a] = v.data()[vi + d];
            }
        }
    }

    /**
     * Queries [i0, i1) of head (b, h) against the packed key block [f0, f1) in w: adds the pair's dk, dv into w.dk,
     * w.dv when withKv and its dq into dq when withDq. The block's q and dout rows are read from qa[qi..], doa[doi..]
     * with row strides qs, dos. The FlashAttention-2 backward of p_ij = exp(scale * q_i . k_j
     * - lse_i), out_i = sum_j p_ij v_j.
     */
    private static void pairBackward(boolean withKv, boolean withDq, int T, int H, int D, Band band, float scale,
                                     int b, int h, int i0, int i1, int f0, int f1, float[] qa, int qi, int qs,
                                     float[] doa, int doi, int dos, float[] lse, float[] delta, Strided dq, Tile w) {
        int nq = i1 - i0, n = f1 - f0, hd = h * D, r0 = b * T + i0;
        float[] p = w.s, ds = w.ds;
        // Only the block's columns [aLo, aHi) that some query of [i0, i1) sees are computed: the key blocks are on a
        // fixed grid, so a query block at the edge of the band (chunk attention's latest keys, a window's oldest)
        // sees part of one. Scores in whole vectors [cLo, cHi); both schedules trim the same pair alike.
        int aLo = Math.max(0, band.lo(i0) - f0), aHi = Math.min(n, band.hi(i1 - 1) - f0), na = aHi - aLo;
        int cLo = aLo / F.length() * F.length(), cHi = Math.ceilDiv(aHi, F.length()) * F.length();
        // S (nq, KBP) = Q K^T and dP (nq, KBP) = dO V^T, "o_i = sum_j p_ij v_j" differentiated: dP_ij = dout_i . v_j
        Tiles.mul(nq, cHi - cLo, D, qa, qi, qs, 1, w.kt, cLo, KBP, p, cLo, KBP, false);
        Tiles.mul(nq, cHi - cLo, D, doa, doi, dos, 1, w.vt, cLo, KBP, ds, cLo, KBP, false);
        for (int r = 0; r < nq; r++) {
            int i = i0 + r;
            float lseI = lse[(b * H + h) * T + i], deltaI = delta[(b * H + h) * T + i];
            for (int a = cLo; a < cHi; a += F.length()) {
                int x = r * KBP + a;
                // "p_ij = exp(scale * q_i . k_j - lse_i)"; dS_ij = p_ij (dP_ij - delta_i), times scale for the scale in s
                FloatVector pv = Lanes.exp(FloatVector.fromArray(F, p, x).mul(scale).sub(lseI));
                pv.intoArray(p, x);
                pv.mul(FloatVector.fromArray(F, ds, x).sub(deltaI)).mul(scale).intoArray(ds, x);
            }
            // zero outside the query's band and past the block's n keys
            int rLo = (int) Math.max(aLo, Math.min(aHi, (long) band.lo(i) - f0));
            int rEnd = (int) Math.max(rLo, Math.min(aHi, (long) band.hi(i) - f0));
            if (rLo > aLo) { // most rows of most pairs lie inside the band: no calls there
                Arrays.fill(p, r * KBP + aLo, r * KBP + rLo, 0f);
                Arrays.fill(ds, r * KBP + aLo, r * KBP + rLo, 0f);
            }
            if (rEnd < aHi) {
                Arrays.fill(p, r * KBP + rEnd, r * KBP + aHi, 0f);
                Arrays.fill(ds, r * KBP + rEnd, r * KBP + aHi, 0f);
            }
        }
        if (withKv) {
            // dV (n, D) += P^T dO and dK (n, D) += dS^T Q, from "o_i = sum_j p_ij v_j" and "s_ij = scale * q_i . k_j"
            Tiles.mul(na, D, nq, p, aLo, 1, KBP, doa, doi, dos, w.dv, aLo * D, D, true);
            Tiles.mul(na, D, nq, ds, aLo, 1, KBP, qa, qi, qs, w.dk, aLo * D, D, true);
        }
        // dQ (nq, D) += dS K, straight into dq's rows
        if (withDq) Tiles.mul(nq, D, na, ds, aLo, KBP, 1, w.k, aLo * D, D, dq.data(), dq.row(r0) + hd, dq.stride(), true);
    }

    /** {@link #queryBackward} for queries [i0, i1) of head (b, h). */
    private static void queryBlockBackward(boolean own, int T, int H, int D, float scale, int b, int h, int i0, int i1,
                                           Strided q, Strided k, Strided v, Strided out, float[] lse,
                                           Strided dout, Strided dq, Strided dk, Strided dv, float[] delta) {
        for (int i = i0; i < i1; i++) {
            queryBackward(own, D, scale, b * T + i, h * D, (b * H + h) * T + i, q, k, v, out, lse, dout, dq, dk, dv, delta);
        }
    }

    /**
     * Query row `row`, head columns hd..: delta[di] = dout . out, and with own (chunk attention) the backward of its
     * own-state key: "s = scale * q . k, p = exp(s - lse)" and "out += p v" (k, v at the query's own row) into the
     * row's dq, dk, dv. One pass over the D columns for the three dot products (each summed as {@link #dot} does)
     * and one for the three updates.
     */
    private static void queryBackward(boolean own, int D, float scale, int row, int hd, int di,
                                      Strided q, Strided k, Strided v, Strided out, float[] lse,
                                      Strided dout, Strided dq, Strided dk, Strided dv, float[] delta) {
        float[] qa = q.data(), ka = k.data(), va = v.data(), oa = out.data(), doa = dout.data();
        int qi = q.row(row) + hd, ki = k.row(row) + hd, vi = v.row(row) + hd, oi = out.row(row) + hd, doi = dout.row(row) + hd;
        if (!own) {
            delta[di] = dot(doa, doi, oa, oi, D);
            return;
        }
        FloatVector accDelta = FloatVector.zero(F), accS = accDelta, accP = accDelta;
        int d = 0, bound = F.loopBound(D);
        for (; d < bound; d += F.length()) {
            FloatVector dov = FloatVector.fromArray(F, doa, doi + d);
            accDelta = dov.fma(FloatVector.fromArray(F, oa, oi + d), accDelta);
            accS = FloatVector.fromArray(F, qa, qi + d).fma(FloatVector.fromArray(F, ka, ki + d), accS);
            accP = dov.fma(FloatVector.fromArray(F, va, vi + d), accP);
        }
        float dl = Lanes.sum(accDelta), s = Lanes.sum(accS), dp = Lanes.sum(accP);
        for (int t = d; t < D; t++) {
            dl += doa[doi + t] * oa[oi + t];
            s += qa[qi + t] * ka[ki + t];
            dp += doa[doi + t] * va[vi + t];
        }
        delta[di] = dl;
        float p = Lanes.exp(scale * s - lse[di]);
        // dS = p (dP - delta), times scale for "s = scale * q . k"
        float ds = scale * p * (dp - dl);
        float[] dqa = dq.data(), dka = dk.data(), dva = dv.data();
        int dqi = dq.row(row) + hd, dki = dk.row(row) + hd, dvi = dv.row(row) + hd;
        FloatVector pv = FloatVector.broadcast(F, p), dsv = FloatVector.broadcast(F, ds);
        for (d = 0; d < bound; d += F.length()) {
            // dv += p dout, dk += dS q, dq += dS k
            FloatVector.fromArray(F, doa, doi + d).fma(pv, FloatVector.fromArray(F, dva, dvi + d)).intoArray(dva, dvi + d);
            FloatVector.fromArray(F, qa, qi + d).fma(dsv, FloatVector.fromArray(F, dka, dki + d)).intoArray(dka, dki + d);
            FloatVector.fromArray(F, ka, ki + d).fma(dsv, FloatVector.fromArray(F, dqa, dqi + d)).intoArray(dqa, dqi + d);
        }
        for (; d < D; d++) {
            dva[dvi + d] += p * doa[doi + d];
            dka[dki + d] += ds * qa[qi + d];
            dqa[dqi + d] += ds * ka[ki + d];
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
