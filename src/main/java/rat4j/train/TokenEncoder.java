package rat4j.train;

/**
 * What data preparation and fine-tuning need from a tokenizer: text to ids, the vocabulary size and the end-of-document
 * id appended after every document. {@link #byName} is the one place a tokenizer is chosen from user input.
 */
public interface TokenEncoder {
    /** The name recorded in a data manifest. */
    String name();

    int vocabSize();

    int eosId();

    /** Ids of {@code text}, without BOS or EOS (the reference tokenizes with add_special_tokens=False). */
    int[] encode(String text);

    /** The encoder called {@code name}; only "bytes" until the SentencePiece tokenizer is wired in. */
    static TokenEncoder byName(String name) {
        if (ByteEncoder.NAME.equals(name)) return new ByteEncoder();
        throw new IllegalArgumentException("unknown tokenizer '" + name + "' (known: " + ByteEncoder.NAME + ")");
    }
}
