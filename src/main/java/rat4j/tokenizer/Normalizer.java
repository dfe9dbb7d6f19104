package rat4j.tokenizer;

import java.util.Arrays;

/**
 * SentencePiece's normalizer (src/normalizer.cc, Normalizer::Normalize) over UTF-8 bytes: user-defined symbols are
 * copied as they are, other text goes through the precompiled_charsmap rules (none for Llama 2's "identity"), then
 * optional removal of leading, trailing and repeated spaces, the dummy-prefix space, and spaces escaped as U+2581.
 */
final class Normalizer {
    /** U+2581 LOWER ONE EIGHTH BLOCK, which stands for a space inside pieces. */
    static final byte[] SPACE_SYMBOL = {(byte) 0xE2, (byte) 0x96, (byte) 0x81};
    private static final byte[] REPLACEMENT = {(byte) 0xEF, (byte) 0xBF, (byte) 0xBD};

    private final CharsMap charsMap;
    private final PrefixMatcher userDefined;
    private final boolean addDummyPrefix, removeExtraWhitespaces, escapeWhitespaces, whitespaceAsSuffix;

    /** charsMap and userDefined may be null (no rules, no user-defined symbols). */
    Normalizer(SentencePieceModel.NormalizerSpec spec, CharsMap charsMap, PrefixMatcher userDefined, boolean whitespaceAsSuffix) {
        this.charsMap = charsMap;
        this.userDefined = userDefined;
        this.addDummyPrefix = spec.addDummyPrefix();
        this.removeExtraWhitespaces = spec.removeExtraWhitespaces();
        this.escapeWhitespaces = spec.escapeWhitespaces();
        this.whitespaceAsSuffix = whitespaceAsSuffix;
    }

    /** A growable byte buffer: the normalized text is bytes [0, length). */
    static final class Bytes {
        byte[] data;
        int length;

        Bytes(int capacity) { data = new byte[Math.max(16, capacity)]; }

        void add(byte b) {
            if (length == data.length) grow(1);
            data[length++] = b;
        }

        void add(byte[] b, int from, int to) {
            int n = to - from;
            if (length + n > data.length) grow(n);
            System.arraycopy(b, from, data, length, n);
            length += n;
        }

        private void grow(int n) {
            data = Arrays.copyOf(data, Math.max(Math.addExact(length, n), data.length + (data.length >> 1)));
        }

        boolean endsWith(byte[] suffix) {
            return length >= suffix.length && Arrays.equals(data, length - suffix.length, length, suffix, 0, suffix.length);
        }
    }

    Bytes normalize(byte[] in) {
        int n = in.length;
        Bytes out = new Bytes(n + n / 8 + 8);
        if (n == 0) return out;
        // One normalized prefix at a time: src[srcFrom, srcTo) replaces `consumed` input bytes.
        byte[] src;
        int srcFrom, srcTo, consumed;
        int i = 0;
        if (removeExtraWhitespaces) {
            while (i < n) {
                long m = prefix(in, i);
                if (!isSingleSpace(in, i, m)) break;
                i += consumed(m);
            }
            if (i == n) return out;
        }
        if (!whitespaceAsSuffix && addDummyPrefix) addSpace(out);
        boolean prevSpace = removeExtraWhitespaces;
        while (i < n) {
            long m = prefix(in, i);
            consumed = consumed(m);
            if (m >= 0 && isRule(m)) {
                src = charsMap.strings();
                srcFrom = offset(m);
                srcTo = charsMap.replacementEnd(srcFrom);
            } else if (m >= 0) {
                src = in;
                srcFrom = i;
                srcTo = i + consumed;
            } else {
                src = REPLACEMENT;
                srcFrom = 0;
                srcTo = 3;
            }
            // Spaces that follow a space are dropped when removing extra whitespace.
            if (prevSpace) while (srcFrom < srcTo && src[srcFrom] == ' ') srcFrom++;
            if (srcFrom < srcTo) {
                for (int k = srcFrom; k < srcTo; k++) {
                    if (escapeWhitespaces && src[k] == ' ') out.add(SPACE_SYMBOL, 0, 3);
                    else out.add(src[k]);
                }
                prevSpace = src[srcTo - 1] == ' ';
            }
            i += consumed;
            if (!removeExtraWhitespaces) prevSpace = false;
        }
        if (removeExtraWhitespaces) {
            byte[] space = escapeWhitespaces ? SPACE_SYMBOL : new byte[] {' '};
            while (out.endsWith(space)) out.length -= space.length;
        }
        if (whitespaceAsSuffix && addDummyPrefix) addSpace(out);
        return out;
    }

    private void addSpace(Bytes out) {
        if (escapeWhitespaces) out.add(SPACE_SYMBOL, 0, 3);
        else out.add((byte) ' ');
    }

    // A prefix match packs (kind, consumed bytes, rule offset) into a long: bit 62 marks a charsmap rule, bits 32..61
    // the bytes consumed, the low 32 bits the rule's offset in the string blob; -consumed - 1 (negative) marks a
    // malformed byte that becomes U+FFFD.
    private static final long RULE = 1L << 62;

    private long prefix(byte[] in, int i) {
        int n = in.length;
        if (userDefined != null) {
            long m = userDefined.match(in, i, n);
            if (m >= 0) return m >>> 32 << 32;
        }
        if (charsMap != null) {
            long r = charsMap.longestMatch(in, i, n);
            if (r >= 0) return RULE | r;
        }
        int len = Utf8.validLength(in, i, n);
        return len == 0 ? -1 : (long) len << 32;
    }

    private static boolean isRule(long m) { return (m & RULE) != 0; }

    private static int consumed(long m) { return m < 0 ? 1 : (int) ((m & ~RULE) >>> 32); }

    private static int offset(long m) { return (int) m; }

    /** Whether the prefix at in[i] normalizes to exactly " ". */
    private boolean isSingleSpace(byte[] in, int i, long m) {
        if (m < 0) return false;
        if (isRule(m)) {
            int from = offset(m);
            return charsMap.replacementEnd(from) == from + 1 && charsMap.strings()[from] == ' ';
        }
        return consumed(m) == 1 && in[i] == ' ';
    }
}
