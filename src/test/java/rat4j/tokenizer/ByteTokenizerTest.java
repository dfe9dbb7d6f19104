package rat4j.tokenizer;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ByteTokenizerTest {
    final ByteTokenizer tok = new ByteTokenizer();

    @Test void idsAreTheUtf8Bytes() {
        assertArrayEquals(new int[0], tok.encode(""));
        assertArrayEquals(new int[] {104, 195, 169, 0, 240, 159, 154, 128}, tok.encode("hé\0🚀"));
        assertEquals(258, tok.vocabSize());
        assertEquals(256, tok.bosId());
        assertEquals(257, tok.eosId());
        assertEquals("byte", tok.name());
    }

    @Test void everyValidStringRoundTrips() {
        SplittableRandom r = new SplittableRandom(9);
        for (int i = 0; i < 2000; i++) {
            StringBuilder sb = new StringBuilder();
            for (int n = r.nextInt(0, 50); n > 0; n--) {
                int cp = r.nextInt(4) == 0 ? r.nextInt(0, 0x80) : r.nextInt(0, Character.MAX_CODE_POINT + 1);
                if (Character.getType(cp) == Character.SURROGATE) cp = 0xFFFD;
                sb.appendCodePoint(cp);
            }
            String s = sb.toString();
            int[] ids = tok.encode(s);
            assertArrayEquals(s.getBytes(StandardCharsets.UTF_8), toBytes(ids));
            assertEquals(s, tok.decode(ids));
        }
    }

    private static byte[] toBytes(int[] ids) {
        byte[] b = new byte[ids.length];
        for (int i = 0; i < ids.length; i++) {
            assertTrue(ids[i] >= 0 && ids[i] < 256);
            b[i] = (byte) ids[i];
        }
        return b;
    }

    @Test void controlIdsDecodeToNothingAndMalformedBytesToReplacementCharacters() {
        assertEquals("ab", tok.decode(new int[] {256, 97, 257, 98, 257}));
        // SentencePiece's rule: each byte that starts no well-formed character is one U+FFFD.
        assertEquals("\uFFFD\uFFFDa", tok.decode(new int[] {0xE2, 0x82, 97}));
        assertEquals("\uFFFD\uFFFD\uFFFD", tok.decode(new int[] {0xED, 0xA0, 0x80}));
        assertEquals("\uFFFD\uFFFD", tok.decode(new int[] {0xC0, 0x80}));
        assertEquals("\uFFFD", tok.decode(new int[] {0xEF, 0xBF, 0xBD}));
        assertEquals("a\uFFFDb", tok.decode(tok.encode("a\uD800b")));
    }

    @Test void idsOutsideTheVocabularyAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {1, 258}));
        assertEquals("token id 258 at position 1 is outside [0, 258)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {-3}));
    }

    @Test void tokenizersOpensByNameOrFile() throws IOException {
        assertInstanceOf(ByteTokenizer.class, Tokenizers.open("byte"));
        Tokenizer llama = Tokenizers.open(Llama2.modelFile().toString());
        assertEquals(32000, llama.vocabSize());
        java.nio.file.NoSuchFileException e = assertThrows(java.nio.file.NoSuchFileException.class, () -> Tokenizers.open("missing.model"));
        assertTrue(e.getMessage().contains("no such tokenizer file"), e.getMessage());
    }
}
