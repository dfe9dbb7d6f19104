package rat4j.cli;

import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import rat4j.generate.DecodeBench;
import rat4j.generate.MemoryBandwidth;
import rat4j.generate.Perplexity;
import rat4j.kernel.Kernels;
import rat4j.model.Initializer;
import rat4j.model.LanguageModel;
import rat4j.model.ModelConfig;
import rat4j.model.ParameterLayout;
import rat4j.model.Presets;
import rat4j.kernel.WeightFormat;
import rat4j.model.io.ModelDirectory;
import rat4j.tokenizer.Tokenizer;
import rat4j.tokenizer.Tokenizers;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;

/** The generation measurements under 'rat4j bench': decode speed against the memory bound, bf16 weights' perplexity. */
final class DecodeBenchCommands {
    private DecodeBenchCommands() {}

    /** Models from directories, or presets with random (reference-initialised) weights. */
    static final class Source {
        @Option(names = "--model", paramLabel = "DIR", split = ",", description = "model directories (comma-separated)") List<Path> models;

        @Option(names = "--preset", paramLabel = "NAME", split = ",",
                description = "presets with random weights (see 'rat4j config --list'), comma-separated, e.g. rat-base,attention-base")
        List<String> presets;

        record Loaded(String name, ModelConfig config, float[] parameters) {}

        /** The models named, in order. */
        List<Loaded> load(CommandSpec spec, long seed) throws IOException {
            List<Loaded> loaded = new ArrayList<>();
            if (models != null) {
                for (Path dir : models) {
                    ModelDirectory.Model m = ModelDirectory.load(dir);
                    loaded.add(new Loaded(dir.toString(), m.config(), m.parameters()));
                }
                return loaded;
            }
            for (String preset : presets) {
                ModelConfig c;
                try {
                    c = Presets.get(preset);
                } catch (IllegalArgumentException e) {
                    throw new ParameterException(spec.commandLine(), e.getMessage());
                }
                loaded.add(new Loaded(preset, c, Initializer.initialize(c, seed)));
            }
            return loaded;
        }

        /** The one model named (commands that take a single model). */
        Loaded loadOne(CommandSpec spec, long seed) throws IOException {
            if ((models != null ? models.size() : presets.size()) != 1) throw new ParameterException(spec.commandLine(), "this command takes one model");
            return load(spec, seed).get(0);
        }

        /** The first model directory, or null for presets. */
        Path firstModel() { return models == null ? null : models.get(0); }
    }

    @Command(name = "decode", mixinStandardHelpOptions = true,
            description = "Decode tokens/s of B sequences at context N beside the bound: bytes read per step (weights + caches) over the memory bandwidth"
                    + " measured in the same run (STREAM-like copy, triad, read). Several models are prefilled first, then timed in alternating rounds;"
                    + " the first one's speed over each other's is the median of the rounds' ratios.")
    static final class Decode implements Callable<Integer> {
        @Spec CommandSpec spec;

        @ArgGroup(exclusive = true, multiplicity = "1") Source source;

        @Option(names = "--context", paramLabel = "N", defaultValue = "1024", description = "tokens in each sequence's cache when timing starts (default ${DEFAULT-VALUE})")
        int context;

        @Option(names = "--batch", paramLabel = "B", defaultValue = "1", description = "sequences decoding together (default ${DEFAULT-VALUE})")
        int batch;

        @Option(names = "--tokens", paramLabel = "K", defaultValue = "32", description = "timed steps (default ${DEFAULT-VALUE})")
        int tokens;

        @Option(names = "--weights", paramLabel = "fp32|bf16", defaultValue = "fp32", description = "decode weight format (default ${DEFAULT-VALUE})")
        String weights;

        @Option(names = "--rounds", paramLabel = "R", defaultValue = "1", description = "timed segments of K steps per model, alternated between models (default ${DEFAULT-VALUE})")
        int rounds;

        @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "weights (for a preset) and the prompt (default ${DEFAULT-VALUE})")
        long seed;

