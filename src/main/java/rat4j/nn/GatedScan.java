package rat4j.nn;

import rat4j.kernel.Elementwise;
import rat4j.kernel.Kernels;
import rat4j.kernel.Parallel;
import rat4j.kernel.Strided;

/**
 * The gated linear recurrence of RAT and the RNN, h_t = g_t * h_{t-1} + (1 - g_t) * u_t, restarting (h_{-1} = 0) at
 * every chunk start. Tensors are (B, T, C) rows with row strides; the chunk of row t is t / chunkLen. The RNN is the
 * case chunkLen >= T. The input u may be narrower than C and tiled: channel j reads u column j mod uWidth (RAT's
 * keys, G*D wide, repeated over the heads), so the tiled copy is never materialised. The arithmetic of one chunk is
 * {@link Elementwise#scanForward} / {@link Elementwise#scanBackward}; this class splits the work over the pool.
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
        forward(h, hOff, hStride, g, gOff, gStride, u, uOff, uStride, c, batch, seqLen, c, chunkLen);
    }

    /** As above with u (B, T, uWidth) tiled over the C channels: channel j reads u column j mod uWidth. */
    public static void forward(float[] h, int hOff, int hStride, float[] g, int gOff, int gStride,
                               float[] u, int uOff, int uStride, int uWidth, int batch, int seqLen, int c, int chunkLen) {
        check(uWidth, c, chunkLen);
        Elementwise ew = Kernels.elementwise();
        int chunks = (seqLen + chunkLen - 1) / chunkLen, perGroup = chunksPerGroup(chunks, chunkLen), groups = Math.ceilDiv(chunks, perGroup);
        int cBlocks = (c + CHANNEL_BLOCK - 1) / CHANNEL_BLOCK; // forward only reads u: blocks never race
        Parallel.forRange(batch * groups * cBlocks, 1, (from, to) -> {
            for (int task = from; task < to; task++) {
                int cb = task % cBlocks, bg = task / cBlocks, b = bg / groups, group = bg % groups;
                int c0 = cb * CHANNEL_BLOCK, c1 = Math.min(c, c0 + CHANNEL_BLOCK);
                int t0 = group * perGroup * chunkLen, rows = Math.min(seqLen, t0 + perGroup * chunkLen) - t0, row0 = b * seqLen + t0;
                for (int j0 = c0, j1; j0 < c1; j0 = j1) { // pieces that do not wrap around u's width
                    j1 = Math.min(c1, (j0 / uWidth + 1) * uWidth);
                    ew.scanForward(new Strided(h, hOff + row0 * hStride + j0, hStride), new Strided(g, gOff + row0 * gStride + j0, gStride),
                            new Strided(u, uOff + row0 * uStride + j0 % uWidth, uStride), rows, chunkLen, j1 - j0);
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
        backward(du, duOff, duStride, dg, dgOff, dgStride, dh, dhOff, dhStride, h, hOff, hStride, g, gOff, gStride,
                u, uOff, uStride, c, batch, seqLen, c, chunkLen);
    }

    /**
     * As above with u and du (B, T, uWidth) tiled: channel j reads u and adds into du at column j mod uWidth, so du
     * receives the sum over the channels sharing a column (RAT's q/k group reduction), added in ascending channel order.
     */
    public static void backward(float[] du, int duOff, int duStride, float[] dg, int dgOff, int dgStride,
                                float[] dh, int dhOff, int dhStride,
                                float[] h, int hOff, int hStride, float[] g, int gOff, int gStride,
                                float[] u, int uOff, int uStride, int uWidth, int batch, int seqLen, int c, int chunkLen) {
        check(uWidth, c, chunkLen);
        Elementwise ew = Kernels.elementwise();
        int chunks = (seqLen + chunkLen - 1) / chunkLen, perGroup = chunksPerGroup(chunks, chunkLen), groups = Math.ceilDiv(chunks, perGroup);
        // tiled du: channels sharing a column must not run in two tasks at once, so a task then takes all channels
        int block = uWidth < c ? c : CHANNEL_BLOCK, cBlocks = (c + block - 1) / block;
        Parallel.forRange(batch * groups * cBlocks, 1, (from, to) -> {
            for (int task = from; task < to; task++) {
                int cb = task % cBlocks, bg = task / cBlocks, b = bg / groups, group = bg % groups;
                int c0 = cb * block, c1 = Math.min(c, c0 + block);
                int t0 = group * perGroup * chunkLen, rows = Math.min(seqLen, t0 + perGroup * chunkLen) - t0, row0 = b * seqLen + t0;
                for (int j0 = c0, j1; j0 < c1; j0 = j1) {
                    j1 = Math.min(c1, (j0 / uWidth + 1) * uWidth);
                    int ju = j0 % uWidth;
                    ew.scanBackward(new Strided(du, duOff + row0 * duStride + ju, duStride), new Strided(dg, dgOff + row0 * dgStride + j0, dgStride),
                            new Strided(dh, dhOff + row0 * dhStride + j0, dhStride), new Strided(h, hOff + row0 * hStride + j0, hStride),
                            new Strided(g, gOff + row0 * gStride + j0, gStride), new Strided(u, uOff + row0 * uStride + ju, uStride),
                            rows, chunkLen, j1 - j0);
                }
            }
        });
    }

    /**
     * Chunks per kernel call: about GROUP_ROWS rows, so a call is a long loop (compiled on its own, by OSR if need be)
     * rather than one short call and six Strided views per chunk; still several tasks per thread at T >= 2K.
     */
    private static int chunksPerGroup(int chunks, int chunkLen) {
        return Math.max(1, Math.min(chunks, GROUP_ROWS / Math.max(1, Math.min(chunkLen, GROUP_ROWS))));
    }

    private static final int GROUP_ROWS = 1024;

    private static void check(int uWidth, int c, int chunkLen) {
        if (uWidth < 1 || uWidth > c) throw new IllegalArgumentException("scan input width " + uWidth + " must lie in [1, C=" + c + "]");
        if (chunkLen < 1) throw new IllegalArgumentException("scan chunk length must be >= 1, got " + chunkLen);
    }
}
