package rat4j.tokenizer;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** SentencePiece's notion of a well-formed character agrees with the JDK's strict UTF-8 decoder. */
class Utf8Test {
    private final java.nio.charset.CharsetDecoder strict = StandardCharsets.UTF_8.newDecoder();

    /** n when b[0, n) is exactly one character for the JDK's strict decoder, else 0. */
    private int jdkLength(byte[] b) {
        java.nio.CharBuffer out = java.nio.CharBuffer.allocate(8);
        for (int n = 1; n <= b.length; n++) {
            out.clear();
            strict.reset();
            if (strict.decode(ByteBuffer.wrap(b, 0, n), out, true).isError() || strict.flush(out).isError()) continue;
            out.flip();
            if (Character.codePointCount(out, 0, out.length()) == 1) return n;
        }
        return 0;
    }

    @Test void validLengthAgreesWithTheJdkOnEveryTwoByteAndSampledLongerSequences() {
        int checked = 0;
        for (int a = 0; a < 256; a++) {
            for (int b = 0; b < 256; b++) {
                byte[] s = {(byte) a, (byte) b};
                int want = jdkLength(s);
                assertEquals(want, Utf8.validLength(s, 0, 2), String.format("%02X %02X", a, b));
                checked++;
            }
        }
        SplittableRandom r = new SplittableRandom(2);
        for (int i = 0; i < 200_000; i++) {
            byte[] s = new byte[r.nextInt(1, 5)];
            s[0] = (byte) r.nextInt(0xC0, 0x100);
            for (int k = 1; k < s.length; k++) s[k] = (byte) (r.nextInt(4) == 0 ? r.nextInt(256) : r.nextInt(0x80, 0xC0));
            assertEquals(jdkLength(s), Utf8.validLength(s, 0, s.length), java.util.HexFormat.of().formatHex(s));
            checked++;
        }
        assertEquals(65536 + 200_000, checked);
    }

    @Test void encodeMatchesTheJdkForWellFormedStringsAndReplacesLoneSurrogates() {
        String s = "a\u00e9\u20ac\uD83D\uDE80\u0000\uFFFF";
        assertEquals(java.util.HexFormat.of().formatHex(s.getBytes(StandardCharsets.UTF_8)), java.util.HexFormat.of().formatHex(Utf8.encode(s)));
        assertEquals("61efbfbd62efbfbd", java.util.HexFormat.of().formatHex(Utf8.encode("a\uDC00b\uD800")));
    }
}