        @Override public Integer call() throws IOException {
            WeightFormat format;
            try {
                format = WeightFormat.parse(weights);
                if (context < 1 || batch < 1 || tokens < 1 || rounds < 1) throw new IllegalArgumentException("--context, --batch, --tokens and --rounds must be >= 1");
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
            PrintWriter out = spec.commandLine().getOut();
            List<Source.Loaded> loaded = source.load(spec, seed);
            List<DecodeBench.Session> sessions = new ArrayList<>();
            for (Source.Loaded m : loaded) {
                LanguageModel lm = new LanguageModel(m.config(), m.parameters(), format);
                out.printf("model %s: %,d parameters, %s weights; decode products %s; attention %s%n", m.name(), ParameterLayout.of(m.config()).totalSize(),
                        format.label, Kernels.decodeGemm().name(), Kernels.attention().name());
                out.flush();
                sessions.add(DecodeBench.Session.start(lm, batch, context, Math.multiplyExact(tokens, rounds), seed));
            }
            MemoryBandwidth.Result bw = MemoryBandwidth.measure();
            out.println(bw.summary());
            out.flush();
            int models = sessions.size();
            DecodeBench.Result[][] results = new DecodeBench.Result[models][rounds];
            for (int r = 0; r < rounds; r++) {
                StringBuilder line = new StringBuilder("round " + (r + 1) + ":");
                for (int i = 0; i < models; i++) {
                    results[i][r] = sessions.get(i).time(tokens);
                    line.append(String.format(" %s %.1f", loaded.get(i).name(), results[i][r].tokensPerSecond()));
                }
                if (rounds > 1) {
                    out.println(line.append(" tokens/s"));
                    out.flush();
                }
            }
            for (int i = 0; i < models; i++) {
                DecodeBench.Result[] sorted = results[i].clone();
                Arrays.sort(sorted, Comparator.comparingDouble(DecodeBench.Result::tokensPerSecond));
                out.println((models > 1 || rounds > 1 ? loaded.get(i).name() + (rounds > 1 ? " (median round)" : "") + ": " : "")
                        + sorted[rounds / 2].summary(bw));
            }
            for (int i = 1; i < models; i++) {
                double[] ratios = new double[rounds];
                for (int r = 0; r < rounds; r++) ratios[r] = results[0][r].tokensPerSecond() / results[i][r].tokensPerSecond();
                double[] sorted = ratios.clone();
                Arrays.sort(sorted);
                StringBuilder each = new StringBuilder();
                for (double x : ratios) each.append(each.isEmpty() ? "" : ", ").append(String.format("%.2f", x));
                out.printf("%s over %s: %.2fx tokens/s (median of %d rounds: %s)%n", loaded.get(0).name(), loaded.get(i).name(),
                        sorted[rounds / 2], rounds, each);
            }
            out.flush();
            return 0;
        }
    }

    @Command(name = "bf16", mixinStandardHelpOptions = true,
            description = "Perplexity of a text with the weights in fp32 and rounded to bf16, and the change.")
    static final class Bf16 implements Callable<Integer> {
        @Spec CommandSpec spec;

        @ArgGroup(exclusive = true, multiplicity = "1") Source source;

        @Option(names = "--text", required = true, paramLabel = "FILE", description = "UTF-8 text to score")
        Path text;

        @Option(names = "--tokenizer", paramLabel = "byte|FILE", description = "default: the one stored in the model directory")
        String tokenizer;

        @Option(names = "--seq-len", paramLabel = "T", defaultValue = "512", description = "tokens per scored window (default ${DEFAULT-VALUE})")
        int seqLen;

        @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "4096", description = "score at most the first N tokens (default ${DEFAULT-VALUE})")
        int maxTokens;

        @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "weights of a preset (default ${DEFAULT-VALUE})")
        long seed;

        @Override public Integer call() throws IOException {
            if (seqLen < 1 || maxTokens < 2) throw new ParameterException(spec.commandLine(), "--seq-len must be >= 1 and --max-tokens >= 2");
            String spec0 = tokenizer != null ? tokenizer : source.firstModel() != null ? ModelDirectory.tokenizer(source.firstModel()) : null;
            if (spec0 == null) throw new ParameterException(spec.commandLine(), "no tokenizer: give --tokenizer byte or --tokenizer FILE");
            Tokenizer tok = Tokenizers.open(spec0);
            Source.Loaded m = source.loadOne(spec, seed);
            int[] all = tok.encode(Files.readString(text, StandardCharsets.UTF_8));
            int[] tokens = java.util.Arrays.copyOf(all, Math.min(all.length, maxTokens));
            for (int t : tokens) {
                if (t >= m.config().vocabSize()) {
                    throw new IllegalArgumentException("the tokenizer gives id " + t + ", outside the model's vocabulary of " + m.config().vocabSize());
                }
            }
            double fp32 = Perplexity.of(new LanguageModel(m.config(), m.parameters(), WeightFormat.FP32), tokens, seqLen);
            double bf16 = Perplexity.of(new LanguageModel(m.config(), m.parameters(), WeightFormat.BF16), tokens, seqLen);
            spec.commandLine().getOut().printf("model %s, %d tokens of %s: perplexity fp32 %.4f, bf16 %.4f, change %+.4f%%%n",
                    m.name(), tokens.length, text.getFileName(), fp32, bf16, 100 * (bf16 / fp32 - 1));
            return 0;
        }
    }
}
