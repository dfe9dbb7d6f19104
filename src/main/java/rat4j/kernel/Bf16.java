package rat4j.kernel;

import rat4j.tensor.Sizes;

/**
 * bfloat16: the top 16 bits of an IEEE float32 (sign, 8 exponent bits, 7 mantissa bits), stored in a short.
 * Widening is exact (shift into the high half); narrowing rounds to nearest, ties to even, as torch's
 * {@code tensor.to(torch.bfloat16)} does, so a model's bf16 weights here equal the reference's.
 */
public final class Bf16 {
    private Bf16() {}

    /** The bf16 nearest to x (ties to even); NaN stays NaN (quiet), infinities stay infinite. */
    public static short fromFloat(float x) {
        int bits = Float.floatToRawIntBits(x);
        if ((bits & 0x7fffffff) > 0x7f800000) return (short) ((bits >>> 16) | 0x40); // NaN: keep it quiet, never rounds to inf
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    public static float toFloat(short b) {
        return Float.intBitsToFloat(b << 16);
    }

    /** x rounded to the nearest bf16 value, as a float. */
    public static float round(float x) {
        return toFloat(fromFloat(x));
    }

    /** A bf16 copy of src[off, off + n), in parallel. */
    public static short[] fromFloats(float[] src, int off, int n) {
        Sizes.product(n); // n >= 0
        short[] out = new short[n];
        Parallel.forRange(n, 1 << 16, (from, to) -> {
            for (int i = from; i < to; i++) out[i] = fromFloat(src[off + i]);
        });
        return out;
    }
}
