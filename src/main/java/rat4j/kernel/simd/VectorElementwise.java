package rat4j.kernel.simd;

import java.util.Arrays;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import rat4j.kernel.Elementwise;
import rat4j.kernel.Strided;

/**
 * Vector API element-wise kernels: the same formulas as {@link rat4j.kernel.NaiveElementwise} (the erfc Chebyshev
 * fit for GELU), in float, with {@link Lanes#exp} so results do not change when the JIT compiles them. Tails run the
 * scalar twin of each formula, so a value never depends on its position. The scan and RoPE use the reference's
 * exact operations (no fma), so they match it bit for bit.
 */
public final class VectorElementwise implements Elementwise {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final FloatVector ONE = FloatVector.broadcast(F, 1f), ZERO = FloatVector.zero(F);
    private static final float INV_SQRT2 = 0.70710677f, INV_SQRT_2PI = 0.3989423f;

    @Override public String name() { return "java-vector(" + F.vectorBitSize() + "-bit)"; }

    @Override public float max(float[] x, int off, int n) {
        // Four independent chains keep several loads in flight (a row of logits, or memory, streams at full speed);
        // max is exact in any order, so the result does not depend on the split.
        FloatVector m0 = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY), m1 = m0, m2 = m0, m3 = m0;
        int i = 0, len = F.length(), bound4 = n - n % (4 * len), bound = F.loopBound(n);
        for (; i < bound4; i += 4 * len) {
            m0 = m0.max(FloatVector.fromArray(F, x, off + i));
            m1 = m1.max(FloatVector.fromArray(F, x, off + i + len));
            m2 = m2.max(FloatVector.fromArray(F, x, off + i + 2 * len));
            m3 = m3.max(FloatVector.fromArray(F, x, off + i + 3 * len));
        }
        for (; i < bound; i += len) m0 = m0.max(FloatVector.fromArray(F, x, off + i));
        float r = m0.max(m1).max(m2.max(m3)).reduceLanes(VectorOperators.MAX);
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

