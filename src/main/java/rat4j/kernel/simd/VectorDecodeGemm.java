package rat4j.kernel.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import rat4j.kernel.DecodeGemm;
import rat4j.kernel.Parallel;
import rat4j.kernel.PanelMatrix;

import static rat4j.kernel.PanelMatrix.HALF;
import static rat4j.kernel.PanelMatrix.PANEL;

/**
 * {@link DecodeGemm} on the Vector API, shaped like a BLIS micro-kernel on a permanently packed B: for each column k
 * of a panel strip, two vectors of weights (2L rows of W) are loaded once and multiplied by x[i, k] broadcast, for a
 * tile of input rows whose accumulators (rows x 2 vectors) stay in registers. Threads split W's panels, so every weight
 * is read from memory once per call whatever n is.
 *
 * <p>The columns go in blocks of KC. A bf16 block is first widened into a per-thread float scratch (KC x 32 floats,
 * which stays in L1), then read by the same float tiles as float32 weights; the accumulators wait in a per-thread
 * (n, 32) array between blocks. Storing and reloading a float is exact, so each output is still the one fma chain of
 * the contract, bit for bit the naive reference's.
 */
public final class VectorDecodeGemm implements DecodeGemm {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    /** Rows of a panel one tile covers: two vectors. */
    private static final int STRIP = 2 * L;
    /** Columns per block: a widened bf16 block (KC x PANEL floats, 32 KiB) stays in L1 beside the input rows' block. */
    static final int KC = 256;
    /** Weights per task: below this a pool hop costs more than streaming them. */
    static final int MIN_TASK_WEIGHTS = 1 << 16;
    /** The 12-row tile needs 24 accumulators + 3 registers: AVX-512 has 32; with 16 (AVX2) tiles stop at 4 rows. */
    private static final boolean TWELVE_ROWS = L >= 16;

    static {
        if (PANEL % STRIP != 0 || HALF % L != 0) throw new IllegalStateException("vectors of " + L + " floats do not tile a panel of " + PANEL);
    }

    private record Scratch(float[] acc, float[] wide) {}

    /** Per thread: the accumulators of a panel for all n rows, (n, PANEL), and a widened bf16 block (KC, PANEL). */
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(() -> new Scratch(new float[0], new float[KC * PANEL]));
    /** Per calling thread: x transposed, (cols, n). */
    private static final ThreadLocal<float[]> TRANSPOSED = ThreadLocal.withInitial(() -> new float[0]);

    @Override public String name() { return "java-vector(" + F.vectorBitSize() + "-bit)"; }

    @Override
    public void apply(int n, float[] x, int xOff, PanelMatrix w, float[] out, int outOff) {
        DecodeGemm.check(n, x, xOff, w, out, outOff);
        if (n == 0 || w.rows() == 0) return;
        float[] xt = transposed(n, w.cols(), x, xOff);
        int grain = Math.max(1, MIN_TASK_WEIGHTS / Math.max(1, PANEL * w.cols()));
        Parallel.forRange(w.panels(), grain, (t0, t1) -> panels(n, xt, w, out, outOff, t0, t1));
    }

