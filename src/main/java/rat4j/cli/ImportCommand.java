package rat4j.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import rat4j.model.io.ModelDirectory;
import rat4j.tokenizer.Tokenizer;
import rat4j.tokenizer.Tokenizers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "import", mixinStandardHelpOptions = true,
        description = "Build a model directory from the reference's parameters: a checkpoint it saved (.pth, config included) or a safetensors file"
                + " under its state_dict names with its resolved config (JSON).")
final class ImportCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--weights", required = true, paramLabel = "W.pth|W.safetensors",
            description = "the reference's torch.save checkpoint, or parameters under its state_dict names (an _orig_mod. prefix is stripped)")
    Path weights;

    @Option(names = "--reference-config", paramLabel = "C.json",
            description = "the reference's resolved config, nested or with dotted keys; required with safetensors, overrides the config inside a .pth")
    Path referenceConfig;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "the model directory to write")
    Path out;

    @Option(names = "--tokenizer", paramLabel = "byte|FILE",
            description = "a tokenizer to store with the model (\"byte\" or a SentencePiece tokenizer.model, copied), so 'rat4j generate' needs no --tokenizer")
    String tokenizer;

    @Option(names = "--force", description = "replace an existing model directory at DIR")
    boolean force;

    @Override public Integer call() throws IOException {
        if (Files.exists(out, LinkOption.NOFOLLOW_LINKS) && !force) throw new IOException(out + " already exists (--force replaces a model directory)");
        ModelDirectory.Model model = ModelDirectory.fromReference(weights, referenceConfig);
        if (tokenizer != null) checkTokenizer(Tokenizers.open(tokenizer), model.config().vocabSize());
        ModelDirectory.save(out, model.config(), model.parameters(), tokenizer);
        spec.commandLine().getOut().println("rat4j: wrote " + out + " (" + model.parameters().length + " parameters"
                + (tokenizer == null ? "" : ", tokenizer " + tokenizer) + ")");
        return 0;
    }

    /** A tokenizer whose ids the model cannot embed would make every generate fail later; refuse it now. */
    private void checkTokenizer(Tokenizer t, int modelVocab) {
        if (t.vocabSize() > modelVocab) {
            throw new ParameterException(spec.commandLine(), "--tokenizer " + tokenizer + " has " + t.vocabSize() + " ids, more than the model's vocab_size " + modelVocab);
        }
    }
}
