package rat4j.tokenizer;

/** UTF-8 the way SentencePiece reads it (src/util.cc DecodeUTF8, IsValidDecodeUTF8, OneCharLen). */
final class Utf8 {
    private Utf8() {}

    static final int REPLACEMENT = 0xFFFD;

    /** The character length SentencePiece assumes from a lead byte alone (OneCharLen), clamped to what is left. */
    static int oneCharLen(byte[] b, int i, int end) {
        int lead = (b[i] & 0xFF) >>> 4;
        int n = lead < 12 ? 1 : lead < 14 ? 2 : lead == 14 ? 3 : 4;
        return Math.min(n, end - i);
    }

    /**
     * The length of the well-formed character at b[i], or 0 when the bytes there are not one (a bad lead byte, a
     * missing trail byte, an overlong form, a surrogate or a value past U+10FFFF). SentencePiece then consumes one
     * byte and substitutes U+FFFD.
     */
    static int validLength(byte[] b, int i, int end) {
        int b0 = b[i] & 0xFF;
        if (b0 < 0x80) return 1;
        int left = end - i;
        if ((b0 & 0xE0) == 0xC0 && left >= 2 && trail(b[i + 1])) {
            int cp = (b0 & 0x1F) << 6 | (b[i + 1] & 0x3F);
            return cp >= 0x80 ? 2 : 0;
        }
        if ((b0 & 0xF0) == 0xE0 && left >= 3 && trail(b[i + 1]) && trail(b[i + 2])) {
            int cp = (b0 & 0x0F) << 12 | (b[i + 1] & 0x3F) << 6 | (b[i + 2] & 0x3F);
            return cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF) ? 3 : 0;
        }
        if ((b0 & 0xF8) == 0xF0 && left >= 4 && trail(b[i + 1]) && trail(b[i + 2]) && trail(b[i + 3])) {
            int cp = (b0 & 0x07) << 18 | (b[i + 1] & 0x3F) << 12 | (b[i + 2] & 0x3F) << 6 | (b[i + 3] & 0x3F);
            return cp >= 0x10000 && cp <= 0x10FFFF ? 4 : 0;
        }
        return 0;
    }

    private static boolean trail(byte b) {
        return (b & 0xC0) == 0x80;
    }

    /** The code point of the n-byte character at b[i] (n from validLength or oneCharLen; no checks). */
    static int codePoint(byte[] b, int i, int n) {
        return switch (n) {
            case 1 -> b[i] & 0xFF;
            case 2 -> (b[i] & 0x1F) << 6 | (b[i + 1] & 0x3F);
            case 3 -> (b[i] & 0x0F) << 12 | (b[i + 1] & 0x3F) << 6 | (b[i + 2] & 0x3F);
            default -> (b[i] & 0x07) << 18 | (b[i + 1] & 0x3F) << 12 | (b[i + 2] & 0x3F) << 6 | (b[i + 3] & 0x3F);
        };
    }

    /** Appends the UTF-8 bytes of a code point at out[at]; returns the new end. out must have 4 bytes of room. */
    static int put(byte[] out, int at, int cp) {
        if (cp < 0x80) {
            out[at++] = (byte) cp;
        } else if (cp < 0x800) {
            out[at++] = (byte) (0xC0 | cp >>> 6);
            out[at++] = (byte) (0x80 | cp & 0x3F);
        } else if (cp < 0x10000) {
            out[at++] = (byte) (0xE0 | cp >>> 12);
            out[at++] = (byte) (0x80 | cp >>> 6 & 0x3F);
            out[at++] = (byte) (0x80 | cp & 0x3F);
        } else {
            out[at++] = (byte) (0xF0 | cp >>> 18);
            out[at++] = (byte) (0x80 | cp >>> 12 & 0x3F);
            out[at++] = (byte) (0x80 | cp >>> 6 & 0x3F);
            out[at++] = (byte) (0x80 | cp & 0x3F);
        }
        return at;
    }

    /**
     * The UTF-8 bytes of a Java string. An unpaired surrogate has no UTF-8 form; it becomes U+FFFD, as SentencePiece
     * turns malformed input into U+FFFD (the JDK's encoder would write '?').
     */
    static byte[] encode(String s) {
        int n = s.length();
        long size = 0;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) size += 1;
            else if (c < 0x800) size += 2;
            else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) { size += 4; i++; }
            else size += 3;
        }
        if (size > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("text of " + size + " UTF-8 bytes is too long for one call; split it");
        byte[] out = new byte[(int) size];
        int at = 0;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                out[at++] = (byte) c;
                continue;
            }
            int cp = c;
            if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                cp = Character.toCodePoint(c, s.charAt(++i));
            } else if (Character.isSurrogate(c)) {
                cp = REPLACEMENT;
            }
            at = put(out, at, cp);
        }
        return out;
    }

    /** Decodes SentencePiece-style: each byte that does not start a well-formed character becomes one U+FFFD. */
    static String decode(byte[] b, int from, int to) {
        StringBuilder sb = new StringBuilder(to - from);
        appendDecoded(sb, b, from, to);
        return sb.toString();
    }

    static void appendDecoded(StringBuilder sb, byte[] b, int from, int to) {
        int i = from;
        while (i < to) {
            int n = validLength(b, i, to);
            if (n == 0) {
                sb.append((char) REPLACEMENT);
                i++;
            } else {
                sb.appendCodePoint(codePoint(b, i, n));
                i += n;
            }
        }
    }
}
