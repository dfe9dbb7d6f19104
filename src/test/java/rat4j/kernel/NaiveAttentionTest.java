package rat4j.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The reference itself: finite differences, closed forms, the reference code's merge formula, identities, errors. */
class NaiveAttentionTest {
    private final NaiveAttention naive = new NaiveAttention();

    private static double[] gaussian(Random rnd, int n) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) x[i] = rnd.nextGaussian();
        return x;
    }

    /** loss = sum(out * R) through the double forward. */
    private static double loss(int B, int T, int H, int D, NaiveAttention.KeySet keys, double scale,
                               double[] q, double[] k, double[] v, double[] R) {
        double[] out = new double[B * T * H * D], lse = new double[B * H * T];
        NaiveAttention.forward(B, T, H, D, keys, scale, q, k, v, out, lse);
        double l = 0;
        for (int i = 0; i < out.length; i++) l += out[i] * R[i];
        return l;
    }

    /** Central differences in double (eps 1e-5: truncation ~1e-10, rounding ~1e-11) against the analytic backward. */
    @Test
    void backwardMatchesFiniteDifferences() {
        int B = 2, T = 6, H = 2, D = 3, n = B * T * H * D;
        double scale = 0.7, eps = 1e-5;
        NaiveAttention.KeySet[] sets = {
                NaiveAttention.causalKeys(0), NaiveAttention.causalKeys(1), NaiveAttention.causalKeys(2),
                NaiveAttention.causalKeys(Integer.MAX_VALUE),
                NaiveAttention.chunkKeys(1), NaiveAttention.chunkKeys(2), NaiveAttention.chunkKeys(4),
                NaiveAttention.chunkKeys(7)};
        Random rnd = new Random(11);
        int variants = 0;
        double worst = 0;
        for (NaiveAttention.KeySet keys : sets) {
            double[] q = gaussian(rnd, n), k = gaussian(rnd, n), v = gaussian(rnd, n), R = gaussian(rnd, n);
            double[] dq = new double[n], dk = new double[n], dv = new double[n];
            NaiveAttention.backward(B, T, H, D, keys, scale, q, k, v, R, dq, dk, dv);
            double[][] xs = {q, k, v}, gs = {dq, dk, dv};
            for (int w = 0; w < 3; w++) {
                double[] x = xs[w];
                for (int i = 0; i < n; i++) {
                    double x0 = x[i];
                    x[i] = x0 + eps;
                    double up = loss(B, T, H, D, keys, scale, q, k, v, R);
                    x[i] = x0 - eps;
                    double down = loss(B, T, H, D, keys, scale, q, k, v, R);
                    x[i] = x0;
                    double fd = (up - down) / (2 * eps), err = Math.abs(fd - gs[w][i]);
                    worst = Math.max(worst, err);
                    assertTrue(err <= 1e-8 * (1 + Math.abs(fd)), "tensor " + w + " index " + i + ": fd " + fd + " analytic " + gs[w][i]);
                }
            }
            variants++;
        }
        assertEquals(sets.length, variants);
        assertTrue(worst > 0, "the check compared something");
    }

    /** T = 2, H = D = 1 by hand: out_0 = v_0, out_1 = softmax(s_10, s_11) . (v_0, v_1). */
    @Test
    void causalClosedForm() {
        float[] q = {0.5f, -1f}, k = {2f, 0.25f}, v = {3f, -7f}, out = new float[2], lse = new float[2];
        float scale = 0.9f;
        naive.causalForward(1, 2, 1, 1, Integer.MAX_VALUE, scale, Strided.dense(q, 1), Strided.dense(k, 1),
                Strided.dense(v, 1), Strided.dense(out, 1), lse);
        double s10 = scale * -1.0 * 2.0, s11 = scale * -1.0 * 0.25;
        double z = Math.exp(s10) + Math.exp(s11);
        assertEquals(3f, out[0], 0f);
        assertEquals((float) ((Math.exp(s10) * 3 + Math.exp(s11) * -7) / z), out[1], 1e-6f);
        assertEquals((float) (scale * 0.5 * 2.0), lse[0], 1e-6f);
        assertEquals((float) Math.log(z), lse[1], 1e-6f);
    }

    /**
     * The reference's formulation (rat.py): flex_attention over the chunk finals with mask q//L > kv, returning
     * inter_out and inter_lse (0 and -inf for the first chunk), then merge_last_token_naive with the own-state term
     * (intra_lse = scale * q.k_t, intra_out = v_t). The one-softmax reference must equal it.
     */
    @Test
    void chunkEqualsReferenceMerge() {
        int B = 2, T = 23, H = 3, D = 5, variants = 0;
        float scale = (float) (1 / Math.sqrt(D));
        Random rnd = new Random(5);
        for (int L : new int[] {1, 2, 4, 7, 23, 40}) {
            Strided q = AttentionFixtures.random(rnd, B, T, H, D, 0, 0), k = AttentionFixtures.random(rnd, B, T, H, D, 0, 0);
            Strided v = AttentionFixtures.random(rnd, B, T, H, D, 0, 0), out = AttentionFixtures.random(rnd, B, T, H, D, 0, 0);
            float[] lse = new float[B * H * T];
            naive.chunkForward(B, T, H, D, L, scale, q, k, v, out, lse);
            for (int b = 0; b < B; b++) {
                for (int h = 0; h < H; h++) {
                    for (int t = 0; t < T; t++) {
                        double[] qt = row(q, b * T + t, h, D);
                        int c = t / L;
                        double interMax = Double.NEGATIVE_INFINITY;
                        double[] s = new double[c];
                        for (int j = 0; j < c; j++) interMax = Math.max(interMax, s[j] = scale * dot(qt, row(k, b * T + j * L + L - 1, h, D)));
                        double z = 0;
                        double[] interOut = new double[D];
                        for (int j = 0; j < c; j++) {
                            double p = Math.exp(s[j] - interMax);
                            z += p;
                            double[] vj = row(v, b * T + j * L + L - 1, h, D);
                            for (int d = 0; d < D; d++) interOut[d] += p * vj[d];
                        }
                        for (int d = 0; d < D; d++) interOut[d] = c == 0 ? 0 : interOut[d] / z;
                        double interLse = c == 0 ? Double.NEGATIVE_INFINITY : interMax + Math.log(z);
                        double intraLse = scale * dot(qt, row(k, b * T + t, h, D));
                        // merge_last_token_naive
                        double maxLse = Math.max(interLse, intraLse);
                        double interExp = Math.exp(interLse - maxLse), intraExp = Math.exp(intraLse - maxLse);
                        double intraAdj = intraExp / (intraExp + interExp), interAdj = interExp / (intraExp + interExp);
                        double[] vt = row(v, b * T + t, h, D);
                        for (int d = 0; d < D; d++) {
                            double want = interOut[d] * interAdj + intraAdj * vt[d];
                            assertEquals(want, out.data()[out.row(b * T + t) + h * D + d], 2e-6, "L=" + L + " t=" + t);
                        }
                        assertEquals(maxLse + Math.log(intraExp + interExp), lse[(b * H + h) * T + t], 2e-5, "lse L=" + L + " t=" + t);
                    }
                }
            }
            variants++;
        }
        assertEquals(6, variants);
    }

    private static double[] row(Strided x, int r, int h, int D) {
        double[] y = new double[D];
        for (int d = 0; d < D; d++) y[d] = x.data()[x.row(r) + h * D + d];
        return y;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    /** Chunk attention with L = 1 is full causal attention; a window of T-1 or more is full attention; L >= T gives v. */
    @Test
    void identities() {
        int B = 2, T = 9, H = 2, D = 4, rows = B * T, width = H * D;
        float scale = 0.5f;
        Random rnd = new Random(3);
        Strided q = AttentionFixtures.random(rnd, B, T, H, D, 1, 2), k = AttentionFixtures.random(rnd, B, T, H, D, 0, 1);
        Strided v = AttentionFixtures.random(rnd, B, T, H, D, 3, 0), dout = AttentionFixtures.random(rnd, B, T, H, D, 2, 0);
        Strided full = AttentionFixtures.random(rnd, B, T, H, D, 0, 0);
        float[] fullLse = new float[B * H * T];
        naive.causalForward(B, T, H, D, Integer.MAX_VALUE, scale, q, k, v, full, fullLse);
        Strided[] fullGrads = grads(rnd, B, T, H, D), fullInit = copies(fullGrads);
        naive.causalBackward(B, T, H, D, Integer.MAX_VALUE, scale, q, k, v, full, fullLse, dout, fullGrads[0], fullGrads[1], fullGrads[2]);
        int variants = 0;
        for (int W : new int[] {T - 1, T, T + 4}) {
            Strided out = AttentionFixtures.random(rnd, B, T, H, D, 0, 0);
            float[] lse = new float[B * H * T];
            naive.causalForward(B, T, H, D, W, scale, q, k, v, out, lse);
            assertEquals(0, AttentionFixtures.maxDiff(out, full, rows, width), "window " + W);
            assertArrayEquals(fullLse, lse);
            variants++;
        }
        {
            Strided out = AttentionFixtures.random(rnd, B, T, H, D, 0, 0);
            float[] lse = new float[B * H * T];
            naive.chunkForward(B, T, H, D, 1, scale, q, k, v, out, lse);
            assertTrue(AttentionFixtures.maxDiff(out, full, rows, width) < 1e-6);
            assertTrue(AttentionFixtures.relDiff(lse, fullLse, lse.length) < 1e-6);
            Strided[] g = grads(rnd, B, T, H, D);
            Strided[] g0 = copies(g);
            naive.chunkBackward(B, T, H, D, 1, scale, q, k, v, out, lse, dout, g[0], g[1], g[2]);
            for (int w = 0; w < 3; w++) {
                // both started from different random gradients: compare what each added
                double added = 0;
                for (int r = 0; r < rows; r++) {
                    for (int c = 0; c < width; c++) {
                        double mine = g[w].data()[g[w].row(r) + c] - g0[w].data()[g0[w].row(r) + c];
                        double ref = fullGrads[w].data()[fullGrads[w].row(r) + c] - fullInit[w].data()[fullInit[w].row(r) + c];
                        added = Math.max(added, Math.abs(mine - ref));
                    }
                }
                assertTrue(added < 1e-5, "gradient " + w + " differs by " + added);
            }
            variants++;
        }
        for (int L : new int[] {T, T + 1, 1000}) {
            Strided out = AttentionFixtures.random(rnd, B, T, H, D, 0, 0);
            float[] lse = new float[B * H * T];
            naive.chunkForward(B, T, H, D, L, scale, q, k, v, out, lse);
            assertEquals(0, AttentionFixtures.maxDiff(out, v, rows, width), "L=" + L + ": out is the own value state");
            variants++;
        }
        assertEquals(7, variants);
    }

    /** Three random (nonzero) gradient buffers dq, dk, dv, so adding rather than overwriting is what passes. */
    private static Strided[] grads(Random rnd, int B, int T, int H, int D) {
        return new Strided[] {AttentionFixtures.random(rnd, B, T, H, D, 1, 0), AttentionFixtures.random(rnd, B, T, H, D, 0, 3),
                AttentionFixtures.random(rnd, B, T, H, D, 2, 1)};
    }

    private static Strided[] copies(Strided[] g) {
        return new Strided[] {AttentionFixtures.copy(g[0]), AttentionFixtures.copy(g[1]), AttentionFixtures.copy(g[2])};
    }

    @Test
    void zeroSizesDoNothing() {
        float[] empty = new float[0];
        Strided e = Strided.dense(empty, 8);
        naive.causalForward(0, 5, 2, 4, 3, 1f, e, e, e, e, empty);
        naive.causalForward(3, 0, 2, 4, 3, 1f, e, e, e, e, empty);
        naive.chunkBackward(0, 7, 2, 4, 3, 1f, e, e, e, e, empty, e, e, e, e);
        naive.chunkForward(2, 0, 2, 4, 3, 1f, e, e, e, e, empty);
    }

    @Test
    void badArgumentsFailWithAMessage() {
        float[] a = new float[2 * 3 * 8];
        Strided x = Strided.dense(a, 8);
        float[] lse = new float[2 * 2 * 3];
        assertMessage("window", () -> naive.causalForward(2, 3, 2, 4, -1, 1f, x, x, x, Strided.dense(new float[48], 8), lse));
        assertMessage("chunk length", () -> naive.chunkForward(2, 3, 2, 4, 0, 1f, x, x, x, Strided.dense(new float[48], 8), lse));
        assertMessage("k: stride 7", () -> naive.causalForward(2, 3, 2, 4, 1, 1f, x, new Strided(a, 0, 7), x, Strided.dense(new float[48], 8), lse));
        assertMessage("v: 6 rows", () -> naive.causalForward(2, 3, 2, 4, 1, 1f, x, x, new Strided(a, 1, 8), Strided.dense(new float[48], 8), lse));
        assertMessage("lse", () -> naive.causalForward(2, 3, 2, 4, 1, 1f, x, x, x, Strided.dense(new float[48], 8), new float[11]));
        assertMessage("dk", () -> naive.chunkBackward(2, 3, 2, 4, 2, 1f, x, x, x, x, lse, x, x, Strided.dense(new float[47], 8), x));
        assertMessage("heads", () -> naive.causalForward(2, 3, 0, 4, 1, 1f, x, x, x, x, lse));
        assertMessage("scale", () -> naive.causalForward(2, 3, 2, 4, 1, Float.NaN, x, x, x, x, lse));
        assertMessage("ownK and ownV", () -> naive.decode(1, 2, 4, 1, 1, 1f, x, a, a, 0, x, null, x));
        assertMessage("attends to nothing", () -> naive.decode(1, 2, 4, 0, 1, 1f, x, a, a, 0, null, null, x));
        assertMessage("kCache", () -> naive.decode(2, 2, 4, 1, 5, 1f, x, new float[79], a, 0, null, null, x));
        assertMessage("capacity", () -> naive.decode(2, 2, 4, 6, 5, 1f, x, a, a, 0, null, null, x));
    }

    private static void assertMessage(String part, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(part), "message '" + e.getMessage() + "' should mention '" + part + "'");
    }
}
