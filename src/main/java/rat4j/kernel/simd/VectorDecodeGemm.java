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
 * <p>bf16 tiles widen each int of two weights in registers (a shift and a mask), so the loads from memory stay
 * interleaved with the fma work and the hardware prefetcher keeps streaming (a separate widening pass into L1 left
 * memory idle while the tiles ran: 28% of a 16-sequence decode step went to it).
 *
 * <p>The columns go in blocks of KC, so that the block of a panel the first tile streamed from memory is still in L1
 * for the next tiles of the same panel; the accumulators wait in a per-thread (n, 32) array between blocks. Storing and
 * reloading a float is exact, so each output is still the one fma chain of the contract, bit for bit the naive
 * reference's.
 */
public final class VectorDecodeGemm implements DecodeGemm {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    /** Columns per block: a panel's block (32 KiB in float32) stays in L1 from the first tile of a panel to its last. */
    static final int KC = 256;
    /** Weights per task: below this a pool hop costs more than streaming them. */
    static final int MIN_TASK_WEIGHTS = 1 << 16;
    /** The 12-row tile needs 24 accumulators + 3 registers: AVX-512 has 32; with 16 (AVX2) tiles stop at 4 rows. */
    private static final boolean TWELVE_ROWS = L >= 16;

    static {
        if (HALF % L != 0) throw new IllegalStateException("vectors of " + L + " floats do not tile a panel of " + PANEL);
    }

    /** Per thread: the accumulators of a panel for all n rows, (n, PANEL). */
    private static final ThreadLocal<float[]> ACC = ThreadLocal.withInitial(() -> new float[0]);
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

    /**
     * Output columns of panels [t0, t1) for all n rows. A float32 panel is covered by strips of two vectors (rows
     * [s, s + 2L)); a bf16 one by strips of one int vector, whose low halves are rows [h, h + L) and high halves rows
     * [16 + h, 16 + h + L).
     */
    private static void panels(int n, float[] xt, PanelMatrix w, float[] out, int outOff, int t0, int t1) {
        int k = w.cols(), rows = w.rows();
        float[] acc = ACC.get();
        if (acc.length < n * PANEL) ACC.set(acc = new float[n * PANEL]);
        float[] f32 = w.f32();
        int[] bf16 = w.bf16();
        for (int t = t0; t < t1; t++) {
            for (int c0 = 0; c0 < k || c0 == 0; c0 += KC) { // once even when k = 0, to zero acc
                int count = Math.min(KC, k - c0);
                boolean first = c0 == 0;
                if (f32 != null) {
                    for (int s = 0; s < PANEL; s += 2 * L) {
                        int wi = (t * k + c0) * PANEL + s, i = 0;
                        if (TWELVE_ROWS) for (; i + 12 <= n; i += 12) tile12(count, f32, wi, xt, c0 * n + i, n, acc, i * PANEL + s, i * PANEL + s + L, first);
                        for (; i + 4 <= n; i += 4) tile4(count, f32, wi, xt, c0 * n + i, n, acc, i * PANEL + s, i * PANEL + s + L, first);
                        for (; i < n; i++) tile1(count, f32, wi, xt, c0 * n + i, n, acc, i * PANEL + s, i * PANEL + s + L, first);
                    }
                } else {
                    for (int h = 0; h < HALF; h += L) {
                        int wi = (t * k + c0) * HALF + h, i = 0;
                        if (TWELVE_ROWS) for (; i + 12 <= n; i += 12) tile12Bf16(count, bf16, wi, xt, c0 * n + i, n, acc, i * PANEL + h, i * PANEL + HALF + h, first);
                        for (; i + 4 <= n; i += 4) tile4Bf16(count, bf16, wi, xt, c0 * n + i, n, acc, i * PANEL + h, i * PANEL + HALF + h, first);
                        for (; i < n; i++) tile1Bf16(count, bf16, wi, xt, c0 * n + i, n, acc, i * PANEL + h, i * PANEL + HALF + h, first);
                    }
                }
            }
            int j0 = t * PANEL, width = Math.min(PANEL, rows - j0);
            for (int i = 0; i < n; i++) System.arraycopy(acc, i * PANEL, out, outOff + i * rows + j0, width);
        }
    }

