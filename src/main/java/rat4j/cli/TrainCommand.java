package rat4j.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import rat4j.kernel.Compute;
import rat4j.model.ModelConfig;
import rat4j.train.ModelChoice;
import rat4j.train.Progress;
import rat4j.train.TrainConfig;
import rat4j.train.TrainConfig.Recipe;
import rat4j.train.TrainConfig.Sampling;
import rat4j.train.Trainer;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.Callable;

@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train a model on prepared data (--data, from 'rat4j prepare') or fine-tune it on prompt/response pairs (--sft),"
                + " with the reference's recipe: AdamW (lr 8e-4, betas 0.9/0.95, weight decay 0.1; SFT: lr 1e-5, weight decay 0.01),"
                + " cosine schedule with 5% linear warmup down to 1e-6, gradient clipping at norm 1.0.",
                "RUN gets run.json, checkpoints/, metrics.jsonl, loss.png and, at the end, model/ (a model directory).",
                "Resume an interrupted run with: rat4j train --out RUN --resume"})
final class TrainCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--data", paramLabel = "DIR", description = "prepared data (train.bin, val.bin, manifest.json)")
    Path data;

    @Option(names = "--sft", paramLabel = "PAIRS.jsonl", description = "fine-tune on {\"prompt\": ..., \"response\": ...} lines; the loss counts only responses")
    Path sft;

    @Option(names = "--model-config", paramLabel = "PRESET|config.json", description = "a new model: a preset (its vocabulary set to the data's) or a config.json")
    String modelConfig;

    @Option(names = "--init-from", paramLabel = "MODEL_DIR", description = "start from this model directory's weights")
    Path initFrom;

    @Option(names = "--out", required = true, paramLabel = "RUN", description = "the run directory")
    Path out;

    @Option(names = "--resume", description = "continue the run in RUN from its last good checkpoint, with the run's saved settings")
    boolean resume;

    @Option(names = "--tokenizer", defaultValue = "byte", paramLabel = "NAME|PATH", description = "tokenizer of the SFT pairs: byte or a tokenizer.model path (default ${DEFAULT-VALUE})")
    String tokenizer;

    @Option(names = "--seq-len", defaultValue = "256", paramLabel = "T", description = "tokens per row (default ${DEFAULT-VALUE}; the reference 4096)")
    int seqLen;

    @Option(names = "--batch-size", defaultValue = "8", paramLabel = "B", description = "rows per micro-batch (default ${DEFAULT-VALUE}; the reference 2 per GPU)")
    int batchSize;

    @Option(names = "--grad-accum", defaultValue = "1", paramLabel = "A", description = "micro-batches per optimizer step (default ${DEFAULT-VALUE})")
    int gradAccum;

    @Option(names = "--epochs", defaultValue = "1", description = "passes over the training data (default ${DEFAULT-VALUE})")
    int epochs;

    @Option(names = "--max-steps", defaultValue = "0", paramLabel = "N", description = "optimizer steps; 0 = as many as --epochs give (default)")
    long maxSteps;

    @Option(names = "--sampling", paramLabel = "ordered|random", description = "training windows in file order (default for --data, as the reference) or at random offsets")
    String sampling;

    @Option(names = "--seed", defaultValue = "1005", description = "seed of the initialisation and the data order (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--lr", description = "peak learning rate") Double lr;
    @Option(names = "--beta1") Double beta1;
    @Option(names = "--beta2") Double beta2;
    @Option(names = "--eps") Double eps;
    @Option(names = "--weight-decay") Double weightDecay;
    @Option(names = "--warmup-fraction", description = "share of the steps warming up linearly") Double warmupFraction;
    @Option(names = "--eta-min", description = "learning rate at the end of the cosine") Double etaMin;
    @Option(names = "--clip", description = "global gradient norm to clip to; 0 = off") Double clip;

    @Option(names = "--eval-every", defaultValue = "100", paramLabel = "STEPS", description = "validate every STEPS steps and at the end (default ${DEFAULT-VALUE})")
    long evalEvery;

    @Option(names = "--val-tokens", defaultValue = "65536", paramLabel = "N", description = "validate on the first N held-out tokens (default ${DEFAULT-VALUE})")
    long valTokens;

    @Option(names = "--val-fraction", defaultValue = "0.005", paramLabel = "F", description = "SFT: share of pairs held out for validation (default ${DEFAULT-VALUE})")
    double valFraction;

    @Option(names = "--checkpoint-every", defaultValue = "0", paramLabel = "STEPS", description = "checkpoint every STEPS steps and at the end; 0 = every tenth of the run (default)")
    long checkpointEvery;

    @Option(names = "--keep-checkpoints", defaultValue = "2", paramLabel = "K", description = "keep the K newest checkpoints (default ${DEFAULT-VALUE})")
    int keepCheckpoints;

    @Option(names = "--keep-best", description = "also keep the model with the lowest validation loss in RUN/best")
    boolean keepBest;

    @Option(names = "--compute", paramLabel = "fp32|bf16", description = ComputeOption.DESCRIPTION)
    String compute;

    /** The options a resumed run takes (everything else, the compute mode included, comes from its run.json). */
    private static final Set<String> RESUME_OPTIONS = Set.of("--out", "--resume");

    @Override public Integer call() throws IOException {
        Progress progress = Progress.stderr(spec.commandLine().getErr());
        Trainer.Result r;
        try (Trainer t = resume ? resumeTrainer(progress) : Trainer.start(config(), progress)) {
            r = t.run();
        }
        PrintWriter o = spec.commandLine().getOut();
        o.printf("rat4j: trained to step %d of %d (%d tokens) in %.1f s: %.0f tokens/s; last training loss %.4f%s; peak heap %d MiB%n",
                r.step(), r.totalSteps(), r.tokensSeen(), r.seconds(), r.tokensPerSecond(), r.lastLoss(),
                Double.isNaN(r.valLoss()) ? "" : String.format(", validation loss %.4f (perplexity %.2f)", r.valLoss(), Math.exp(r.valLoss())),
                r.peakHeapBytes() >> 20);
        o.printf("rat4j: wrote %s (model), %s, %s%n", r.modelDir(), out.resolve("metrics.jsonl"), out.resolve("loss.png"));
        return 0;
    }

    private Trainer resumeTrainer(Progress progress) throws IOException {
        for (OptionSpec o : spec.commandLine().getParseResult().matchedOptions()) {
            if (!RESUME_OPTIONS.contains(o.longestName())) {
                throw new ParameterException(spec.commandLine(), "--resume continues with the run's saved settings (RUN/run.json); drop " + o.longestName());
            }
        }
        return Trainer.resume(out, progress);
    }

    private TrainConfig config() throws IOException {
        Compute mode = ComputeOption.apply(compute, spec);
        if ((data == null) == (sft == null)) throw new ParameterException(spec.commandLine(), "give exactly one of --data and --sft");
        if ((modelConfig == null) == (initFrom == null)) throw new ParameterException(spec.commandLine(), "give exactly one of --model-config and --init-from");
        ModelConfig model = initFrom != null ? ModelChoice.ofModelDirectory(initFrom)
                : ModelChoice.fromSpec(modelConfig, ModelChoice.dataVocab(data, tokenizer));
        TrainConfig base = sft != null ? TrainConfig.sft(sft, tokenizer, model, initFrom, out) : TrainConfig.pretrain(data, model, initFrom, out);
        Recipe d = base.recipe();
        Recipe recipe = new Recipe(or(lr, d.lr()), or(beta1, d.beta1()), or(beta2, d.beta2()), or(eps, d.eps()), or(weightDecay, d.weightDecay()),
                or(warmupFraction, d.warmupFraction()), or(etaMin, d.etaMin()), or(clip, d.clipNorm()));
        return base.withCompute(mode).withBatch(seqLen, batchSize, gradAccum).withLength(epochs, maxSteps)
                .withSampling(sampling == null ? base.sampling() : Sampling.fromRefName(sampling)).withSeed(seed).withRecipe(recipe)
                .withEvaluation(evalEvery, valTokens).withCheckpoints(checkpointEvery, keepCheckpoints, keepBest).withValFraction(valFraction);
    }

    private static double or(Double v, double d) {
        return v == null ? d : v;
    }
}
