package rat4j.train;

import rat4j.kernel.Parallel;
import rat4j.model.LanguageModel;

import java.util.Arrays;

/**
 * One optimizer step as the reference's trainer.py takes it: A micro-batches of forward/backward add their gradients,
 * which are averaged, clipped to a global norm, and applied by AdamW. The trainer runs it for every step of a run and
 * 'rat4j bench train' times it, so the benchmark measures exactly what training does.
 * <p>
 * The gradients, and the token and label buffers of a micro-batch, are allocated once here; the parameters and the
 * two AdamW moments belong to the caller (a checkpoint holds them).
 */
public final class TrainStep {
    private final LanguageModel model;
    private final float[] params, grads, m, v;   // (P) each, laid out by ParameterLayout
    private final int[] tokens, labels;          // (B, T)
    private final AdamW adamw;
    private final double clipNorm;
    private final int microBatch, seqLen, gradAccum;

    /** @param clipNorm the global gradient norm to clip to, or 0 for none */
    public TrainStep(LanguageModel model, float[] m, float[] v, AdamW adamw, double clipNorm, int microBatch, int seqLen, int gradAccum) {
        this.model = model;
        this.params = model.parameters();
        if (m.length != params.length || v.length != params.length) {
            throw new IllegalArgumentException("AdamW moments of " + m.length + " and " + v.length + " floats for " + params.length + " parameters");
        }
        if (microBatch < 1 || seqLen < 1 || gradAccum < 1) throw new IllegalArgumentException("B, T and A must be >= 1, got " + microBatch + ", " + seqLen + ", " + gradAccum);
        this.grads = new float[params.length];
        this.m = m;
        this.v = v;
        this.adamw = adamw;
        this.clipNorm = clipNorm;
        this.microBatch = microBatch;
        this.seqLen = seqLen;
        this.gradAccum = gradAccum;
        int n = Math.multiplyExact(microBatch, seqLen);
        this.tokens = new int[n];
        this.labels = new int[n];
    }

    /** Tokens one step trains on: B x T x A. */
    public long tokensPerStep() {
        return (long) microBatch * seqLen * gradAccum;
    }

    /** The (B, T) token and label buffers, free for other use (validation) between steps. */
    int[] tokens() { return tokens; }

    int[] labels() { return labels; }

    /**
     * One optimizer step on the next A micro-batches of {@code source}.
     *
     * @param t  the AdamW step count after this step (1 for the first), which its bias correction uses
     * @param lr the learning rate of this step
     * @return {loss (the mean of the micro-batches'), gradient norm before clipping}
     */
    public double[] run(BatchSource source, long t, double lr) {
        Parallel.forRange(grads.length, 1 << 16, (from, to) -> Arrays.fill(grads, from, to, 0f));
        double loss = 0;
        for (int k = 0; k < gradAccum; k++) {
            source.next(tokens, labels);
            loss += model.forwardBackward(tokens, labels, microBatch, seqLen, grads);
        }
        // The reference backpropagates loss / A per micro-batch; scaling the summed gradients once is the same sum.
        loss /= gradAccum;
        if (gradAccum > 1) GradientClipping.scale(grads, (float) (1.0 / gradAccum));
        double norm = clipNorm > 0 ? GradientClipping.clip(grads, clipNorm) : GradientClipping.norm(grads);
        if (!Double.isFinite(loss) || !Double.isFinite(norm)) {
            throw new IllegalStateException("the loss is " + loss + " (gradient norm " + norm + ") at step " + t
                    + ": training diverged or a micro-batch has no label to learn; try a lower --lr and resume from the last checkpoint");
        }
        adamw.step(params, grads, m, v, t, lr);
        return new double[] {loss, norm};
    }
}
