package rat4j.generate;

import org.junit.jupiter.api.Test;
import rat4j.model.LanguageModel;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static rat4j.generate.TestModels.V;

class StopAndStreamTest {
    @Test void stopStringsFindTheEarliestAndHoldBackPossibleStarts() {
        StopStrings s = new StopStrings(List.of("xyz", "cd"));
        assertEquals(2, s.find("abcdxyz"));
        assertEquals(4, s.find("abcexyzcd"));
        assertEquals(-1, s.find("abc"));
        assertEquals(1, s.holdBack("abc"), "'c' may start 'cd'");
        assertEquals(2, s.holdBack("abxy"), "'xy' may start 'xyz'");
        assertEquals(0, s.holdBack("abq"));
        assertEquals(0, s.holdBack(""));
        assertEquals("a stop string must not be empty", assertThrows(IllegalArgumentException.class, () -> new StopStrings(List.of(""))).getMessage());
    }

    static final class Recorder implements Generator.Listener {
        final List<StringBuilder> texts = new ArrayList<>();
        final List<Generator.Completion> done = new ArrayList<>();

        Recorder(int n) {
            for (int i = 0; i < n; i++) {
                texts.add(new StringBuilder());
                done.add(null);
            }
        }

        @Override public void text(int sequence, String delta) {
            assertTrue(done.get(sequence) == null, "text after the end");
            texts.get(sequence).append(delta);
        }

        @Override public void finished(int sequence, Generator.Completion c) { done.set(sequence, c); }
    }

    @Test void streamedTextIsTheFinalTextAndStopsCutIt() {
        TestModels.Case c = TestModels.cases().getFirst();
        LanguageModel m = new LanguageModel(c.config(), TestModels.params(c.config(), 11));
        Generator g = new Generator(m, new TestModels.Letters(V, -1));
        List<int[]> prompts = List.of(TestModels.tokens(4, V, 1), TestModels.tokens(6, V, 2));
        Generator.Options free = new Generator.Options(20, Sampling.withTemperature(0.8, 5), List.of(), false, false);
        Recorder r = new Recorder(2);
        Generator.Result all = g.generateIds(prompts, free, r);
        for (int i = 0; i < 2; i++) {
            assertEquals(all.completions().get(i).text(), r.texts.get(i).toString());
            assertEquals(all.completions().get(i), r.done.get(i));
            assertEquals(20, all.completions().get(i).text().length());
        }
        // the same seed again, with a stop string taken from the middle of sequence 0's text
        String text0 = all.completions().get(0).text();
        String stop = text0.substring(7, 10);
        Recorder r2 = new Recorder(2);
        Generator.Result stopped = g.generateIds(prompts, free.withStops(List.of(stop)), r2);
        Generator.Completion c0 = stopped.completions().get(0);
        assertEquals(Generator.Finish.STOP, c0.finish());
        assertEquals(text0.substring(0, text0.indexOf(stop)), c0.text());
        assertEquals(c0.text(), r2.texts.get(0).toString(), "held-back text never printed");
        assertEquals(text0.indexOf(stop) + stop.length(), c0.tokens().length, "generation ends at the token completing the stop string");
    }

    @Test void eosEndsASequenceAndIsNotText() {
        TestModels.Case c = TestModels.cases().get(4);
        LanguageModel m = new LanguageModel(c.config(), TestModels.params(c.config(), 2));
        int[] prompt = TestModels.tokens(3, V, 9);
        Generator plain = new Generator(m, new TestModels.Letters(V, -1));
        Generator.Options o = new Generator.Options(15, Sampling.argmax(), List.of(), false, true);
        int[] free = plain.generateIds(List.of(prompt), o, new Generator.Listener() {}).completions().getFirst().tokens();
        int eos = free[4]; // declare the fifth greedy token to be EOS
        int firstEos = 0;
        while (free[firstEos] != eos) firstEos++;
        Generator.Completion stopped = new Generator(m, new TestModels.Letters(V, eos)).generateIds(List.of(prompt), o, new Generator.Listener() {})
                .completions().getFirst();
        assertEquals(Generator.Finish.EOS, stopped.finish());
        assertArrayEquals(java.util.Arrays.copyOf(free, firstEos + 1), stopped.tokens());
        assertEquals(firstEos, stopped.text().length());
    }

