package rat4j.train;

import rat4j.kernel.Parallel;

/**
 * torch.nn.utils.clip_grad_norm_ over one flat gradient array: when the global L2 norm exceeds max, every gradient is
 * scaled by max / (norm + 1e-6). The norm sums squares in fixed blocks, in double, and adds the block sums in order,
 * so it is the same number whatever the thread count (a resumed run must match an uninterrupted one bit for bit).
 */
public final class GradientClipping {
    private static final int BLOCK = 1 << 16;

    private GradientClipping() {}

    /** The L2 norm of {@code g}. */
    public static double norm(float[] g) {
        int blocks = (int) ((g.length + (long) BLOCK - 1) / BLOCK);
        double[] partial = new double[blocks];
        Parallel.forRange(blocks, 1, (from, to) -> {
            for (int b = from; b < to; b++) {
                double s = 0;
                int end = (int) Math.min(g.length, (long) (b + 1) * BLOCK);
                for (int i = b * BLOCK; i < end; i++) s += (double) g[i] * g[i];
                partial[b] = s;
            }
        });
        double s = 0;
        for (double p : partial) s += p;
        return Math.sqrt(s);
    }

    /** Clips {@code g} in place to global norm {@code maxNorm} and returns the norm before clipping. */
    public static double clip(float[] g, double maxNorm) {
        if (!(maxNorm > 0)) throw new IllegalArgumentException("max norm must be > 0, got " + maxNorm);
        double norm = norm(g);
        double coef = maxNorm / (norm + 1e-6);
        if (coef < 1) scale(g, (float) coef);
        return norm;
    }

    /** g *= s. */
    public static void scale(float[] g, float s) {
        Parallel.forRange(g.length, 1 << 14, (from, to) -> {
            for (int i = from; i < to; i++) g[i] *= s;
        });
    }
}
