package rat4j.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import rat4j.bench.BenchLayer;
import rat4j.bench.Figures;
import rat4j.bench.LayerBench;
import rat4j.bench.LayerReport;
import rat4j.bench.Machine;
import rat4j.bench.ModelBench;
import rat4j.bench.ModelReport;
import rat4j.bench.Phase;
import rat4j.bench.Sampler;
import rat4j.bench.TrainBench;
import rat4j.kernel.Compute;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Function;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "The RAT paper's efficiency benchmarks on this machine: 'layer' (Figure 3) and 'model' (Table 1); "
                + "'train' (training tokens/s and memory of whole models); 'decode' (tokens/s against the memory bound) and 'bf16' (perplexity of bf16 weights).",
        subcommands = {BenchCommand.Layer.class, BenchCommand.Model.class, DecodeBenchCommands.Decode.class, DecodeBenchCommands.Bf16.class,
                BenchCommand.Train.class})
final class BenchCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Override public Integer call() {
        throw new ParameterException(spec.commandLine(), "missing subcommand: one of " + String.join(", ", spec.subcommands().keySet()));
    }

    /** "16384", "16K" or "16k" (x 1024); throws a one-line message naming the option on anything else. */
    static int parseSize(String text, String option) {
        String s = text.trim().toUpperCase(Locale.ROOT);
        int mult = 1;
        if (s.endsWith("K")) {
            mult = 1024;
            s = s.substring(0, s.length() - 1);
        }
        try {
            int v = Math.multiplyExact(Integer.parseInt(s), mult);
            if (v < 1) throw new IllegalArgumentException(option + ": '" + text + "' must be >= 1");
            return v;
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException(option + ": '" + text + "' is not a size (e.g. 4096 or 4K)");
        }
    }

    static <T> List<T> parseList(String text, String option, Function<String, T> parse) {
        List<T> out = new ArrayList<>();
        for (String item : text.split(",")) {
            if (item.isBlank()) throw new IllegalArgumentException(option + ": empty item in '" + text + "'");
            try {
                out.add(parse.apply(item.trim()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(e.getMessage().startsWith(option) ? e.getMessage() : option + ": " + e.getMessage());
            }
        }
        return out;
    }

    /** The machine's GEMM peak and memory bandwidth, measured before a benchmark, with a word on stderr. */
    static Machine measureMachine(Machine.Probe probe, PrintWriter err) {
        err.println("bench: measuring the machine (GEMM peak, memory bandwidth) ...");
        err.flush();
        Machine m = Machine.measure(probe);
        err.println("bench: " + m.describe());
        return m;
    }

    /** The machine measured again after the run: the report keeps the better peaks of the two. */
    static Machine remeasure(Machine.Probe probe, PrintWriter err) {
        Machine again = Machine.measure(probe);
        err.println("bench: after the run, " + again.describe());
        err.flush();
        return again;
    }

    static Path prepareOut(Path out) throws IOException {
        if (out == null) return null;
        if (Files.exists(out) && !Files.isDirectory(out)) throw new IllegalArgumentException(out + ": exists and is not a directory");
        Files.createDirectories(out);
        return out;
    }

    @Command(name = "layer", mixinStandardHelpOptions = true,
            description = {"Single-layer latency as the paper's Figure 3: train (forward + backward), prefill and generation steps"
                    + " of attention, RAT, the RNN and sliding-window attention over sequence lengths, with FLOP/byte counts,"
                    + " roofline fractions and speed-ups over attention. Table on stdout, progress on stderr."})
    static final class Layer implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Option(names = "--quick", description = "a smoke run of seconds (d_model 128, T = 128..512) unless other options say otherwise")
        boolean quick;

        @Option(names = "--lengths", paramLabel = "T,...", description = "sequence lengths, e.g. 1K,2K,4K,8K,16K (the default)")
        String lengths;

        @Option(names = "--kinds", paramLabel = "K,...", description = "layers: attention, rat-L, rnn, window-W (default attention,rat-16,rat-64,rat-128,rnn,window-1024)")
        String kinds;

        @Option(names = "--phases", paramLabel = "P,...", description = "train, prefill, generate, generate-1 (default all)")
        String phases;

        @Option(names = "--d-model", paramLabel = "C", description = "model width (default 1024)")
        Integer dModel;

        @Option(names = "--heads", paramLabel = "H", description = "attention heads (default 16)")
        Integer heads;

        @Option(names = "--tokens-per-batch", paramLabel = "N", description = "batch x T for train and prefill (default 16K)")
        String tokensPerBatch;

        @Option(names = "--gen-tokens", paramLabel = "N", description = "batch x T for the batched generation step (default 256K: batch 64 at T = 4K)")
        String genTokens;

        @Option(names = "--reps", paramLabel = "N", description = "timed repetitions per measurement, at most (default 20)")
        Integer reps;

        @Option(names = "--min-reps", paramLabel = "N", description = "timed repetitions per measurement, at least (default 1)")
        Integer minReps;

        @Option(names = "--warmup", paramLabel = "N", description = "untimed calls before each measurement (default 1; none for calls expected to take longer than --budget,"
                + " which the JIT warm-up pass at a small T has already compiled)")
        Integer warmup;

        @Option(names = "--budget", paramLabel = "SECONDS", description = "stop repeating a measurement after this much timed work, once --min-reps are done (default 1.5)")
        Double budget;

        @Option(names = "--breakdown", description = "also time the GEMM and attention kernels inside each call, and the scans alone")
        boolean breakdown;

        @Option(names = "--seed", description = "weights and inputs (default 1005)")
        Long seed;

        @Option(names = "--out", paramLabel = "DIR", description = "write results.json and figure.png there")
        Path out;

        @Option(names = "--compute", paramLabel = "MODE,...", description = ComputeOption.DESCRIPTION
                + "; several (fp32,bf16) run one after the other in this process, each with its table (and DIR/MODE/ with --out),"
                + " then the ratios of their medians")
        String compute;

        @Override public Integer call() throws IOException {
            List<String> modes = compute == null ? Collections.singletonList(null) : parseModes();
            LayerBench.Options o = options();
            PrintWriter err = spec.commandLine().getErr(), stdout = spec.commandLine().getOut();
            List<LayerBench.Result> results = new ArrayList<>();
            for (String mode : modes) {
                ComputeOption.apply(mode, spec);
                if (modes.size() > 1) stdout.println("compute " + mode + ":");
                Path dir = prepareOut(out == null || modes.size() == 1 ? out : out.resolve(mode));
                Machine m = measureMachine(o.probe(), err);
                LayerBench.Result r = LayerBench.run(o, m, err);
                r = r.withMachine(m.best(remeasure(o.probe(), err)));
                stdout.print(LayerReport.table(r));
                if (dir != null) {
                    LayerReport.writeJson(r, dir.resolve("results.json"));
                    boolean fig = Figures.writeLayerFigure(r, dir.resolve("figure.png"));
                    stdout.println("rat4j: wrote " + dir.resolve("results.json") + (fig ? ", " + dir.resolve("figure.png") : ""));
                }
                results.add(r);
            }
            for (int i = 1; i < results.size(); i++) {
                for (LayerBench.Row base : results.getFirst().rows()) {
                    LayerBench.Row other = results.get(i).find(base.layer(), base.seqLen(), base.phase());
                    if (!base.measured() || other == null || !other.measured()) continue;
                    stdout.printf(Locale.ROOT, "%s %s T=%d: %s %.1f ms, %s %.1f ms: %.2fx%n", base.layer(), base.phase().label, base.seqLen(),
                            modes.getFirst(), base.timing().median(), modes.get(i), other.timing().median(),
                            base.timing().median() / other.timing().median());
                }
            }
            return 0;
        }

        private List<String> parseModes() {
            try {
                return parseList(compute, "--compute", x -> Compute.parse(x, null).label());
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
        }

        LayerBench.Options options() {
            LayerBench.Options base = quick ? LayerBench.Options.quick() : LayerBench.Options.paper();
            try {
                Sampler s = base.sampler();
                int r = reps != null ? reps : s.reps();
                Sampler sampler = new Sampler(warmup != null ? warmup : s.warmup(), r,
                        minReps != null ? minReps : Math.min(s.minReps(), r), budget != null ? budget : s.budgetSeconds());
                return new LayerBench.Options(
                        dModel != null ? dModel : base.dModel(),
                        heads != null ? heads : base.heads(),
                        tokensPerBatch != null ? parseSize(tokensPerBatch, "--tokens-per-batch") : base.tokensPerBatch(),
                        genTokens != null ? parseSize(genTokens, "--gen-tokens") : base.genTokens(),
                        lengths != null ? parseList(lengths, "--lengths", x -> parseSize(x, "--lengths")) : base.lengths(),
                        kinds != null ? parseList(kinds, "--kinds", BenchLayer::parse) : base.layers(),
                        phases != null ? parseList(phases, "--phases", Phase::parse) : base.phases(),
                        sampler, breakdown || base.breakdown(), seed != null ? seed : base.seed(), base.probe());
            } catch (IllegalArgumentException | ArithmeticException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
        }
    }

    @Command(name = "model", mixinStandardHelpOptions = true,
            description = {"Whole-model generation throughput as the paper's Table 1: a prompt, then generated tokens, at the largest"
                    + " batch whose caches fit a memory budget, for the paper's five models at a size this machine holds."
                    + " Table on stdout, progress on stderr."})
    static final class Model implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Option(names = "--quick", description = "a smoke run of seconds (d_model 128, 2 layers, prompt 256) unless other options say otherwise")
        boolean quick;

        @Option(names = "--models", paramLabel = "M,...", description = "of attention, rat, rnn, attention_localattention_interleave,"
                + " rat_localattention_interleave (default all five)")
        String models;

        @Option(names = "--d-model", paramLabel = "C", description = "model width (default 1024)")
        Integer dModel;

        @Option(names = "--heads", paramLabel = "H", description = "attention heads (default 16)")
        Integer heads;

        @Option(names = "--layers", paramLabel = "N", description = "blocks (default 12)")
        Integer layers;

        @Option(names = "--vocab", paramLabel = "V", description = "vocabulary size (default 32000, Llama 2's)")
        Integer vocab;

        @Option(names = "--prompt", paramLabel = "P", description = "prompt tokens (default 3K, as model_eff.py)")
        String prompt;

        @Option(names = "--generate", paramLabel = "G", description = "generated tokens per sequence (default 1K)")
        String generate;

        @Option(names = "--samples", paramLabel = "N", description = "decode steps timed, spread over the generated positions (default 16)")
        Integer samples;

        @Option(names = "--warmup", paramLabel = "N", description = "untimed decode steps first (default 2)")
        Integer warmup;

        @Option(names = "--memory-gib", paramLabel = "GIB", description = "cache budget that sets the batch (default 60%% of the heap left after the weights)")
        Double memoryGib;

        @Option(names = "--max-batch", paramLabel = "B", description = "largest batch tried (default 256)")
        Integer maxBatch;

        @Option(names = "--seed", description = "weights (default 1005)")
        Long seed;

        @Option(names = "--out", paramLabel = "DIR", description = "write results.json there")
        Path out;

        @Override public Integer call() throws IOException {
            ModelBench.Options o = options();
            Path dir = prepareOut(out);
            PrintWriter err = spec.commandLine().getErr(), stdout = spec.commandLine().getOut();
            Machine m = measureMachine(o.probe(), err);
            ModelBench.Result r = ModelBench.run(o, m, err);
            r = r.withMachine(m.best(remeasure(o.probe(), err)));
            stdout.print(ModelReport.table(r));
            if (dir != null) {
                ModelReport.writeJson(r, dir.resolve("results.json"));
                stdout.println("rat4j: wrote " + dir.resolve("results.json"));
            }
            return 0;
        }

        ModelBench.Options options() {
            ModelBench.Options base = quick ? ModelBench.Options.quick() : ModelBench.Options.paper();
            try {
                long budget = base.memoryBudget();
                if (memoryGib != null) {
                    if (!(memoryGib > 0)) throw new IllegalArgumentException("--memory-gib must be > 0, got " + memoryGib);
                    budget = (long) (memoryGib * (1L << 30));
                }
                return new ModelBench.Options(
                        models != null ? parseList(models, "--models", x -> x) : base.models(),
                        dModel != null ? dModel : base.dModel(),
                        heads != null ? heads : base.heads(),
                        layers != null ? layers : base.layers(),
                        vocab != null ? vocab : base.vocab(),
                        prompt != null ? parseSize(prompt, "--prompt") : base.prompt(),
                        generate != null ? parseSize(generate, "--generate") : base.generate(),
                        samples != null ? samples : Math.min(base.samples(), generate != null ? parseSize(generate, "--generate") : base.generate()),
                        warmup != null ? warmup : base.warmupSteps(),
                        budget, maxBatch != null ? maxBatch : base.maxBatch(), seed != null ? seed : base.seed(), base.probe());
            } catch (IllegalArgumentException | ArithmeticException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
        }
    }

    @Command(name = "train", mixinStandardHelpOptions = true,
            description = {"Training throughput and memory of whole models: full optimizer steps (forward, backward, gradient clipping,"
                    + " AdamW) on random tokens at several sequence lengths with the tokens per step held constant. Table on stdout,"
                    + " progress on stderr."})
    static final class Train implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Option(names = "--preset", split = ",", paramLabel = "P[,P...]", description = "model presets, repeatable (default rat-small, the quickstart's; e.g. attention-small)")
        List<String> presets;

        @Option(names = "--lengths", paramLabel = "T,...", description = "sequence lengths, each dividing --tokens-per-step (default 512,1K,2K,4K)")
        String lengths;

        @Option(names = "--tokens-per-step", paramLabel = "N", description = "B x T of every step (default 8K)")
        String tokensPerStep;

        @Option(names = "--warmup", paramLabel = "N", description = "untimed steps first (default 1)")
        Integer warmup;

        @Option(names = "--steps", paramLabel = "N", description = "timed steps (default 3)")
        Integer steps;

        @Option(names = "--seed", description = "weights and tokens (default 1005)")
        Long seed;

        @Option(names = "--out", paramLabel = "DIR", description = "write results.json there")
        Path out;

        @Override public Integer call() throws IOException {
            TrainBench.Options o = options();
            Path dir = prepareOut(out);
            PrintWriter stdout = spec.commandLine().getOut();
            TrainBench.Result r = TrainBench.run(o, spec.commandLine().getErr());
            stdout.print(TrainBench.table(r));
            if (dir != null) {
                TrainBench.writeJson(r, dir.resolve("results.json"));
                stdout.println("rat4j: wrote " + dir.resolve("results.json"));
            }
            return 0;
        }

        TrainBench.Options options() {
            TrainBench.Options d = TrainBench.Options.defaults();
            try {
                return new TrainBench.Options(presets != null ? presets : d.presets(),
                        lengths != null ? parseList(lengths, "--lengths", x -> parseSize(x, "--lengths")) : d.lengths(),
                        tokensPerStep != null ? parseSize(tokensPerStep, "--tokens-per-step") : d.tokensPerStep(),
                        warmup != null ? warmup : d.warmup(), steps != null ? steps : d.steps(), seed != null ? seed : d.seed());
            } catch (IllegalArgumentException | ArithmeticException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
        }
    }
}
