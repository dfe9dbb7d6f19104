package rat4j.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import rat4j.kernel.Kernels;
import rat4j.kernel.Parallel;
import rat4j.model.Initializer;
import rat4j.model.LanguageModel;
import rat4j.model.ModelConfig;
import rat4j.model.Presets;
import rat4j.train.AtomicOutput;
import rat4j.train.BatchSource;
import rat4j.train.TrainConfig;
import rat4j.train.TrainStep;

import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Training throughput and memory of whole models ('rat4j bench train'): full optimizer steps ({@link TrainStep}:
 * forward, backward, gradient clipping, AdamW, with the pre-training recipe) on random tokens, for each preset and
 * sequence length T, with the tokens of a step held constant (B = tokens / T), so the lengths compare the cost of
 * longer context at equal work in the projections and FFNs.
 * <p>
 * Memory: parameters, gradients and the two AdamW moments are 4 bytes per parameter each. The activations are
 * measured, not modelled: the heap the model keeps between steps (after a full GC) beyond those four arrays and what
 * was live before it was built. The peak heap is the sum of the heap pools' high-water marks over the timed steps; it
 * includes the logits (B, T, V) a forward allocates per call and garbage not yet collected, so it is what -Xmx must
 * allow, not what the model needs.
 */
public final class TrainBench {
    private TrainBench() {}

    /**
     * @param presets       model presets (rat-small is the quickstart's)
     * @param lengths       sequence lengths T; each must divide tokensPerStep
     * @param tokensPerStep B x T of every step
     * @param warmup        untimed steps first (JIT, first-touch allocation)
     * @param steps         timed steps
     */
    public record Options(List<String> presets, List<Integer> lengths, int tokensPerStep, int warmup, int steps, long seed) {
        public static final List<Integer> DEFAULT_LENGTHS = List.of(512, 1024, 2048, 4096);

        public Options {
            if (presets == null || presets.isEmpty()) throw new IllegalArgumentException("no model presets");
            presets = List.copyOf(presets);
            for (String p : presets) Presets.get(p); // fails with the list of presets
            if (lengths == null || lengths.isEmpty()) throw new IllegalArgumentException("no sequence lengths");
            lengths = List.copyOf(lengths);
            if (tokensPerStep < 1) throw new IllegalArgumentException("tokens per step must be >= 1, got " + tokensPerStep);
            for (int t : lengths) {
                if (t < 1 || tokensPerStep % t != 0) {
                    throw new IllegalArgumentException("sequence length " + t + " does not divide the " + tokensPerStep + " tokens of a step; choose lengths that do");
                }
            }
            if (warmup < 0) throw new IllegalArgumentException("warm-up steps must be >= 0, got " + warmup);
            if (steps < 1) throw new IllegalArgumentException("timed steps must be >= 1, got " + steps);
        }

        /** rat-small at T = 512 ... 4096, 8192 tokens per step, 1 warm-up and 3 timed steps: about a minute per preset on 2 idle cores. */
        public static Options defaults() {
            return new Options(List.of("rat-small"), DEFAULT_LENGTHS, 8192, 1, 3, 1005);
        }
    }

    /**
     * One (preset, T) measurement.
     *
     * @param step             milliseconds of each timed step
     * @param activationBytes  heap kept by the model between steps beyond parameters, gradients and moments (measured)
     * @param peakHeapBytes    sum of the heap pools' peaks over the warm-up and timed steps
     */
    public record Row(String preset, long parameters, int seqLen, int batch, Timing step, double[] losses, long activationBytes, long peakHeapBytes) {
        public long parameterBytes() { return 4 * parameters; }

        public long gradientBytes() { return 4 * parameters; }

        public long optimizerBytes() { return 8 * parameters; }

        /** Tokens per second at the median step. */
        public double tokensPerSecond() { return (double) batch * seqLen / (step.median() / 1e3); }
    }

    public record Result(Options options, String gemm, int threads, long maxHeapBytes, List<Row> rows) {}

    public static Result run(Options o, PrintWriter progress) {
        List<Row> rows = new ArrayList<>();
        for (String preset : o.presets()) {
            for (int t : o.lengths()) {
                progress.printf(Locale.ROOT, "bench train: %s at T = %d, B = %d ...%n", preset, t, o.tokensPerStep() / t);
                progress.flush();
                rows.add(measure(preset, Presets.get(preset), t, o));
            }
        }
        return new Result(o, Kernels.gemm().name(), Parallel.threads(), Runtime.getRuntime().maxMemory(), rows);
    }

    static Row measure(String preset, ModelConfig config, int seqLen, Options o) {
        int batch = o.tokensPerStep() / seqLen;
        long before = liveHeap();
        float[] params = Initializer.initialize(config, o.seed());
        float[] m = new float[params.length], v = new float[params.length];
        LanguageModel model = new LanguageModel(config, params);
        TrainConfig.Recipe recipe = TrainConfig.Recipe.PRETRAIN;
        TrainStep step = new TrainStep(model, m, v, recipe.optimizer(), recipe.clipNorm(), batch, seqLen, 1);
        RandomTokens source = new RandomTokens(config.vocabSize(), seqLen, o.seed());
        resetPeaks();
        double[] losses = new double[o.warmup() + o.steps()];
        double[] ms = new double[o.steps()];
        for (int k = 0; k < losses.length; k++) {
            long t0 = System.nanoTime();
            losses[k] = step.run(source, k + 1, recipe.lr())[0];
            if (k >= o.warmup()) ms[k - o.warmup()] = (System.nanoTime() - t0) / 1e6;
        }
        long peak = heapPeaks();
        long kept = liveHeap() - before - 16L * params.length; // parameters, gradients, m, v
        java.lang.ref.Reference.reachabilityFence(step);
        return new Row(preset, params.length, seqLen, batch, new Timing(ms), losses, Math.max(0, kept), peak);
    }

