package rat4j.bench;

import rat4j.kernel.WeightFormat;
import rat4j.model.Initializer;
import rat4j.model.LayerKind;
import rat4j.model.Layers;
import rat4j.model.LayerSpec;
import rat4j.model.ModelConfig;
import rat4j.model.ParameterLayout;
import rat4j.model.Presets;
import rat4j.nn.DecodeMatrix;
import rat4j.nn.DecodeWeights;
import rat4j.nn.Ffn;
import rat4j.nn.RmsNorm;
import rat4j.nn.Rope;
import rat4j.nn.SequenceMixer;
import rat4j.tensor.Sizes;
import rat4j.tensor.Tensor;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;

/**
 * Whole-model generation throughput as the paper's Table 1 (src/benchmark_eff/model_eff.py): a prompt of P tokens,
 * then G generated tokens per sequence, for the largest batch whose caches fit a memory budget, for the paper's five
 * models (attention, RAT, RNN and the two hybrids with sliding-window attention) at a width and depth this machine
 * holds.
 *
 * <p>The decode loop is the model's (embedding, per block the sequence layer's step and the FFN, final norm, LM head,
 * greedy next token) written here over the nn layers, since a batch of hundreds of 3K-token prompts cannot be
 * prefilled on a CPU. Sequence 0's prompt is prefilled by a real forward (timed: the latency of one prompt) and
 * fillCache; the other sequences' caches hold zeros of the same size, which costs a decode step the same time.
 * model_eff.py times every step from P to P+G; here {@code samples} steps at evenly spaced positions in [P, P+G) are
 * timed (all G with samples = G) and throughput is batch / mean step time.
 */
public final class ModelBench {
    private ModelBench() {}

    /** The paper's five models, by their short names (the "-xl" presets without the suffix). */
    public static final List<String> PAPER_MODELS = List.of("attention", "rat", "rnn",
            "attention_localattention_interleave", "rat_localattention_interleave");

    /**
     * @param memoryBudget bytes of cache (and per-sequence step scratch) the batch may fill; 0 = derived from the heap
     * @param samples      decode steps timed, spread over the G generated positions
     */
    public record Options(List<String> models, int dModel, int heads, int layers, int vocab, int prompt, int generate,
                          int samples, int warmupSteps, long memoryBudget, int maxBatch, long seed, Machine.Probe probe) {
        public Options {
            if (models.isEmpty()) throw new IllegalArgumentException("no model to measure");
            models = List.copyOf(new LinkedHashSet<>(models));
            for (String m : models) presetName(m);
            if (prompt < 1) throw new IllegalArgumentException("prompt must be >= 1 token, got " + prompt);
            if (generate < 1) throw new IllegalArgumentException("generated tokens must be >= 1, got " + generate);
            if (samples < 1 || samples > generate) throw new IllegalArgumentException("timed steps must lie in [1, " + generate + "], got " + samples);
            if (warmupSteps < 0) throw new IllegalArgumentException("warm-up steps must be >= 0, got " + warmupSteps);
            if (memoryBudget < 0) throw new IllegalArgumentException("memory budget must be >= 0 bytes, got " + memoryBudget);
            if (maxBatch < 1) throw new IllegalArgumentException("max batch must be >= 1, got " + maxBatch);
            for (String m : models) config(m, dModel, heads, layers, vocab); // validates the sizes with the config's own messages
        }

        /** d_model 1024, 16 heads, 12 layers, 32000 tokens; the paper's 3072-token prompt and 1024 generated tokens. */
        public static Options paper() {
            return new Options(PAPER_MODELS, 1024, 16, 12, 32000, 3072, 1024, 16, 2, 0, 256, 1005, Machine.Probe.FULL);
        }

        public static Options quick() {
            return new Options(PAPER_MODELS, 128, 4, 2, 512, 256, 64, 4, 1, 0, 32, 1005, Machine.Probe.QUICK);
        }
    }

