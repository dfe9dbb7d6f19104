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
}
