package rat4j.kernel.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import rat4j.kernel.Bf16;
import rat4j.kernel.Bf16Gemm;
import rat4j.kernel.Parallel;

import static rat4j.kernel.simd.TileAccumulators.start;

/**
 * {@link Bf16Gemm} on the Vector API. A vector of bf16 weights is widened to float32 as it is loaded, by
 * sign-extending each short to an int and shifting it into the high half (exact), so W is read once, at half the
 * bytes of float32, and never copied.
 * Each thread takes a contiguous range of W's rows (split at multiples of four) and walks it four weight rows at a
 * time: those rows are read from memory once and dotted with every input row, four input rows at a time (a 4 x 4
 * tile: 16 independent fma chains over 4 + 4 loads, blocked over the columns to stay in L1) and the rest one by one
 * (a 1 x 4 tile). A GEMV (n = 1) thus streams four rows of W at once on every core.
 *
 * <p>Every output is computed with the same arithmetic, whichever tile computes it: one accumulator taking the
 * vectors of its dot product in order, reduced by {@link Lanes#sum}, then the scalar tail in order. So a row's result
 * does not depend on n (batched decoding gives the same bits as decoding alone), on the thread split, nor on JIT state.
 */
public final class VectorBf16Gemm implements Bf16Gemm {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    /** Weights per task: below this a pool hop costs more than streaming them. */
    static final int MIN_TASK_WEIGHTS = 1 << 16;
    /** Columns per block of a 4 x 4 tile: 16 input rows of KB floats and 4 weight rows fit L1 (48 KiB) together. */
    static final int KB = 32 * L;

    @Override public String name() { return "java-vector(" + F.vectorBitSize() + "-bit)"; }

    @Override
    public void gemm(int n, int rows, int cols, float[] x, int xOff, short[] w, int wOff, float[] out, int outOff) {
        Bf16Gemm.check(n, rows, cols, x, xOff, w, wOff, out, outOff);
        if (n == 0 || rows == 0) return;
        int quads = Math.ceilDiv(rows, 4), grain = Math.max(1, MIN_TASK_WEIGHTS / Math.max(1, 4 * cols));
        Parallel.forRange(quads, grain, (q0, q1) -> rowsOf(n, rows, cols, x, xOff, w, wOff, out, outOff, 4 * q0, Math.min(rows, 4 * q1)));
    }