    /**
     * x (n, k) at xOff as (k, n): a tile's broadcasts x[i..i+12, c] then come from one or two cache lines instead of
     * twelve rows whose stride (12 KiB for k = 3072) puts them all in the same L1 set.
     */
    private static float[] transposed(int n, int k, float[] x, int xOff) {
        float[] xt = TRANSPOSED.get();
        if (xt.length < n * k) TRANSPOSED.set(xt = new float[n * k]);
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < k; c++) xt[c * n + i] = x[xOff + i * k + c];
        }
        return xt;
    }

    /** Output columns of panels [t0, t1) for all n rows. */
    private static void panels(int n, float[] xt, PanelMatrix w, float[] out, int outOff, int t0, int t1) {
        int k = w.cols(), rows = w.rows();
        Scratch s = SCRATCH.get();
        if (s.acc.length < n * PANEL) SCRATCH.set(s = new Scratch(new float[n * PANEL], s.wide));
        float[] acc = s.acc, wide = s.wide, f32 = w.f32();
        // A row or three gain nothing from widening a bf16 block once for all rows: they widen it in registers.
        boolean direct = f32 == null && n < 4 && L == HALF;
        for (int t = t0; t < t1; t++) {
            for (int c0 = 0; c0 < k || c0 == 0; c0 += KC) { // once even when k = 0, to zero acc
                int count = Math.min(KC, k - c0);
                boolean first = c0 == 0;
                if (direct) {
                    for (int i = 0; i < n; i++) tile1Bf16(count, w.bf16(), (t * k + c0) * HALF, xt, c0 * n + i, n, acc, i * PANEL, first);
                    continue;
                }
                float[] src = f32;
                int si = (t * k + c0) * PANEL;
                if (f32 == null) {
                    widen(w.bf16(), (t * k + c0) * HALF, count, wide);
                    src = wide;
                    si = 0;
                }
                for (int strip = 0; strip < PANEL; strip += STRIP) {
                    int i = 0;
                    if (TWELVE_ROWS) for (; i + 12 <= n; i += 12) tile12(count, src, si + strip, xt, c0 * n + i, n, acc, i * PANEL + strip, first);
                    for (; i + 4 <= n; i += 4) tile4(count, src, si + strip, xt, c0 * n + i, n, acc, i * PANEL + strip, first);
                    for (; i < n; i++) tile1(count, src, si + strip, xt, c0 * n + i, n, acc, i * PANEL + strip, first);
                }
            }
            int j0 = t * PANEL, width = Math.min(PANEL, rows - j0);
            for (int i = 0; i < n; i++) System.arraycopy(acc, i * PANEL, out, outOff + i * rows + j0, width);
        }
    }

    /** wide (count, PANEL) floats = the bf16 pairs (count, HALF) at bi: low halves to rows [0, 16), high to [16, 32). */
    private static void widen(int[] bf16, int bi, int count, float[] wide) {
        for (int c = 0; c < count; c++) {
            for (int h = 0; h < HALF; h += L) {
                IntVector v = IntVector.fromArray(I, bf16, bi + c * HALF + h);
                v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(wide, c * PANEL + h);
                v.lanewise(VectorOperators.AND, 0xffff0000).reinterpretAsFloats().intoArray(wide, c * PANEL + HALF + h);
            }
        }
    }

    private static FloatVector start(float[] acc, int ai, boolean first) {
        return first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, ai);
    }

    /**
     * 12 input rows times the strip at si, over the block's count columns: x[i + r, c] at xi + c * ldx + r (x
     * transposed), the 2L weights of column c at si + c * PANEL; 24 accumulators, (12 rows, 2 vectors) at
     * acc[ai + r * PANEL].
     */
    private static void tile12(int count, float[] w, int si, float[] x, int xi, int ldx, float[] acc, int ai, boolean first) {
        FloatVector a00 = start(acc, ai, first), a01 = start(acc, ai + L, first);
        FloatVector a10 = start(acc, ai + PANEL, first), a11 = start(acc, ai + PANEL + L, first);
        FloatVector a20 = start(acc, ai + 2 * PANEL, first), a21 = start(acc, ai + 2 * PANEL + L, first);
        FloatVector a30 = start(acc, ai + 3 * PANEL, first), a31 = start(acc, ai + 3 * PANEL + L, first);
        FloatVector a40 = start(acc, ai + 4 * PANEL, first), a41 = start(acc, ai + 4 * PANEL + L, first);
        FloatVector a50 = start(acc, ai + 5 * PANEL, first), a51 = start(acc, ai + 5 * PANEL + L, first);
        FloatVector a60 = start(acc, ai + 6 * PANEL, first), a61 = start(acc, ai + 6 * PANEL + L, first);
        FloatVector a70 = start(acc, ai + 7 * PANEL, first), a71 = start(acc, ai + 7 * PANEL + L, first);
        FloatVector a80 = start(acc, ai + 8 * PANEL, first), a81 = start(acc, ai + 8 * PANEL + L, first);
        FloatVector a90 = start(acc, ai + 9 * PANEL, first), a91 = start(acc, ai + 9 * PANEL + L, first);
        FloatVector aA0 = start(acc, ai + 10 * PANEL, first), aA1 = start(acc, ai + 10 * PANEL + L, first);
        FloatVector aB0 = start(acc, ai + 11 * PANEL, first), aB1 = start(acc, ai + 11 * PANEL + L, first);
        for (int c = 0; c < count; c++) {
            int wc = si + c * PANEL, xc = xi + c * ldx;
            FloatVector w0 = FloatVector.fromArray(F, w, wc), w1 = FloatVector.fromArray(F, w, wc + L);
            FloatVector b = FloatVector.broadcast(F, x[xc]);
            a00 = b.fma(w0, a00); a01 = b.fma(w1, a01);
            b = FloatVector.broadcast(F, x[xc + 1]);
            a10 = b.fma(w0, a10); a11 = b.fma(w1, a11);
            b = FloatVector.broadcast(F, x[xc + 2]);
            a20 = b.fma(w0, a20); a21 = b.fma(w1, a21);
            b = FloatVector.broadcast(F, x[xc + 3]);
            a30 = b.fma(w0, a30); a31 = b.fma(w1, a31);
            b = FloatVector.broadcast(F, x[xc + 4]);
            a40 = b.fma(w0, a40); a41 = b.fma(w1, a41);
            b = FloatVector.broadcast(F, x[xc + 5]);
            a50 = b.fma(w0, a50); a51 = b.fma(w1, a51);
            b = FloatVector.broadcast(F, x[xc + 6]);
            a60 = b.fma(w0, a60); a61 = b.fma(w1, a61);
            b = FloatVector.broadcast(F, x[xc + 7]);
            a70 = b.fma(w0, a70); a71 = b.fma(w1, a71);
            b = FloatVector.broadcast(F, x[xc + 8]);
            a80 = b.fma(w0, a80); a81 = b.fma(w1, a81);
            b = FloatVector.broadcast(F, x[xc + 9]);
            a90 = b.fma(w0, a90); a91 = b.fma(w1, a91);
            b = FloatVector.broadcast(F, x[xc + 10]);
            aA0 = b.fma(w0, aA0); aA1 = b.fma(w1, aA1);
            b = FloatVector.broadcast(F, x[xc + 11]);
            aB0 = b.fma(w0, aB0); aB1 = b.fma(w1, aB1);
        }
        a00.intoArray(acc, ai); a01.intoArray(acc, ai + L);
        a10.intoArray(acc, ai + PANEL); a11.intoArray(acc, ai + PANEL + L);
        a20.intoArray(acc, ai + 2 * PANEL); a21.intoArray(acc, ai + 2 * PANEL + L);
        a30.intoArray(acc, ai + 3 * PANEL); a31.intoArray(acc, ai + 3 * PANEL + L);
        a40.intoArray(acc, ai + 4 * PANEL); a41.intoArray(acc, ai + 4 * PANEL + L);
        a50.intoArray(acc, ai + 5 * PANEL); a51.intoArray(acc, ai + 5 * PANEL + L);
        a60.intoArray(acc, ai + 6 * PANEL); a61.intoArray(acc, ai + 6 * PANEL + L);
        a70.intoArray(acc, ai + 7 * PANEL); a71.intoArray(acc, ai + 7 * PANEL + L);
        a80.intoArray(acc, ai + 8 * PANEL); a81.intoArray(acc, ai + 8 * PANEL + L);
        a90.intoArray(acc, ai + 9 * PANEL); a91.intoArray(acc, ai + 9 * PANEL + L);
        aA0.intoArray(acc, ai + 10 * PANEL); aA1.intoArray(acc, ai + 10 * PANEL + L);
        aB0.intoArray(acc, ai + 11 * PANEL); aB1.intoArray(acc, ai + 11 * PANEL + L);
    }

    /** The 4-row tile of {@link #tile12}: 8 accumulators. */
    private static void tile4(int count, float[] w, int si, float[] x, int xi, int ldx, float[] acc, int ai, boolean first) {
        FloatVector a00 = start(acc, ai, first), a01 = start(acc, ai + L, first);
        FloatVector a10 = start(acc, ai + PANEL, first), a11 = start(acc, ai + PANEL + L, first);
        FloatVector a20 = start(acc, ai + 2 * PANEL, first), a21 = start(acc, ai + 2 * PANEL + L, first);
        FloatVector a30 = start(acc, ai + 3 * PANEL, first), a31 = start(acc, ai + 3 * PANEL + L, first);
        for (int c = 0; c < count; c++) {
            int wc = si + c * PANEL, xc = xi + c * ldx;
            FloatVector w0 = FloatVector.fromArray(F, w, wc), w1 = FloatVector.fromArray(F, w, wc + L);
            FloatVector b = FloatVector.broadcast(F, x[xc]);
            a00 = b.fma(w0, a00); a01 = b.fma(w1, a01);
            b = FloatVector.broadcast(F, x[xc + 1]);
            a10 = b.fma(w0, a10); a11 = b.fma(w1, a11);
            b = FloatVector.broadcast(F, x[xc + 2]);
            a20 = b.fma(w0, a20); a21 = b.fma(w1, a21);
            b = FloatVector.broadcast(F, x[xc + 3]);
            a30 = b.fma(w0, a30); a31 = b.fma(w1, a31);
        }
        a00.intoArray(acc, ai); a01.intoArray(acc, ai + L);
        a10.intoArray(acc, ai + PANEL); a11.intoArray(acc, ai + PANEL + L);
        a20.intoArray(acc, ai + 2 * PANEL); a21.intoArray(acc, ai + 2 * PANEL + L);
        a30.intoArray(acc, ai + 3 * PANEL); a31.intoArray(acc, ai + 3 * PANEL + L);
    }

    /** The 1-row tile of {@link #tile12} (a GEMV): 2 accumulators. */
    private static void tile1(int count, float[] w, int si, float[] x, int xi, int ldx, float[] acc, int ai, boolean first) {
        FloatVector a0 = start(acc, ai, first), a1 = start(acc, ai + L, first);
        for (int c = 0; c < count; c++) {
            int wc = si + c * PANEL;
            FloatVector b = FloatVector.broadcast(F, x[xi + c * ldx]);
            a0 = b.fma(FloatVector.fromArray(F, w, wc), a0);
            a1 = b.fma(FloatVector.fromArray(F, w, wc + L), a1);
        }
        a0.intoArray(acc, ai);
        a1.intoArray(acc, ai + L);
    }

    /** The 1-row tile on a panel of bf16 pairs read as they are (L = HALF): the low halves are rows [0, 16), the high [16, 32). */
    private static void tile1Bf16(int count, int[] w, int bi, float[] x, int xi, int ldx, float[] acc, int ai, boolean first) {
        FloatVector a0 = start(acc, ai, first), a1 = start(acc, ai + HALF, first);
        for (int c = 0; c < count; c++) {
            IntVector v = IntVector.fromArray(I, w, bi + c * HALF);
            FloatVector b = FloatVector.broadcast(F, x[xi + c * ldx]);
            a0 = b.fma(v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a0);
            a1 = b.fma(v.lanewise(VectorOperators.AND, 0xffff0000).reinterpretAsFloats(), a1);
        }
        a0.intoArray(acc, ai);
        a1.intoArray(acc, ai + HALF);
    }
}
