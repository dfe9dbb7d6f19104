package rat4j.model;

import rat4j.kernel.WeightFormat;
import rat4j.kernel.Bf16;
import rat4j.kernel.Parallel;
import rat4j.nn.Block;
import rat4j.nn.CrossEntropy;
import rat4j.nn.DecodeMatrix;
import rat4j.nn.DecodeWeights;
import rat4j.nn.Ffn;
import rat4j.nn.Linear;
import rat4j.nn.LmHeadLoss;
import rat4j.nn.RmsNorm;
import rat4j.nn.Rope;
import rat4j.nn.SequenceMixer;
import rat4j.tensor.Sizes;
import rat4j.tensor.Tensor;

import java.util.Arrays;
import java.util.Objects;

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
    private final WeightFormat weightFormat;
    private final DecodeWeights decodeWeights;       // the decode path's packed copies of the weight matrices
    private final DecodeMatrix headDecode;           // (V, C) as the decode path reads it

    // activations of the last forward, N = B*T rows
    private float[][] stream;       // 2 * layers + 1 arrays of (N, C): stream[2i] enters block i's mixer
    private float[] hn, rstd;       // (N, C) final-norm output, (N)
    private float[] gradA, gradB;   // (N, C) each: the stream's gradient, ping-ponged through the blocks in backward
    private float[] headBlock;      // (rows, V): one block of logits, then of their gradient (LmHeadLoss)
    private int[] tokens;           // (N)
    private int batch, seqLen;

    /** @param parameters laid out by {@link ParameterLayout#of(ModelConfig)}; not copied */
    public LanguageModel(ModelConfig config, float[] parameters) {
        this(config, parameters, WeightFormat.FP32);
    }

    /**
     * @param parameters laid out by {@link ParameterLayout#of(ModelConfig)}; not copied for FP32. For BF16 they are
     *                   copied rounded to bf16 (the caller's array is left as it is), and the decode path reads a bf16
     *                   copy of them, so {@link #parameters()} and every pass compute with the same bf16 values.
     */
    public LanguageModel(ModelConfig config, float[] parameters, WeightFormat format) {
        this.config = config;
        this.layout = ParameterLayout.of(config);
        if (parameters.length != layout.totalSize()) {
            throw new IllegalArgumentException("parameters hold " + parameters.length + " floats, config needs " + layout.totalSize());
        }
        this.weightFormat = format;
        if (format == WeightFormat.BF16) {
            float[] original = parameters, rounded = new float[parameters.length];
            Parallel.forRange(rounded.length, 1 << 16, (from, to) -> {
                for (int i = from; i < to; i++) rounded[i] = Bf16.round(original[i]);
            });
            parameters = rounded;
        }
        this.decodeWeights = new DecodeWeights(format);
        this.parameters = parameters;
        int layers = config.numLayers();
        this.mixers = new SequenceMixer[layers];
        this.ffns = new Ffn[layers];
        int headDim = headDim(config);
        Rope rope = headDim > 0 ? new Rope(headDim, config.ropeBase()) : null; // one table for all layers
        for (int i = 0; i < layers; i++) {
            mixers[i] = Layers.mixer(config, i, layout, parameters, decodeWeights, rope);
            String h = "backbone.layers." + i + ".hidden_layer.";
            ffns[i] = new Ffn(view(h + "ln.weight"), view(h + "fc1.weight"), view(h + "fc2.weight"), decodeWeights);
        }
        this.embedding = view(ParameterLayout.EMBEDDING);
        this.finalNorm = view(ParameterLayout.FINAL_NORM);
        this.head = config.tieEmbedding() ? embedding : view(ParameterLayout.LM_HEAD);
        this.headDecode = decodeWeights.of(head);
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

    public WeightFormat weightFormat() { return weightFormat; }

    /**
     * Packs the decode path's copies of the weight matrices now (otherwise the first decode step does it): about one
     * pass over the weights, and as many bytes again (half for bf16). Decoding reads these copies, so parameters
     * changed after this are not seen by it.
     */
    public void prepareDecoding() {
        decodeWeights.pack();
    }

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
        int n = Sizes.product(batch, seqLen), c = config.dModel(), v = config.vocabSize();
        checkLabels(labels, batch, seqLen);
        checkedTrunk(tokens, batch, seqLen);
        if (gradA == null || gradA.length != n * c) {
            gradA = new float[n * c];
            gradB = new float[n * c];
            headBlock = new float[Sizes.product(Math.min(n, LmHeadLoss.blockRows(v)), v)];
        }
        float[] dhn = gradA, dx = gradB;
        java.util.Arrays.fill(dhn, 0f);
        double loss = LmHeadLoss.forwardBackward(dhn, grads, head.offset(), hn, head.data(), head.offset(), labels, n, c, v, headBlock);
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
        checkedTrunk(tokens, batch, seqLen);
        float[] logits = new float[Sizes.product(n, v)];
        Linear.forward(logits, hn, head.data(), head.offset(), n, c, v);
        return logits;
    }

    /** {@link #trunk} on (B, T) ids checked against B*T and the vocabulary first. */
    private void checkedTrunk(int[] tokens, int batch, int seqLen) {
        int n = Sizes.product(batch, seqLen);
        if (tokens.length != n) throw new IllegalArgumentException("tokens hold " + tokens.length + " ids, expected B*T = " + n);
        checkTokens(tokens);
        trunk(tokens, batch, seqLen);
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

    /**
     * Decoding state of B sequences ("slots"), each at its own position: one cache per layer, the next position of
     * each sequence, and the scratch of one step, allocated once here so that a step allocates nothing.
     */
    public final class DecodeState {
        private final SequenceMixer.Cache[] caches;
        private final int batchSize, maxLen;
        private final int[] positions;       // (B) next position of each sequence; 0 = empty
        private final float[] x, y, xn;      // (B, C) stream in/out of a block, normed rows
        private final float[] act;           // (B, F) the FFN's hidden rows
        private final float[] logits;        // (B, V)
        private final int[] rowPositions;    // (B) positions of the rows of the current step
        private final int[] allSlots;        // (B) 0..B-1
        private final boolean[] seen;        // (B) duplicate-slot check

        private DecodeState(int batchSize, int maxLen) {
            if (batchSize < 1) throw new IllegalArgumentException("a decode state needs at least one sequence, got " + batchSize);
            if (maxLen < 1) throw new IllegalArgumentException("a decode state needs room for at least one token, got " + maxLen);
            this.batchSize = batchSize;
            this.maxLen = maxLen;
            this.caches = new SequenceMixer.Cache[mixers.length];
            for (int i = 0; i < mixers.length; i++) caches[i] = mixers[i].newCache(batchSize, maxLen);
            int c = config.dModel();
            positions = new int[batchSize];
            x = new float[Sizes.product(batchSize, c)];
            y = new float[x.length];
            xn = new float[x.length];
            act = new float[Sizes.product(batchSize, config.dFfn())];
            logits = new float[Sizes.product(batchSize, config.vocabSize())];
            rowPositions = new int[batchSize];
            allSlots = new int[batchSize];
            for (int b = 0; b < batchSize; b++) allSlots[b] = b;
            seen = new boolean[batchSize];
        }

        /** The next position of sequence {@code slot}: how many tokens its cache holds. */
        public int position(int slot) {
            return positions[Objects.checkIndex(slot, batchSize)];
        }

        public int batch() { return batchSize; }

        /** The most tokens a sequence may hold. */
        public int maxLen() { return maxLen; }

        /** Bytes held by all layers' caches (keys, values, states; not the step scratch). */
        public long cacheBytes() {
            long b = 0;
            for (SequenceMixer.Cache c : caches) b += c.bytes();
            return b;
        }

        /** Makes sequence {@code to} a copy of sequence {@code from}, position included: a fork of its context. */
        public void copySequence(int from, int to) {
            Objects.checkIndex(from, batchSize);
            Objects.checkIndex(to, batchSize);
            if (from == to) return;
            for (SequenceMixer.Cache c : caches) c.copy(from, to);
            positions[to] = positions[from];
        }

        /** Checks slots[0, n) are distinct valid slots; names the first bad one. */
        private void checkSlots(int n, int[] slots) {
            if (n < 0 || n > batchSize) throw new IllegalArgumentException(n + " rows for a decode state of " + batchSize + " sequences");
            if (slots.length < n) throw new IllegalArgumentException("slots hold " + slots.length + " entries, need " + n);
            Arrays.fill(seen, false);
            for (int r = 0; r < n; r++) {
                int s = slots[r];
                if (s < 0 || s >= batchSize) throw new IllegalArgumentException("slot " + s + " outside [0, " + batchSize + ")");
                if (seen[s]) throw new IllegalArgumentException("slot " + s + " given twice in one step");
                seen[s] = true;
            }
        }
    }

    public DecodeState newDecodeState(int batch, int maxLen) {
        return new DecodeState(batch, maxLen);
    }

    /**
     * Prefill of B prompts of one length P: runs the parallel forward over (B, P), fills every sequence's cache and
     * returns logits (B, P, V). The state must be fresh.
     */
    public float[] prefill(DecodeState state, int[] prompt, int promptLen) {
        for (int b = 0; b < state.batchSize; b++) {
            if (state.positions[b] != 0) throw new IllegalStateException("prefill needs a fresh decode state, sequence " + b + " is at position " + state.positions[b]);
        }
        if (promptLen > state.maxLen) throw new IllegalArgumentException("prompt of " + promptLen + " tokens exceeds the cache's " + state.maxLen);
        float[] logits = forward(prompt, state.batchSize, promptLen);
        for (int i = 0; i < mixers.length; i++) {
            for (int b = 0; b < state.batchSize; b++) mixers[i].fillCache(state.caches[i], b, b, promptLen);
        }
        Arrays.fill(state.positions, promptLen);
        return logits;
    }

    /** Waste allowed when prompts of different lengths share one right-padded forward: padded <= PAD_SLACK * real tokens. */
    private static final double PAD_SLACK = 1.25;

    /**
     * Prefill of prompts of any lengths into the given sequences of the state (replacing whatever they held): the
     * parallel forward over the prompts, grouped by length into right-padded batches (every layer is causal, so
     * padding after a prompt changes nothing before its end), then each sequence's cache filled from its row.
     *
     * @param slots   (n) the sequences to fill, distinct
     * @param prompts (n) token ids, each of 1 to maxLen tokens
     * @return logits (n, V) after each prompt's last token, in a fresh array
     */
    public float[] prefill(DecodeState state, int[] slots, int[][] prompts) {
        int n = prompts.length, c = config.dModel(), v = config.vocabSize();
        state.checkSlots(n, slots);
        for (int r = 0; r < n; r++) {
            int len = prompts[r].length;
            if (len < 1) throw new IllegalArgumentException("prompt " + r + " is empty; a prompt needs at least one token (e.g. BOS)");
            if (len > state.maxLen) throw new IllegalArgumentException("prompt " + r + " of " + len + " tokens exceeds the cache's " + state.maxLen);
            checkTokens(prompts[r]);
        }
        Integer[] order = new Integer[n];
        for (int r = 0; r < n; r++) order[r] = r;
        Arrays.sort(order, (a, b) -> Integer.compare(prompts[b].length, prompts[a].length));
        float[] logits = new float[Sizes.product(n, v)];
        int start = 0;
        while (start < n) {
            int longest = prompts[order[start]].length, end = start + 1;
            long real = longest;
            while (end < n && (end + 1 - start) * (long) longest <= PAD_SLACK * (real + prompts[order[end]].length)) {
                real += prompts[order[end]].length;
                end++;
            }
            int rows = end - start;
            int[] tokens = new int[Sizes.product(rows, longest)]; // right-padded with token 0
            for (int g = 0; g < rows; g++) System.arraycopy(prompts[order[start + g]], 0, tokens, g * longest, prompts[order[start + g]].length);
            trunk(tokens, rows, longest);
            float[] last = new float[Sizes.product(rows, c)]; // (rows, C) the final-norm output after each prompt
            for (int g = 0; g < rows; g++) {
                int r = order[start + g], len = prompts[r].length;
                for (int i = 0; i < mixers.length; i++) mixers[i].fillCache(state.caches[i], slots[r], g, len);
                System.arraycopy(hn, (g * longest + len - 1) * c, last, g * c, c);
            }
            float[] groupLogits = new float[Sizes.product(rows, v)];
            Linear.forward(groupLogits, last, head.data(), head.offset(), rows, c, v);
            for (int g = 0; g < rows; g++) {
                int r = order[start + g];
                System.arraycopy(groupLogits, g * v, logits, r * v, v);
                state.positions[slots[r]] = prompts[r].length;
            }
            start = end;
        }
        return logits;
    }

    /** The forward up to the final norm (hn), saving activations as forward does, without the LM head. */
    private void trunk(int[] tokens, int batch, int seqLen) {
        int n = Sizes.product(batch, seqLen), c = config.dModel();
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
    }

    /**
     * Decodes one token for each of n sequences: row r feeds tokens[r] to sequence slots[r] at that sequence's
     * position, and advances it. Returns logits (n, V) in the state's buffer, valid until its next step.
     * Allocates nothing but trivial objects.
     */
    public float[] step(DecodeState state, int n, int[] slots, int[] tokens) {
        int c = config.dModel(), v = config.vocabSize();
        state.checkSlots(n, slots);
        if (tokens.length < n) throw new IllegalArgumentException("tokens hold " + tokens.length + " ids, need " + n);
        for (int r = 0; r < n; r++) {
            int t = tokens[r], pos = state.positions[slots[r]];
            if (t < 0 || t >= v) throw new IllegalArgumentException("token id " + t + " at index " + r + " is outside the vocabulary [0, " + v + ")");
            if (pos >= state.maxLen) throw new IllegalStateException("sequence " + slots[r] + " is full: " + state.maxLen + " tokens");
            state.rowPositions[r] = pos;
        }
        float[] x = state.x, y = state.y;
        embed(tokens, x, n);
        for (int i = 0; i < mixers.length; i++) {
            mixers[i].step(x, y, state.caches[i], n, slots, state.rowPositions);
            ffns[i].step(y, x, n, state.xn, state.act);
        }
        RmsNorm.forward(state.xn, null, x, finalNorm.data(), finalNorm.offset(), n, c);
        headDecode.apply(state.logits, state.xn, n);
        for (int r = 0; r < n; r++) state.positions[slots[r]]++;
        return state.logits;
    }

    /** Decodes one token per sequence (B), each at its own position; returns logits (B, V) in a fresh array. */
    public float[] step(DecodeState state, int[] next) {
        int b = state.batchSize;
        if (next.length != b) throw new IllegalArgumentException("step takes one token per sequence: " + b + ", got " + next.length);
        return Arrays.copyOf(step(state, b, state.allSlots, next), b * config.vocabSize());
    }

    /** Bytes of weights one decode step reads: every matrix in its decode format, norms, one embedding row. */
    public long stepWeightBytes() {
        long b = headDecode.bytes() + 4L * (finalNorm.size() + config.dModel());
        for (int i = 0; i < mixers.length; i++) b += mixers[i].stepWeightBytes() + ffns[i].stepWeightBytes();
        return b;
    }

    /** Bytes of cache one decode step reads for a sequence at position pos. */
    public long stepCacheBytes(int pos) {
        long b = 0;
        for (SequenceMixer m : mixers) b += m.stepCacheBytes(pos);
        return b;
    }

    @Override public String toString() {
        return "LanguageModel" + Arrays.toString(new int[] {config.numLayers(), config.dModel(), config.vocabSize()});
    }
}
