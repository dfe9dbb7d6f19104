package rat4j.kernel.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Where the decode products' 4 x 4 tiles (VectorGemv on float32 weights, VectorBf16Gemm on bf16 ones) keep their
 * accumulators between column blocks: per-thread arrays grown on first use and then reused, so a step allocates
 * nothing. Storing a vector and loading it back is exact, so blocking does not change any bit.
 */
final class TileAccumulators {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final ThreadLocal<float[]> ACC = ThreadLocal.withInitial(() -> new float[0]);

    private TileAccumulators() {}

    /** This thread's accumulator array, at least size floats. */
    static float[] scratch(int size) {
        float[] a = ACC.get();
        if (a.length < size) {
            a = new float[size];
            ACC.set(a);
        }
        return a;
    }

    /** The accumulator {@code t} of a tile: zero at the first block, else where the previous block left it. */
    static FloatVector start(float[] acc, int ai, int t, int p0) {
        return p0 == 0 ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, ai + t * L);
    }
}
