package rat4j.kernel.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import rat4j.kernel.Elementwise;

/**
 * Vector API element-wise kernels: the same formulas as {@link rat4j.kernel.NaiveElementwise} (the erfc Chebyshev
 * fit for GELU), in float, with {@link Lanes#exp} so results do not change when the JIT compiles them. Tails run the
 * scalar twin of each formula, so a value never depends on its position.
 */
public final class VectorElementwise implements Elementwise {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final float INV_SQRT2 = 0.70710677f, INV_SQRT_2PI = 0.3989423f;

    @Override public String name() { return "java-vector(" + F.vectorBitSize() + "-bit)"; }

    @Override public float max(float[] x, int off, int n) {
        FloatVector m = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int i = 0, bound = F.loopBound(n);
        for (; i < bound; i += F.length()) m = m.max(FloatVector.fromArray(F, x, off + i));
        float r = m.reduceLanes(VectorOperators.MAX); // max is exact in any order
        for (; i < n; i++) r = Math.max(r, x[off + i]);
        return r;
    }

    @Override public float expShifted(float[] x, int xOff, float shift, float[] out, int outOff, int n) {
        FloatVector sum = FloatVector.zero(F);
        int i = 0, bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            FloatVector e = Lanes.exp(FloatVector.fromArray(F, x, xOff + i).sub(shift));
            e.intoArray(out, outOff + i);
            sum = sum.add(e);
        }
        float r = Lanes.sum(sum);
        for (; i < n; i++) r += out[outOff + i] = Lanes.exp(x[xOff + i] - shift);
        return r;
    }

    /** erfc(u) by the Chebyshev fit (fractional error < 1.2e-7). */
    private static FloatVector erfc(FloatVector u) {
        FloatVector z = u.abs();
        FloatVector t = FloatVector.broadcast(F, 1f).div(z.fma(FloatVector.broadcast(F, 0.5f), FloatVector.broadcast(F, 1f)));
        FloatVector p = FloatVector.broadcast(F, 0.17087277f);
        p = p.fma(t, FloatVector.broadcast(F, -0.82215223f));
        p = p.fma(t, FloatVector.broadcast(F, 1.48851587f));
        p = p.fma(t, FloatVector.broadcast(F, -1.13520398f));
        p = p.fma(t, FloatVector.broadcast(F, 0.27886807f));
        p = p.fma(t, FloatVector.broadcast(F, -0.18628806f));
        p = p.fma(t, FloatVector.broadcast(F, 0.09678418f));
        p = p.fma(t, FloatVector.broadcast(F, 0.37409196f));
        p = p.fma(t, FloatVector.broadcast(F, 1.00002368f));
        p = p.fma(t, FloatVector.broadcast(F, -1.26551223f));
        FloatVector ans = t.mul(Lanes.exp(p.sub(z.mul(z))));
        VectorMask<Float> negative = u.compare(VectorOperators.LT, 0f);
        return ans.blend(FloatVector.broadcast(F, 2f).sub(ans), negative);
    }

    private static float erfc(float u) {
        float z = Math.abs(u);
        float t = 1f / Math.fma(z, 0.5f, 1f);
        float p = 0.17087277f;
        p = Math.fma(p, t, -0.82215223f);
        p = Math.fma(p, t, 1.48851587f);
        p = Math.fma(p, t, -1.13520398f);
        p = Math.fma(p, t, 0.27886807f);
        p = Math.fma(p, t, -0.18628806f);
        p = Math.fma(p, t, 0.09678418f);
        p = Math.fma(p, t, 0.37409196f);
        p = Math.fma(p, t, 1.00002368f);
        p = Math.fma(p, t, -1.26551223f);
        float ans = t * Lanes.exp(p - z * z);
        return u < 0f ? 2f - ans : ans;
    }

    @Override public void gelu(float[] x, float[] out, int from, int to) {
        int i = from, bound = from + F.loopBound(to - from);
        for (; i < bound; i += F.length()) {
            FloatVector v = FloatVector.fromArray(F, x, i);
            v.mul(0.5f).mul(erfc(v.mul(-INV_SQRT2))).intoArray(out, i); // x * Phi(x), Phi(x) = erfc(-x / sqrt 2) / 2
        }
        for (; i < to; i++) out[i] = x[i] * 0.5f * erfc(x[i] * -INV_SQRT2);
    }

    @Override public void geluBackward(float[] x, float[] d, int from, int to) {
        int i = from, bound = from + F.loopBound(to - from);
        for (; i < bound; i += F.length()) {
            FloatVector v = FloatVector.fromArray(F, x, i);
            FloatVector cdf = erfc(v.mul(-INV_SQRT2)).mul(0.5f);
            FloatVector pdf = Lanes.exp(v.mul(v).mul(-0.5f)).mul(INV_SQRT_2PI);
            FloatVector.fromArray(F, d, i).mul(v.fma(pdf, cdf)).intoArray(d, i); // d *= Phi(x) + x phi(x)
        }
        for (; i < to; i++) {
            float v = x[i];
            d[i] *= Math.fma(v, Lanes.exp(v * v * -0.5f) * INV_SQRT_2PI, erfc(v * -INV_SQRT2) * 0.5f);
        }
    }
}
