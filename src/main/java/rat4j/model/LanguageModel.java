package rat4j.model;

/**
 * A RAT-family language model: token embedding, blocks of (sequence layer, FFN), final RMSNorm, LM head.
 * (Being written: the public API below is the contract the CLI codes against.)
 */
public final class LanguageModel {
    /** Ignored label, as in the reference's cross-entropy. */
    public static final int IGNORE_INDEX = -100;

    private final ModelConfig config;
    private final ParameterLayout layout;
    private final float[] parameters;

    /** @param parameters laid out by {@link ParameterLayout#of(ModelConfig)}; not copied */
    public LanguageModel(ModelConfig config, float[] parameters) {
        this.config = config;
        this.layout = ParameterLayout.of(config);
        if (parameters.length != layout.totalSize()) {
            throw new IllegalArgumentException("parameters hold " + parameters.length + " floats, config needs " + layout.totalSize());
        }
        this.parameters = parameters;
    }

    public ModelConfig config() { return config; }

    public ParameterLayout layout() { return layout; }

    public float[] parameters() { return parameters; }

    /** Logits and, when labels were given, the mean cross-entropy over labels != -100 (NaN without labels). */
    public record Scored(float[] logits, double loss) {}

    /**
     * @param tokens (B, T) token ids
     * @param labels (B, T) target ids or -100, or null
     * @return logits (B, T, V)
     */
    public Scored score(int[] tokens, int[] labels, int batch, int seqLen) {
        throw new UnsupportedOperationException("forward pass not wired yet");
    }
}
