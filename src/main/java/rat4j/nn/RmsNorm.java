package rat4j.nn;

import rat4j.kernel.Parallel;

/** RMSNorm without bias, as torch.nn.RMSNorm: y = x * rsqrt(mean(x^2) + eps) * w. The reference uses eps = 1e-6. */
public final class RmsNorm {
    public static final float EPS = 1e-6f;
    /** Channels per task of the weight gradient: 512 contiguous bytes per row and array, several tasks at C = 1024. */
    private static final int COLUMN_BLOCK = 128;

    private RmsNorm() {}

    /**
     * @param out    (N, C)
     * @param rstd   (N) saved 1/rms for backward; may be null at inference
     * @param inp    (N, C)
     * @param weight (C) at wOff
     */
    public static void forward(float[] out, float[] rstd, float[] inp, float[] weight, int wOff, int n, int c) {
        Parallel.forRange(n, 64, (from, to) -> {
            for (int i = from; i < to; i++) {
                int row = i * c;
                double ss = 0;
                for (int j = 0; j < c; j++) ss += (double) inp[row + j] * inp[row + j];
                float r = (float) (1.0 / Math.sqrt(ss / c + EPS));
                if (rstd != null) rstd[i] = r;
                for (int j = 0; j < c; j++) out[row + j] = inp[row + j] * r * weight[wOff + j];
            }
        });
    }

    /**
     * Adds into dinp (N, C) and dweight (C). With xhat = x * r and r = (mean(x^2) + eps)^-1/2:
     * dx = r * (w*dy - xhat * mean(w*dy*xhat)).
     */
    public static void backward(float[] dinp, float[] dweight, int dwOff, float[] dout, float[] inp,
                                float[] weight, int wOff, float[] rstd, int n, int c) {
        // dweight accumulates across rows: split over channels for it, over rows for dinp. A task walks its block of
        // channels row by row (contiguous runs of COLUMN_BLOCK floats): one channel at a time down a column missed
        // the cache on every row and took a second at N = 16K (issue 5). Each channel still sums rows in order.
        int blocks = (c + COLUMN_BLOCK - 1) / COLUMN_BLOCK;
        Parallel.forRange(blocks, 1, (from, to) -> {
            double[] acc = new double[COLUMN_BLOCK];
            for (int blk = from; blk < to; blk++) {
                int j0 = blk * COLUMN_BLOCK, w = Math.min(c, j0 + COLUMN_BLOCK) - j0;
                java.util.Arrays.fill(acc, 0.0);
                for (int i = 0; i < n; i++) {
                    int row = i * c + j0;
                    for (int j = 0; j < w; j++) acc[j] += (double) dout[row + j] * inp[row + j] * rstd[i]; // y = xhat * w
                }
                for (int j = 0; j < w; j++) dweight[dwOff + j0 + j] += (float) acc[j];
            }
        });
        Parallel.forRange(n, 64, (from, to) -> {
            for (int i = from; i < to; i++) {
                int row = i * c;
                float r = rstd[i];
                double dot = 0;
                for (int j = 0; j < c; j++) dot += (double) weight[wOff + j] * dout[row + j] * inp[row + j] * r;
                float mean = (float) (dot / c);
                for (int j = 0; j < c; j++) {
                    float xhat = inp[row + j] * r;
                    dinp[row + j] += r * (weight[wOff + j] * dout[row + j] - xhat * mean);
                }
            }
        });
    }
}
