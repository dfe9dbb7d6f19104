package rat4j.tokenizer;

/**
 * Text to token ids and back. Implementations are immutable and thread-safe.
 * Control tokens (BOS, EOS) are never produced by {@link #encode}; callers add them by id.
 */
public interface Tokenizer {
    /** Token ids of the text, without BOS or EOS. */
    int[] encode(String text);

    /** The text of the ids; BOS, EOS and other control ids decode to nothing. Throws on ids outside [0, vocabSize()). */
    String decode(int[] ids);

    int vocabSize();

    /** The beginning-of-sequence id, or -1 when the vocabulary has none. */
    int bosId();

    /** The end-of-sequence id, or -1 when the vocabulary has none. */
    int eosId();

    /** A short description for logs and metadata, e.g. "byte" or "sentencepiece-bpe:tokenizer.model". */
    String name();
}
