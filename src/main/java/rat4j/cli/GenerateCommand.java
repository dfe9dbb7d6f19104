package rat4j.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import rat4j.generate.Generator;
import rat4j.generate.Sampling;
import rat4j.kernel.Kernels;
import rat4j.model.LanguageModel;
import rat4j.kernel.WeightFormat;
import rat4j.model.io.ModelDirectory;
import rat4j.tokenizer.Tokenizer;
import rat4j.tokenizer.Tokenizers;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate text from a model: the prompts (--prompt, or standard input) are prefilled together, then decoded in one batch."
                + " One prompt streams its text as it is produced; several print each completed text labelled [1], [2], ..."
                + " A one-line summary (prompt and generated tokens, prefill and decode tokens/s, cache bytes) follows on stderr.")
final class GenerateCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "a model directory")
    Path model;

    @Option(names = "--tokenizer", paramLabel = "byte|FILE",
            description = "\"byte\" or a SentencePiece tokenizer.model; default: the one stored in the model directory")
    String tokenizer;

    @Option(names = "--prompt", paramLabel = "TEXT", description = "a prompt; repeat for a batch; standard input when absent")
    List<String> prompts = new ArrayList<>();

    @Option(names = "--max-new-tokens", paramLabel = "N", defaultValue = "128", description = "tokens to generate per prompt at most (default ${DEFAULT-VALUE})")
    int maxNewTokens;

    @Option(names = "--greedy", description = "always take the most likely token (the reference's greedy search)")
    boolean greedy;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "1.0", description = "divide the logits by T before drawing; 0 is greedy (default ${DEFAULT-VALUE})")
    double temperature;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "0", description = "draw among the K most likely tokens; 0 for all (default ${DEFAULT-VALUE})")
    int topK;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "1.0", description = "draw among the most likely tokens holding mass P (default ${DEFAULT-VALUE})")
    double topP;

    @Option(names = "--repetition-penalty", paramLabel = "R", defaultValue = "1.0",
            description = "the reference's rule: a generated token's logit l becomes l*R if l < 0, else l/R (default ${DEFAULT-VALUE})")
    double repetitionPenalty;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "prompt i draws from a generator seeded S + i (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--stop", paramLabel = "STR", description = "stop before this text (repeatable)")
    List<String> stops = new ArrayList<>();

    @Option(names = "--no-bos", description = "do not put the tokenizer's BOS before each prompt")
    boolean noBos;

    @Option(names = "--ignore-eos", description = "keep generating after EOS")
    boolean ignoreEos;

    @Option(names = "--weights", paramLabel = "fp32|bf16", defaultValue = "fp32",
            description = "how decoding stores the weights: bf16 halves the bytes read per token (default ${DEFAULT-VALUE})")
    String weights;

    @Override public Integer call() throws IOException {
        Sampling sampling;
        Generator.Options options;
        WeightFormat format;
        try {
            format = WeightFormat.parse(weights);
            sampling = new Sampling(greedy, temperature, topK, topP, repetitionPenalty, seed);
            options = new Generator.Options(maxNewTokens, sampling, stops, !noBos, !ignoreEos);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        String tokenizerSpec = tokenizer != null ? tokenizer : ModelDirectory.tokenizer(model);
        if (tokenizerSpec == null) {
            throw new ParameterException(spec.commandLine(), model + " holds no tokenizer; give --tokenizer byte or --tokenizer FILE (a SentencePiece tokenizer.model)");
        }
        Tokenizer tok = Tokenizers.open(tokenizerSpec);
        Kernels.chooseAll(); // their start-up lines on stderr would otherwise land inside the streamed text
        List<String> texts = prompts.isEmpty() ? List.of(TokenizeCommand.readUtf8(System.in)) : prompts;
        ModelDirectory.Model m = ModelDirectory.load(model);
        Generator generator = new Generator(new LanguageModel(m.config(), m.parameters(), format), tok);

        PrintWriter out = spec.commandLine().getOut();
        boolean stream = texts.size() == 1;
        Generator.Result result = generator.generate(texts, options, new Generator.Listener() {
            @Override public void text(int sequence, String delta) {
                if (!stream) return;
                out.print(delta);
                out.flush();
            }
        });
        if (stream) {
            out.println();
        } else {
            for (int i = 0; i < result.completions().size(); i++) out.println("[" + (i + 1) + "] " + result.completions().get(i).text());
        }
        out.flush();
        spec.commandLine().getErr().println("rat4j: " + result.stats().summary() + " (" + format.label + " weights)");
        return 0;
    }
}
