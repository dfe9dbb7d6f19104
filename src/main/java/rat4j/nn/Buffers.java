package rat4j.nn;

import rat4j.kernel.Parallel;

/** Reusable scratch arrays and the element-wise loops the layers share, run on the one pool. */
final class Buffers {
    private Buffers() {}

    /** {@code a} if it holds at least n floats, else a new array; contents unspecified. */
    static float[] atLeast(float[] a, int n) {
        return a != null && a.length >= n ? a : new float[n];
    }

    /** {@code a} (or a new array) with its first n floats zeroed: backward passes add into their buffers. */
    static float[] zeroed(float[] a, int n) {
        float[] r = atLeast(a, n);
        if (r == a) Parallel.forRange(n, 1 << 14, (from, to) -> java.util.Arrays.fill(r, from, to, 0f));
        return r;
    }

    /** dst[i] += src[i] for i < n: the residual connections. */
    static void addInto(float[] dst, float[] src, int n) {
        Parallel.forRange(n, 1 << 14, (from, to) -> {
            for (int i = from; i < to; i++) dst[i] += src[i];
        });
    }

    /** dst[dOff + j] += sum over rows i < n of src[sOff + i * stride + j], j < width: bias gradients. */
    static void sumRowsInto(float[] dst, int dOff, float[] src, int sOff, int stride, int n, int width) {
        // blocks of channels walked row by row (contiguous runs, not one column at a time); rows summed in order
        int block = 128, blocks = (width + block - 1) / block;
        Parallel.forRange(blocks, 1, (from, to) -> {
            double[] acc = new double[block];
            for (int blk = from; blk < to; blk++) {
                int j0 = blk * block, w = Math.min(width, j0 + block) - j0;
                java.util.Arrays.fill(acc, 0.0);
                for (int i = 0; i < n; i++) {
                    int row = sOff + i * stride + j0;
                    for (int j = 0; j < w; j++) acc[j] += src[row + j];
                }
                for (int j = 0; j < w; j++) dst[dOff + j0 + j] += (float) acc[j];
            }
        });
    }
}
