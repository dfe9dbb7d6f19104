package rat4j.train;

import java.nio.charset.StandardCharsets;

/** Byte-level encoding: the UTF-8 bytes of the text as ids 0..255, and 256 as end of document (vocabulary 257). */
public final class ByteEncoder implements TokenEncoder {
    public static final String NAME = "bytes";
    public static final int EOS = 256;

    @Override public String name() { return NAME; }

    @Override public int vocabSize() { return 257; }

    @Override public int eosId() { return EOS; }

    @Override public int[] encode(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[b.length];
        for (int i = 0; i < b.length; i++) ids[i] = b[i] & 0xFF;
        return ids;
    }
}
