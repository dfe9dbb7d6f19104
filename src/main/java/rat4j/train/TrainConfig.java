package rat4j.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import rat4j.kernel.Compute;
import rat4j.model.ModelConfig;
import rat4j.model.io.ConfigJson;

import java.nio.file.Path;
import java.util.List;

/**
 * Everything a training run is made of, validated on construction; change it with the withX copies. A run directory
 * keeps it as run.json so {@code --resume} needs nothing else.
 *
 * @param dataDir         prepared data ({@link DataManifest}), or null when fine-tuning from {@code sftFile}
 * @param sftFile         {"prompt", "response"} JSONL, or null
 * @param tokenizer       the encoder of the SFT pairs (ignored for prepared data, whose manifest names its own)
 * @param model           the model's shape; with {@code initFrom} it must be the saved model's
 * @param initFrom        a model directory to start from, or null to initialise from {@code seed}
 * @param microBatch      B, rows per forward/backward
 * @param gradAccum       A, micro-batches per optimizer step (global batch B x A rows)
 * @param epochs          passes over the training data when {@code maxSteps} is 0
 * @param maxSteps        optimizer steps of the run, or 0 for {@code epochs} passes
 * @param evalEvery       validate every this many steps (and after the last)
 * @param valTokens       validate on at most this many tokens of the held-out split
 * @param checkpointEvery checkpoint every this many steps (and after the last); 0 = every tenth of the run, as the reference
 * @param keepCheckpoints how many of the latest checkpoints to keep (at least 1)
 * @param keepBest        also keep the model with the lowest validation loss in RUN/best
 * @param valFraction     SFT only: the share of pairs held out for validation
 * @param compute         the GEMM precision of the run (fp32, or bf16 autocast), kept so that --resume keeps it
 */
