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

/**
 * {@link Bf16Gemm} on the Vector API. A vector of bf16 weights is widened to float32 by sign-extending each short to
 * an int and shifting it into the high half (exact). One input row (a decode step at batch 1) takes fma dot products
 * straight from the widened vectors; several widen each weight row once into a per-thread buffer that stays in L1
 * while every input row's dot product reads it, so each weight is read from memory once per call whatever n is.
 * Four input rows at a time share each load of the widened row and run eight independent fma chains. Threads split
 * the weight rows.
 *
 * <p>Every dot product runs the same arithmetic: two accumulators taking alternate vectors, added, reduced by
 * {@link Lanes#sum}, then the scalar tail in order. So the result of a row does not depend on n (batched decoding
 * gives the same bits as decoding alone) nor on JIT state.
 */
public final class VectorBf16Gemm implements Bf16Gemm {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    /** Weights per task: below this a pool hop costs more than the work. */
    private static final int MIN_TASK_WEIGHTS = 1 << 16;

    /** Per-thread widened weight row, (cols). */
    private static final ThreadLocal<float[]> ROW = ThreadLocal.withInitial(() -> new float[0]);

    private static float[] scratch(int cols) {
        float[] r = ROW.get();
        if (r.length < cols) {
            r = new float[cols];
            ROW.set(r);
        }
        return r;
    }

    @Override public String name() { return "java-vector(" + F.vectorBitSize() + "-bit)"; }

    @Override
    public void gemm(int n, int rows, int cols, float[] x, int xOff, short[] w, int wOff, float[] out, int outOff) {
        Bf16Gemm.check(n, rows, cols, x, xOff, w, wOff, out, outOff);
        if (n == 0 || rows == 0) return;
        int grain = Math.max(1, MIN_TASK_WEIGHTS / Math.max(1, cols));
        Parallel.forRange(rows, grain, (j0, j1) -> {
            float[] wf = n == 1 ? null : scratch(cols);
            for (int j = j0; j < j1; j++) {
                int wr = wOff + j * cols;
                if (n == 1) {
                    out[outOff + j] = dot1(cols, x, xOff, w, wr);
                    continue;
                }
                widenRow(w, wr, cols, wf); // once per weight row, read from L1 by every input row
                int i = 0;
                for (; i + 4 <= n; i += 4) dot4Widened(cols, x, xOff + i * cols, wf, out, outOff + i * rows + j, rows);
                for (; i < n; i++) out[outOff + i * rows + j] = dotWidened(cols, x, xOff + i * cols, wf);
            }
        });
    }

    /** The weights w[wi, wi + L) as floats. */
    private static FloatVector widen(short[] w, int wi) {
        return ((IntVector) ShortVector.fromArray(S, w, wi).convertShape(VectorOperators.S2I, I, 0))
                .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    static float dot1(int k, float[] x, int xi, short[] w, int wi) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        int p = 0, bound2 = k - k % (2 * L), bound = k - k % L;
        for (; p < bound2; p += 2 * L) {
            a0 = FloatVector.fromArray(F, x, xi + p).fma(widen(w, wi + p), a0);
            a1 = FloatVector.fromArray(F, x, xi + p + L).fma(widen(w, wi + p + L), a1);
        }
        if (p < bound) {
            a0 = FloatVector.fromArray(F, x, xi + p).fma(widen(w, wi + p), a0);
            p += L;
        }
        float s = Lanes.sum(a0.add(a1));
        for (; p < k; p++) s += x[xi + p] * Bf16.toFloat(w[wi + p]);
        return s;
    }

    /** dst[0, k) = the weights w[wi, wi + k) as floats (exact). */
    private static void widenRow(short[] w, int wi, int k, float[] dst) {
        int p = 0, bound = k - k % L;
        for (; p < bound; p += L) widen(w, wi + p).intoArray(dst, p);
        for (; p < k; p++) dst[p] = Bf16.toFloat(w[wi + p]);
    }

    /** dot1 with the weight row already widened: the same operations in the same order, so the same bits. */
    static float dotWidened(int k, float[] x, int xi, float[] wf) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        int p = 0, bound2 = k - k % (2 * L), bound = k - k % L;
        for (; p < bound2; p += 2 * L) {
            a0 = FloatVector.fromArray(F, x, xi + p).fma(FloatVector.fromArray(F, wf, p), a0);
            a1 = FloatVector.fromArray(F, x, xi + p + L).fma(FloatVector.fromArray(F, wf, p + L), a1);
        }
        if (p < bound) {
            a0 = FloatVector.fromArray(F, x, xi + p).fma(FloatVector.fromArray(F, wf, p), a0);
            p += L;
        }
        float s = Lanes.sum(a0.add(a1));
        for (; p < k; p++) s += x[xi + p] * wf[p];
        return s;
    }

    /**
     * Four rows of x (stride k) against the widened weight row: each row's two accumulators and order as in dot1, so
     * the same bits; eight independent fma chains hide the fma latency that bounds a single dot product.
     */
    private static void dot4Widened(int k, float[] x, int xi, float[] wf, float[] out, int oi, int oStride) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
        int p = 0, bound2 = k - k % (2 * L), bound = k - k % L;
        int x1 = xi + k, x2 = xi + 2 * k, x3 = xi + 3 * k;
        for (; p < bound2; p += 2 * L) {
            FloatVector v0 = FloatVector.fromArray(F, wf, p), v1 = FloatVector.fromArray(F, wf, p + L);
            a0 = FloatVector.fromArray(F, x, xi + p).fma(v0, a0);
            a1 = FloatVector.fromArray(F, x, xi + p + L).fma(v1, a1);
            b0 = FloatVector.fromArray(F, x, x1 + p).fma(v0, b0);
            b1 = FloatVector.fromArray(F, x, x1 + p + L).fma(v1, b1);
            c0 = FloatVector.fromArray(F, x, x2 + p).fma(v0, c0);
            c1 = FloatVector.fromArray(F, x, x2 + p + L).fma(v1, c1);
            d0 = FloatVector.fromArray(F, x, x3 + p).fma(v0, d0);
            d1 = FloatVector.fromArray(F, x, x3 + p + L).fma(v1, d1);
        }
        if (p < bound) {
            FloatVector v0 = FloatVector.fromArray(F, wf, p);
            a0 = FloatVector.fromArray(F, x, xi + p).fma(v0, a0);
            b0 = FloatVector.fromArray(F, x, x1 + p).fma(v0, b0);
            c0 = FloatVector.fromArray(F, x, x2 + p).fma(v0, c0);
            d0 = FloatVector.fromArray(F, x, x3 + p).fma(v0, d0);
            p += L;
        }
        float sa = Lanes.sum(a0.add(a1)), sb = Lanes.sum(b0.add(b1)), sc = Lanes.sum(c0.add(c1)), sd = Lanes.sum(d0.add(d1));
        for (; p < k; p++) {
            sa += x[xi + p] * wf[p];
            sb += x[x1 + p] * wf[p];
            sc += x[x2 + p] * wf[p];
            sd += x[x3 + p] * wf[p];
        }
        out[oi] = sa;
        out[oi + oStride] = sb;
        out[oi + 2 * oStride] = sc;
        out[oi + 3 * oStride] = sd;
    }
}
