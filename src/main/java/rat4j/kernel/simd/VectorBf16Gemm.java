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
 * (A four-row register-blocked variant was 8x slower: C2 gave up on it and the vectors were boxed.) Threads split the
 * weight rows.
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
                for (int i = 0; i < n; i++) out[outOff + i * rows + j] = dotWidened(cols, x, xOff + i * cols, wf);
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
}
