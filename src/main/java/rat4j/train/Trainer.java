package rat4j.train;

import rat4j.tokenizer.ByteTokenizer;
import rat4j.tokenizer.Tokenizer;
import rat4j.tokenizer.Tokenizers;
import rat4j.kernel.Kernels;
import rat4j.kernel.Parallel;
import rat4j.model.Initializer;
import rat4j.model.LanguageModel;
import rat4j.model.ModelConfig;
import rat4j.model.ParameterLayout;
import rat4j.model.io.FormatException;
import rat4j.model.io.ModelDirectory;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Trains a language model the way the reference's src/trainer/trainer.py does: for every optimizer step, A micro-batches
 * of forward/backward add their gradients, which are averaged, clipped to a global norm, and applied by AdamW at the
 * cosine schedule's learning rate. It validates on the held-out split every {@code evalEvery} steps, checkpoints every
 * {@code checkpointEvery} steps, and at the end writes the model as a model directory (RUN/model).
 * <p>
 * A run directory holds run.json (the {@link TrainConfig}), checkpoints/, metrics.jsonl, loss.png, model/ and, with
 * keepBest, best/. {@link #resume} continues from the newest good checkpoint, bit-identical to a run never interrupted:
 * the checkpoint holds everything the rest of the run depends on (parameters, moments, step, data position and
 * generator state), and every reduction runs in a fixed order.
 * <p>
 * One allocation per role: parameters, gradients and AdamW's two moments are flat arrays laid out by
 * {@link ParameterLayout}; the token and label buffers of a micro-batch are allocated once.
 */
public final class Trainer implements AutoCloseable {
    public static final String RUN_FILE = "run.json", MODEL_DIR = "model", BEST_DIR = "best";

    /**
     * What a call to {@link #run} did.
     *
     * @param step            optimizer steps done in the run so far
     * @param losses          the training loss of every step this call ran
     * @param valLoss         the last validation loss (NaN when there was none)
     * @param tokensPerSecond training tokens per second of forward/backward/optimizer time in this call
     * @param peakHeapBytes   the sum of the heap pools' peak use during this call
     * @param modelDir        the final model, or null when the run stopped before its last step
     */
    public record Result(long step, long totalSteps, long tokensSeen, double[] losses, double valLoss, double tokensPerSecond,
                         long peakHeapBytes, double seconds, Path modelDir) {
        public boolean finished() { return modelDir != null; }

        public double lastLoss() { return losses.length == 0 ? Double.NaN : losses[losses.length - 1]; }
    }

    private final TrainConfig config;
    private final Progress progress;
    private final Data data;
    private final long totalSteps, checkpointEvery;
    private final CosineSchedule schedule;
    private final LanguageModel model;
    private final float[] params, m, v;          // (P) each, laid out by ParameterLayout
    private final TrainStep stepper;
    private final int[] tokens, labels;          // (B, T) the step's buffers, reused by validation
    private final Checkpoint.Store store;
    private final Metrics metrics;
    private long step, tokensSeen;
    private double bestVal, lastVal = Double.NaN;
    private boolean plotFailed;

    /**
     * The data of a run: the training stream, the validation rows (possibly none), the tokenizer that encoded them (a
     * spec for Tokenizers.open, stored with every model the run writes; null when the data does not carry one) and what
     * to close.
     */
    private record Data(BatchSource train, Rows val, long stepsPerEpoch, String description, String tokenizer, Runnable closer) {}

    private Trainer(TrainConfig config, Progress progress, float[] params, float[] m, float[] v, Checkpoint from) throws IOException {
        if (Kernels.compute() != config.compute()) Kernels.useCompute(config.compute()); // the run's GEMM precision, also on --resume
        this.config = config;
        this.progress = progress;
        this.data = openData(config);
        try {
            this.totalSteps = config.maxSteps() > 0 ? config.maxSteps() : Math.multiplyExact(data.stepsPerEpoch(), config.epochs());
            if (totalSteps < 1) {
                throw new IllegalArgumentException(data.description() + " gives no whole optimizer step of B x A = " + config.microBatch() + " x "
                        + config.gradAccum() + " rows; lower --batch-size or --grad-accum, or give --max-steps");
            }
            this.checkpointEvery = config.checkpointEvery() > 0 ? config.checkpointEvery() : Math.max(1, totalSteps / 10);
            this.schedule = CosineSchedule.of(config.recipe().lr(), config.recipe().warmupFraction(), totalSteps, config.recipe().etaMin());
            this.params = params;
            this.m = m;
            this.v = v;
            this.model = new LanguageModel(config.model(), params);
            this.stepper = new TrainStep(model, m, v, config.recipe().optimizer(), config.recipe().clipNorm(), config.microBatch(), config.seqLen(),
                    config.gradAccum());
            this.tokens = stepper.tokens();
            this.labels = stepper.labels();
            this.store = new Checkpoint.Store(config.runDir());
            if (from != null) {
                step = from.step();
                tokensSeen = from.tokensSeen();
                bestVal = from.bestValLoss();
                data.train().seek(from.dataPosition(), from.rngState());
                if (step > totalSteps) throw new IllegalStateException("checkpoint at step " + step + " is past the run's " + totalSteps + " steps");
            } else {
                bestVal = Double.NaN;
            }
            this.metrics = Metrics.open(config.runDir(), step);
            if (data.tokenizer() == null) {
                progress.message("rat4j: warning: " + config.dataDir() + " holds no " + DataManifest.TOKENIZER_FILE + " (prepared by an older rat4j);"
                        + " the model directories will hold no tokenizer: run 'rat4j prepare' again, or give 'rat4j generate' --tokenizer");
            }
        } catch (IOException | RuntimeException e) {
            data.closer().run();
            throw e;
        }
    }

    /** Starts a new run in {@code config.runDir()}, which must not hold a run already. */
    public static Trainer start(TrainConfig config, Progress progress) throws IOException {
        Path run = config.runDir();
        if (Files.exists(run.resolve(RUN_FILE))) {
            throw new IOException(run + " already holds a run (" + RUN_FILE + "); continue it with --resume or choose another --out");
        }
        if (!new Checkpoint.Store(run).list().isEmpty()) {
            // pruning would take another run's newer checkpoints for ours and delete ours
            throw new IOException(run + " holds checkpoints but no " + RUN_FILE + "; choose another --out");
        }
        Files.createDirectories(run);
        float[] params = initialParameters(config);
        Trainer t = new Trainer(config, progress, params, new float[params.length], new float[params.length], null);
        try {
            AtomicOutput.write(run.resolve(RUN_FILE), config.toJson().getBytes(StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            t.close();
            throw e;
        }
        return t;
    }

    /**
     * Continues the run in {@code runDir} from its newest checkpoint that reads back intact; a corrupted or truncated
     * one is reported and the one before it used. Without any checkpoint the run starts over from step 0.
     */
    public static Trainer resume(Path runDir, Progress progress) throws IOException {
        Path run = runDir.toAbsolutePath().normalize();
        Path runFile = run.resolve(RUN_FILE);
        if (!Files.isRegularFile(runFile)) throw new NoSuchFileException(runFile.toString(), null, "no " + RUN_FILE + ": not a run directory to resume");
        TrainConfig config;
        try {
            config = TrainConfig.fromJson(Files.readString(runFile, StandardCharsets.UTF_8)).withRunDir(run);
        } catch (IllegalArgumentException e) {
            throw new FormatException(runFile + ": " + e.getMessage());
        }
        Checkpoint.Store store = new Checkpoint.Store(run);
        store.removeLeftovers();
        List<String> refused = new ArrayList<>();
        for (Path f : store.list()) {
            Checkpoint c;
            try {
                c = Checkpoint.read(f);
            } catch (FormatException e) {
                refused.add(e.getMessage());
                progress.message("rat4j: warning: refusing checkpoint " + e.getMessage() + "; trying the one before it");
                continue;
            }
            TrainConfig saved;
            try {
                saved = TrainConfig.fromJson(c.runConfig()).withRunDir(run);
            } catch (IllegalArgumentException e) {
                throw new FormatException(f + ": bad run config: " + e.getMessage());
            }
            if (!saved.equals(config)) throw new IOException(f + " belongs to a run other than " + runFile + " describes; refusing to mix them");
            if (c.params().length != ParameterLayout.of(config.model()).totalSize()) {
                throw new FormatException(f + ": holds " + c.params().length + " parameters, the run's model has " + ParameterLayout.of(config.model()).totalSize());
            }
            progress.message("rat4j: resuming " + run + " from " + f.getFileName() + " (step " + c.step() + ")");
            return new Trainer(config, progress, c.params(), c.m(), c.v(), c);
        }
        if (!refused.isEmpty()) throw new FormatException("no usable checkpoint in " + store.dir() + ": " + String.join("; ", refused));
        progress.message("rat4j: " + run + " has no checkpoint yet; starting it from step 0");
        float[] params = initialParameters(config);
        return new Trainer(config, progress, params, new float[params.length], new float[params.length], null);
    }

    private static float[] initialParameters(TrainConfig c) throws IOException {
        if (c.initFrom() == null) return Initializer.initialize(c.model(), c.seed());
        ModelDirectory.Model m = ModelDirectory.load(c.initFrom());
        if (!m.config().equals(c.model())) {
            throw new IllegalArgumentException("the model in " + c.initFrom() + " has config " + m.config() + ", the run says " + c.model());
        }
        return m.parameters();
    }

    private static Data openData(TrainConfig c) throws IOException {
        int vocab = c.model().vocabSize();
        if (!c.isSft()) {
            DataManifest.Prepared d = DataManifest.Prepared.open(c.dataDir());
            try {
                DataManifest mf = d.manifest();
                checkVocab(mf.vocabSize(), mf.tokenizer(), vocab, c.dataDir().toString());
                BatchSource train = new LmBatches(d.train(), mf.eosId(), c.microBatch(), c.seqLen(), c.gradAccum(), c.sampling(), c.seed());
                Rows val = LmBatches.rows(d.val(), mf.eosId(), c.seqLen(), c.valTokens() / c.seqLen());
                long steps = LmBatches.stepsPerEpoch(d.train().length(), c.microBatch(), c.seqLen(), c.gradAccum());
                String tokenizer = mf.tokenizerSpec(c.dataDir());
                if (tokenizer != null && !tokenizer.equals(ByteTokenizer.NAME)) checkTokenizerFile(tokenizer, mf);
                return new Data(train, val, steps, c.dataDir() + " (" + d.train().length() + " training tokens, " + mf.tokenizer() + ")", tokenizer, d::close);
            } catch (RuntimeException e) {
                d.close();
                throw e;
            }
        }
        Tokenizer enc = Tokenizers.open(c.tokenizer());
        checkVocab(enc.vocabSize(), enc.name(), vocab, c.sftFile().toString());
        List<SftData.Pair> pairs = SftData.readPairs(c.sftFile());
        int nVal = DataPreparation.valCount(pairs.size(), c.valFraction(), "pair");
        int[] order = new SplitMix64(c.seed()).permutation(pairs.size());
        List<SftData.Pair> trainPairs = new ArrayList<>(), valPairs = new ArrayList<>();
        for (int k = 0; k < order.length; k++) (k < nVal ? valPairs : trainPairs).add(pairs.get(order[k]));
        SftData train = SftData.build(trainPairs, enc, c.seqLen());
        Rows val = valPairs.isEmpty() ? null : SftData.build(valPairs.subList(0, (int) Math.min(valPairs.size(), Math.max(1, c.valTokens() / c.seqLen()))), enc, c.seqLen());
        return new Data(train.randomBatches(c.microBatch(), c.seed()), val, train.stepsPerEpoch(c.microBatch(), c.gradAccum()),
                c.sftFile() + " (" + trainPairs.size() + " training pairs)", c.tokenizer(), () -> {});
    }

    /** The tokenizer copy in the data directory must be the one the manifest names: a model must not carry another. */
    private static void checkTokenizerFile(String file, DataManifest mf) throws IOException {
        Tokenizer t = Tokenizers.open(file);
        // the name holds the file name the data was prepared from, which the copy does not keep
        if (t.vocabSize() != mf.vocabSize() || t.eosId() != mf.eosId()) {
            throw new FormatException(file + " is " + t.name() + " (vocab " + t.vocabSize() + ", EOS " + t.eosId() + "), but the data's " + DataManifest.FILE
                    + " says " + mf.tokenizer() + " (vocab " + mf.vocabSize() + ", EOS " + mf.eosId() + "); prepare the data again");
        }
    }

    private static void checkVocab(int dataVocab, String tokenizer, int modelVocab, String where) {
        if (dataVocab > modelVocab) {
            throw new IllegalArgumentException(where + " uses the " + tokenizer + " tokenizer's " + dataVocab + " ids, more than the model's vocab_size " + modelVocab);
        }
    }

    public TrainConfig config() { return config; }

    public long step() { return step; }

    public long totalSteps() { return totalSteps; }

    public float[] parameters() { return params; }

    /** Trains to the end of the run and writes the final model. */
    public Result run() throws IOException {
        return run(totalSteps);
    }

    /**
     * Trains until step {@code stopAt} (or the end of the run); stopping early is what an interruption does: the run
     * continues from its last checkpoint with {@link #resume}.
     */
    public Result run(long stopAt) throws IOException {
        long end = Math.min(stopAt, totalSteps);
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) if (p.getType() == MemoryType.HEAP) p.resetPeakUsage();
        long startStep = step, start = System.nanoTime();
        long trainNanos = 0;
        int perStep = config.microBatch() * config.seqLen() * config.gradAccum();
        double[] losses = new double[(int) Math.max(0, end - step)];
        if (startStep < end) progress.message(describe());
        while (step < end) {
            long t0 = System.nanoTime();
            double[] lossAndNorm = trainStep();
            trainNanos += System.nanoTime() - t0;
            losses[(int) (step - 1 - startStep)] = lossAndNorm[0];
            double tps = (step - startStep) * (double) perStep / (trainNanos / 1e9);
            metrics.logTrain(step, tokensSeen, lossAndNorm[0], lossAndNorm[2], lossAndNorm[1], tps);
            double eta = (totalSteps - step) * (trainNanos / 1e9) / (step - startStep);
            progress.update(String.format("step %d/%d | loss %.4f | lr %.2e | %s tok/s | ETA %s", step, totalSteps, lossAndNorm[0],
                    lossAndNorm[2], Progress.count(tps), Progress.duration(eta)));
            boolean last = step == totalSteps;
            if (step % config.evalEvery() == 0 || last) validate();
            if (step % checkpointEvery == 0 || last) checkpoint();
        }
        Path modelDir = null;
        if (step == totalSteps) {
            modelDir = config.runDir().resolve(MODEL_DIR);
            ModelDirectory.save(modelDir, config.model(), params, data.tokenizer());
            plot();
        }
        long peak = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) if (p.getType() == MemoryType.HEAP) peak += p.getPeakUsage().getUsed();
        double tps = trainNanos == 0 ? Double.NaN : (step - startStep) * (double) perStep / (trainNanos / 1e9);
        return new Result(step, totalSteps, tokensSeen, losses, lastVal, tps, peak, (System.nanoTime() - start) / 1e9, modelDir);
    }

    private String describe() {
        ModelConfig mc = config.model();
        String layers = mc.seqCell().kind().refName + (mc.interleaved() ? "+" + mc.seqCell1().kind().refName : "");
        TrainConfig.Recipe r = config.recipe();
        return String.format("rat4j: training %s parameters (%s, %d layer%s, d_model %d, vocab %d) on %s: %d steps of B %d x A %d x T %d = %d tokens;"
                        + " AdamW lr %.2e betas (%s, %s) wd %s, warmup %d steps, cosine to %.1e, clip %s; %d threads",
                Progress.count(params.length), layers, mc.numLayers(), mc.numLayers() == 1 ? "" : "s", mc.dModel(), mc.vocabSize(), data.description(), totalSteps,
                config.microBatch(), config.gradAccum(), config.seqLen(), (long) config.microBatch() * config.gradAccum() * config.seqLen(), r.lr(),
                r.beta1(), r.beta2(), r.weightDecay(), schedule.warmupSteps(), r.etaMin(), r.clipNorm() > 0 ? r.clipNorm() : "off", Parallel.threads());
    }

    /** One optimizer step; returns {loss, gradient norm before clipping, learning rate}. */
    private double[] trainStep() {
        double lr = schedule.at(step);
        double[] lossAndNorm = stepper.run(data.train(), step + 1, lr);
        step++;
        tokensSeen += stepper.tokensPerStep();
        return new double[] {lossAndNorm[0], lossAndNorm[1], lr};
    }

    /** Mean loss over every counted label of the validation rows, as the reference's validate(). */
    private void validate() throws IOException {
        Rows rows = data.val();
        if (rows == null || rows.count() == 0) return;
        int b = config.microBatch(), t = config.seqLen();
        double sum = 0;
        long count = 0;
        for (long r = 0; r < rows.count(); r += b) {
            int n = (int) Math.min(b, rows.count() - r);
            int[] x = n == b ? tokens : new int[n * t], y = n == b ? labels : new int[n * t];
            for (int i = 0; i < n; i++) rows.fill(r + i, x, y, i * t);
            int valid = 0;
            for (int l : y) if (l != LanguageModel.IGNORE_INDEX) valid++;
            if (valid == 0) continue;
            sum += model.score(x, y, n, t).loss() * valid;
            count += valid;
        }
        if (count == 0) return;
        lastVal = sum / count;
        metrics.logVal(step, tokensSeen, lastVal);
        progress.message(String.format("rat4j: step %d/%d: validation loss %.4f, perplexity %.2f (%d tokens)", step, totalSteps, lastVal,
                Math.exp(lastVal), count));
        if (Double.isNaN(bestVal) || lastVal < bestVal) {
            bestVal = lastVal;
            if (config.keepBest()) ModelDirectory.save(config.runDir().resolve(BEST_DIR), config.model(), params, data.tokenizer());
        }
        plot();
    }

    private void checkpoint() throws IOException {
        Checkpoint c = new Checkpoint(step, tokensSeen, data.train().position(), data.train().rngState(), bestVal,
                config.toJson(), params, m, v);
        store.save(c, config.keepCheckpoints());
    }

    /** Redraws RUN/loss.png; a machine that cannot draw (no fonts) gets one warning, the metrics file has the numbers. */
    private void plot() {
        if (plotFailed) return;
        try {
            LossPlot.write(config.runDir().resolve(LossPlot.FILE), "rat4j " + config.runDir().getFileName(), metrics.train(), metrics.val());
        } catch (IOException | RuntimeException | LinkageError | InternalError e) {
            plotFailed = true;
            progress.message("rat4j: warning: cannot draw " + LossPlot.FILE + " (" + e + "); the losses are in " + Metrics.FILE);
        }
    }

    @Override public void close() throws IOException {
        try {
            metrics.close();
        } finally {
            data.closer().run();
        }
    }
}
