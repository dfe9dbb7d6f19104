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
import java.util.concurrent.Callable;

/** The generation measurements under 'rat4j bench': decode speed against the memory bound, bf16 weights' perplexity. */
final class DecodeBenchCommands {
    private DecodeBenchCommands() {}

    /** A model from a directory, or a preset with random (reference-initialised) weights. */
    static final class Source {
        @Option(names = "--model", paramLabel = "DIR", description = "a model directory") Path model;

        @Option(names = "--preset", paramLabel = "NAME", description = "a preset with random weights (see 'rat4j config --list'), e.g. rat-base") String preset;

        record Loaded(String name, ModelConfig config, float[] parameters) {}

        Loaded load(CommandSpec spec, long seed) throws IOException {
            if (model != null) {
                ModelDirectory.Model m = ModelDirectory.load(model);
                return new Loaded(model.toString(), m.config(), m.parameters());
            }
            ModelConfig c;
            try {
                c = Presets.get(preset);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
            return new Loaded(preset, c, Initializer.initialize(c, seed));
        }
    }

    @Command(name = "decode", mixinStandardHelpOptions = true,
            description = "Decode tokens/s of B sequences at context N beside the bound: bytes read per step (weights + caches) over the memory bandwidth"
                    + " measured in the same run (STREAM-like copy, triad, read).")
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

        @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "weights (for a preset) and the prompt (default ${DEFAULT-VALUE})")
        long seed;

        @Override public Integer call() throws IOException {
            WeightFormat format;
            try {
                format = WeightFormat.parse(weights);
                if (context < 1 || batch < 1 || tokens < 1) throw new IllegalArgumentException("--context, --batch and --tokens must be >= 1");
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
            PrintWriter out = spec.commandLine().getOut();
            Source.Loaded m = source.load(spec, seed);
            LanguageModel lm = new LanguageModel(m.config(), m.parameters(), format);
            out.printf("model %s: %,d parameters, %s weights; decode products %s; attention %s%n", m.name(), ParameterLayout.of(m.config()).totalSize(),
                    format.label, Kernels.decodeGemm().name(), Kernels.attention().name());
            out.flush();
            MemoryBandwidth.Result bw = MemoryBandwidth.measure();
            out.println(bw.summary());
            out.flush();
            DecodeBench.Result r = DecodeBench.run(lm, batch, context, tokens, seed);
            out.println(r.summary(bw));
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
            String spec0 = tokenizer != null ? tokenizer : source.model != null ? ModelDirectory.tokenizer(source.model) : null;
            if (spec0 == null) throw new ParameterException(spec.commandLine(), "no tokenizer: give --tokenizer byte or --tokenizer FILE");
            Tokenizer tok = Tokenizers.open(spec0);
            Source.Loaded m = source.load(spec, seed);
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
