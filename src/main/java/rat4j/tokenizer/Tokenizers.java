package rat4j.tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Opens a tokenizer from a command-line or config value: "byte", or the path of a SentencePiece tokenizer.model. */
public final class Tokenizers {
    private Tokenizers() {}

    public static Tokenizer open(String spec) throws IOException {
        if (spec.equals(ByteTokenizer.NAME)) return new ByteTokenizer();
        Path p = Path.of(spec);
        if (!Files.isRegularFile(p)) {
            throw new java.nio.file.NoSuchFileException(spec, null, "no such tokenizer file (give a SentencePiece tokenizer.model, or \"byte\"; bin/fetch-tokenizer fetches Llama 2's)");
        }
        return SentencePieceTokenizer.load(p);
    }
}
