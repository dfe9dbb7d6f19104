package rat4j.nn;

import rat4j.kernel.Gemm;
import rat4j.kernel.Kernels;

/**
 * The language-model head and the cross-entropy for training, a block of rows at a time: logits = hn W^T, the loss
 * and d loss / d logits in place, then dhn += dlogits W and dW += dlogits^T hn. The logits of the whole batch, (N, V),
 * never exist at once (1 GiB at 8K tokens with Llama 2's 32,000-token vocabulary); a block holds at most
 * BLOCK_FLOATS. Dimension letters: N rows (B x T), C model dim, V vocabulary.
 */
public final class LmHeadLoss {
    /** 64 MiB of logits per block: large enough that the block's GEMMs run at full speed. */
    static final int BLOCK_FLOATS = 1 << 24;

    private LmHeadLoss() {}

    /** Rows per block for a vocabulary of V. */
    public static int blockRows(int vocab) {
        return Math.max(1, BLOCK_FLOATS / vocab);
    }

    /**
     * Adds d loss / d hn into dhn (N, C) and d loss / d W into dw (V, C) from dwOff; returns the mean loss over the
     * labels that count (NaN when none does, like torch).
     *
     * @param hn     (N, C) the final norm's output
     * @param w      (V, C) the head's weight from wOff
     * @param labels (N) target ids or CrossEntropy.IGNORE_INDEX
     * @param block  scratch of at least min(N, blockRows(V)) x V floats
     */
    public static double forwardBackward(float[] dhn, float[] dw, int dwOff, float[] hn, float[] w, int wOff,
                                         int[] labels, int n, int c, int v, float[] block) {
        int step = blockRows(v);
        if ((long) Math.min(n, step) * v > block.length) {
            throw new IllegalArgumentException("head scratch of " + block.length + " floats, need " + (long) Math.min(n, step) * v);
        }
        int valid = CrossEntropy.countValid(labels);
        Gemm g = Kernels.gemm();
        double total = 0;
        for (int r0 = 0; r0 < n; r0 += step) {
            int rows = Math.min(step, n - r0);
            // logits (rows, V) = hn[r0 : r0 + rows] W^T
            g.sgemm(false, true, rows, v, c, 1f, hn, r0 * c, c, w, wOff, c, 0f, block, 0, v);
            total += CrossEntropy.sumRows(block, labels, r0, rows, v, valid, block); // block now holds dlogits
            // dhn[r0 : r0 + rows] += dlogits W; dW += dlogits^T hn[r0 : r0 + rows]
            g.sgemm(false, false, rows, c, v, 1f, block, 0, v, w, wOff, c, 1f, dhn, r0 * c, c);
            g.sgemm(true, false, v, c, rows, 1f, block, 0, v, hn, r0 * c, c, 1f, dw, dwOff, c);
        }
        return valid == 0 ? Double.NaN : total / valid;
    }
}
