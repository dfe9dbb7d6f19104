package rat4j.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Properties that hold for every layer kind on random weights and inputs beyond the goldens: step decoding and
 * prefill-then-step reproduce the parallel forward, analytic gradients match finite differences, and the identities
 * between layer kinds (RAT with L >= T is the RNN; a window >= T - 1 is full attention).
 */
class ModelConsistencyTest {

    static final int V = 23, C = 16, FFN = 32;

    record Case(String name, ModelConfig config, int seqLen) {
        @Override public String toString() { return name + " T=" + seqLen; }
    }

    static ModelConfig plain(LayerSpec cell, PositionEncoding pe) {
        return new ModelConfig(V, C, 2, FFN, cell, null, 2, pe, 10000, true);
    }

    static Stream<Case> cases() {
        List<Case> out = new ArrayList<>();
        for (int t : new int[] {1, 3, 8, 13}) {
            out.add(new Case("rat L=4", plain(LayerSpec.rat(2, 4, 1), PositionEncoding.INTERROPE), t));
            out.add(new Case("rat L=1", plain(LayerSpec.rat(2, 1, 2), PositionEncoding.INTERROPE), t));
            out.add(new Case("rat L=5 4 heads", plain(LayerSpec.rat(4, 5, 2), PositionEncoding.INTERROPE), t));
            out.add(new Case("attention", plain(LayerSpec.attention(2), PositionEncoding.ROPE), t));
            out.add(new Case("local W=3", plain(LayerSpec.localAttention(2, 3), PositionEncoding.ROPE), t));
            out.add(new Case("rnn", plain(LayerSpec.rnn(16), PositionEncoding.NONE), t));
            out.add(new Case("rat+local hybrid", new ModelConfig(V, C, 3, FFN, LayerSpec.localAttention(2, 2),
                    LayerSpec.rat(2, 3, 2), 2, PositionEncoding.ROPE_INTERROPE, 10000, true), t));
            out.add(new Case("attention+local hybrid, untied", new ModelConfig(V, C, 3, FFN, LayerSpec.localAttention(2, 4),
                    LayerSpec.attention(2), 3, PositionEncoding.ROPE, 500, false), t));
        }
        return out.stream();
    }

    /** Initialised weights with every parameter perturbed, so norms and gate biases carry gradient signal. */
    static float[] randomParams(ModelConfig config, long seed) {
        float[] p = Initializer.initialize(config, seed);
        SplittableRandom rng = new SplittableRandom(seed + 1);
        for (int i = 0; i < p.length; i++) p[i] += (float) ((rng.nextDouble() - 0.5) * 0.2);
        return p;
    }

    static int[] randomTokens(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = rng.nextInt(V);
        return t;
    }