    /** "rat" or "rat-xl" -> "rat-xl"; throws naming the known models otherwise. */
    static String presetName(String model) {
        String s = model.trim().toLowerCase(Locale.ROOT);
        String name = s.endsWith("-xl") ? s : s + "-xl";
        if (!Presets.names().contains(name)) {
            throw new IllegalArgumentException("unknown model '" + model + "' (known: " + String.join(", ", PAPER_MODELS) + ")");
        }
        return name;
    }

    /** The paper's model {@code name} at another size: FFN 4 x d_model, every cell with the given heads. */
    public static ModelConfig config(String name, int dModel, int heads, int layers, int vocab) {
        ModelConfig xl = Presets.get(presetName(name));
        return new ModelConfig(vocab, dModel, layers, 4 * dModel, withHeads(xl.seqCell(), heads),
                xl.seqCell1() == null ? null : withHeads(xl.seqCell1(), heads), xl.interleaveStep(), xl.pe(), xl.ropeBase(), xl.tieEmbedding());
    }

    private static LayerSpec withHeads(LayerSpec s, int heads) {
        return s.kind() == LayerKind.RNN ? s : new LayerSpec(s.kind(), heads, s.chunkSize(), s.ngroups(), s.windowSize(), s.gateInitLength());
    }

    /** Cache bytes of one sequence of up to maxLen tokens over all layers. */
    public static long cacheBytesPerSequence(ModelConfig c, int maxLen) {
        long sum = 0;
        for (int i = 0; i < c.numLayers(); i++) sum += LayerCosts.cacheBytes(BenchLayer.of(c.layer(i)), c.dModel(), 1, maxLen);
        return sum;
    }

    /** Step scratch per sequence: the stream, the FFN's hidden rows, a layer step's temporaries, the logits. */
    static long stepBytesPerSequence(ModelConfig c) {
        return 4L * (20L * c.dModel() + 2L * c.dFfn() + c.vocabSize());
    }

    /** The largest batch, up to maxBatch, whose caches and step scratch fit the budget; 0 when one sequence does not. */
    public static int batchFor(long budget, long perSequence, int maxBatch) {
        return (int) Math.min(maxBatch, budget / perSequence);
    }

    /** Work of one decode step of the whole model at position pos. */
    public static Cost stepCost(ModelConfig c, int batch, int pos) {
        List<Cost.Part> parts = new ArrayList<>();
        for (int i = 0; i < c.numLayers(); i++) {
            LayerSpec s = c.layer(i);
            parts.addAll(LayerCosts.decode(BenchLayer.of(s), c.dModel(), Math.max(1, s.numHead()), batch, pos).parts());
            parts.add(LayerCosts.linearForward("fc1", batch, c.dModel(), c.dFfn()));
            parts.add(LayerCosts.linearForward("fc2", batch, c.dFfn(), c.dModel()));
            parts.add(new Cost.Part(Cost.ELEMENTWISE, "ffn norm, gelu, residual", 0, 4.0 * batch * (5.0 * c.dModel() + 2.0 * c.dFfn())));
        }
        parts.add(LayerCosts.linearForward("lm_head", batch, c.dModel(), c.vocabSize()));
        return new Cost(parts);
    }

    /**
     * One model's measurement, or why it was skipped (then step is null).
     *
     * @param prefillMs the forward of one P-token prompt through all layers, with fillCache
     * @param step      the timed decode steps, ms each
     * @param cost      the mean work of one step over the timed positions
     * @param others    the share of the machine other processes used during the timed steps; NaN if unknown
     */
    public record Row(String model, ModelConfig config, int batch, long cacheBytesPerSequence, long weightBytes,
                      double prefillMs, Timing step, Cost cost, double idealStepMs, double others, String skipped) {
        public boolean measured() { return step != null; }

        /** Generated tokens per second: batch over the mean step time. */
        public double tokensPerSecond() { return measured() ? batch * 1e3 / step.mean() : Double.NaN; }

        public double idealTokensPerSecond() { return batch * 1e3 / idealStepMs; }
    }

