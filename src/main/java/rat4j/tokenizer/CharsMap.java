package rat4j.tokenizer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A SentencePiece precompiled_charsmap: the normalization rules (e.g. NFKC) compiled into a darts-clone double-array
 * trie over UTF-8 byte strings, each leaf pointing at a NUL-terminated replacement in a string blob. Layout
 * (SentencePiece src/normalizer.cc, EncodePrecompiledCharsMap): uint32 little-endian trie size in bytes, the trie's
 * 32-bit units, then the replacement strings.
 */
final class CharsMap {
    private final int[] units;
    private final byte[] strings;

    CharsMap(byte[] blob) {
        if (blob.length <= 4) throw new IllegalArgumentException("precompiled_charsmap of " + blob.length + " bytes is too short");
        ByteBuffer bb = ByteBuffer.wrap(blob).order(ByteOrder.LITTLE_ENDIAN);
        long trieBytes = Integer.toUnsignedLong(bb.getInt());
        if (trieBytes >= blob.length - 4L || trieBytes % 4 != 0) {
            throw new IllegalArgumentException("precompiled_charsmap claims a trie of " + trieBytes + " bytes in a blob of " + blob.length);
        }
        units = new int[(int) (trieBytes / 4)];
        bb.asIntBuffer().get(units);
        strings = java.util.Arrays.copyOfRange(blob, 4 + (int) trieBytes, blob.length);
        if (units.length == 0) throw new IllegalArgumentException("precompiled_charsmap has an empty trie");
        // Replacements must be valid UTF-8: the encoder reads the normalized text character by character.
        for (int i = 0; i < strings.length; ) {
            if (strings[i] == 0) { i++; continue; }
            int n = Utf8.validLength(strings, i, strings.length);
            if (n == 0) throw new IllegalArgumentException("precompiled_charsmap: a replacement is not valid UTF-8 at byte " + i);
            i += n;
        }
    }

    // darts-clone DoubleArrayUnit accessors (darts.h).
    private static boolean hasLeaf(int unit) { return (unit >>> 8 & 1) == 1; }

    private static int value(int unit) { return unit & 0x7FFFFFFF; }

    private static int label(int unit) { return unit & (0x80000000 | 0xFF); }

    private static int offset(int unit) { return (unit >>> 10) << ((unit & (1 << 9)) >>> 6); }

    /**
     * The longest rule matching a prefix of b[from, to): returns (matched length << 32 | offset of the replacement in
     * the string blob), or -1 when no rule matches (darts-clone commonPrefixSearch, keeping the longest).
     */
    long longestMatch(byte[] b, int from, int to) {
        long best = -1;
        int id = offset(units[0]);
        for (int i = from; i < to; i++) {
            int c = b[i] & 0xFF;
            id ^= c;
            if (id < 0 || id >= units.length) return best;
            int unit = units[id];
            if (label(unit) != c) return best;
            id ^= offset(unit);
            if (hasLeaf(unit)) {
                if (id < 0 || id >= units.length) throw new IllegalArgumentException("precompiled_charsmap: a leaf points outside the trie");
                int v = value(units[id]);
                if (v >= strings.length) throw new IllegalArgumentException("precompiled_charsmap: a rule points outside the strings");
                best = (long) (i + 1 - from) << 32 | v;
            }
        }
        return best;
    }

    /** The bytes of the replacement at the given offset, up to its NUL. */
    int replacementEnd(int offset) {
        int e = offset;
        while (e < strings.length && strings[e] != 0) e++;
        return e;
    }

    byte[] strings() { return strings; }
}
