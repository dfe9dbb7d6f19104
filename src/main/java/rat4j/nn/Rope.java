package rat4j.nn;

import rat4j.kernel.Elementwise;
import rat4j.kernel.Kernels;
import rat4j.kernel.Parallel;

/**
 * Rotary position embedding in the rotate-half convention (the reference's apply_rotary_pos_emb): for each head,
 * pairs (d, d + D/2) are rotated by angle pos * base^(-2d/D). Attention uses the token position, RAT the chunk index
 * (position / L) for every token of a chunk. Angles are computed in double, so the table is exact to float rounding.
 * One table serves all layers of a model and grows on demand.
 */
public final class Rope {
    private final int headDim;
    private final double base;
    private volatile float[][] table = {new float[0], new float[0]}; // cos, sin: (positions, D/2)

    public Rope(int headDim, double base) {
        if (headDim % 2 != 0) throw new IllegalArgumentException("RoPE needs an even head dimension, got " + headDim);
        this.headDim = headDim;
        this.base = base;
    }

    public int headDim() { return headDim; }

    /** Grows the table (doubling) so that it covers angle indices [0, n); shared by the layers of one model. */
    private float[][] covering(int n) {
        float[][] t = table;
        int half = headDim / 2;
        if (t[0].length >= (long) n * half) return t;
        synchronized (this) {
            t = table;
            int have = t[0].length / half;
            if (have >= n) return t;
            int positions = Math.max(n, Math.max(16, have * 2));
            float[] cos = new float[Math.multiplyExact(positions, half)], sin = new float[cos.length];
            for (int p = 0; p < positions; p++) {
                for (int i = 0; i < half; i++) {
                    double angle = p * Math.pow(base, -2.0 * i / headDim);
                    cos[p * half + i] = (float) Math.cos(angle);
                    sin[p * half + i] = (float) Math.sin(angle);
                }
            }
            table = t = new float[][] {cos, sin};
            return t;
        }
    }

    /**
     * Rotates in place rows of a (B, T, H, D) activation stored at a[off + (b*T + t)*stride + h*D + d].
     * Row t has angle index (posStart + t) / chunk (chunk = 1 for token positions).
     * With inverse, applies the transposed rotation: the backward of the forward rotation.
     */
    public void rotate(float[] a, int off, int stride, int batch, int seqLen, int heads, int posStart, int chunk, boolean inverse) {
        if (seqLen == 0 || batch == 0) return;
        int half = headDim / 2;
        float[][] t = covering((posStart + seqLen - 1) / chunk + 1);
        float[] cos = t[0], sin = t[1];
        Elementwise ew = Kernels.elementwise();
        Parallel.forRange(batch * seqLen, 256, (from, to) -> {
            for (int row = from; row < to; row++) {
                int p = (posStart + row % seqLen) / chunk;
                ew.rotateHalf(a, off + row * stride, heads, half, cos, sin, p * half, inverse); // same arithmetic as rotateRows
            }
        });
    }

    /**
     * Rotates in place n rows of width heads * D stored at a[off + r*stride + h*D + d], row r by angle index
     * positions[r] / chunk: one token per sequence of a decoding batch, each at its own position.
     */
    public void rotateRows(float[] a, int off, int stride, int n, int heads, int[] positions, int chunk) {
        if (n == 0) return;
        int maxIndex = 0;
        for (int r = 0; r < n; r++) maxIndex = Math.max(maxIndex, positions[r] / chunk);
        int half = headDim / 2;
        float[][] t = covering(maxIndex + 1);
        float[] cos = t[0], sin = t[1];
        for (int r = 0; r < n; r++) {
            int p = positions[r] / chunk, base0 = off + r * stride;
            for (int h = 0; h < heads; h++) {
                int o = base0 + h * headDim;
                for (int i = 0; i < half; i++) {
                    float c = cos[p * half + i], s = sin[p * half + i];
                    float x1 = a[o + i], x2 = a[o + i + half];
                    a[o + i] = x1 * c - x2 * s;
                    a[o + i + half] = x2 * c + x1 * s;
                }
            }
        }
    }
}
