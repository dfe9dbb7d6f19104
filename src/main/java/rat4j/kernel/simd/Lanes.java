package rat4j.kernel.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Lane reductions and exp whose results do not depend on whether the JIT has compiled the code yet.
 * The Vector API's reduceLanes(ADD) sums in lane order when interpreted but as a tree when intrinsified, and
 * lanewise(EXP) calls Math.exp per lane when interpreted but a vector math library when compiled: both change the
 * last bits between the first calls and later ones, which breaks bit-identical runs (a resumed training run starts
 * cold). Here only element-wise add, mul, fma, compare and lane rearrangements are used, which are exact in both modes.
 */
final class Lanes {
    private Lanes() {}

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /** shuffles[s] swaps lanes i and i ^ (1 << s): a fixed pairwise tree. */
    private static final VectorShuffle<Float>[] SWAPS = swaps();

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static VectorShuffle<Float>[] swaps() {
        int n = F.length(), levels = Integer.numberOfTrailingZeros(n);
        VectorShuffle<Float>[] s = new VectorShuffle[levels];
        for (int l = 0; l < levels; l++) {
            int bit = 1 << l;
            s[l] = VectorShuffle.fromOp(F, i -> i ^ bit);
        }
        return s;
    }

    /** The sum of the lanes in a fixed pairwise order. */
    static float sum(FloatVector v) {
        for (int l = SWAPS.length - 1; l >= 0; l--) v = v.add(v.rearrange(SWAPS[l]));
        return v.lane(0);
    }

    // Cephes expf: exp(x) = 2^n exp(r), r = x - n ln2 (ln2 split in two for exactness), exp(r) by a degree-7 polynomial.
    private static final float LOG2E = 1.44269504088896341f, LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    // MAX keeps 2^n normal (n <= 127); beyond it +inf, which softmax never meets (its arguments are <= 0)
    private static final float MAX = 88.0f, MIN = -87.3365447504f;
    private static final float ROUNDER = 12582912f;
    private static final FloatVector ZERO = FloatVector.zero(F), INFINITY = FloatVector.broadcast(F, Float.POSITIVE_INFINITY); // 1.5 * 2^23: adding and subtracting it rounds to the nearest integer

    /** exp of every lane, within ~2 ulp; 0 below -87.3 (so exp(-inf) = 0), +inf above 88, NaN stays NaN. */
    static FloatVector exp(FloatVector x) {
        VectorMask<Float> under = x.compare(VectorOperators.LT, MIN), over = x.compare(VectorOperators.GT, MAX);
        FloatVector xc = x.max(MIN).min(MAX);
        FloatVector n = xc.mul(LOG2E).add(ROUNDER).sub(ROUNDER);
        FloatVector r = n.fma(FloatVector.broadcast(F, -LN2_HI), xc);
        r = n.fma(FloatVector.broadcast(F, -LN2_LO), r);
        FloatVector p = FloatVector.broadcast(F, 1.9875691500e-4f);
        p = p.fma(r, FloatVector.broadcast(F, 1.3981999507e-3f));
        p = p.fma(r, FloatVector.broadcast(F, 8.3334519073e-3f));
        p = p.fma(r, FloatVector.broadcast(F, 4.1665795894e-2f));
        p = p.fma(r, FloatVector.broadcast(F, 1.6666665459e-1f));
        p = p.fma(r, FloatVector.broadcast(F, 5.0000001201e-1f));
        FloatVector e = p.mul(r.mul(r)).add(r).add(1f);
        IntVector pow2 = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        FloatVector scale = pow2.reinterpretAsFloats();
        // NaN needs no case of its own: it passes through max/min and the polynomial
        return e.mul(scale).blend(ZERO, under).blend(INFINITY, over);
    }

    /** The same function for one float, for the tails of vector loops, so a value never depends on its lane. */
    static float exp(float x) {
        if (Float.isNaN(x)) return x;
        if (x < MIN) return 0f;
        if (x > MAX) return Float.POSITIVE_INFINITY;
        float n = (x * LOG2E + ROUNDER) - ROUNDER;
        float r = Math.fma(n, -LN2_HI, x);
        r = Math.fma(n, -LN2_LO, r);
        float p = 1.9875691500e-4f;
        p = Math.fma(p, r, 1.3981999507e-3f);
        p = Math.fma(p, r, 8.3334519073e-3f);
        p = Math.fma(p, r, 4.1665795894e-2f);
        p = Math.fma(p, r, 1.6666665459e-1f);
        p = Math.fma(p, r, 5.0000001201e-1f);
        float e = p * (r * r) + r + 1f;
        return e * Float.intBitsToFloat(((int) n + 127) << 23);
    }
}
