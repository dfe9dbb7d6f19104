package rat4j.golden;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import rat4j.model.LanguageModel;
import rat4j.model.ModelConfig;
import rat4j.model.ParameterLayout;
import rat4j.model.io.Goldens;
import rat4j.model.io.ModelDirectory;
import rat4j.model.io.ReferenceConfig;
import rat4j.model.io.SafetensorsFile;

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


    /** The golden's model, through the shipped readers: its reference config and its parameter file. */
    static LanguageModel load(String name) throws IOException {
        ModelConfig config = ReferenceConfig.fromTree(Goldens.json(name).get("official_hydra_equivalent"));
        try (SafetensorsFile f = SafetensorsFile.open(Goldens.params(name))) {
            return new LanguageModel(config, ModelDirectory.readParameters(f, config, n -> n));
        }
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

    @ParameterizedTest
    @ValueSource(strings = {"rat_c4_L2_T32", "rat_c1_L2_T16", "rat_c16_L3_T64", "rat_c16_L2_T64_officialinit",
            "rat_c4_L2_T30_nonmultiple", "attention_L2_T32", "local_w8_L2_T32", "rnn_L2_T32", "interleave_rat4_local8_L4_T32"})
    void logitsLossAndGradients(String name) throws IOException {
        LanguageModel m = load(name);
        try (SafetensorsFile io = SafetensorsFile.open(Goldens.io(name))) {
            int[] shape = io.info("input_ids").shape();
            int b = shape[0], t = shape[1];
            int[] tokens = io.readInts("input_ids"), labels = io.readInts("labels");
            LanguageModel.Scored s = m.score(tokens, labels, b, t);
            double[] refLogits = io.readDoubles("ref64.logits");
            assertClose(name + " logits", refLogits, s.logits(), 0, 0, refLogits.length);
            double refLoss = io.readDoubles("ref64.loss")[0];
            assertEquals(refLoss, s.loss(), RTOL * Math.abs(refLoss), name + " loss");

            float[] grads = new float[m.parameters().length];
            double loss = m.forwardBackward(tokens, labels, b, t, grads);
            assertEquals(refLoss, loss, RTOL * Math.abs(refLoss), name + " loss (training pass)");
            int checked = 0;
            for (ParameterLayout.Entry e : m.layout().entries()) {
                double[] ref = io.readDoubles("ref64.grad." + e.name());
                assertClose(name + " grad " + e.name(), ref, grads, 0, e.offset(), e.size());
                checked++;
            }
            assertEquals(m.layout().entries().size(), checked);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"rat_c4_L2_T32", "rat_c1_L2_T16", "rat_c16_L3_T64", "rat_c16_L2_T64_officialinit",
            "rat_c4_L2_T30_nonmultiple", "attention_L2_T32", "local_w8_L2_T32", "rnn_L2_T32", "interleave_rat4_local8_L4_T32"})
    void stepAndPrefillDecoding(String name) throws IOException {
        LanguageModel m = load(name);
        try (SafetensorsFile io = SafetensorsFile.open(Goldens.io(name))) {
            int[] shape = io.info("input_ids").shape();
            int b = shape[0], t = shape[1], v = m.config().vocabSize();
            int[] tokens = io.readInts("input_ids");
            double[] stepRef = io.readDoubles("ref64.decode.step_logits");

            LanguageModel.DecodeState st = m.newDecodeState(b, t);
            for (int pos = 0; pos < t; pos++) {
                int[] next = new int[b];
                for (int i = 0; i < b; i++) next[i] = tokens[i * t + pos];
                float[] logits = m.step(st, next);
                for (int i = 0; i < b; i++) assertClose(name + " step logits b" + i + " pos " + pos, stepRef, logits, (i * t + pos) * v, i * v, v);
            }

            int p = Goldens.json(name).get("prefill_P").asInt();
            int[] prompt = new int[b * p];
            for (int i = 0; i < b; i++) System.arraycopy(tokens, i * t, prompt, i * p, p);
            LanguageModel.DecodeState st2 = m.newDecodeState(b, t);
            float[] pre = m.prefill(st2, prompt, p);
            double[] preRef = io.readDoubles("decode.prefill_logits"); // (B, prefill_input_len, V), first P meaningful
            int preLen = io.info("decode.prefill_logits").shape()[1];
            for (int i = 0; i < b; i++) assertClose(name + " prefill logits b" + i, preRef, pre, i * preLen * v, i * p * v, p * v);
            double[] afterRef = io.readDoubles("ref64.decode.after_prefill_step_logits"); // (B, T - P, V)
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
}