public record TrainConfig(Path dataDir, Path sftFile, String tokenizer, ModelConfig model, Path initFrom, Path runDir,
                          int seqLen, int microBatch, int gradAccum, int epochs, long maxSteps, Sampling sampling, long seed,
                          Recipe recipe, long evalEvery, long valTokens, long checkpointEvery, int keepCheckpoints, boolean keepBest,
                          double valFraction, Compute compute) {

    /** How training windows are drawn (src/data/lm_dataloader.py): in file order, or at random offsets. */
    public enum Sampling {
        ORDERED("ordered"), RANDOM("random");

        public final String refName;

        Sampling(String refName) { this.refName = refName; }

        public static Sampling fromRefName(String s) {
            for (Sampling v : values()) if (v.refName.equals(s)) return v;
            throw new IllegalArgumentException("sampling must be ordered or random, got '" + s + "'");
        }
    }

    /**
     * The optimisation recipe. {@link #PRETRAIN} is configs/experiment/fineweb_edu/rat-xl.yaml: AdamW lr 8e-4, betas
     * (0.9, 0.95), eps 1e-8 (torch's default), weight decay 0.1; cosine schedule, warmup 0.05 of the steps, eta_min 1e-6;
     * gradient clipping at norm 1.0. {@link #SFT} is configs/experiment/sft/rat-xl.yaml: lr 1e-5, weight decay 0.01.
     *
     * @param clipNorm the global gradient norm to clip to, or 0 for no clipping
     */
    public record Recipe(double lr, double beta1, double beta2, double eps, double weightDecay, double warmupFraction, double etaMin,
                         double clipNorm) {
        public static final Recipe PRETRAIN = new Recipe(8e-4, 0.9, 0.95, 1e-8, 0.1, 0.05, 1e-6, 1.0);
        public static final Recipe SFT = new Recipe(1e-5, 0.9, 0.95, 1e-8, 0.01, 0.05, 1e-6, 1.0);

        public Recipe {
            if (!(lr > 0) || Double.isInfinite(lr)) throw new IllegalArgumentException("learning rate must be > 0, got " + lr);
            new AdamW(beta1, beta2, eps, weightDecay);
            if (!(warmupFraction >= 0 && warmupFraction < 1)) throw new IllegalArgumentException("warmup fraction must be in [0, 1), got " + warmupFraction);
            if (!(etaMin >= 0 && etaMin <= lr)) throw new IllegalArgumentException("eta_min must be in [0, lr = " + lr + "], got " + etaMin);
            if (!(clipNorm >= 0) || Double.isInfinite(clipNorm)) throw new IllegalArgumentException("clip norm must be >= 0 (0 = off), got " + clipNorm);
        }

        public AdamW optimizer() { return new AdamW(beta1, beta2, eps, weightDecay); }

        public Recipe withLr(double v) { return new Recipe(v, beta1, beta2, eps, weightDecay, warmupFraction, etaMin, clipNorm); }

        public Recipe withWeightDecay(double v) { return new Recipe(lr, beta1, beta2, eps, v, warmupFraction, etaMin, clipNorm); }

        public Recipe withWarmupFraction(double v) { return new Recipe(lr, beta1, beta2, eps, weightDecay, v, etaMin, clipNorm); }

        public Recipe withClipNorm(double v) { return new Recipe(lr, beta1, beta2, eps, weightDecay, warmupFraction, etaMin, v); }
    }

    public static final int DEFAULT_SEQ_LEN = 256, DEFAULT_MICRO_BATCH = 8, DEFAULT_KEEP_CHECKPOINTS = 2;
    public static final long DEFAULT_SEED = 1005, DEFAULT_EVAL_EVERY = 100, DEFAULT_VAL_TOKENS = 65536;

    public TrainConfig {
        if ((dataDir == null) == (sftFile == null)) throw new IllegalArgumentException("give exactly one of prepared data and an SFT file");
        if (sftFile != null && (tokenizer == null || tokenizer.isEmpty())) throw new IllegalArgumentException("SFT needs a tokenizer");
        if (model == null) throw new IllegalArgumentException("no model config");
        if (runDir == null) throw new IllegalArgumentException("no run directory");
        positive(seqLen, "sequence length");
        positive(microBatch, "micro-batch size");
        positive(gradAccum, "gradient accumulation");
        positive(epochs, "epochs");
        if (maxSteps < 0) throw new IllegalArgumentException("max steps must be >= 0 (0 = from epochs), got " + maxSteps);
        if ((long) seqLen * microBatch * model.vocabSize() > Integer.MAX_VALUE - 8) { // the logits (B, T, V) are one array
            throw new IllegalArgumentException("B x T x V = " + microBatch + " x " + seqLen + " x " + model.vocabSize()
                    + " logits exceed one Java array; lower the micro-batch or the sequence length (raise --grad-accum instead)");
        }
        if (sampling == null) throw new IllegalArgumentException("no sampling");
        if (sftFile != null && sampling != Sampling.RANDOM) throw new IllegalArgumentException("SFT draws its rows at random (the reference's sft_random); drop --sampling");
        if (recipe == null) throw new IllegalArgumentException("no recipe");
        if (evalEvery < 1) throw new IllegalArgumentException("eval interval must be >= 1, got " + evalEvery);
        if (valTokens < 0) throw new IllegalArgumentException("validation tokens must be >= 0, got " + valTokens);
        if (checkpointEvery < 0) throw new IllegalArgumentException("checkpoint interval must be >= 0 (0 = every tenth of the run), got " + checkpointEvery);
        if (keepCheckpoints < 1) throw new IllegalArgumentException("must keep at least 1 checkpoint, got " + keepCheckpoints);
        if (!(valFraction >= 0 && valFraction < 1)) throw new IllegalArgumentException("val fraction must be in [0, 1), got " + valFraction);
        if (compute == null) throw new IllegalArgumentException("no compute mode");
        dataDir = abs(dataDir);
        sftFile = abs(sftFile);
        initFrom = abs(initFrom);
        runDir = abs(runDir);
    }

    private static void positive(long v, String what) {
        if (v < 1) throw new IllegalArgumentException(what + " must be >= 1, got " + v);
    }

    private static Path abs(Path p) {
        return p == null ? null : p.toAbsolutePath().normalize();
    }

    /** Pre-training on prepared data with the reference's recipe and rat4j's CPU-sized batch defaults. */
    public static TrainConfig pretrain(Path dataDir, ModelConfig model, Path initFrom, Path runDir) {
        return new TrainConfig(dataDir, null, null, model, initFrom, runDir, DEFAULT_SEQ_LEN, DEFAULT_MICRO_BATCH, 1, 1, 0,
                Sampling.ORDERED, DEFAULT_SEED, Recipe.PRETRAIN, DEFAULT_EVAL_EVERY, DEFAULT_VAL_TOKENS, 0, DEFAULT_KEEP_CHECKPOINTS, false,
                DataPreparation.DEFAULT_VAL_FRACTION, Compute.FP32);
    }

    /** Fine-tuning on prompt/response pairs with the reference's SFT recipe. */
    public static TrainConfig sft(Path sftFile, String tokenizer, ModelConfig model, Path initFrom, Path runDir) {
        return new TrainConfig(null, sftFile, tokenizer, model, initFrom, runDir, DEFAULT_SEQ_LEN, DEFAULT_MICRO_BATCH, 1, 1, 0,
                Sampling.RANDOM, DEFAULT_SEED, Recipe.SFT, DEFAULT_EVAL_EVERY, DEFAULT_VAL_TOKENS, 0, DEFAULT_KEEP_CHECKPOINTS, false,
                DataPreparation.DEFAULT_VAL_FRACTION, Compute.FP32);
    }

    public boolean isSft() { return sftFile != null; }

    public TrainConfig withRunDir(Path v) { return new TrainConfig(dataDir, sftFile, tokenizer, model, initFrom, v, seqLen, microBatch, gradAccum, epochs, maxSteps, sampling, seed, recipe, evalEvery, valTokens, checkpointEvery, keepCheckpoints, keepBest, valFraction, compute); }

    public TrainConfig withBatch(int seqLen, int microBatch, int gradAccum) { return new TrainConfig(dataDir, sftFile, tokenizer, model, initFrom, runDir, seqLen, microBatch, gradAccum, epochs, maxSteps, sampling, seed, recipe, evalEvery, valTokens, checkpointEvery, keepCheckpoints, keepBest, valFraction, compute); }

    public TrainConfig withLength(int epochs, long maxSteps) { return new TrainConfig(dataDir, sftFile, tokenizer, model, initFrom, runDir, seqLen, microBatch, gradAccum, epochs, maxSteps, sampling, seed, recipe, evalEvery, valTokens, checkpointEvery, keepCheckpoints, keepBest, valFraction, compute); }

    public TrainConfig withSampling(Sampling v) { return new TrainConfig(dataDir, sftFile, tokenizer, model, initFrom, runDir, seqLen, microBatch, gradAccum, epochs, maxSteps, v, seed, recipe, evalEvery, valTokens, checkpointEvery, keepCheckpoints, keepBest, valFraction, compute); }

    public TrainConfig withSeed(long v) { return new TrainConfig(dataDir, sftFile, tokenizer, model, initFrom, runDir, seqLen, microBatch, gradAccum, epochs, maxSteps, sampling, v, recipe, evalEvery, valTokens, checkpointEvery, keepCheckpoints, keepBest, valFraction, compute); }

    public TrainConfig withRecipe(Recipe v) { return new TrainConfig(dataDir, sftFile, tokenizer, model, initFrom, runDir, seqLen, microBatch, gradAccum, epochs, maxSteps, sampling, seed, v, evalEvery, valTokens, checkpointEvery, keepCheckpoints, keepBest, valFraction, compute); }

    public TrainConfig withEvaluation(long evalEvery, long valTokens) { return new TrainConfig(dataDir, sftFile, tokenizer, model, initFrom, runDir, seqLen, microBatch, gradAccum, epochs, maxSteps, sampling, seed, recipe, evalEvery, valTokens, checkpointEvery, keepCheckpoints, keepBest, valFraction, compute); }

    public TrainConfig withCheckpoints(long every, int keep, boolean best) { return new TrainConfig(dataDir, sftFile, tokenizer, model, initFrom, runDir, seqLen, microBatch, gradAccum, epochs, maxSteps, sampling, seed, recipe, evalEvery, valTokens, every, keep, best, valFraction, compute); }

    public TrainConfig withCompute(Compute v) { return new TrainConfig(dataDir, sftFile, tokenizer, model, initFrom, runDir, seqLen, microBatch, gradAccum, epochs, maxSteps, sampling, seed, recipe, evalEvery, valTokens, checkpointEvery, keepCheckpoints, keepBest, valFraction, v); }

    public TrainConfig withValFraction(double v) { return new TrainConfig(dataDir, sftFile, tokenizer, model, initFrom, runDir, seqLen, microBatch, gradAccum, epochs, maxSteps, sampling, seed, recipe, evalEvery, valTokens, checkpointEvery, keepCheckpoints, keepBest, v, compute); }

    private static final List<String> KEYS = List.of("format_version", "data", "sft", "tokenizer", "model", "init_from", "run_dir", "seq_len",
            "micro_batch", "grad_accum", "epochs", "max_steps", "sampling", "seed", "recipe", "eval_every", "val_tokens", "checkpoint_every",
            "keep_checkpoints", "keep_best", "val_fraction");
    private static final List<String> RECIPE_KEYS = List.of("lr", "beta1", "beta2", "eps", "weight_decay", "warmup_fraction", "eta_min", "clip_norm");
    public static final int FORMAT_VERSION = 1;

    public ObjectNode toTree() {
        ObjectNode n = Json.object();
        n.put("format_version", FORMAT_VERSION);
        n.put("data", str(dataDir));
        n.put("sft", str(sftFile));
        n.put("tokenizer", tokenizer);
        n.set("model", ConfigJson.toTree(model));
        n.put("init_from", str(initFrom));
        n.put("run_dir", str(runDir));
        n.put("seq_len", seqLen);
        n.put("micro_batch", microBatch);
        n.put("grad_accum", gradAccum);
        n.put("epochs", epochs);
        n.put("max_steps", maxSteps);
        n.put("sampling", sampling.refName);
        n.put("seed", seed);
        ObjectNode r = n.putObject("recipe");
        r.put("lr", recipe.lr());
        r.put("beta1", recipe.beta1());
        r.put("beta2", recipe.beta2());
        r.put("eps", recipe.eps());
        r.put("weight_decay", recipe.weightDecay());
        r.put("warmup_fraction", recipe.warmupFraction());
        r.put("eta_min", recipe.etaMin());
        r.put("clip_norm", recipe.clipNorm());
        n.put("eval_every", evalEvery);
        n.put("val_tokens", valTokens);
        n.put("checkpoint_every", checkpointEvery);
        n.put("keep_checkpoints", keepCheckpoints);
        n.put("keep_best", keepBest);
        n.put("val_fraction", valFraction);
        n.put("compute", compute.label());
        return n;
    }

    public String toJson() {
        return Json.pretty(toTree());
    }

    public static TrainConfig fromJson(String json) {
        JsonNode n = Json.parseObject(json);
        // "compute" came with the bf16 mode: a run.json without it is an fp32 run
        boolean hasCompute = n.has("compute");
        Json.requireExactly(n, hasCompute ? java.util.stream.Stream.concat(KEYS.stream(), java.util.stream.Stream.of("compute")).toList() : KEYS);
        Compute compute = hasCompute ? Compute.parse(Json.text(n, "compute"), "compute") : Compute.FP32;
        int v = Json.intValue(n, "format_version");
        if (v != FORMAT_VERSION) throw new IllegalArgumentException("format_version " + v + " is not one this rat4j reads (" + FORMAT_VERSION + ")");
        JsonNode r = Json.field(n, "recipe");
        if (!r.isObject()) throw new IllegalArgumentException("recipe must be an object");
        Json.requireExactly(r, RECIPE_KEYS);
        Recipe recipe = new Recipe(Json.number(r, "lr"), Json.number(r, "beta1"), Json.number(r, "beta2"), Json.number(r, "eps"),
                Json.number(r, "weight_decay"), Json.number(r, "warmup_fraction"), Json.number(r, "eta_min"), Json.number(r, "clip_norm"));
        ModelConfig model;
        try {
            model = ConfigJson.fromTree(Json.field(n, "model"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("model: " + e.getMessage());
        }
        return new TrainConfig(path(n, "data"), path(n, "sft"), Json.textOrNull(n, "tokenizer"), model, path(n, "init_from"), path(n, "run_dir"),
                Json.intValue(n, "seq_len"), Json.intValue(n, "micro_batch"), Json.intValue(n, "grad_accum"), Json.intValue(n, "epochs"),
                Json.longValue(n, "max_steps"), Sampling.fromRefName(Json.text(n, "sampling")), Json.longValue(n, "seed"), recipe,
                Json.longValue(n, "eval_every"), Json.longValue(n, "val_tokens"), Json.longValue(n, "checkpoint_every"),
                Json.intValue(n, "keep_checkpoints"), Json.bool(n, "keep_best"), Json.number(n, "val_fraction"), compute);
    }

    private static String str(Path p) {
        return p == null ? null : p.toString();
    }

    private static Path path(JsonNode n, String key) {
        String s = Json.textOrNull(n, key);
        return s == null ? null : Path.of(s);
    }
}
