package rat4j.tokenizer;

/**
 * Bytes as tokens, for tiny models: the UTF-8 bytes of the text are ids 0..255, then BOS = 256 and EOS = 257
 * (vocabulary 258). Every string round-trips exactly, except that an unpaired surrogate (which has no UTF-8 form)
 * becomes U+FFFD. Decoding malformed byte sequences gives one U+FFFD per byte that starts no well-formed character,
 * as {@link SentencePieceTokenizer} does.
 */
public final class ByteTokenizer implements Tokenizer {
    public static final int BOS = 256, EOS = 257, VOCAB_SIZE = 258;
    public static final String NAME = "byte";

    @Override public int[] encode(String text) {
        byte[] b = Utf8.encode(text);
        int[] ids = new int[b.length];
        for (int i = 0; i < b.length; i++) ids[i] = b[i] & 0xFF;
        return ids;
    }

    @Override public String decode(int[] ids) {
        byte[] b = new byte[ids.length];
        int n = 0;
        for (int t = 0; t < ids.length; t++) {
            int id = ids[t];
            if (id < 0 || id >= VOCAB_SIZE) throw new IllegalArgumentException("token id " + id + " at position " + t + " is outside [0, " + VOCAB_SIZE + ")");
            if (id < 256) b[n++] = (byte) id;
        }
        return Utf8.decode(b, 0, n);
    }

    @Override public int vocabSize() { return VOCAB_SIZE; }

    @Override public int bosId() { return BOS; }

    @Override public int eosId() { return EOS; }

    @Override public String name() { return NAME; }

    @Override public String toString() { return NAME; }
}
