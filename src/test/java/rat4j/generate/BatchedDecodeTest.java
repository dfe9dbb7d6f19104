package rat4j.generate;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;
import rat4j.model.LanguageModel;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static rat4j.generate.TestModels.V;

/**
 * Batches of sequences at different positions: prompts of different lengths prefilled into arbitrary slots, then
 * decoded together, give the logits of the parallel forward over each sequence alone, and greedy generation of a
 * batch gives the tokens of generating each prompt alone.
 */
class BatchedDecodeTest {
    /** Lengths that cross chunk ends (L = 3, 4), window edges (W = 2..4) and the padded-group rule. */
    static final int[] LENGTHS = {5, 1, 9, 4, 13};

    static List<TestModels.Case> cases() { return TestModels.cases(); }

    static void assertClose(String what, float[] ref, int refFrom, float[] got, int gotFrom, int n) {
        double max = 0, err = 0;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, Math.abs(ref[refFrom + i]));
            err = Math.max(err, Math.abs(ref[refFrom + i] - got[gotFrom + i]));
        }
        assertTrue(err <= 1e-4 * max + 1e-6, what + ": error " + err + " vs scale " + max);
    }

    @ParameterizedTest
    @MethodSource("cases")
    void sequencesAtDifferentPositionsDecodeAsTheForwardPass(TestModels.Case c) {
        LanguageModel m = new LanguageModel(c.config(), TestModels.params(c.config(), 3));
        int b = LENGTHS.length, total = 16;
        int[][] full = new int[b][];
        float[][] ref = new float[b][];
        for (int i = 0; i < b; i++) {
            full[i] = TestModels.tokens(total, V, 100 + i);
            ref[i] = m.score(full[i], null, 1, total).logits(); // (total, V), each sequence alone
        }
        LanguageModel.DecodeState st = m.newDecodeState(b + 1, total); // one slot stays empty
        int[] slots = {3, 0, 5, 1, 2}; // prompt i lives in slot slots[i]
        int[][] prompts = new int[b][];
        for (int i = 0; i < b; i++) prompts[i] = java.util.Arrays.copyOf(full[i], LENGTHS[i]);
        float[] first = m.prefill(st, slots, prompts);
        for (int i = 0; i < b; i++) {
            assertEquals(LENGTHS[i], st.position(slots[i]));
            assertClose(c + " prefill " + i, ref[i], (LENGTHS[i] - 1) * V, first, i * V, V);
        }
        // step the unfinished sequences together, in a varying order and subset, until all are full
        int checks = 0;
        for (int round = 0; ; round++) {
            int[] rowSlots = new int[b], rowTokens = new int[b], rowSeq = new int[b];
            int n = 0;
            for (int k = 0; k < b; k++) {
                int i = (k + round) % b;
                int pos = st.position(slots[i]);
                if (pos >= total || (round % 3 == 1 && i == 2)) continue; // sequence 2 sits out some steps
                rowSlots[n] = slots[i];
                rowTokens[n] = full[i][pos];
                rowSeq[n++] = i;
            }
            if (n == 0) break;
            float[] logits = m.step(st, n, rowSlots, rowTokens);
            for (int r = 0; r < n; r++) {
                int i = rowSeq[r], pos = st.position(slots[i]) - 1;
                assertClose(c + " seq " + i + " pos " + pos, ref[i], pos * V, logits, r * V, V);
                checks++;
            }
        }
        int expected = 0;
        for (int len : LENGTHS) expected += total - len;
        assertEquals(expected, checks);
    }

    @ParameterizedTest
    @MethodSource("cases")
    void greedyBatchGivesTheTokensOfEachPromptAlone(TestModels.Case c) {
        LanguageModel m = new LanguageModel(c.config(), TestModels.params(c.config(), 5));
        Generator g = new Generator(m, new TestModels.Letters(V, -1));
        Generator.Options o = new Generator.Options(12, Sampling.argmax().withRepetitionPenalty(1.3), List.of(), false, false);
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < LENGTHS.length; i++) prompts.add(TestModels.tokens(LENGTHS[i], V, 40 + i));
        Generator.Result batch = g.generateIds(prompts, o, new Generator.Listener() {});
        for (int i = 0; i < prompts.size(); i++) {
            Generator.Completion alone = g.generateIds(List.of(prompts.get(i)), o, new Generator.Listener() {}).completions().getFirst();
            Generator.Completion inBatch = batch.completions().get(i);
            assertArrayEquals(alone.tokens(), inBatch.tokens(), c + " prompt " + i);
            assertEquals(12, inBatch.tokens().length);
            assertEquals(alone.text(), inBatch.text());
            assertEquals(Generator.Finish.LENGTH, inBatch.finish());
        }
        Generator.Stats s = batch.stats();
        assertEquals(5 + 1 + 9 + 4 + 13, s.promptTokens());
        assertEquals(12 * 5, s.generatedTokens());
        assertEquals(11 * 5, s.decodeTokens(), "the first token of each comes from the prefill");
        assertTrue(s.cacheBytes() > 0);
    }

    @Test
    void forkedSequencesContinueAlike() {
        TestModels.Case c = TestModels.cases().getFirst();
        LanguageModel m = new LanguageModel(c.config(), TestModels.params(c.config(), 8));
        LanguageModel.DecodeState st = m.newDecodeState(3, 20);
        m.prefill(st, new int[] {1}, new int[][] {TestModels.tokens(7, V, 1)});
        st.copySequence(1, 2);
        assertEquals(7, st.position(2));
        float[] l = m.step(st, 2, new int[] {1, 2}, new int[] {4, 4});
        assertArrayEquals(java.util.Arrays.copyOfRange(l, 0, V), java.util.Arrays.copyOfRange(l, V, 2 * V));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void aRowGetsTheSameBitsAloneAndInABatch(TestModels.Case c) {
        // the decode products give every output the same arithmetic whatever n is (4 x 4 and 1 x 4 tiles at n = 5)
        LanguageModel m = new LanguageModel(c.config(), TestModels.params(c.config(), 9));
        LanguageModel.DecodeState st = m.newDecodeState(6, 20);
        m.prefill(st, new int[] {0}, new int[][] {TestModels.tokens(9, V, 3)});
        for (int s = 1; s < 6; s++) st.copySequence(0, s);
        float[] alone = java.util.Arrays.copyOf(m.step(st, 1, new int[] {0}, new int[] {5}), V);
        float[] batch = m.step(st, 5, new int[] {5, 1, 4, 2, 3}, new int[] {5, 5, 5, 5, 5});
        for (int r = 0; r < 5; r++) {
            for (int j = 0; j < V; j++) {
                assertEquals(Float.floatToRawIntBits(alone[j]), Float.floatToRawIntBits(batch[r * V + j]), c + " row " + r + " logit " + j);
            }
        }
    }

    @Test
    void badSlotsAndFullSequencesAreRefusedNamingTheProblem() {
        TestModels.Case c = TestModels.cases().get(2); // attention: its cache is full at maxLen
        LanguageModel m = new LanguageModel(c.config(), TestModels.params(c.config(), 8));
        LanguageModel.DecodeState st = m.newDecodeState(2, 4);
        assertEquals("slot 1 given twice in one step",
                assertThrows(IllegalArgumentException.class, () -> m.step(st, 2, new int[] {1, 1}, new int[] {0, 0})).getMessage());
        assertEquals("slot 2 outside [0, 2)",
                assertThrows(IllegalArgumentException.class, () -> m.step(st, 1, new int[] {2}, new int[] {0})).getMessage());
        assertEquals("prompt 0 is empty; a prompt needs at least one token (e.g. BOS)",
                assertThrows(IllegalArgumentException.class, () -> m.prefill(st, new int[] {0}, new int[][] {{}})).getMessage());
        assertEquals("prompt 0 of 5 tokens exceeds the cache's 4",
                assertThrows(IllegalArgumentException.class, () -> m.prefill(st, new int[] {0}, new int[][] {{1, 2, 3, 4, 5}})).getMessage());
        m.prefill(st, new int[] {0}, new int[][] {{1, 2, 3, 4}});
        assertEquals("sequence 0 is full: 4 tokens",
                assertThrows(IllegalStateException.class, () -> m.step(st, 1, new int[] {0}, new int[] {0})).getMessage());
        assertEquals("token id 29 at index 0 is outside the vocabulary [0, 29)",
                assertThrows(IllegalArgumentException.class, () -> m.step(st, 1, new int[] {1}, new int[] {29})).getMessage());
    }
}