    /** Heap in use after a full collection (what is live). */
    private static long liveHeap() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static void resetPeaks() {
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) if (p.getType() == MemoryType.HEAP) p.resetPeakUsage();
    }

    private static long heapPeaks() {
        long peak = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) if (p.getType() == MemoryType.HEAP) peak += p.getPeakUsage().getUsed();
        return peak;
    }

    /** Uniform random tokens, each row's labels its tokens shifted by one (as language-model batches are). */
    static final class RandomTokens implements BatchSource {
        private final int vocab, seqLen;
        private final long seed;
        private final SplittableRandom rng;
        private long position;

        RandomTokens(int vocab, int seqLen, long seed) {
            this.vocab = vocab;
            this.seqLen = seqLen;
            this.seed = seed;
            this.rng = new SplittableRandom(seed);
        }

        @Override public void next(int[] tokens, int[] labels) {
            for (int r = 0; r < tokens.length; r += seqLen) {
                int next = rng.nextInt(vocab);
                for (int i = 0; i < seqLen; i++) {
                    tokens[r + i] = next;
                    next = rng.nextInt(vocab);
                    labels[r + i] = next;
                }
            }
            position++;
        }

        @Override public long position() { return position; }

        @Override public long rngState() { return seed; }

        @Override public void seek(long position, long rngState) {
            throw new UnsupportedOperationException("benchmark batches are not checkpointed, so never resumed");
        }
    }

    public static String table(Result r) {
        Options o = r.options();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "rat4j bench train: full training steps (forward, backward, clip, AdamW) on random tokens, %d tokens per step"
                + " (B = %d / T); %d warm-up + %d timed steps; %d threads, gemm %s, max heap %s%n", o.tokensPerStep(), o.tokensPerStep(), o.warmup(),
                o.steps(), r.threads(), r.gemm(), ModelReport.bytes(r.maxHeapBytes())));
        sb.append("tokens/s at the median step; ±mad = median absolute deviation / median; params, grads, adamw = parameter, gradient and"
                + " moment arrays; activations = heap the model keeps between steps beyond those (measured); peak = heap high-water mark\n\n");
        sb.append(String.format(Locale.ROOT, "%-36s %8s %5s %5s %10s %6s %10s %10s %10s %10s %12s %10s%n", "model", "params", "T", "B", "step ms",
                "±mad", "tokens/s", "params", "grads", "adamw", "activations", "peak"));
        for (Row x : r.rows()) {
            sb.append(String.format(Locale.ROOT, "%-36s %8s %5d %5d %10.1f %5.1f%% %10.0f %10s %10s %10s %12s %10s%n", x.preset(), millions(x.parameters()),
                    x.seqLen(), x.batch(), x.step().median(), 100 * x.step().spread(), x.tokensPerSecond(), ModelReport.bytes(x.parameterBytes()),
                    ModelReport.bytes(x.gradientBytes()), ModelReport.bytes(x.optimizerBytes()), ModelReport.bytes(x.activationBytes()),
                    ModelReport.bytes(x.peakHeapBytes())));
        }
        return sb.toString();
    }

    private static String millions(long n) {
        return String.format(Locale.ROOT, "%.2fM", n / 1e6);
    }

    public static ObjectNode json(Result r) {
        ObjectMapper om = new ObjectMapper();
        ObjectNode root = om.createObjectNode();
        root.put("benchmark", "train");
        ObjectNode machine = root.putObject("machine");
        machine.put("threads", r.threads());
        machine.put("gemm", r.gemm());
        machine.put("max_heap_bytes", r.maxHeapBytes());
        Options o = r.options();
        ObjectNode opt = root.putObject("options");
        ArrayNode presets = opt.putArray("presets");
        o.presets().forEach(presets::add);
        ArrayNode lengths = opt.putArray("lengths");
        o.lengths().forEach(lengths::add);
        opt.put("tokens_per_step", o.tokensPerStep());
        opt.put("warmup_steps", o.warmup());
        opt.put("timed_steps", o.steps());
        opt.put("seed", o.seed());
        ArrayNode rows = root.putArray("rows");
        for (Row x : r.rows()) {
            ObjectNode n = rows.addObject();
            n.put("model", x.preset());
            n.put("parameters", x.parameters());
            n.put("seq_len", x.seqLen());
            n.put("batch", x.batch());
            n.put("tokens_per_step", (long) x.batch() * x.seqLen());
            n.put("step_median_ms", x.step().median());
            n.put("step_mad_ms", x.step().mad());
            n.put("step_min_ms", x.step().min());
            n.put("step_max_ms", x.step().max());
            ArrayNode samples = n.putArray("step_samples_ms");
            for (double s : x.step().samplesMs()) samples.add(s);
            n.put("tokens_per_second", x.tokensPerSecond());
            ArrayNode losses = n.putArray("losses");
            for (double l : x.losses()) losses.add(l);
            n.put("parameter_bytes", x.parameterBytes());
            n.put("gradient_bytes", x.gradientBytes());
            n.put("optimizer_bytes", x.optimizerBytes());
            n.put("activation_bytes", x.activationBytes());
            n.put("peak_heap_bytes", x.peakHeapBytes());
        }
        return root;
    }

    public static void writeJson(Result r, Path file) throws IOException {
        AtomicOutput.write(file, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(json(r)));
    }
}
