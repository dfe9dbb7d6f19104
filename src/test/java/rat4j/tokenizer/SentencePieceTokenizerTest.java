package rat4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import rat4j.tokenizer.SentencePieceModel.Type;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SentencePieceTokenizerTest {
    @Test void encodeMatchesSentencePieceOnTheFixture() throws IOException {
        SentencePieceTokenizer tok = Llama2.tokenizer();
        int n = 0, failures = 0;
        StringBuilder report = new StringBuilder();
        for (JsonNode c : Llama2.cases("llama2-encode.json")) {
            String text = c.get("text").textValue();
            int[] want = Llama2.ints(c.get("ids"));
            int[] got = tok.encode(text);
            if (!Arrays.equals(want, got) && failures++ < 5) {
                report.append("\n").append(escape(text)).append("\n  want ").append(Arrays.toString(want)).append("\n  got  ").append(Arrays.toString(got));
            }
            n++;
        }
        assertTrue(n > 100, "cases: " + n);
        assertEquals(0, failures, failures + " of " + n + " differ:" + report);
    }

    @Test void decodeMatchesSentencePieceOnTheFixture() throws IOException {
        SentencePieceTokenizer tok = Llama2.tokenizer();
        int n = 0, failures = 0;
        StringBuilder report = new StringBuilder();
        for (JsonNode c : Llama2.cases("llama2-decode.json")) {
            int[] ids = Llama2.ints(c.get("ids"));
            String want = c.get("text").textValue(), got = tok.decode(ids);
            if (!want.equals(got) && failures++ < 5) {
                report.append("\n").append(Arrays.toString(ids)).append("\n  want ").append(escape(want)).append("\n  got  ").append(escape(got));
            }
            n++;
        }
        assertTrue(n > 100, "cases: " + n);
        assertEquals(0, failures, failures + " of " + n + " differ:" + report);
    }

    @Test void llama2ModelIsReadAsTheFileSays() throws IOException {
        SentencePieceModel m = Llama2.model();
        assertEquals(32000, m.pieces().size());
        assertEquals(SentencePieceModel.ModelType.BPE, m.trainer().modelType());
        assertTrue(m.trainer().byteFallback());
        assertEquals("identity", m.normalizer().name());
        assertEquals(0, m.normalizer().precompiledCharsMap().length);
        assertTrue(m.normalizer().addDummyPrefix());
        assertTrue(!m.normalizer().removeExtraWhitespaces());
        assertTrue(m.normalizer().escapeWhitespaces());
        assertEquals(new SentencePieceModel.Piece("<unk>", 0f, Type.UNKNOWN), m.pieces().get(0));
        assertEquals(new SentencePieceModel.Piece("<s>", 0f, Type.CONTROL), m.pieces().get(1));
        assertEquals(new SentencePieceModel.Piece("</s>", 0f, Type.CONTROL), m.pieces().get(2));
        assertEquals(new SentencePieceModel.Piece("<0x00>", 0f, Type.BYTE), m.pieces().get(3));
        assertEquals(256, m.pieces().stream().filter(p -> p.type() == Type.BYTE).count());

        SentencePieceTokenizer tok = Llama2.tokenizer();
        assertEquals(32000, tok.vocabSize());
        assertEquals(1, tok.bosId());
        assertEquals(2, tok.eosId());
        assertEquals(0, tok.unkId());
        assertEquals("sentencepiece-bpe:tokenizer.model", tok.name());
        assertEquals("\u2581Hello", tok.piece(15043));
        assertArrayEquals(new int[] {15043, 3186}, tok.encode("Hello world"));
    }

    /** Code points from many scripts, never U+2581 (SentencePiece decodes it to a space) nor surrogates. */
    static String randomText(SplittableRandom r, int n) {
        int[][] ranges = {{0x20, 0x7E}, {0x20, 0x7E}, {0x20, 0x7E}, {0x61, 0x7A}, {0x61, 0x7A}, {0x09, 0x0D}, {0xA0, 0x36F},
                {0x370, 0x52F}, {0x590, 0x6FF}, {0x900, 0x97F}, {0x3040, 0x30FF}, {0x4E00, 0x9FFF}, {0xAC00, 0xD7A3},
                {0xE000, 0xF8FF}, {0xFF00, 0xFFEF}, {0x1F300, 0x1FAFF}, {0x10000, 0x10FFFF}, {0x0, 0x1F}};
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            int[] range = ranges[r.nextInt(ranges.length)];
            int cp = r.nextInt(range[0], range[1] + 1);
            if (Character.getType(cp) == Character.SURROGATE || cp == 0x2581) cp = ' ';
            sb.appendCodePoint(cp);
        }
        return sb.toString();
    }

    @Test void decodeInvertsEncodeOnTheFixtureAndRandomText() throws IOException {
        SentencePieceTokenizer tok = Llama2.tokenizer();
        List<String> texts = new ArrayList<>();
        for (JsonNode c : Llama2.cases("llama2-encode.json")) {
            String t = c.get("text").textValue();
            if (t.indexOf('\u2581') < 0) texts.add(t);
        }
        SplittableRandom r = new SplittableRandom(11);
        for (int i = 0; i < 500; i++) texts.add(randomText(r, r.nextInt(0, 200)));
        for (String t : texts) assertEquals(escape(t), escape(tok.decode(tok.encode(t))));
        assertTrue(texts.size() > 600);
    }

    @Test void heapEncoderMatchesTheNaiveReference() throws IOException {
        SentencePieceTokenizer tok = Llama2.tokenizer();
        NaiveBpe naive = new NaiveBpe(Llama2.model());
        SplittableRandom r = new SplittableRandom(5);
        String[] words = {"the", "tokenizer", "Llama", "über", "naïve", "東京", "🚀", "x", "  ", "\t", "\n", "supercalifragilistic", "1234"};
        int checked = 0;
        for (int i = 0; i < 300; i++) {
            String text;
            if (i % 2 == 0) {
                text = randomText(r, r.nextInt(0, 80));
            } else {
                StringBuilder sb = new StringBuilder();
                for (int w = r.nextInt(0, 30); w > 0; w--) sb.append(words[r.nextInt(words.length)]).append(r.nextInt(3) == 0 ? "" : " ");
                text = sb.toString();
            }
            Normalizer.Bytes norm = tok.normalize(text);
            int[] want = naive.encode(Utf8.decode(norm.data, 0, norm.length));
            assertArrayEquals(want, tok.encode(text), escape(text));
            checked++;
        }
        assertEquals(300, checked);
    }

    @Test void unpairedSurrogatesEncodeAsReplacementCharacters() throws IOException {
        SentencePieceTokenizer tok = Llama2.tokenizer();
        assertArrayEquals(tok.encode("a\uFFFDb\uFFFD"), tok.encode("a\uD800b\uDC00"));
        assertEquals("a\uFFFD", tok.decode(tok.encode("a\uDBFF")));
        assertEquals("\uD83D\uDE00", tok.decode(tok.encode("\uD83D\uDE00")));
    }

    @Test void controlTokensAreNeverProducedFromText() throws IOException {
        SentencePieceTokenizer tok = Llama2.tokenizer();
        int[] ids = tok.encode("<s>Hello</s> <unk>");
        for (int id : ids) assertTrue(id != tok.bosId() && id != tok.eosId() && id != tok.unkId(), Arrays.toString(ids));
        assertEquals("Hello world", tok.decode(new int[] {tok.bosId(), 15043, 3186, tok.eosId()}));
    }

    @Test void decodeRejectsIdsOutsideTheVocabulary() throws IOException {
        SentencePieceTokenizer tok = Llama2.tokenizer();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {15043, 32000}));
        assertEquals("token id 32000 at position 1 is outside [0, 32000)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {-1}));
    }

    @Test void concurrentEncodingAgreesWithSequential() throws Exception {
        SentencePieceTokenizer tok = Llama2.tokenizer();
        SplittableRandom r = new SplittableRandom(3);
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 64; i++) texts.add(randomText(r, 500));
        List<int[]> want = texts.stream().map(tok::encode).toList();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int offset = t;
                results.add(pool.submit(() -> {
                    for (int k = 0; k < texts.size(); k++) {
                        int i = (k + offset * 16) % texts.size();
                        if (!Arrays.equals(want.get(i), tok.encode(texts.get(i)))) return false;
                    }
                    return true;
                }));
            }
            for (Future<Boolean> f : results) assertTrue(f.get());
        } finally {
            pool.shutdownNow();
        }
    }

    /** Not a timing assertion: encodes a couple of megabytes, checks the round trip, and prints the rate. */
    @Test void megabytesEncodeAndRoundTrip() throws IOException {
        SentencePieceTokenizer tok = Llama2.tokenizer();
        SplittableRandom r = new SplittableRandom(17);
        String[] words = {"the", "of", "and", "tokenizer", "language", "model", "recurrence", "attention", "über", "naïve",
                "東京", "🚀", "1984", "x", "(", ")", ",", ".", "supercalifragilisticexpialidocious", "    ", "\n", "\t"};
        StringBuilder sb = new StringBuilder();
        while (sb.length() < 2_000_000) sb.append(words[r.nextInt(words.length)]).append(' ');
        String text = sb.toString();
        tok.encode(text);
        long t0 = System.nanoTime();
        int[] ids = tok.encode(text);
        long t1 = System.nanoTime();
        assertEquals(text, tok.decode(ids));
        long t2 = System.nanoTime();
        double mb = Utf8.encode(text).length / 1e6;
        System.out.printf("rat4j.tokenizer: %.1f MB (%d tokens): encode %.1f MB/s, decode %.1f MB/s%n",
                mb, ids.length, mb / ((t1 - t0) / 1e9), mb / ((t2 - t1) / 1e9));
        assertTrue(ids.length > 100_000);
    }

    // ---- hand-made models ----

    /** A BPE model from (piece, score, type) triples, ModelProto-serialized. */
    static byte[] handMade(boolean byteFallback, Object... triples) {
        ProtoWriter m = new ProtoWriter();
        for (int i = 0; i < triples.length; i += 3) {
            m.message(1, ProtoWriter.piece((String) triples[i], ((Number) triples[i + 1]).floatValue(), (Type) triples[i + 2]));
        }
        m.message(2, new ProtoWriter().varint(3, SentencePieceModel.ModelType.BPE.number).varint(35, byteFallback ? 1 : 0));
        m.message(3, new ProtoWriter().string(1, "identity").varint(3, 1).varint(4, 0).varint(5, 1));
        return m.toBytes();
    }

    @Test void tiesGoToTheLeftmostPairAndScoresDecide() {
        byte[] bytes = handMade(false, "<unk>", 0, Type.UNKNOWN, "\u2581", -1, Type.NORMAL, "a", -1, Type.NORMAL,
                "b", -1, Type.NORMAL, "ab", -2, Type.NORMAL, "ba", -2, Type.NORMAL, "\u2581a", -5, Type.NORMAL, "aba", -3, Type.NORMAL);
        SentencePieceTokenizer tok = new SentencePieceTokenizer(SentencePieceModel.parse(bytes), "hand");
        // "▁aba": pairs ▁a(-5) ab(-2) ba(-2): the tie goes left, ab; then ▁+ab is no piece, ab+a = aba (-3).
        assertArrayEquals(new int[] {1, 7}, tok.encode("aba"));
        // "▁bab": ba(-2) and ab(-2) tie, leftmost ba; then ba+b is no piece.
        assertArrayEquals(new int[] {1, 5, 3}, tok.encode("bab"));
        // "c" is unknown and, without byte fallback, a run of unknowns is one <unk>.
        assertArrayEquals(new int[] {1, 0, 1, 0}, tok.encode("cc cc"));
        // The first ▁ is the dummy prefix and goes; the second is a space between two unknown surfaces.
        assertEquals(" \u2047   \u2047 ", tok.decode(tok.encode("cc cc")));
        assertEquals(-1, tok.bosId());
        assertEquals(-1, tok.eosId());
    }

    @Test void malformedModelsFailWithAClearMessage() throws IOException {
        byte[] llama = Files.readAllBytes(Llama2.modelFile());
        assertMessage("no pieces", () -> SentencePieceModel.parse(new byte[0]));
        assertMessage("claims", () -> SentencePieceModel.parse(Arrays.copyOf(llama, llama.length / 2)));
        assertMessage("truncated varint", () -> SentencePieceModel.parse(new byte[] {(byte) 0x80}));
        assertMessage("wire type 0, expected 2", () -> SentencePieceModel.parse(new byte[] {8, 1}));
        assertMessage("not valid UTF-8", () -> SentencePieceModel.parse(new ProtoWriter().message(1, new ProtoWriter().bytes(1, new byte[] {(byte) 0xFF})).toBytes()));
        assertMessage("no unknown piece", () -> new SentencePieceTokenizer(SentencePieceModel.parse(handMade(false, "a", 0, Type.NORMAL)), "x"));
        assertMessage("defined twice", () -> new SentencePieceTokenizer(SentencePieceModel.parse(handMade(false, "<unk>", 0, Type.UNKNOWN, "a", 0, Type.NORMAL, "a", 0, Type.CONTROL)), "x"));
        assertMessage("byte_fallback is false", () -> new SentencePieceTokenizer(SentencePieceModel.parse(handMade(false, "<unk>", 0, Type.UNKNOWN, "<0x41>", 0, Type.BYTE)), "x"));
        assertMessage("no <0x00> piece", () -> new SentencePieceTokenizer(SentencePieceModel.parse(handMade(true, "<unk>", 0, Type.UNKNOWN)), "x"));
        byte[] unigram = new ProtoWriter().message(1, ProtoWriter.piece("<unk>", 0, Type.UNKNOWN)).message(2, new ProtoWriter().varint(3, 1)).toBytes();
        assertMessage("model_type UNIGRAM is not supported", () -> new SentencePieceTokenizer(SentencePieceModel.parse(unigram), "x"));
        Path junk = Files.createTempFile("junk", ".model");
        try {
            Files.write(junk, new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF});
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SentencePieceTokenizer.load(junk));
            assertTrue(e.getMessage().startsWith(junk + ": not a SentencePiece model: "), e.getMessage());
        } finally {
            Files.delete(junk);
        }
    }

    private static void assertMessage(String fragment, org.junit.jupiter.api.function.Executable run) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, run);
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }

    static String escape(String s) {
        StringBuilder sb = new StringBuilder("\"");
        s.codePoints().forEach(cp -> {
            if (cp >= 0x20 && cp < 0x7F) sb.append((char) cp);
            else sb.append(String.format("\\u{%X}", cp));
        });
        return sb.append('"').toString();
    }
}
