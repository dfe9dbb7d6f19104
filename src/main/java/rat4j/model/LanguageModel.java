package rat4j.model;

import rat4j.nn.Block;
import rat4j.nn.CrossEntropy;
import rat4j.nn.Ffn;
import rat4j.nn.Linear;
import rat4j.nn.RmsNorm;
import rat4j.nn.Rope;
import rat4j.nn.SequenceMixer;
import rat4j.tensor.Sizes;
import rat4j.tensor.Tensor;

import java.util.Arrays;

/**
 * A RAT-family language model, top to bottom: token embedding, blocks of (sequence layer, FFN) each with its own
 * residual, final RMSNorm, LM head (tied to the embedding unless the config says otherwise), cross-entropy.
 * The forward saves activations for one backward; the model serves one caller at a time.
 */
public final class LanguageModel {
    /** Ignored label, as in the reference's cross-entropy. */
    public static final int IGNORE_INDEX = CrossEntropy.IGNORE_INDEX;

    private final ModelConfig config;
    private final ParameterLayout layout;
    private final float[] parameters;
    private final SequenceMixer[] mixers;
    private final Ffn[] ffns;
    private final Tensor embedding, finalNorm, head; // (V, C), (C), (V, C)

    // activations of the last forward, N = B*T rows
    private float[][] stream;       // 2 * layers + 1 arrays of (N, C): stream[2i] enters block i's mixer
    private float[] hn, rstd;       // (N, C) final-norm output, (N)
    private float[] gradA, gradB;   // (N, C) each: the stream's gradient, ping-ponged through the blocks in backward
    private int[] tokens;           // (N)
    private int batch, seqLen;

    /** @param parameters laid out by {@link ParameterLayout#of(ModelConfig)}; not copied */
    public LanguageModel(ModelConfig config, float[] parameters) {
        this.config = config;
        this.layout = ParameterLayout.of(config);
        if (parameters.length != layout.totalSize()) {
            throw new IllegalArgumentException("parameters hold " + parameters.length + " floats, config needs " + layout.totalSize());
        }
        this.parameters = parameters;
        int layers = config.numLayers();
        this.mixers = new SequenceMixer[layers];
        this.ffns = new Ffn[layers];
        int headDim = headDim(config);
        Rope rope = headDim > 0 ? new Rope(headDim, config.ropeBase()) : null; // one table for all layers
        for (int i = 0; i < layers; i++) {
            mixers[i] = Layers.mixer(config, i, layout, parameters, rope);
            String h = "backbone.layers." + i + ".hidden_layer.";
            ffns[i] = new Ffn(view(h + "ln.weight"), view(h + "fc1.weight"), view(h + "fc2.weight"));
        }
        this.embedding = view(ParameterLayout.EMBEDDING);
        this.finalNorm = view(ParameterLayout.FINAL_NORM);
        this.head = config.tieEmbedding() ? embedding : view(ParameterLayout.LM_HEAD);
    }

    private static int headDim(ModelConfig c) {
        int d = c.seqCell().headDim(c.dModel());
        if (c.seqCell1() != null && d == 0) d = c.seqCell1().headDim(c.dModel());
        return d;
    }

    private Tensor view(String name) {
        return layout.view(parameters, name);
    }

    public ModelConfig config() { return config; }

    public ParameterLayout layout() { return layout; }

    public float[] parameters() { return parameters; }

    /** Logits and, when labels were given, the mean cross-entropy over labels != -100 (NaN without labels). */
    public record Scored(float[] logits, double loss) {}

    /**
     * @param tokens (B, T) token ids
     * @param labels (B, T) target ids or -100, or null
     * @return logits (B, T, V) and the loss
     */
    public Scored score(int[] tokens, int[] labels, int batch, int seqLen) {
        float[] logits = forward(tokens, batch, seqLen);
        double loss = labels == null ? Double.NaN
                : CrossEntropy.forwardBackward(logits, checkLabels(labels, batch, seqLen), batch * seqLen, config.vocabSize(), null);
        return new Scored(logits, loss);
    }

    /**
     * Forward and backward: adds d loss / d parameters into grads (laid out like the parameters) and returns the loss.
     */
    public double forwardBackward(int[] tokens, int[] labels, int batch, int seqLen, float[] grads) {
        if (grads.length != parameters.length) throw new IllegalArgumentException("gradient storage of " + grads.length + " floats, need " + parameters.length);
        float[] logits = forward(tokens, batch, seqLen);
        int n = batch * seqLen, c = config.dModel(), v = config.vocabSize();
        float[] dlogits = logits; // overwritten in place: the logits are not needed after the loss
        double loss = CrossEntropy.forwardBackward(logits, checkLabels(labels, batch, seqLen), n, v, dlogits);
        if (gradA == null || gradA.length != n * c) {
            gradA = new float[n * c];
            gradB = new float[n * c];
        }
        float[] dhn = gradA, dx = gradB;
        java.util.Arrays.fill(dhn, 0f);
        Linear.backward(dhn, grads, head.offset(), dlogits, hn, head.data(), head.offset(), n, c, v);
        java.util.Arrays.fill(dx, 0f);
        RmsNorm.backward(dx, grads, finalNorm.offset(), dhn, stream[2 * mixers.length], finalNorm.data(), finalNorm.offset(), rstd, n, c);
        float[] spare = dhn;
        for (int i = mixers.length - 1; i >= 0; i--) {
            for (Block block : new Block[] {ffns[i], mixers[i]}) { // dx flows into the block's input gradient
                java.util.Arrays.fill(spare, 0f);
                block.backward(dx, spare, grads);
                float[] t = dx;
                dx = spare;
                spare = t;
            }
        }
        int eo = embedding.offset();
        for (int r = 0; r < n; r++) { // x[r] = E[token[r]]
            int dst = eo + this.tokens[r] * c;
            for (int j = 0; j < c; j++) grads[dst + j] += dx[r * c + j];
        }
        return loss;
    }

