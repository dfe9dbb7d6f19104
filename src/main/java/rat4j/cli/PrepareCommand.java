package rat4j.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import rat4j.train.DataManifest;
import rat4j.train.DataPreparation;
import rat4j.train.Progress;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

@Command(name = "prepare", mixinStandardHelpOptions = true,
        description = "Tokenize text files into the flat token files 'rat4j train --data' reads: every file is one document followed by EOS;"
                + " folders are walked recursively in sorted order (hidden entries and files that are not UTF-8 text are skipped);"
                + " a seeded shuffle holds out documents for validation. Writes DIR/train.bin, DIR/val.bin, DIR/manifest.json and a copy of the SentencePiece tokenizer (DIR/tokenizer.model),"
                + " which 'rat4j train' stores in the model directories it writes.")
final class PrepareCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--input", required = true, arity = "1..*", paramLabel = "PATH", description = "text files and folders")
    List<Path> inputs;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "the data directory to write (new, empty, or an earlier prepare's)")
    Path out;

    @Option(names = "--val-fraction", defaultValue = "0.005", paramLabel = "F",
            description = "share of documents held out for validation, rounded up (default ${DEFAULT-VALUE}, as the reference)")
    double valFraction;

    @Option(names = "--tokenizer", defaultValue = "byte", paramLabel = "NAME|PATH", description = "byte: UTF-8 bytes (BOS 256, EOS 257; the default), or the path of a SentencePiece tokenizer.model (Llama 2: bin/fetch-tokenizer)")
    String tokenizer;

    @Option(names = "--seed", defaultValue = "1005", description = "seed of the document shuffle (default ${DEFAULT-VALUE}, as the reference)")
    long seed;

    @Override public Integer call() throws IOException {
        DataPreparation.Summary s = DataPreparation.prepare(
                DataPreparation.Options.of(inputs, out, valFraction, seed, tokenizer), Progress.stderr(spec.commandLine().getErr()));
        DataManifest m = s.manifest();
        PrintWriter o = spec.commandLine().getOut();
        o.printf("rat4j: wrote %s: %d documents (%d train, %d validation), %d tokens (%d train, %d validation) from %d bytes of text"
                        + " in %.1f s, %.0f tokens/s; tokenizer %s (vocab %d, EOS %d), %s%n", out, s.documents(), m.trainDocuments(), m.valDocuments(),
                s.tokens(), m.trainTokens(), m.valTokens(), m.textBytes(), s.seconds(), s.tokensPerSecond(), m.tokenizer(), m.vocabSize(), m.eosId(), m.dtype());
        if (s.skippedNotText() + s.skippedEmpty() > 0) {
            o.printf("rat4j: skipped %d files that are not UTF-8 text%s and %d empty files%n", s.skippedNotText(),
                    s.skippedExamples().isEmpty() ? "" : " (e.g. " + s.skippedExamples().stream().map(Path::toString).collect(Collectors.joining(", ")) + ")",
                    s.skippedEmpty());
        }
        return 0;
    }
}