    static void assertClose(String what, float[] ref, int refFrom, float[] got, int gotFrom, int n, double rtol) {
        double max = 0, err = 0;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, Math.abs(ref[refFrom + i]));
            err = Math.max(err, Math.abs(ref[refFrom + i] - got[gotFrom + i]));
        }
        assertTrue(err <= rtol * max + 1e-6, what + ": error " + err + " vs scale " + max);
    }

    @ParameterizedTest
    @MethodSource("cases")
    void decodingReproducesTheForwardPass(Case c) {
        int b = 2, t = c.seqLen();
        LanguageModel m = new LanguageModel(c.config(), randomParams(c.config(), 7));
        int[] tokens = randomTokens(b * t, 11);
        float[] full = m.score(tokens, null, b, t).logits();
        int checks = 0;
        for (int p = 0; p <= t; p++) { // p = 0: pure stepping from position 0
            LanguageModel.DecodeState st = m.newDecodeState(b, t);
            if (p > 0) {
                int[] prompt = new int[b * p];
                for (int i = 0; i < b; i++) System.arraycopy(tokens, i * t, prompt, i * p, p);
                float[] pre = m.prefill(st, prompt, p);
                for (int i = 0; i < b; i++) assertClose(c + " prefill " + p, full, i * t * V, pre, i * p * V, p * V, 1e-4);
            }
            for (int pos = p; pos < t; pos++) {
                int[] next = {tokens[pos], tokens[t + pos]};
                float[] logits = m.step(st, next);
                for (int i = 0; i < b; i++) {
                    assertClose(c + " prefill " + p + " step " + pos, full, (i * t + pos) * V, logits, i * V, V, 1e-4);
                    checks++;
                }
            }
        }
        assertEquals(b * t * (t + 1) / 2, checks);
    }

    /** T = 3 and 13 cover partial chunks, several chunks and windows shorter than T; fewer lengths keep the suite fast. */
    static Stream<Case> gradientCases() {
        return cases().filter(c -> c.seqLen() == 3 || c.seqLen() == 13);
    }

    @ParameterizedTest
    @MethodSource("gradientCases")
    void gradientsMatchFiniteDifferences(Case c) {
        int b = 2, t = c.seqLen();
        float[] params = randomParams(c.config(), 3);
        LanguageModel m = new LanguageModel(c.config(), params);
        int[] tokens = randomTokens(b * t, 5), labels = randomTokens(b * t, 6);
        labels[1] = LanguageModel.IGNORE_INDEX;
        float[] grads = new float[params.length];
        m.forwardBackward(tokens, labels, b, t, grads);
        // Directional derivatives, one parameter tensor at a time, along two unit directions: the analytic gradient
        // itself (largest signal: a 1% error shows) and random signs (catches errors orthogonal to the gradient).
        // float32 loss noise is ~1e-6, i.e. ~1e-4 on a difference quotient with eps 1e-2; curvature stays below that.
        SplittableRandom rng = new SplittableRandom(9);
        int checked = 0;
        for (ParameterLayout.Entry e : m.layout().entries()) {
            int n = e.size();
            double norm = Math.sqrt(dot(grads, e.offset(), java.util.Arrays.copyOfRange(grads, e.offset(), e.offset() + n)));
            float[] along = new float[n], signs = new float[n];
            for (int i = 0; i < n; i++) {
                along[i] = (float) (grads[e.offset() + i] / norm);
                signs[i] = (float) ((rng.nextBoolean() ? 1 : -1) / Math.sqrt(n));
            }
            // eps 3e-3, not 1e-3: at 1e-3 the float noise of the loss alone moved a quotient by up to the whole
            // tolerance (the RNN's input norm, once its sigmoid ran in float: 4.2e-5 off with an identical gradient)
            double numAlong = directional(m, params, e, along, 3e-3f, tokens, labels, b, t);
            double numSigns = directional(m, params, e, signs, 1e-2f, tokens, labels, b, t);
            assertEquals(numAlong, norm, 3e-3 * norm + 2e-5, c + " " + e.name() + " along the gradient");
            assertEquals(numSigns, dot(grads, e.offset(), signs), 2e-2 * Math.abs(numSigns) + 2e-3 * norm + 2e-5,
                    c + " " + e.name() + " along random signs");
            checked++;
        }
        assertEquals(m.layout().entries().size(), checked);
    }

    static double dot(float[] g, int off, float[] dir) {
        double s = 0;
        for (int i = 0; i < dir.length; i++) s += (double) g[off + i] * dir[i];
        return s;
    }

    /** Central difference of the loss along dir, applied to one parameter tensor (restored afterwards). */
    static double directional(LanguageModel m, float[] params, ParameterLayout.Entry e, float[] dir, float eps,
                              int[] tokens, int[] labels, int b, int t) {
        float[] saved = java.util.Arrays.copyOfRange(params, e.offset(), e.offset() + e.size());
        for (int i = 0; i < dir.length; i++) params[e.offset() + i] = saved[i] + eps * dir[i];
        double up = m.score(tokens, labels, b, t).loss();
        for (int i = 0; i < dir.length; i++) params[e.offset() + i] = saved[i] - eps * dir[i];
        double down = m.score(tokens, labels, b, t).loss();
        System.arraycopy(saved, 0, params, e.offset(), saved.length);
        return (up - down) / (2 * eps);
    }

    @Test
    void ratWithOneChunkIsTheRnn() {
        int t = 9, b = 2;
        ModelConfig rat = plain(LayerSpec.rat(2, t, 2), PositionEncoding.INTERROPE);
        ModelConfig rnn = plain(LayerSpec.rnn(t), PositionEncoding.NONE);
        float[] pr = randomParams(rat, 21);
        ParameterLayout lr = ParameterLayout.of(rat), ln = ParameterLayout.of(rnn);
        float[] pn = new float[ln.totalSize()];
        for (ParameterLayout.Entry e : ln.entries()) {
            ParameterLayout.Entry src = lr.entry(e.name()); // the RNN's in_proj rows z, x, g are RAT's first 3C rows
            System.arraycopy(pr, src.offset(), pn, e.offset(), e.size());
        }
        int[] tokens = randomTokens(b * t, 4);
        float[] a = new LanguageModel(rat, pr).score(tokens, null, b, t).logits();
        float[] r = new LanguageModel(rnn, pn).score(tokens, null, b, t).logits();
        assertClose("RAT(L=T) vs RNN", r, 0, a, 0, a.length, 1e-5);
    }

    @Test
    void wideWindowIsFullAttention() {
        int t = 11, b = 2;
        ModelConfig full = plain(LayerSpec.attention(2), PositionEncoding.ROPE);
        ModelConfig local = plain(LayerSpec.localAttention(2, t - 1), PositionEncoding.ROPE);
        ModelConfig narrow = plain(LayerSpec.localAttention(2, t - 2), PositionEncoding.ROPE);
        float[] p = randomParams(full, 8);
        int[] tokens = randomTokens(b * t, 2);
        float[] f = new LanguageModel(full, p).score(tokens, null, b, t).logits();
        float[] l = new LanguageModel(local, p).score(tokens, null, b, t).logits();
        float[] n = new LanguageModel(narrow, p).score(tokens, null, b, t).logits();
        assertClose("window T-1 vs full", f, 0, l, 0, f.length, 1e-6);
        double diff = 0;
        for (int i = 0; i < f.length; i++) diff = Math.max(diff, Math.abs(f[i] - n[i]));
        assertTrue(diff > 1e-4, "a window of T-2 must differ from full attention at the last position");
    }
}
