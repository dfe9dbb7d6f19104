package rat4j.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import rat4j.model.Initializer;
import rat4j.model.LanguageModel;
import rat4j.model.LayerKind;
import rat4j.model.ModelConfig;
import rat4j.model.ParameterLayout;
import rat4j.nn.SequenceMixer;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelBenchTest {
    static final int C = 16, H = 2, LAYERS = 3, V = 31;

    @Test void thePaperModelsAtAnotherSize() {
        ModelConfig rat = ModelBench.config("rat", 64, 4, 2, 100);
        assertEquals(64, rat.dModel());
        assertEquals(256, rat.dFfn());
        assertEquals(LayerKind.RAT, rat.seqCell().kind());
        assertEquals(16, rat.seqCell().chunkSize());
        assertEquals(4, rat.seqCell().numHead());
        ModelConfig hybrid = ModelBench.config("rat_localattention_interleave-xl", 64, 4, 4, 100);
        assertEquals(LayerKind.RAT, hybrid.layer(0).kind());
        assertEquals(LayerKind.LOCAL_ATTENTION, hybrid.layer(1).kind());
        assertEquals(1024, hybrid.layer(1).windowSize());
        assertEquals(LayerKind.RNN, ModelBench.config("rnn", 64, 4, 2, 100).seqCell().kind());
        assertEquals("unknown model 'mamba' (known: attention, rat, rnn, attention_localattention_interleave, rat_localattention_interleave)",
                assertThrows(IllegalArgumentException.class, () -> ModelBench.config("mamba", 64, 4, 2, 100)).getMessage());
    }

    @Test void cacheBytesAndBatchSearch() {
        for (String m : ModelBench.PAPER_MODELS) {
            ModelConfig c = ModelBench.config(m, C, H, LAYERS, V);
            ModelBench.Decoder d = new ModelBench.Decoder(c, 1);
            long sum = 0;
            for (SequenceMixer.Cache cache : d.newCaches(1, 40)) sum += cache.bytes();
            assertEquals(sum, ModelBench.cacheBytesPerSequence(c, 40), m);
        }
        assertEquals(7, ModelBench.batchFor(7 * 100 + 99, 100, 64));
        assertEquals(64, ModelBench.batchFor(1L << 40, 100, 64));
        assertEquals(0, ModelBench.batchFor(99, 100, 64));
    }

    @Test void stepCostCountsEveryLayerTheFfnAndTheHead() {
        ModelConfig c = ModelBench.config("attention", C, H, LAYERS, V);
        int b = 3, pos = 9;
        Cost cost = ModelBench.stepCost(c, b, pos);
        double want = LAYERS * (2.0 * b * C * 3 * C + 2.0 * b * C * C + 4.0 * b * C * (pos + 1) + 2 * 2.0 * b * C * 4 * C) + 2.0 * b * C * V;
        assertEquals(want, cost.flops(), 1e-6);
    }

    /** The bench's decode loop is the model's: prefill then a step gives LanguageModel's logits. */
    @Test void decoderMatchesTheLanguageModel() {
        for (String m : ModelBench.PAPER_MODELS) {
            ModelConfig c = ModelBench.config(m, C, H, LAYERS, V);
            // window 1024 never binds at this length: shrink it so the ring buffer wraps
            if (c.interleaved()) c = new ModelConfig(V, C, LAYERS, 4 * C, c.seqCell().withWindowSize(5), c.seqCell1(), c.interleaveStep(), c.pe(), c.ropeBase(), true);
            int p = 11;
            int[] prompt = new int[p];
            for (int t = 0; t < p; t++) prompt[t] = (t * 7 + 3) % V;
            LanguageModel lm = new LanguageModel(c, Initializer.initialize(c, 9));
            LanguageModel.DecodeState st = lm.newDecodeState(1, p + 4);
            lm.prefill(st, prompt, p);
            float[] want1 = lm.step(st, new int[] {5});
            float[] want2 = lm.step(st, new int[] {6});
            ModelBench.Decoder d = new ModelBench.Decoder(c, 9);
            SequenceMixer.Cache[] caches = d.newCaches(2, p + 4);
            d.prefill(prompt, caches);
            float[] got1 = d.step(new int[] {5, 1}, caches, 2, p);
            float[] got2 = d.step(new int[] {6, 2}, caches, 2, p + 1);
            for (int v = 0; v < V; v++) {
                assertEquals(want1[v], got1[v], 1e-5f, m + " first step, logit " + v);
                assertEquals(want2[v], got2[v], 1e-5f, m + " second step, logit " + v);
            }
        }
    }

    @Test void argmaxPerRow() {
        int[] next = new int[2];
        ModelBench.argmax(new float[] {0, 3, 1, 5, -1, 2}, 2, 3, next);
        assertEquals(List.of(1, 0), List.of(next[0], next[1]));
    }

    @Test void runsTheFiveModelsAndReports() throws Exception {
        ModelBench.Options o = new ModelBench.Options(ModelBench.PAPER_MODELS, C, H, 2, V, 24, 8, 3, 1, 1L << 20, 6, 1, Machine.Probe.QUICK);
        StringWriter log = new StringWriter();
        ModelBench.Result r = ModelBench.run(o, LayerCostsTest.M, new PrintWriter(log, true));
        assertEquals(5, r.rows().size());
        for (ModelBench.Row x : r.rows()) {
            assertTrue(x.measured(), x.toString());
            assertEquals(3, x.step().reps());
            long perSeq = x.cacheBytesPerSequence() + ModelBench.stepBytesPerSequence(x.config());
            assertEquals(ModelBench.batchFor(1L << 20, perSeq, 6), x.batch(), x.model());
            assertEquals(4L * ParameterLayout.of(x.config()).totalSize(), x.weightBytes());
            assertTrue(x.tokensPerSecond() > 0 && x.prefillMs() > 0);
        }
        assertEquals(1.0, r.speedup(r.rows().getFirst()), 1e-12);
        assertTrue(log.toString().contains("[5/5] rat_localattention_interleave"), log.toString());
        String table = ModelReport.table(r);
        assertEquals(5, table.lines().filter(l -> l.matches("^(attention|rat|rnn)\\S* +\\d+ .*")).count(), table);
        JsonNode json = new ObjectMapper().readTree(ModelReport.json(r).toString());
        assertEquals(5, json.get("rows").size());
        assertEquals(3, json.get("rows").get(1).get("step_samples_ms").size());
    }

    @Test void aBudgetBelowOneSequenceSkipsTheModel() {
        ModelBench.Options o = new ModelBench.Options(List.of("attention"), C, H, 2, V, 24, 8, 2, 0, 1000, 6, 1, Machine.Probe.QUICK);
        ModelBench.Row x = ModelBench.run(o, LayerCostsTest.M, null).rows().getFirst();
        assertFalse(x.measured());
        assertTrue(x.skipped().startsWith("one sequence needs "), x.skipped());
        assertTrue(ModelReport.table(ModelBench.run(o, LayerCostsTest.M, null)).contains("skipped: one sequence needs"));
    }

    @Test void optionsAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> new ModelBench.Options(List.of(), C, H, 2, V, 8, 8, 2, 0, 0, 6, 1, Machine.Probe.QUICK));
        assertEquals("timed steps must lie in [1, 8], got 9", assertThrows(IllegalArgumentException.class,
                () -> new ModelBench.Options(List.of("rat"), C, H, 2, V, 8, 8, 9, 0, 0, 6, 1, Machine.Probe.QUICK)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ModelBench.Options(List.of("rat"), C, 3, 2, V, 8, 8, 2, 0, 0, 6, 1, Machine.Probe.QUICK));
        assertThrows(IllegalArgumentException.class, () -> new ModelBench.Options(List.of("gpt"), C, H, 2, V, 8, 8, 2, 0, 0, 6, 1, Machine.Probe.QUICK));
    }
}
