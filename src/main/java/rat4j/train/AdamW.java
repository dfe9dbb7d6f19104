package rat4j.train;

import rat4j.kernel.Parallel;

/**
 * torch.optim.AdamW (decoupled weight decay, Loshchilov and Hutter 2019) as one flat loop over the parameters. The
 * reference hands all parameters to one AdamW group (src/trainer/trainer.py, build_optimizers), so weight decay applies
 * to every parameter: matrices, embedding, norm weights and gate biases alike. The arithmetic follows torch's
 * single-tensor AdamW step in float32, with its scalars computed in double:
 * <pre>
 *   p = p * (1 - lr * wd)
 *   m = m + (1 - beta1) * (g - m)                       # exp_avg.lerp_(grad, 1 - beta1)
 *   v = v * beta2 + (1 - beta2) * g * g                 # exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2)
 *   p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * </pre>
 */
public record AdamW(double beta1, double beta2, double eps, double weightDecay) {
    private static final int GRAIN = 1 << 14;

    public AdamW {
        if (!(beta1 >= 0 && beta1 < 1)) throw new IllegalArgumentException("beta1 must be in [0, 1), got " + beta1);
        if (!(beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException("beta2 must be in [0, 1), got " + beta2);
        if (!(eps > 0)) throw new IllegalArgumentException("eps must be > 0, got " + eps);
        if (!(weightDecay >= 0)) throw new IllegalArgumentException("weight decay must be >= 0, got " + weightDecay);
    }

    /**
     * Step t (1-based) with learning rate lr: updates params, m and v in place from grads. All four arrays are
     * laid out like the parameters; each element is independent, so ranges run in parallel without races.
     */
    public void step(float[] params, float[] grads, float[] m, float[] v, long t, double lr) {
        int n = params.length;
        if (grads.length != n || m.length != n || v.length != n) {
            throw new IllegalArgumentException("AdamW arrays differ in length: params " + n + ", grads " + grads.length + ", m " + m.length + ", v " + v.length);
        }
        if (t < 1) throw new IllegalArgumentException("AdamW step numbers start at 1, got " + t);
        float decay = (float) (1 - lr * weightDecay);
        float oneMinusBeta1 = (float) (1 - beta1), b2 = (float) beta2, oneMinusBeta2 = (float) (1 - beta2);
        float stepSize = (float) (lr / (1 - Math.pow(beta1, t)));
        float bc2Sqrt = (float) Math.sqrt(1 - Math.pow(beta2, t));
        float e = (float) eps;
        Parallel.forRange(n, GRAIN, (from, to) -> {
            for (int i = from; i < to; i++) {
                float g = grads[i];
                float mi = m[i] + oneMinusBeta1 * (g - m[i]);
                float vi = v[i] * b2 + oneMinusBeta2 * g * g;
                m[i] = mi;
                v[i] = vi;
                float denom = (float) Math.sqrt(vi) / bc2Sqrt + e;
                params[i] = params[i] * decay - stepSize * (mi / denom);
            }
        });
    }
}
