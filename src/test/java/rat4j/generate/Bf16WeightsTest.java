package rat4j.generate;

import org.junit.jupiter.api.Test;
import rat4j.kernel.Bf16;
import rat4j.model.LanguageModel;
import rat4j.kernel.WeightFormat;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static rat4j.generate.TestModels.V;

/** Decoding with bf16 weights: the same model as its rounded fp32 parameters, and close to the fp32 model. */
class Bf16WeightsTest {
    static double maxRel(float[] ref, float[] got, int n) {
        double max = 0, err = 0;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, Math.abs(ref[i]));
            err = Math.max(err, Math.abs(ref[i] - got[i]));
        }
        return err / max;
    }

    @Test void bf16DecodeMatchesItsOwnForwardAndStaysNearFp32() {
        for (TestModels.Case c : TestModels.cases()) {
            float[] params = TestModels.params(c.config(), 6);
            float[] before = params.clone();
            LanguageModel fp32 = new LanguageModel(c.config(), params);
            LanguageModel bf16 = new LanguageModel(c.config(), params, WeightFormat.BF16);
            assertEquals(WeightFormat.BF16, bf16.weightFormat());
            assertTrue(java.util.Arrays.equals(before, params), "the caller's parameters are left as they were");
            for (int i = 0; i < params.length; i++) assertEquals(Bf16.round(params[i]), bf16.parameters()[i]);
            assertTrue(bf16.stepWeightBytes() < 0.6 * fp32.stepWeightBytes(), "bf16 halves the matrices' bytes");

            int t = 10;
            int[] tokens = TestModels.tokens(t, V, 3);
            float[] forwardBf16 = bf16.score(tokens, null, 1, t).logits();
            float[] forwardFp32 = fp32.score(tokens, null, 1, t).logits();
            LanguageModel.DecodeState st = bf16.newDecodeState(1, t);
            bf16.prefill(st, new int[] {0}, new int[][] {java.util.Arrays.copyOf(tokens, 4)});
            for (int pos = 4; pos < t; pos++) {
                float[] l = bf16.step(st, 1, new int[] {0}, new int[] {tokens[pos]});
                float[] ref = java.util.Arrays.copyOfRange(forwardBf16, pos * V, pos * V + V);
                float[] ref32 = java.util.Arrays.copyOfRange(forwardFp32, pos * V, pos * V + V);
                assertTrue(maxRel(ref, l, V) < 1e-4, c + " pos " + pos + ": bf16 decode vs its forward " + maxRel(ref, l, V));
                // rounding every weight by up to 2^-9 relative moves the logits by about that much, times depth
                double drift = maxRel(ref32, l, V);
                assertTrue(drift < 3e-2, c + " pos " + pos + ": bf16 vs fp32 logits " + drift);
            }
        }
    }

    @Test void perplexityOfBf16IsCloseToFp32() {
        TestModels.Case c = TestModels.cases().getFirst();
        float[] params = TestModels.params(c.config(), 1);
        int[] tokens = TestModels.tokens(50, V, 8);
        double p32 = Perplexity.of(new LanguageModel(c.config(), params), tokens, 16);
        double p16 = Perplexity.of(new LanguageModel(c.config(), params, WeightFormat.BF16), tokens, 16);
        assertTrue(p32 > 1 && Math.abs(p16 / p32 - 1) < 1e-2, p32 + " vs " + p16);
        assertTrue(p16 != p32, "rounding changes something");
        // windows: 50 tokens in windows of 16 score all 49 predictions, as one window of 49 does for this causal model
        double one = Perplexity.of(new LanguageModel(c.config(), params), tokens, 49);
        assertTrue(one > 1);
    }

    @Test void generationWithBf16WeightsRuns() {
        TestModels.Case c = TestModels.cases().get(5);
        LanguageModel m = new LanguageModel(c.config(), TestModels.params(c.config(), 2), WeightFormat.BF16);
        Generator.Result r = new Generator(m, new TestModels.Letters(V, -1))
                .generateIds(List.of(new int[] {1, 2, 3}, new int[] {4}), Generator.Options.of(6, Sampling.argmax()), new Generator.Listener() {});
        assertEquals(6, r.completions().get(0).tokens().length);
        assertEquals(6, r.completions().get(1).tokens().length);
    }
}
