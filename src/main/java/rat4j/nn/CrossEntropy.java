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
        double[] rowLoss = new double[n];
        Elementwise ew = Kernels.elementwise();
        Parallel.forRange(n, 16, (from, to) -> {
            float[] scratch = dlogits == null ? new float[vocab] : null; // exp(logit - max) when no gradient is wanted
            for (int i = from; i < to; i++) {
                int row = i * vocab;
                int label = labels[i];
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
        return valid == 0 ? Double.NaN : total / valid;
    }
}