    @Override public void sigmoid(float[] x, int xOff, float[] bias, int bOff, float[] out, int outOff, int n) {
        int i = 0, bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            FloatVector v = FloatVector.fromArray(F, x, xOff + i);
            if (bias != null) v = v.add(FloatVector.fromArray(F, bias, bOff + i));
            ONE.div(Lanes.exp(v.neg()).add(1f)).intoArray(out, outOff + i); // 1 / (1 + e^-v): +inf gives 0, 0 gives 1
        }
        for (; i < n; i++) {
            float v = bias == null ? x[xOff + i] : x[xOff + i] + bias[bOff + i];
            out[outOff + i] = 1f / (1f + Lanes.exp(-v));
        }
    }

    /**
     * Row by row, all n channels of a row before the next: the rows lie a row stride apart (C floats, often a
     * multiple of 4 KiB) while a row's channels are contiguous, so the reads are short sequential streams that the
     * prefetchers follow, and the n / V vector chains of a row are independent. (Channels outside and rows inside kept
     * one chain in flight and walked down a column one page per row: 13-18 GB/s in ScanBench.) The state h_{r-1} is
     * read back from h's previous row, just written and still in L1; each element's arithmetic and its order are
     * those of the row recurrence, so the bits do not depend on the loop order.
     */
    @Override public void scanForward(Strided h, Strided g, Strided u, int rows, int chunkLen, int n) {
        float[] hd = h.data(), gd = g.data(), ud = u.data();
        int bound = F.loopBound(n);
        for (int r = 0; r < rows; r++) {
            int gi = g.row(r), ui = u.row(r), hi = h.row(r), j = 0;
            // a chunk's first row (h_{-1} = 0) in a loop of its own: choosing prev = 0 by a test inside the row loop
            // ran a third slower (ScanBench.forward, alternating: 34/33 vs 24/24 GB/s at L = 16)
            if (r % chunkLen == 0) {
                for (; j < bound; j += F.length()) {
                    FloatVector gv = FloatVector.fromArray(F, gd, gi + j);
                    gv.mul(ZERO).add(ONE.sub(gv).mul(FloatVector.fromArray(F, ud, ui + j))).intoArray(hd, hi + j);
                }
                for (; j < n; j++) hd[hi + j] = gd[gi + j] * 0f + (1f - gd[gi + j]) * ud[ui + j];
                continue;
            }
            int pi = h.row(r - 1);
            for (; j < bound; j += F.length()) {
                FloatVector gv = FloatVector.fromArray(F, gd, gi + j), prev = FloatVector.fromArray(F, hd, pi + j);
                gv.mul(prev).add(ONE.sub(gv).mul(FloatVector.fromArray(F, ud, ui + j))).intoArray(hd, hi + j); // g h + (1-g) u
            }
            for (; j < n; j++) hd[hi + j] = gd[gi + j] * hd[pi + j] + (1f - gd[gi + j]) * ud[ui + j];
        }
    }

    /**
     * Row by row from each chunk's last row back to its first, all n channels of a row at once (see scanForward);
     * the carry g_{r+1} dH_{r+1} of every channel waits in a scratch row.
     */
    @Override public void scanBackward(Strided du, Strided dg, Strided dh, Strided h, Strided g, Strided u, int rows, int chunkLen, int n) {
        float[] dud = du.data(), dgd = dg.data(), dhd = dh.data(), hd = h.data(), gd = g.data(), ud = u.data();
        float[] carry = new float[n];
        int bound = F.loopBound(n);
        for (int s = 0; s < rows; s += chunkLen) {
            int e = Math.min(rows, s + chunkLen);
            Arrays.fill(carry, 0f);
            for (int r = e - 1; r >= s; r--) {
                int dui = du.row(r), dgi = dg.row(r), dhi = dh.row(r), gi = g.row(r), ui = u.row(r), pi = r == s ? -1 : h.row(r - 1), j = 0;
                for (; j < bound; j += F.length()) {
                    // the chunk's first row: h_{-1} = 0
                    FloatVector prev = pi < 0 ? ZERO : FloatVector.fromArray(F, hd, pi + j);
                    scanBackStep(dud, dui + j, dgd, dgi + j, dhd, dhi + j, prev, gd, gi + j, ud, ui + j,
                            FloatVector.fromArray(F, carry, j)).intoArray(carry, j);
                }
                for (; j < n; j++) {
                    float gv = gd[gi + j];
                    float dH = dhd[dhi + j] + carry[j];
                    float prev = pi < 0 ? 0f : hd[pi + j];
                    dud[dui + j] += (1f - gv) * dH;
                    dgd[dgi + j] += dH * (prev - ud[ui + j]);
                    carry[j] = gv * dH;
                }
            }
        }
    }

    /** One row of the scan backward on a vector of channels; returns the carry g dH for the row before. */
    private static FloatVector scanBackStep(float[] dud, int dui, float[] dgd, int dgi, float[] dhd, int dhi, FloatVector prev,
                                            float[] gd, int gi, float[] ud, int ui, FloatVector carry) {
        FloatVector gv = FloatVector.fromArray(F, gd, gi);
        FloatVector dH = FloatVector.fromArray(F, dhd, dhi).add(carry);
        FloatVector.fromArray(F, dud, dui).add(ONE.sub(gv).mul(dH)).intoArray(dud, dui);                               // du += (1-g) dH
        FloatVector.fromArray(F, dgd, dgi).add(dH.mul(prev.sub(FloatVector.fromArray(F, ud, ui)))).intoArray(dgd, dgi); // dg += dH (h_{t-1} - u)
        return gv.mul(dH);
    }

    @Override public void rotateHalf(float[] a, int off, int heads, int half, float[] cos, float[] sin, int tab, boolean inverse) {
        int bound = F.loopBound(half);
        for (int hd = 0; hd < heads; hd++) {
            int o = off + hd * 2 * half, i = 0;
            for (; i < bound; i += F.length()) {
                FloatVector c = FloatVector.fromArray(F, cos, tab + i), s = FloatVector.fromArray(F, sin, tab + i);
                if (inverse) s = s.neg();
                FloatVector x1 = FloatVector.fromArray(F, a, o + i), x2 = FloatVector.fromArray(F, a, o + i + half);
                x1.mul(c).sub(x2.mul(s)).intoArray(a, o + i);
                x2.mul(c).add(x1.mul(s)).intoArray(a, o + i + half);
            }
            for (; i < half; i++) {
                float c = cos[tab + i], s = inverse ? -sin[tab + i] : sin[tab + i];
                float x1 = a[o + i], x2 = a[o + i + half];
                a[o + i] = x1 * c - x2 * s;
                a[o + i + half] = x2 * c + x1 * s;
            }
        }
    }
}