    public record Result(Machine machine, Options options, long budgetBytes, List<Row> rows) {
        public Result {
            rows = List.copyOf(rows);
        }

        /** The same rows judged against another measurement of the machine (see LayerBench.Result#withMachine). */
        public Result withMachine(Machine m) {
            List<Row> rs = new ArrayList<>();
            for (Row r : rows) {
                rs.add(new Row(r.model(), r.config(), r.batch(), r.cacheBytesPerSequence(), r.weightBytes(), r.prefillMs(), r.step(), r.cost(),
                        m.idealMs(r.cost()), r.others(), r.skipped()));
            }
            return new Result(m, options, budgetBytes, rs);
        }

        /** Throughput over attention's; NaN when either is missing. */
        public double speedup(Row r) {
            for (Row a : rows) {
                if (a.model().equals("attention") && a.measured() && r.measured()) return r.tokensPerSecond() / a.tokensPerSecond();
            }
            return Double.NaN;
        }
    }

    /** Bytes per model for the decode budget when none is given: 60% of the heap left after the largest model's weights. */
    static long autoBudget(Options o) {
        long weights = 0;
        for (String m : o.models()) weights = Math.max(weights, 4L * ParameterLayout.of(config(m, o.dModel(), o.heads(), o.layers(), o.vocab())).totalSize());
        return (long) (0.6 * (Runtime.getRuntime().maxMemory() - weights));
    }

