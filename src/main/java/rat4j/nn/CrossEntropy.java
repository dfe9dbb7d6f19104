package rat4j.nn;

import rat4j.kernel.Elementwise;
import rat4j.kernel.Kernels;
import rat4j.kernel.Parallel;

/** Mean cross-entropy over the rows whose label is not the ignore index, as torch's F.cross_entropy. */
public final class CrossEntropy {
    public static final int IGNORE_INDEX = -100;

    private CrossEntropy() {}

    /** Number of rows that count. */
    public static int countValid(int[] labels) {
        int k = 0;
        for (int l : labels) if (l != IGNORE_INDEX) k++;
        return k;
    }

    /**
     * @param logits (N, V); with dlogits != null, dlogits (N, V) is overwritten with d loss / d logits (it may be the
     *               logits array itself: each row is read before it is written)
     * @return the mean loss (NaN when no label counts, like torch)
     */
    public static double forwardBackward(float[] logits, int[] labels, int n, int vocab, float[] dlogits) {
        int valid = countValid(labels);
        double total = sumRows(logits, labels, 0, n, vocab, valid, dlogits);
        return valid == 0 ? Double.NaN : total / valid;
    }

    /**
     * The loss summed over rows [from, from + rows) of a batch whose labels are {@code labels}, with their logits in
     * logits (rows, V) from index 0; dlogits (rows, V), when not null, gets d mean-loss / d logits with the mean taken
     * over {@code valid} rows of the whole batch. Lets a caller compute the logits a block of rows at a time.
     */
    public static double sumRows(float[] logits, int[] labels, int from, int rows, int vocab, int valid, float[] dlogits) {
        double[] rowLoss = new double[rows];
        Elementwise ew = Kernels.elementwise();
        Parallel.forRange(rows, 16, (lo, hi) -> {
            float[] scratch = dlogits == null ? new float[vocab] : null; // exp(logit - max) when no gradient is wanted
            for (int i = lo; i < hi; i++) {
                int row = i * vocab;
                int label = labels[from + i];
                if (label == IGNORE_INDEX) {
                    if (dlogits != null) java.util.Arrays.fill(dlogits, row, row + vocab, 0f);
                    continue;
                }
                float max = ew.max(logits, row, vocab);
                float target = logits[row + label];
                float[] e = dlogits != null ? dlogits : scratch;
                int eo = dlogits != null ? row : 0;
                float sum = ew.expShifted(logits, row, max, e, eo, vocab);
                rowLoss[i] = max + Math.log(sum) - target; // log-sum-exp minus the target logit
                if (dlogits != null) {
                    // d/dlogit_v of (logZ - logit_label) / valid = (softmax_v - [v == label]) / valid
                    float scale = (float) (1.0 / ((double) sum * valid));
                    for (int v = 0; v < vocab; v++) dlogits[row + v] *= scale;
                    dlogits[row + label] -= (float) (1.0 / valid);
                }
            }
        });
        double total = 0;
        for (double l : rowLoss) total += l;
        return total;
    }
}