    @Test void optionsAreValidated() {
        assertEquals("max new tokens must be >= 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> Generator.Options.of(0, Sampling.argmax())).getMessage());
        TestModels.Case c = TestModels.cases().getFirst();
        LanguageModel m = new LanguageModel(c.config(), TestModels.params(c.config(), 2));
        assertEquals("the tokenizer's 40 tokens do not fit the model's vocabulary of 29",
                assertThrows(IllegalArgumentException.class, () -> new Generator(m, new TestModels.Letters(40, -1))).getMessage());
        Generator g = new Generator(m, new TestModels.Letters(V, -1));
        assertEquals("prompt 0 is empty and the tokenizer has no BOS to start from",
                assertThrows(IllegalArgumentException.class, () -> g.generate(List.of(""), Generator.Options.of(3, Sampling.argmax()), new Generator.Listener() {})).getMessage());
    }

    @Test void aTokenizerSmallerThanTheModelIsNeverGivenUnknownIds() {
        TestModels.Case c = TestModels.cases().get(2);
        LanguageModel m = new LanguageModel(c.config(), TestModels.params(c.config(), 4));
        Generator g = new Generator(m, new TestModels.Letters(5, -1)); // ids 5..28 exist only in the model
        Generator.Completion out = g.generateIds(List.of(new int[] {1, 2}), new Generator.Options(30, Sampling.withTemperature(3, 1), List.of(), false, false),
                new Generator.Listener() {}).completions().getFirst();
        for (int t : out.tokens()) assertTrue(t < 5, "token " + t);
    }

    /**
     * Pieces like SentencePiece's: some start with a space that a decode drops at the very start, some are single
     * bytes of multi-byte UTF-8 characters (split over two or three tokens), decoded with U+FFFD while incomplete.
     */
    static final class Pieces implements rat4j.tokenizer.Tokenizer {
        private static final byte[][] PIECES = pieces();

        private static byte[][] pieces() {
            java.util.List<byte[]> p = new java.util.ArrayList<>();
            for (String s : new String[] {"a", "b", "c", " a", " b", " the", "x", " ", "\u00e9", "z"}) p.add(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            for (int b : new int[] {0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80, 0x80, 0xA9}) p.add(new byte[] {(byte) b});
            while (p.size() < V) p.add(new byte[] {(byte) ('k' + p.size() % 10)});
            return p.toArray(new byte[0][]);
        }

        @Override public int[] encode(String text) { throw new UnsupportedOperationException("decode only"); }

        @Override public String decode(int[] ids) {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            for (int id : ids) out.writeBytes(PIECES[id]);
            String s = out.toString(java.nio.charset.StandardCharsets.UTF_8);
            return s.startsWith(" ") ? s.substring(1) : s;
        }

        @Override public int vocabSize() { return V; }
        @Override public int bosId() { return -1; }
        @Override public int eosId() { return -1; }
        @Override public String name() { return "pieces"; }
    }

    @Test void incrementalDetokenizationGivesTheTextOfDecodingEverythingAtOnce() {
        TestModels.Case c = TestModels.cases().getFirst();
        LanguageModel m = new LanguageModel(c.config(), TestModels.params(c.config(), 3));
        Pieces tok = new Pieces();
        Generator g = new Generator(m, tok);
        int checked = 0;
        for (int seed = 0; seed < 8; seed++) {
            int[] prompt = TestModels.tokens(3, V, seed);
            Recorder r = new Recorder(1);
            Generator.Completion out = g.generateIds(List.of(prompt), new Generator.Options(60, Sampling.withTemperature(3, seed), List.of(), false, false), r)
                    .completions().getFirst();
            int[] all = new int[out.tokens().length + 1]; // the whole text at once, after the prompt's last token
            all[0] = prompt[prompt.length - 1];
            System.arraycopy(out.tokens(), 0, all, 1, out.tokens().length);
            String anchor = tok.decode(new int[] {all[0]}), whole = tok.decode(all);
            assertTrue(whole.startsWith(anchor));
            assertEquals(whole.substring(anchor.length()), out.text(), "seed " + seed);
            assertEquals(out.text(), r.texts.getFirst().toString(), "streamed = final, seed " + seed);
            checked++;
        }
        assertEquals(8, checked);
    }
}