    /** The weights w[wi, wi + L) as floats. */
    private static FloatVector widen(short[] w, int wi) {
        return ((IntVector) ShortVector.fromArray(S, w, wi).convertShape(VectorOperators.S2I, I, 0))
                .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /**
     * Output columns [j0, j1) of all n rows, four weight rows at a time (read from memory once). Four input rows at a
     * time go through 4 x 4 tiles, the vector part in blocks of KB columns so that the block of the four weight rows
     * and of all input rows stays in L1 (for n = 16 the input rows alone fill L1 at 768 columns); the accumulators
     * wait in acc between blocks, which stores them exactly. Leftover input rows take a 1 x 4 tile over all columns.
     */
    private static void rowsOf(int n, int rows, int k, float[] x, int xOff, short[] w, int wOff, float[] out, int outOff, int j0, int j1) {
        int quadsOfX = n / 4, bound = k - k % L;
        float[] acc = quadsOfX == 0 ? null : TileAccumulators.scratch(quadsOfX * 16 * L);
        int j = j0;
        for (; j + 4 <= j1; j += 4) {
            int wi = wOff + j * k;
            for (int p0 = 0; p0 < bound || p0 == 0; p0 += KB) { // once even when there is no vector part, to zero acc
                int p1 = Math.min(bound, p0 + KB);
                for (int q = 0; q < quadsOfX; q++) tile44(k, p0, p1, x, xOff + 4 * q * k, w, wi, acc, q * 16 * L);
            }
            for (int q = 0; q < quadsOfX; q++) {
                for (int t = 0; t < 16; t++) {
                    int a = t / 4, b = t % 4, xi = xOff + (4 * q + a) * k;
                    float s = Lanes.sum(FloatVector.fromArray(F, acc, (q * 16 + t) * L));
                    out[outOff + (4 * q + a) * rows + j + b] = finish(s, k, bound, x, xi, w, wi + b * k);
                }
            }
            for (int i = 4 * quadsOfX; i < n; i++) tile14(k, x, xOff + i * k, w, wi, out, outOff + i * rows + j);
        }
        for (; j < j1; j++) {
            for (int i = 0; i < n; i++) out[outOff + i * rows + j] = dot(k, x, xOff + i * k, w, wOff + j * k);
        }
    }

    /**
     * The 4 x 4 tile of x rows (xi step k) by w rows (wi step k) over [p0, p1), a block of the vector part: its 16
     * accumulators start from acc[ai, ai + 16L) (zero when p0 = 0) and end there, (4 x rows, 4 w rows, L).
     */
    private static void tile44(int k, int p0, int p1, float[] x, int xi, short[] w, int wi, float[] acc, int ai) {
        FloatVector a00 = start(acc, ai, 0, p0), a01 = start(acc, ai, 1, p0), a02 = start(acc, ai, 2, p0), a03 = start(acc, ai, 3, p0);
        FloatVector a10 = start(acc, ai, 4, p0), a11 = start(acc, ai, 5, p0), a12 = start(acc, ai, 6, p0), a13 = start(acc, ai, 7, p0);
        FloatVector a20 = start(acc, ai, 8, p0), a21 = start(acc, ai, 9, p0), a22 = start(acc, ai, 10, p0), a23 = start(acc, ai, 11, p0);
        FloatVector a30 = start(acc, ai, 12, p0), a31 = start(acc, ai, 13, p0), a32 = start(acc, ai, 14, p0), a33 = start(acc, ai, 15, p0);
        int w1 = wi + k, w2 = wi + 2 * k, w3 = wi + 3 * k, x1 = xi + k, x2 = xi + 2 * k, x3 = xi + 3 * k;
        for (int p = p0; p < p1; p += L) {
            FloatVector v0 = widen(w, wi + p), v1 = widen(w, w1 + p);
            FloatVector v2 = widen(w, w2 + p), v3 = widen(w, w3 + p);
            FloatVector u = FloatVector.fromArray(F, x, xi + p);
            a00 = u.fma(v0, a00); a01 = u.fma(v1, a01); a02 = u.fma(v2, a02); a03 = u.fma(v3, a03);
            u = FloatVector.fromArray(F, x, x1 + p);
            a10 = u.fma(v0, a10); a11 = u.fma(v1, a11); a12 = u.fma(v2, a12); a13 = u.fma(v3, a13);
            u = FloatVector.fromArray(F, x, x2 + p);
            a20 = u.fma(v0, a20); a21 = u.fma(v1, a21); a22 = u.fma(v2, a22); a23 = u.fma(v3, a23);
            u = FloatVector.fromArray(F, x, x3 + p);
            a30 = u.fma(v0, a30); a31 = u.fma(v1, a31); a32 = u.fma(v2, a32); a33 = u.fma(v3, a33);
        }
        a00.intoArray(acc, ai + 0 * L);
        a01.intoArray(acc, ai + 1 * L);
        a02.intoArray(acc, ai + 2 * L);
        a03.intoArray(acc, ai + 3 * L);
        a10.intoArray(acc, ai + 4 * L);
        a11.intoArray(acc, ai + 5 * L);
        a12.intoArray(acc, ai + 6 * L);
        a13.intoArray(acc, ai + 7 * L);
        a20.intoArray(acc, ai + 8 * L);
        a21.intoArray(acc, ai + 9 * L);
        a22.intoArray(acc, ai + 10 * L);
        a23.intoArray(acc, ai + 11 * L);
        a30.intoArray(acc, ai + 12 * L);
        a31.intoArray(acc, ai + 13 * L);
        a32.intoArray(acc, ai + 14 * L);
        a33.intoArray(acc, ai + 15 * L);
    }

    /** out[oi + b] = x row . w row b for b < 4: a GEMV's tile, four fma chains over four weight streams. */
    private static void tile14(int k, float[] x, int xi, short[] w, int wi, float[] out, int oi) {
        FloatVector zero = FloatVector.zero(F);
        FloatVector a0 = zero, a1 = zero, a2 = zero, a3 = zero;
        int bound = k - k % L, w1 = wi + k, w2 = wi + 2 * k, w3 = wi + 3 * k;
        for (int p = 0; p < bound; p += L) {
            FloatVector u = FloatVector.fromArray(F, x, xi + p);
            a0 = u.fma(widen(w, wi + p), a0);
            a1 = u.fma(widen(w, w1 + p), a1);
            a2 = u.fma(widen(w, w2 + p), a2);
            a3 = u.fma(widen(w, w3 + p), a3);
        }
        out[oi] = finish(Lanes.sum(a0), k, bound, x, xi, w, wi);
        out[oi + 1] = finish(Lanes.sum(a1), k, bound, x, xi, w, w1);
        out[oi + 2] = finish(Lanes.sum(a2), k, bound, x, xi, w, w2);
        out[oi + 3] = finish(Lanes.sum(a3), k, bound, x, xi, w, w3);
    }

    /** One dot product x[xi, xi + k) . w[wi, wi + k): the arithmetic every tile does for each of its outputs. */
    static float dot(int k, float[] x, int xi, short[] w, int wi) {
        FloatVector a = FloatVector.zero(F);
        int bound = k - k % L;
        for (int p = 0; p < bound; p += L) a = FloatVector.fromArray(F, x, xi + p).fma(widen(w, wi + p), a);
        return finish(Lanes.sum(a), k, bound, x, xi, w, wi);
    }

    /** s, an accumulator's lanes summed in Lanes' fixed order, plus the scalar tail [p, k) in order. */
    private static float finish(float s, int k, int p, float[] x, int xi, short[] w, int wi) {
        for (; p < k; p++) s += x[xi + p] * Bf16.toFloat(w[wi + p]);
        return s;
    }
}