    public static Result run(Options o, Machine machine, PrintWriter progress) {
        long budget = o.memoryBudget() > 0 ? o.memoryBudget() : autoBudget(o);
        if (budget <= 0) throw new IllegalStateException("no heap left for caches after the weights; give the JVM more with RAT4J_JAVA_OPTS=-Xmx...");
        prewarm(o, progress);
        List<Row> rows = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < o.models().size(); i++) {
            String name = o.models().get(i).trim().toLowerCase(Locale.ROOT).replaceFirst("-xl$", "");
            Row r = measure(o, machine, name, budget, progress);
            rows.add(r);
            System.gc();
            if (progress != null) {
                double elapsed = (System.nanoTime() - start) / 1e9, eta = elapsed / (i + 1) * (o.models().size() - i - 1);
                progress.printf(Locale.ROOT, "bench: [%d/%d] %s: %s   %s, ETA ~%s%n", i + 1, o.models().size(), name,
                        r.measured() ? String.format(Locale.ROOT, "batch %d, %.1f ms/step, %.1f tokens/s", r.batch(), r.step().mean(), r.tokensPerSecond())
                                : "skipped: " + r.skipped(),
                        LayerBench.Progress.clock(elapsed), LayerBench.Progress.clock(eta));
                progress.flush();
            }
        }
        return new Result(machine, o, budget, rows);
    }

    /**
     * Runs every model at a small size first (a 64-token prefill, then decode steps for up to a second), so that the
     * JIT has compiled the decode path before anything is timed: its first calls run interpreted, tens of times slower.
     */
    static void prewarm(Options o, PrintWriter progress) {
        if (progress != null) {
            progress.println("bench: warming up the JIT on every model at a small size ...");
            progress.flush();
        }
        int prompt = 64, batch = 4;
        for (String m : o.models()) {
            ModelConfig small = config(m, 64, 4, 2, 64);
            Decoder dec = new Decoder(small, o.seed());
            SequenceMixer.Cache[] caches = dec.newCaches(batch, prompt + PREWARM_STEPS);
            int[] ids = new int[prompt];
            dec.prefill(ids, caches);
            int[] next = new int[batch];
            long start = System.nanoTime();
            for (int k = 0; k < PREWARM_STEPS && System.nanoTime() - start < 1_000_000_000L; k++) dec.step(next, caches, batch, prompt + k);
        }
    }

    static final int PREWARM_STEPS = 300;

    static Row measure(Options o, Machine machine, String name, long budget, PrintWriter progress) {
        ModelConfig config = config(name, o.dModel(), o.heads(), o.layers(), o.vocab());
        int maxLen = o.prompt() + o.generate();
        long perSeq = cacheBytesPerSequence(config, maxLen), weightBytes = 4L * ParameterLayout.of(config).totalSize();
        int batch = batchFor(budget, perSeq + stepBytesPerSequence(config), o.maxBatch());
        int[] positions = new int[o.samples()];
        for (int k = 0; k < positions.length; k++) positions[k] = o.prompt() + (int) ((long) k * o.generate() / o.samples());
        Cost cost = new Cost(List.of());
        for (int p : positions) cost = cost.plus(stepCost(config, Math.max(1, batch), p).times(1.0 / positions.length));
        double ideal = machine.idealMs(cost);
        if (batch < 1) {
            return new Row(name, config, 0, perSeq, weightBytes, Double.NaN, null, cost, ideal, Double.NaN,
                    String.format(Locale.ROOT, "one sequence needs %.2f GiB of cache, the budget is %.2f GiB", perSeq / (double) (1L << 30), budget / (double) (1L << 30)));
        }
        try {
            if (progress != null) {
                progress.printf(Locale.ROOT, "bench: %s: %,d parameters, batch %d (%s of cache per sequence), prefilling one %d-token prompt ...%n",
                        name, weightBytes / 4, batch, ModelReport.bytes(perSeq), o.prompt());
                progress.flush();
            }
            Decoder dec = new Decoder(config, o.seed());
            SequenceMixer.Cache[] caches = dec.newCaches(batch, maxLen);
            int[] prompt = new int[o.prompt()];
            for (int t = 0; t < prompt.length; t++) prompt[t] = (int) ((t * 7919L + 17) % config.vocabSize());
            long t0 = System.nanoTime();
            dec.prefill(prompt, caches);
            double prefillMs = (System.nanoTime() - t0) / 1e6;
            int[] next = new int[batch];
            java.util.Arrays.fill(next, prompt[prompt.length - 1]);
            for (int w = 0; w < o.warmupSteps(); w++) dec.step(next, caches, batch, o.prompt());
            double[] ms = new double[positions.length];
            Interference.Snapshot before = Interference.now();
            for (int k = 0; k < positions.length; k++) {
                long s0 = System.nanoTime();
                float[] logits = dec.step(next, caches, batch, positions[k]);
                ms[k] = (System.nanoTime() - s0) / 1e6;
                argmax(logits, batch, config.vocabSize(), next);
            }
            double others = Interference.othersShare(before, Interference.now());
            return new Row(name, config, batch, perSeq, weightBytes, prefillMs, new Timing(ms), cost, ideal, others, null);
        } catch (OutOfMemoryError e) {
            return new Row(name, config, batch, perSeq, weightBytes, Double.NaN, null, cost, ideal, Double.NaN,
                    "out of memory at batch " + batch + " (lower --memory-gib or give the JVM more with RAT4J_JAVA_OPTS=-Xmx...)");
        }
    }

    /** next[b] = the index of the largest of logits (B, V) row b: greedy decoding, as cheap as any sampler. */
    static void argmax(float[] logits, int batch, int vocab, int[] next) {
        for (int b = 0; b < batch; b++) {
            int best = 0;
            for (int v = 1; v < vocab; v++) if (logits[b * vocab + v] > logits[b * vocab + best]) best = v;
            next[b] = best;
        }
    }

    /**
     * A model's decode path over the nn layers, with the reference's initialisation: embedding, per block the
     * sequence layer and the FFN, final norm, tied LM head.
     */
    static final class Decoder {
        private final ModelConfig config;
        private final ParameterLayout layout;
        private final float[] params;
        private final Rope rope;
        private final SequenceMixer[] mixers;
        private final Ffn[] ffns;
        private final Tensor embedding, finalNorm; // (V, C), (C)
        private final DecodeMatrix head;           // (V, C), as the decode path reads it

        Decoder(ModelConfig config, long seed) {
            this.config = config;
            this.layout = ParameterLayout.of(config);
            this.params = Initializer.initialize(config, seed);
            int d = 0;
            for (int i = 0; i < config.numLayers(); i++) d = Math.max(d, config.layer(i).headDim(config.dModel()));
            this.rope = d > 0 ? new Rope(d, config.ropeBase()) : null;
            this.mixers = new SequenceMixer[config.numLayers()];
            this.ffns = new Ffn[config.numLayers()];
            DecodeWeights decode = new DecodeWeights(WeightFormat.FP32);
            for (int i = 0; i < mixers.length; i++) {
                mixers[i] = Layers.mixer(config, i, layout, params, decode, rope);
                ffns[i] = ffn(i, decode);
            }
            embedding = layout.view(params, ParameterLayout.EMBEDDING);
            finalNorm = layout.view(params, ParameterLayout.FINAL_NORM);
            head = decode.of(config.tieEmbedding() ? embedding : layout.view(params, ParameterLayout.LM_HEAD));
            decode.pack();
        }

        private Ffn ffn(int i, DecodeWeights decode) {
            String h = "backbone.layers." + i + ".hidden_layer.";
            return new Ffn(layout.view(params, h + "ln.weight"), layout.view(params, h + "fc1.weight"), layout.view(params, h + "fc2.weight"), decode);
        }

        SequenceMixer.Cache[] newCaches(int batch, int maxLen) {
            SequenceMixer.Cache[] caches = new SequenceMixer.Cache[mixers.length];
            for (int i = 0; i < mixers.length; i++) caches[i] = mixers[i].newCache(batch, maxLen);
            return caches;
        }

        private void embed(int[] ids, float[] out) {
            int c = config.dModel();
            for (int r = 0; r < ids.length; r++) System.arraycopy(embedding.data(), embedding.offset() + ids[r] * c, out, r * c, c);
        }

        /**
         * Runs one prompt (P) through every block and fills sequence 0 of the caches. Each block runs on a fresh layer
         * instance over the same weights, so only one block's activations are alive at a time.
         */
        void prefill(int[] prompt, SequenceMixer.Cache[] caches) {
            int p = prompt.length, pc = Sizes.product(p, config.dModel());
            float[] x = new float[pc], y = new float[pc]; // (1, P, C) the residual stream, ping-ponged
            embed(prompt, x);
            DecodeWeights unused = new DecodeWeights(WeightFormat.FP32); // these instances only run the parallel forward
            for (int i = 0; i < mixers.length; i++) {
                SequenceMixer m = Layers.mixer(config, i, layout, params, unused, rope);
                m.forward(x, y, 1, p);
                m.fillCache(caches[i], 0, 0, p);
                ffn(i, unused).forward(y, x, 1, p);
            }
        }

        /** One token per sequence at position pos; returns logits (B, V). */
        float[] step(int[] next, SequenceMixer.Cache[] caches, int batch, int pos) {
            int c = config.dModel();
            int[] slots = new int[batch], positions = new int[batch];
            for (int b = 0; b < batch; b++) {
                slots[b] = b;
                positions[b] = pos;
            }
            float[] x = new float[batch * c], y = new float[batch * c], xn = new float[batch * c]; // (B, C)
            float[] act = new float[Sizes.product(batch, ffns.length == 0 ? 0 : ffns[0].hidden())];  // (B, F)
            embed(next, x);
            for (int i = 0; i < mixers.length; i++) {
                mixers[i].step(x, y, caches[i], batch, slots, positions);
                ffns[i].step(y, x, batch, xn, act);
            }
            RmsNorm.forward(xn, null, x, finalNorm.data(), finalNorm.offset(), batch, c);
            float[] logits = new float[Sizes.product(batch, config.vocabSize())]; // (B, V)
            head.apply(logits, xn, batch);
            return logits;
        }
    }
}