    private static FloatVector start(float[] acc, int ai, boolean first) {
        return first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, ai);
    }

    /**
     * 12 input rows times two vectors of weights, over the block's count columns: x[i + r, c] at xi + c * ldx + r (x
     * transposed), the weights of column c at wi + c * PANEL (2L floats); 24 accumulators, row r's two at
     * acc[ai0 + r * PANEL] and acc[ai1 + r * PANEL].
     */
    private static void tile12(int count, float[] w, int wi, float[] x, int xi, int ldx, float[] acc, int ai0, int ai1, boolean first) {
        FloatVector a00 = start(acc, ai0, first), a01 = start(acc, ai1, first);
        FloatVector a10 = start(acc, ai0 + PANEL, first), a11 = start(acc, ai1 + PANEL, first);
        FloatVector a20 = start(acc, ai0 + 2 * PANEL, first), a21 = start(acc, ai1 + 2 * PANEL, first);
        FloatVector a30 = start(acc, ai0 + 3 * PANEL, first), a31 = start(acc, ai1 + 3 * PANEL, first);
        FloatVector a40 = start(acc, ai0 + 4 * PANEL, first), a41 = start(acc, ai1 + 4 * PANEL, first);
        FloatVector a50 = start(acc, ai0 + 5 * PANEL, first), a51 = start(acc, ai1 + 5 * PANEL, first);
        FloatVector a60 = start(acc, ai0 + 6 * PANEL, first), a61 = start(acc, ai1 + 6 * PANEL, first);
        FloatVector a70 = start(acc, ai0 + 7 * PANEL, first), a71 = start(acc, ai1 + 7 * PANEL, first);
        FloatVector a80 = start(acc, ai0 + 8 * PANEL, first), a81 = start(acc, ai1 + 8 * PANEL, first);
        FloatVector a90 = start(acc, ai0 + 9 * PANEL, first), a91 = start(acc, ai1 + 9 * PANEL, first);
        FloatVector a100 = start(acc, ai0 + 10 * PANEL, first), a101 = start(acc, ai1 + 10 * PANEL, first);
        FloatVector a110 = start(acc, ai0 + 11 * PANEL, first), a111 = start(acc, ai1 + 11 * PANEL, first);
        for (int c = 0; c < count; c++) {
            int wc = wi + c * PANEL;
            FloatVector w0 = FloatVector.fromArray(F, w, wc), w1 = FloatVector.fromArray(F, w, wc + L);
            int xc = xi + c * ldx;
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
            a100 = b.fma(w0, a100); a101 = b.fma(w1, a101);
            b = FloatVector.broadcast(F, x[xc + 11]);
            a110 = b.fma(w0, a110); a111 = b.fma(w1, a111);
        }
        a00.intoArray(acc, ai0); a01.intoArray(acc, ai1);
        a10.intoArray(acc, ai0 + PANEL); a11.intoArray(acc, ai1 + PANEL);
        a20.intoArray(acc, ai0 + 2 * PANEL); a21.intoArray(acc, ai1 + 2 * PANEL);
        a30.intoArray(acc, ai0 + 3 * PANEL); a31.intoArray(acc, ai1 + 3 * PANEL);
        a40.intoArray(acc, ai0 + 4 * PANEL); a41.intoArray(acc, ai1 + 4 * PANEL);
        a50.intoArray(acc, ai0 + 5 * PANEL); a51.intoArray(acc, ai1 + 5 * PANEL);
        a60.intoArray(acc, ai0 + 6 * PANEL); a61.intoArray(acc, ai1 + 6 * PANEL);
        a70.intoArray(acc, ai0 + 7 * PANEL); a71.intoArray(acc, ai1 + 7 * PANEL);
        a80.intoArray(acc, ai0 + 8 * PANEL); a81.intoArray(acc, ai1 + 8 * PANEL);
        a90.intoArray(acc, ai0 + 9 * PANEL); a91.intoArray(acc, ai1 + 9 * PANEL);
        a100.intoArray(acc, ai0 + 10 * PANEL); a101.intoArray(acc, ai1 + 10 * PANEL);
        a110.intoArray(acc, ai0 + 11 * PANEL); a111.intoArray(acc, ai1 + 11 * PANEL);
    }

    /** The 4-row tile of {@link #tile12}: 8 accumulators. */
    private static void tile4(int count, float[] w, int wi, float[] x, int xi, int ldx, float[] acc, int ai0, int ai1, boolean first) {
        FloatVector a00 = start(acc, ai0, first), a01 = start(acc, ai1, first);
        FloatVector a10 = start(acc, ai0 + PANEL, first), a11 = start(acc, ai1 + PANEL, first);
        FloatVector a20 = start(acc, ai0 + 2 * PANEL, first), a21 = start(acc, ai1 + 2 * PANEL, first);
        FloatVector a30 = start(acc, ai0 + 3 * PANEL, first), a31 = start(acc, ai1 + 3 * PANEL, first);
        for (int c = 0; c < count; c++) {
            int wc = wi + c * PANEL;
            FloatVector w0 = FloatVector.fromArray(F, w, wc), w1 = FloatVector.fromArray(F, w, wc + L);
            int xc = xi + c * ldx;
            FloatVector b = FloatVector.broadcast(F, x[xc]);
            a00 = b.fma(w0, a00); a01 = b.fma(w1, a01);
            b = FloatVector.broadcast(F, x[xc + 1]);
            a10 = b.fma(w0, a10); a11 = b.fma(w1, a11);
            b = FloatVector.broadcast(F, x[xc + 2]);
            a20 = b.fma(w0, a20); a21 = b.fma(w1, a21);
            b = FloatVector.broadcast(F, x[xc + 3]);
            a30 = b.fma(w0, a30); a31 = b.fma(w1, a31);
        }
        a00.intoArray(acc, ai0); a01.intoArray(acc, ai1);
        a10.intoArray(acc, ai0 + PANEL); a11.intoArray(acc, ai1 + PANEL);
        a20.intoArray(acc, ai0 + 2 * PANEL); a21.intoArray(acc, ai1 + 2 * PANEL);
        a30.intoArray(acc, ai0 + 3 * PANEL); a31.intoArray(acc, ai1 + 3 * PANEL);
    }

    /** The 1-row tile of {@link #tile12}: 2 accumulators. */
    private static void tile1(int count, float[] w, int wi, float[] x, int xi, int ldx, float[] acc, int ai0, int ai1, boolean first) {
        FloatVector a00 = start(acc, ai0, first), a01 = start(acc, ai1, first);
        for (int c = 0; c < count; c++) {
            int wc = wi + c * PANEL;
            FloatVector w0 = FloatVector.fromArray(F, w, wc), w1 = FloatVector.fromArray(F, w, wc + L);
            FloatVector b = FloatVector.broadcast(F, x[xi + c * ldx]);
            a00 = b.fma(w0, a00); a01 = b.fma(w1, a01);
        }
        a00.intoArray(acc, ai0); a01.intoArray(acc, ai1);
    }

    /** {@link #tile12} on bf16 pairs: the int at wi + c * HALF holds the weights of accumulators 0 (low half) and 1 (high). */
    private static void tile12Bf16(int count, int[] w, int wi, float[] x, int xi, int ldx, float[] acc, int ai0, int ai1, boolean first) {
        FloatVector a00 = start(acc, ai0, first), a01 = start(acc, ai1, first);
        FloatVector a10 = start(acc, ai0 + PANEL, first), a11 = start(acc, ai1 + PANEL, first);
        FloatVector a20 = start(acc, ai0 + 2 * PANEL, first), a21 = start(acc, ai1 + 2 * PANEL, first);
        FloatVector a30 = start(acc, ai0 + 3 * PANEL, first), a31 = start(acc, ai1 + 3 * PANEL, first);
        FloatVector a40 = start(acc, ai0 + 4 * PANEL, first), a41 = start(acc, ai1 + 4 * PANEL, first);
        FloatVector a50 = start(acc, ai0 + 5 * PANEL, first), a51 = start(acc, ai1 + 5 * PANEL, first);
        FloatVector a60 = start(acc, ai0 + 6 * PANEL, first), a61 = start(acc, ai1 + 6 * PANEL, first);
        FloatVector a70 = start(acc, ai0 + 7 * PANEL, first), a71 = start(acc, ai1 + 7 * PANEL, first);
        FloatVector a80 = start(acc, ai0 + 8 * PANEL, first), a81 = start(acc, ai1 + 8 * PANEL, first);
        FloatVector a90 = start(acc, ai0 + 9 * PANEL, first), a91 = start(acc, ai1 + 9 * PANEL, first);
        FloatVector a100 = start(acc, ai0 + 10 * PANEL, first), a101 = start(acc, ai1 + 10 * PANEL, first);
        FloatVector a110 = start(acc, ai0 + 11 * PANEL, first), a111 = start(acc, ai1 + 11 * PANEL, first);
        for (int c = 0; c < count; c++) {
            IntVector v = IntVector.fromArray(I, w, wi + c * HALF);
            FloatVector w0 = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector w1 = v.lanewise(VectorOperators.AND, 0xffff0000).reinterpretAsFloats();
            int xc = xi + c * ldx;
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
            a100 = b.fma(w0, a100); a101 = b.fma(w1, a101);
            b = FloatVector.broadcast(F, x[xc + 11]);
            a110 = b.fma(w0, a110); a111 = b.fma(w1, a111);
        }
        a00.intoArray(acc, ai0); a01.intoArray(acc, ai1);
        a10.intoArray(acc, ai0 + PANEL); a11.intoArray(acc, ai1 + PANEL);
        a20.intoArray(acc, ai0 + 2 * PANEL); a21.intoArray(acc, ai1 + 2 * PANEL);
        a30.intoArray(acc, ai0 + 3 * PANEL); a31.intoArray(acc, ai1 + 3 * PANEL);
        a40.intoArray(acc, ai0 + 4 * PANEL); a41.intoArray(acc, ai1 + 4 * PANEL);
        a50.intoArray(acc, ai0 + 5 * PANEL); a51.intoArray(acc, ai1 + 5 * PANEL);
        a60.intoArray(acc, ai0 + 6 * PANEL); a61.intoArray(acc, ai1 + 6 * PANEL);
        a70.intoArray(acc, ai0 + 7 * PANEL); a71.intoArray(acc, ai1 + 7 * PANEL);
        a80.intoArray(acc, ai0 + 8 * PANEL); a81.intoArray(acc, ai1 + 8 * PANEL);
        a90.intoArray(acc, ai0 + 9 * PANEL); a91.intoArray(acc, ai1 + 9 * PANEL);
        a100.intoArray(acc, ai0 + 10 * PANEL); a101.intoArray(acc, ai1 + 10 * PANEL);
        a110.intoArray(acc, ai0 + 11 * PANEL); a111.intoArray(acc, ai1 + 11 * PANEL);
    }

    /** {@link #tile4} on bf16 pairs: the int at wi + c * HALF holds the weights of accumulators 0 (low half) and 1 (high). */
    private static void tile4Bf16(int count, int[] w, int wi, float[] x, int xi, int ldx, float[] acc, int ai0, int ai1, boolean first) {
        FloatVector a00 = start(acc, ai0, first), a01 = start(acc, ai1, first);
        FloatVector a10 = start(acc, ai0 + PANEL, first), a11 = start(acc, ai1 + PANEL, first);
        FloatVector a20 = start(acc, ai0 + 2 * PANEL, first), a21 = start(acc, ai1 + 2 * PANEL, first);
        FloatVector a30 = start(acc, ai0 + 3 * PANEL, first), a31 = start(acc, ai1 + 3 * PANEL, first);
        for (int c = 0; c < count; c++) {
            IntVector v = IntVector.fromArray(I, w, wi + c * HALF);
            FloatVector w0 = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector w1 = v.lanewise(VectorOperators.AND, 0xffff0000).reinterpretAsFloats();
            int xc = xi + c * ldx;
            FloatVector b = FloatVector.broadcast(F, x[xc]);
            a00 = b.fma(w0, a00); a01 = b.fma(w1, a01);
            b = FloatVector.broadcast(F, x[xc + 1]);
            a10 = b.fma(w0, a10); a11 = b.fma(w1, a11);
            b = FloatVector.broadcast(F, x[xc + 2]);
            a20 = b.fma(w0, a20); a21 = b.fma(w1, a21);
            b = FloatVector.broadcast(F, x[xc + 3]);
            a30 = b.fma(w0, a30); a31 = b.fma(w1, a31);
        }
        a00.intoArray(acc, ai0); a01.intoArray(acc, ai1);
        a10.intoArray(acc, ai0 + PANEL); a11.intoArray(acc, ai1 + PANEL);
        a20.intoArray(acc, ai0 + 2 * PANEL); a21.intoArray(acc, ai1 + 2 * PANEL);
        a30.intoArray(acc, ai0 + 3 * PANEL); a31.intoArray(acc, ai1 + 3 * PANEL);
    }

    /** {@link #tile1} on bf16 pairs: the int at wi + c * HALF holds the weights of accumulators 0 (low half) and 1 (high). */
    private static void tile1Bf16(int count, int[] w, int wi, float[] x, int xi, int ldx, float[] acc, int ai0, int ai1, boolean first) {
        FloatVector a00 = start(acc, ai0, first), a01 = start(acc, ai1, first);
        for (int c = 0; c < count; c++) {
            IntVector v = IntVector.fromArray(I, w, wi + c * HALF);
            FloatVector w0 = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector w1 = v.lanewise(VectorOperators.AND, 0xffff0000).reinterpretAsFloats();
            FloatVector b = FloatVector.broadcast(F, x[xi + c * ldx]);
            a00 = b.fma(w0, a00); a01 = b.fma(w1, a01);
        }
        a00.intoArray(acc, ai0); a01.intoArray(acc, ai1);
    }
}
