package rat4j.nn;

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
     * @param logits (N, V); with dlogits != null, dlogits (N, V) is overwritten with d loss / d logits
     * @return the mean loss (NaN when no label counts, like torch)
     */
    public static double forwardBackward(float[] logits, int[] labels, int n, int vocab, float[] dlogits) {
        int valid = countValid(labels);
        double[] rowLoss = new double[n];
        Parallel.forRange(n, 16, (from, to) -> {
            for (int i = from; i < to; i++) {
                int row = i * vocab;
                int label = labels[i];
                if (label == IGNORE_INDEX) {
                    if (dlogits != null) java.util.Arrays.fill(dlogits, row, row + vocab, 0f);
                    continue;
                }
                float max = Float.NEGATIVE_INFINITY;
                for (int v = 0; v < vocab; v++) max = Math.max(max, logits[row + v]);
                double sum = 0;
                for (int v = 0; v < vocab; v++) sum += Math.exp(logits[row + v] - max);
                double logZ = max + Math.log(sum);
                rowLoss[i] = logZ - logits[row + label];
                if (dlogits != null) {
                    // d/dlogit_v of (logZ - logit_label) / valid = (softmax_v - [v == label]) / valid
                    for (int v = 0; v < vocab; v++) {
                        double p = Math.exp(logits[row + v] - logZ);
                        dlogits[row + v] = (float) ((p - (v == label ? 1 : 0)) / valid);
                    }
                }
            }
        });
        double total = 0;
        for (double l : rowLoss) total += l;
        return valid == 0 ? Double.NaN : total / valid;
    }
}
