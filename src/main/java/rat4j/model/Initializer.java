package rat4j.model;

import java.util.SplittableRandom;

/**
 * The reference's initialisation for training from scratch (model.backbone.init: fixed, initializer_range 0.02):
 * every matrix N(0, 0.02), norm weights 1, gate biases by the chrono rule log(U(1, n - 1)) with n = L for RAT and the
 * configured length for the RNN. RAT with L = 1 (where the rule is empty and the reference leaves the bias
 * uninitialised) and an RNN with n <= 2 get log(1) = 0. Deterministic for a seed.
 */
public final class Initializer {
    public static final double INITIALIZER_RANGE = 0.02;

    private Initializer() {}

    public static float[] initialize(ModelConfig config, long seed) {
        ParameterLayout layout = ParameterLayout.of(config);
        float[] params = new float[layout.totalSize()];
        SplittableRandom rng = new SplittableRandom(seed);
        for (ParameterLayout.Entry e : layout.entries()) {
            int off = e.offset(), n = e.size();
            String name = e.name();
            if (name.endsWith("norm.weight") || name.endsWith(".ln.weight") || name.equals(ParameterLayout.FINAL_NORM)) {
                java.util.Arrays.fill(params, off, off + n, 1f);
            } else if (name.endsWith("gate_bias")) {
                int layer = Integer.parseInt(name.split("\\.")[2]);
                LayerSpec s = config.layer(layer);
                int span = s.kind() == LayerKind.RAT ? s.chunkSize() : s.gateInitLength();
                for (int i = 0; i < n; i++) params[off + i] = span > 2 ? (float) Math.log(1 + rng.nextDouble() * (span - 2)) : 0f;
            } else {
                for (int i = 0; i < n; i++) params[off + i] = (float) (gaussian(rng) * INITIALIZER_RANGE);
            }
        }
        return params;
    }

    /** Box-Muller: SplittableRandom has no nextGaussian before Java 17's RandomGenerator default, which we avoid for stability across JDKs. */
    static double gaussian(SplittableRandom rng) {
        double u1 = rng.nextDouble(), u2 = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }
}