    /** Runs the forward pass, saving activations; returns logits (B, T, V) in a fresh array. */
    private float[] forward(int[] tokens, int batch, int seqLen) {
        int n = Sizes.product(batch, seqLen), c = config.dModel(), v = config.vocabSize();
        if (tokens.length != n) throw new IllegalArgumentException("tokens hold " + tokens.length + " ids, expected B*T = " + n);
        checkTokens(tokens);
        this.tokens = tokens.clone();
        this.batch = batch;
        this.seqLen = seqLen;
        if (stream == null || stream[0].length != Sizes.product(n, c)) {
            stream = new float[2 * mixers.length + 1][Sizes.product(n, c)];
            hn = new float[n * c];
            rstd = new float[n];
        }
        embed(tokens, stream[0], n);
        for (int i = 0; i < mixers.length; i++) {
            mixers[i].forward(stream[2 * i], stream[2 * i + 1], batch, seqLen);
            ffns[i].forward(stream[2 * i + 1], stream[2 * i + 2], batch, seqLen);
        }
        RmsNorm.forward(hn, rstd, stream[2 * mixers.length], finalNorm.data(), finalNorm.offset(), n, c);
        float[] logits = new float[Sizes.product(n, v)];
        Linear.forward(logits, hn, head.data(), head.offset(), n, c, v);
        return logits;
    }

    private void embed(int[] ids, float[] out, int n) {
        int c = config.dModel();
        for (int r = 0; r < n; r++) System.arraycopy(embedding.data(), embedding.offset() + ids[r] * c, out, r * c, c);
    }

    private void checkTokens(int[] ids) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + ids[i] + " at index " + i + " is outside the vocabulary [0, " + config.vocabSize() + ")");
            }
        }
    }

    private int[] checkLabels(int[] labels, int batch, int seqLen) {
        if (labels.length != batch * seqLen) throw new IllegalArgumentException("labels hold " + labels.length + " ids, expected B*T = " + batch * seqLen);
        for (int i = 0; i < labels.length; i++) {
            int l = labels[i];
            if (l != IGNORE_INDEX && (l < 0 || l >= config.vocabSize())) {
                throw new IllegalArgumentException("label " + l + " at index " + i + " is neither -100 nor in [0, " + config.vocabSize() + ")");
            }
        }
        return labels;
    }

    /** Decoding state of a batch of sequences: one cache per layer and the next position. */
    public final class DecodeState {
        private final SequenceMixer.Cache[] caches;
        private final int batchSize, maxLen;
        private int position;

        private DecodeState(int batchSize, int maxLen) {
            this.batchSize = batchSize;
            this.maxLen = maxLen;
            this.caches = new SequenceMixer.Cache[mixers.length];
            for (int i = 0; i < mixers.length; i++) caches[i] = mixers[i].newCache(batchSize, maxLen);
        }

        public int position() { return position; }

        public int batch() { return batchSize; }

        /** Bytes held by all layers' caches. */
        public long cacheBytes() {
            long b = 0;
            for (SequenceMixer.Cache c : caches) b += c.bytes();
            return b;
        }
    }

    public DecodeState newDecodeState(int batch, int maxLen) {
        return new DecodeState(batch, maxLen);
    }

    /**
     * Prefill: runs the parallel forward over the prompts (B, P) and fills the caches; returns logits (B, P, V).
     * The state must be fresh.
     */
    public float[] prefill(DecodeState state, int[] prompt, int promptLen) {
        if (state.position != 0) throw new IllegalStateException("prefill needs a fresh decode state, this one is at position " + state.position);
        if (promptLen > state.maxLen) throw new IllegalArgumentException("prompt of " + promptLen + " tokens exceeds the cache's " + state.maxLen);
        float[] logits = forward(prompt, state.batchSize, promptLen);
        for (int i = 0; i < mixers.length; i++) mixers[i].fillCache(state.caches[i], promptLen);
        state.position = promptLen;
        return logits;
    }

    /** Decodes one token per sequence (B) at the state's position; returns logits (B, V) and advances the state. */
    public float[] step(DecodeState state, int[] next) {
        int b = state.batchSize, c = config.dModel(), v = config.vocabSize();
        if (next.length != b) throw new IllegalArgumentException("step takes one token per sequence: " + b + ", got " + next.length);
        if (state.position >= state.maxLen) throw new IllegalStateException("cache full: " + state.maxLen + " tokens");
        checkTokens(next);
        float[] x = new float[b * c], y = new float[b * c];
        embed(next, x, b);
        for (int i = 0; i < mixers.length; i++) {
            mixers[i].step(x, y, state.caches[i], b, state.position);
            ffns[i].forward(y, x, b, 1);
        }
        float[] xn = new float[b * c];
        RmsNorm.forward(xn, null, x, finalNorm.data(), finalNorm.offset(), b, c);
        float[] logits = new float[b * v];
        Linear.forward(logits, xn, head.data(), head.offset(), b, c, v);
        state.position++;
        return logits;
    }

    @Override public String toString() {
        return "LanguageModel" + Arrays.toString(new int[] {config.numLayers(), config.dModel(), config.vocabSize()});
    }
}
