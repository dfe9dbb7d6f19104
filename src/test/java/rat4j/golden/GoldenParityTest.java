package rat4j.golden;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import rat4j.model.LanguageModel;
import rat4j.model.LayerSpec;
import rat4j.model.ModelConfig;
import rat4j.model.ParameterLayout;
import rat4j.model.PositionEncoding;

import java.io.IOException;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Whole-model parity with the reference (../shared/golden): logits, loss, every parameter gradient, step decoding from
 * position 0, and prefill-then-step decoding. We compare against the float64 run (ref64.*) of the same float32
 * parameters. Tolerance: max |ours - ref| <= 1e-4 * max |ref| per tensor. Our float32 compute differs from float64 by
 * rounding only (the golden's own float32 run lands within ~1e-6 relative); 1e-4 leaves room for a different
 * summation order and still fails on any real semantic slip, which moves values by 1e-2 or more.
 */
class GoldenParityTest {
    static final double RTOL = 1e-4;

    static { rat4j.kernel.Kernels.useAttention(new rat4j.kernel.TmpNaiveAttention()); }

    static ModelConfig configOf(JsonNode oc) {
        return new ModelConfig(oc.get("vocab_size").asInt(), oc.get("d_model").asInt(), oc.get("num_layers").asInt(),
                oc.get("hidden_cell").get("d_ffn").asInt(), cell(oc.get("seq_cell")),
                oc.get("seq_cell1").isNull() ? null : cell(oc.get("seq_cell1")), oc.get("interleave_step").asInt(),
                PositionEncoding.fromRefName(oc.get("pe").asText()), oc.get("rope_base").asDouble(), oc.get("tie_embedding").asBoolean());
    }

    static LayerSpec cell(JsonNode s) {
        return switch (s.get("_name_").asText()) {
            case "rat" -> LayerSpec.rat(s.get("num_head").asInt(), s.get("chunk_size").asInt(), s.get("ngroups").asInt());
            case "attention" -> LayerSpec.attention(s.get("num_head").asInt());
            case "local_attention" -> LayerSpec.localAttention(s.get("num_head").asInt(), s.get("window_size").asInt());
            case "rnn" -> LayerSpec.rnn(s.get("seq_len").asInt());
            default -> throw new IllegalArgumentException(s.toString());
        };
    }

    static LanguageModel load(GoldenCase g) {
        ModelConfig config = configOf(g.json.get("oracle_config"));
        ParameterLayout layout = ParameterLayout.of(config);
        float[] params = new float[layout.totalSize()];
        for (ParameterLayout.Entry e : layout.entries()) {
            GoldenCase.Arr a = g.params.get(e.name());
            assertTrue(Arrays.equals(a.shape(), e.shape()), e.name() + " shape");
            for (int i = 0; i < e.size(); i++) params[e.offset() + i] = (float) a.values()[i];
        }
        return new LanguageModel(config, params);
    }

    static int[] ints(GoldenCase.Arr a) {
        int[] out = new int[a.ints().length];
        for (int i = 0; i < out.length; i++) out[i] = Math.toIntExact(a.ints()[i]);
        return out;
    }

    static void assertClose(String what, double[] ref, float[] ours, int refFrom, int oursFrom, int count) {
        double maxRef = 0, maxErr = 0;
        int worst = -1;
        for (int i = 0; i < count; i++) {
            maxRef = Math.max(maxRef, Math.abs(ref[refFrom + i]));
            double err = Math.abs(ref[refFrom + i] - ours[oursFrom + i]);
            if (!(err <= maxErr)) { maxErr = err; worst = i; }
        }
        assertTrue(maxErr <= RTOL * maxRef, what + ": max error " + maxErr + " at " + worst + " exceeds " + RTOL + " x " + maxRef);
    }

    static final String[] CASES = {"rat_c4_L2_T32", "rat_c1_L2_T16", "rat_c16_L3_T64", "rat_c16_L2_T64_officialinit",
            "rat_c4_L2_T30_nonmultiple", "attention_L2_T32", "local_w8_L2_T32", "rnn_L2_T32", "interleave_rat4_local8_L4_T32"};

    @ParameterizedTest
    @ValueSource(strings = {"rat_c4_L2_T32", "rat_c1_L2_T16", "rat_c16_L3_T64", "rat_c16_L2_T64_officialinit",
            "rat_c4_L2_T30_nonmultiple", "attention_L2_T32", "local_w8_L2_T32", "rnn_L2_T32", "interleave_rat4_local8_L4_T32"})
    void logitsLossAndGradients(String name) throws IOException {
        GoldenCase g = new GoldenCase(name);
        LanguageModel m = load(g);
        int[] shape = g.io.get("input_ids").shape();
        int b = shape[0], t = shape[1];
        int[] tokens = ints(g.io.get("input_ids")), labels = ints(g.io.get("labels"));
        LanguageModel.Scored s = m.score(tokens, labels, b, t);
        double[] refLogits = g.io.get("ref64.logits").values();
        assertClose(name + " logits", refLogits, s.logits(), 0, 0, refLogits.length);
        double refLoss = g.io.get("ref64.loss").values()[0];
        assertEquals(refLoss, s.loss(), RTOL * Math.abs(refLoss), name + " loss");

        float[] grads = new float[m.parameters().length];
        double loss = m.forwardBackward(tokens, labels, b, t, grads);
        assertEquals(refLoss, loss, RTOL * Math.abs(refLoss), name + " loss (training pass)");
        int checked = 0;
        for (ParameterLayout.Entry e : m.layout().entries()) {
            double[] ref = g.io.get("ref64.grad." + e.name()).values();
            assertClose(name + " grad " + e.name(), ref, grads, 0, e.offset(), e.size());
            checked++;
        }
        assertEquals(m.layout().entries().size(), checked);
    }

    @ParameterizedTest
    @ValueSource(strings = {"rat_c4_L2_T32", "rat_c1_L2_T16", "rat_c16_L3_T64", "rat_c16_L2_T64_officialinit",
            "rat_c4_L2_T30_nonmultiple", "attention_L2_T32", "local_w8_L2_T32", "rnn_L2_T32", "interleave_rat4_local8_L4_T32"})
    void stepAndPrefillDecoding(String name) throws IOException {
        GoldenCase g = new GoldenCase(name);
        LanguageModel m = load(g);
        int[] shape = g.io.get("input_ids").shape();
        int b = shape[0], t = shape[1], v = m.config().vocabSize();
        int[] tokens = ints(g.io.get("input_ids"));
        double[] stepRef = g.io.get("ref64.decode.step_logits").values();

        LanguageModel.DecodeState st = m.newDecodeState(b, t);
        for (int pos = 0; pos < t; pos++) {
            int[] next = new int[b];
            for (int i = 0; i < b; i++) next[i] = tokens[i * t + pos];
            float[] logits = m.step(st, next);
            for (int i = 0; i < b; i++) assertClose(name + " step logits b" + i + " pos " + pos, stepRef, logits, (i * t + pos) * v, i * v, v);
        }

        int p = g.json.get("prefill_P").asInt();
        int[] prompt = new int[b * p];
        for (int i = 0; i < b; i++) System.arraycopy(tokens, i * t, prompt, i * p, p);
        LanguageModel.DecodeState st2 = m.newDecodeState(b, t);
        float[] pre = m.prefill(st2, prompt, p);
        double[] preRef = g.io.get("decode.prefill_logits").values(); // (B, prefill_input_len, V), first P meaningful
        int preLen = g.io.get("decode.prefill_logits").shape()[1];
        for (int i = 0; i < b; i++) assertClose(name + " prefill logits b" + i, preRef, pre, i * preLen * v, i * p * v, p * v);
        double[] afterRef = g.io.get("ref64.decode.after_prefill_step_logits").values(); // (B, T - P, V)
        for (int pos = p; pos < t; pos++) {
            int[] next = new int[b];
            for (int i = 0; i < b; i++) next[i] = tokens[i * t + pos];
            float[] logits = m.step(st2, next);
            for (int i = 0; i < b; i++) {
                assertClose(name + " after-prefill logits b" + i + " pos " + pos, afterRef, logits, (i * (t - p) + pos - p) * v, i * v, v);
            }
        }
    }
}
