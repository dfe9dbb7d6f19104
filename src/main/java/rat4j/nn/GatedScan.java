package rat4j.nn;

import rat4j.kernel.Parallel;

/**
 * The gated linear recurrence of RAT and the RNN, h_t = g_t * h_{t-1} + (1 - g_t) * u_t, restarting (h_{-1} = 0) at
 * every chunk start. Tensors are (B, T, C) rows with row strides; the chunk of row t is t / chunkLen. The RNN is the
 * case chunkLen >= T.
 */
public final class GatedScan {
    private GatedScan() {}

    /** Channel blocks keep each task's rows contiguous in memory while giving the pool enough tasks. */
    private static final int CHANNEL_BLOCK = 256;

    /**
     * @param h (B, T, C) output states at hOff with row stride hStride
     * @param g (B, T, C) gates in (0, 1), row stride gStride
     * @param u (B, T, C) inputs at uOff, row stride uStride
     */
    public static void forward(float[] h, int hOff, int hStride, float[] g, int gOff, int gStride,
                               float[] u, int uOff, int uStride, int batch, int seqLen, int c, int chunkLen) {
        int chunks = (seqLen + chunkLen - 1) / chunkLen;
        int cBlocks = (c + CHANNEL_BLOCK - 1) / CHANNEL_BLOCK;
        Parallel.forRange(batch * chunks * cBlocks, 1, (from, to) -> {
            for (int task = from; task < to; task++) {
                int cb = task % cBlocks, bc = task / cBlocks;
                int b = bc / chunks, chunk = bc % chunks;
                int c0 = cb * CHANNEL_BLOCK, c1 = Math.min(c, c0 + CHANNEL_BLOCK);
                int t0 = chunk * chunkLen, t1 = Math.min(seqLen, t0 + chunkLen);
                for (int t = t0; t < t1; t++) {
                    int row = b * seqLen + t;
                    int hr = hOff + row * hStride, gr = gOff + row * gStride, ur = uOff + row * uStride;
                    int hp = hr - hStride;
                    for (int j = c0; j < c1; j++) {
                        float gv = g[gr + j];
                        float prev = t == t0 ? 0f : h[hp + j];
                        h[hr + j] = gv * prev + (1f - gv) * u[ur + j]; // h_t = g h_{t-1} + (1-g) u_t
                    }
                }
            }
        });
    }

    /**
     * Adds into du and dg (both (B, T, C), strides as in forward) given dh (B, T, C) and the forward's h.
     * Walks each chunk backwards carrying dcarry = g_{t+1} * dH_{t+1}, where dH_t = dh_t + dcarry:
     * du_t = (1 - g_t) dH_t and dg_t = dH_t (h_{t-1} - u_t).
     */
    public static void backward(float[] du, int duOff, int duStride, float[] dg, int dgOff, int dgStride,
                                float[] dh, int dhOff, int dhStride,
                                float[] h, int hOff, int hStride, float[] g, int gOff, int gStride,
                                float[] u, int uOff, int uStride, int batch, int seqLen, int c, int chunkLen) {
        int chunks = (seqLen + chunkLen - 1) / chunkLen;
        int cBlocks = (c + CHANNEL_BLOCK - 1) / CHANNEL_BLOCK;
        Parallel.forRange(batch * chunks * cBlocks, 1, (from, to) -> {
            float[] carry = new float[CHANNEL_BLOCK];
            for (int task = from; task < to; task++) {
                int cb = task % cBlocks, bc = task / cBlocks;
                int b = bc / chunks, chunk = bc % chunks;
                int c0 = cb * CHANNEL_BLOCK, c1 = Math.min(c, c0 + CHANNEL_BLOCK);
                int t0 = chunk * chunkLen, t1 = Math.min(seqLen, t0 + chunkLen);
                java.util.Arrays.fill(carry, 0f);
                for (int t = t1 - 1; t >= t0; t--) {
                    int row = b * seqLen + t;
                    int hr = hOff + row * hStride, gr = gOff + row * gStride, ur = uOff + row * uStride;
                    int dhr = dhOff + row * dhStride, dur = duOff + row * duStride, dgr = dgOff + row * dgStride;
                    for (int j = c0; j < c1; j++) {
                        float gv = g[gr + j];
                        float dH = dh[dhr + j] + carry[j - c0];
                        float prev = t == t0 ? 0f : h[hr - hStride + j];
                        du[dur + j] += (1f - gv) * dH;
                        dg[dgr + j] += dH * (prev - u[ur + j]);
                        carry[j - c0] = gv * dH;
                    }
                }
            }
        });
    }
}
