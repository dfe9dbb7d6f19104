package rat4j.kernel.simd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import rat4j.kernel.AttentionFixtures;
import rat4j.kernel.NaiveAttention;
import rat4j.kernel.Strided;

/**
 * The Vector API kernels against the double-precision reference on seeded random inputs.
 *
 * <p>Tolerance: 2e-5 relative to the largest magnitude in the compared tensor (for gradients, the largest value
 * the reference added), floored at 1 (see {@link AttentionFixtures#relDiff}). The fast kernels accumulate in float: D-length fma dot products, running max/sum updated
 * once per key block, a vectorised exp (about 1 ulp) and, in the backward, sums over up to T queries of
 * p * (dP - delta) terms whose cancellation is the main error. Measured worst errors over all shapes here are
 * below 2e-6 (printed by the tests); 2e-5 leaves a decade of margin while an indexing or masking bug (a missing
 * or extra key, a wrong row) shows up at 1e-2 or more.
 */
class VectorAttentionTest {
    static final double TOL = 2e-5;

    private final NaiveAttention naive = new NaiveAttention();
    private final VectorAttention fast = new VectorAttention();

    private record Shape(int B, int T, int H, int D, int param, int seed) {}

    private static final int[] D_CYCLE = {2, 16, 18, 64, 5};

    /** Causal shapes: T across block edges (64, 65, 130), windows 0, 1, 5, at a block edge, T-1, T and unbounded. */
    private static List<Shape> causalShapes() {
        List<Shape> shapes = new ArrayList<>();
        int n = 0;
        for (int T : new int[] {1, 2, 3, 7, 64, 65, 130, 200}) {
            TreeSet<Integer> windows = new TreeSet<>(List.of(0, 1, 5, 63, 64, Math.max(0, T - 1), T, Integer.MAX_VALUE));
            for (int W : windows) {
                shapes.add(new Shape(1 + n % 2, T, 1 + n % 4, D_CYCLE[n % D_CYCLE.length], W, n));
                n++;
            }
        }
        return shapes;
    }

    /** Chunk shapes: L = 1, 2, 3, 16, 64, T, more than T; T a multiple of L or not, smaller than L, odd. */
    private static List<Shape> chunkShapes() {
        List<Shape> shapes = new ArrayList<>();
        int n = 0;
        for (int T : new int[] {1, 2, 5, 17, 64, 130, 200, 257}) {
            TreeSet<Integer> ls = new TreeSet<>(List.of(1, 2, 3, 16, 64, T, T + 5));
            for (int L : ls) {
                shapes.add(new Shape(1 + n % 2, T, 1 + (n + 1) % 4, D_CYCLE[(n + 2) % D_CYCLE.length], L, 100 + n));
                n++;
            }
        }
        return shapes;
    }

    private final double[] worst = new double[5]; // out, lse, dq, dk, dv

    /** Forward and both backward schedules of one shape against the reference; strided, offset, padded buffers. */
    private void compare(boolean chunk, Shape s) {
        int B = s.B(), T = s.T(), H = s.H(), D = s.D(), rows = B * T, width = H * D;
        Random rnd = new Random(s.seed());
        float scale = s.seed() % 3 == 0 ? 0.37f : (float) (1 / Math.sqrt(D));
        Strided q = AttentionFixtures.random(rnd, B, T, H, D, s.seed() % 3, s.seed() % 5);
        Strided k = AttentionFixtures.random(rnd, B, T, H, D, 2, 1);
        Strided v = AttentionFixtures.random(rnd, B, T, H, D, 0, 3);
        Strided dout = AttentionFixtures.random(rnd, B, T, H, D, 1, 0);
        Strided outRef = AttentionFixtures.random(rnd, B, T, H, D, 0, 0), out = AttentionFixtures.random(rnd, B, T, H, D, 3, 2);
        float[] outBefore = out.data().clone();
        float[] lseRef = new float[B * H * T], lse = new float[B * H * T];
        String what = (chunk ? "chunk L=" : "causal W=") + s.param() + " B=" + B + " T=" + T + " H=" + H + " D=" + D;
        if (chunk) {
            naive.chunkForward(B, T, H, D, s.param(), scale, q, k, v, outRef, lseRef);
            fast.chunkForward(B, T, H, D, s.param(), scale, q, k, v, out, lse);
        } else {
            naive.causalForward(B, T, H, D, s.param(), scale, q, k, v, outRef, lseRef);
            fast.causalForward(B, T, H, D, s.param(), scale, q, k, v, out, lse);
        }
        double eOut = AttentionFixtures.maxDiff(out, outRef, rows, width) / Math.max(1, AttentionFixtures.maxDiff(outRef, zeros(rows, width), rows, width));
        double eLse = AttentionFixtures.relDiff(lse, lseRef, lse.length);
        assertTrue(eOut <= TOL, what + ": out differs by " + eOut);
        assertTrue(eLse <= TOL, what + ": lse differs by " + eLse);
        assertTrue(AttentionFixtures.paddingUntouched(out, outBefore, rows, width), what + ": out padding written");
        worst[0] = Math.max(worst[0], eOut);
        worst[1] = Math.max(worst[1], eLse);

        Strided[] gRef = grads(rnd, B, T, H, D), init = copies(gRef);
        if (chunk) naive.chunkBackward(B, T, H, D, s.param(), scale, q, k, v, outRef, lseRef, dout, gRef[0], gRef[1], gRef[2]);
        else naive.causalBackward(B, T, H, D, s.param(), scale, q, k, v, outRef, lseRef, dout, gRef[0], gRef[1], gRef[2]);
        for (boolean onePass : new boolean[] {true, false}) {
            Strided[] g = copies(init);
            if (chunk) VectorAttention.chunkBackward(onePass, B, T, H, D, s.param(), scale, q, k, v, out, lse, dout, g[0], g[1], g[2]);
            else VectorAttention.causalBackward(onePass, B, T, H, D, s.param(), scale, q, k, v, out, lse, dout, g[0], g[1], g[2]);
            for (int w = 0; w < 3; w++) {
                double e = AttentionFixtures.relDiff(g[w], gRef[w], init[w], rows, width);
                assertTrue(e <= TOL, what + (onePass ? " one pass" : " two passes") + ": d" + "qkv".charAt(w) + " differs by " + e);
                assertTrue(AttentionFixtures.paddingUntouched(g[w], init[w].data(), rows, width), what + ": gradient padding written");
                worst[2 + w] = Math.max(worst[2 + w], e);
            }
        }
    }

    private static Strided zeros(int rows, int width) {
        return Strided.dense(new float[Math.max(1, rows * width)], width);
    }

    /** Random nonzero gradient buffers, so a kernel that overwrites instead of adding fails. */
    private static Strided[] grads(Random rnd, int B, int T, int H, int D) {
        return new Strided[] {AttentionFixtures.random(rnd, B, T, H, D, 1, 2), AttentionFixtures.random(rnd, B, T, H, D, 0, 0),
                AttentionFixtures.random(rnd, B, T, H, D, 4, 1)};
    }

    private static Strided[] copies(Strided[] g) {
        return new Strided[] {AttentionFixtures.copy(g[0]), AttentionFixtures.copy(g[1]), AttentionFixtures.copy(g[2])};
    }

    @Test
    void causalMatchesReference() {
        List<Shape> shapes = causalShapes();
        for (Shape s : shapes) compare(false, s);
        assertEquals(58, shapes.size());
        System.out.println("causal attention, worst relative errors out/lse/dq/dk/dv: " + Arrays.toString(worst));
    }

    @Test
    void chunkMatchesReference() {
        List<Shape> shapes = chunkShapes();
        for (Shape s : shapes) compare(true, s);
        assertEquals(53, shapes.size());
        System.out.println("chunk attention, worst relative errors out/lse/dq/dk/dv: " + Arrays.toString(worst));
    }

    /**
     * The tile edges of the blocked kernels: T just past one or two blocks of QB queries / KB keys, windows just
     * under, at and over a block and several blocks wide, T % L != 0 with several chunks per block or several blocks
     * per chunk, chunk finals over many key blocks (rescaled between blocks), and D = 1, odd, and one past or between whole vectors (the tile product's 4-vector, 1-vector and
     * scalar column paths), against the reference.
     */
    @Test
    void blockEdgesMatchReference() {
        int v = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length(), qb = VectorAttention.QB, kb = VectorAttention.KB;
        int many = 4 * kb; // chunk finals: several key blocks
        int[] ds = {1, 3, v + 1, 2 * v + 1, 4 * v, 5 * v, 4 * v + 3};
        // {T, window} for causal, {T, L} for chunk
        int[][] causal = {{qb + 1, kb - 1}, {2 * qb + 3, kb}, {2 * qb + 3, kb + 1}, {3 * qb - 1, 2 * kb + 5}, {kb - 1, 3}, {129, 0}};
        int[][] chunk = {{qb + 1, 7}, {2 * qb + 3, 5}, {3 * qb + 1, qb + 3}, {kb * 3 + 2, 2}, {129, 1}, {kb + 1, 100},
                {2 * many + qb + 5, 1}, {3 * many + 7, 2}};
        int n = 0;
        for (int[] c : causal) compare(false, new Shape(1 + n % 2, c[0], 1 + n % 3, ds[n % ds.length], c[1], 500 + n++));
        for (int[] c : chunk) compare(true, new Shape(1 + n % 2, c[0], 1 + n % 3, ds[n % ds.length], c[1], 500 + n++));
        for (int d : ds) { // every D against one shape of each kind
            compare(false, new Shape(1, 2 * qb + 5, 2, d, kb + 9, 600 + d));
            compare(true, new Shape(2, 2 * qb + 5, 1, d, 3, 700 + d));
            n += 2;
        }
        assertEquals(causal.length + chunk.length + 2 * ds.length, n);
    }

    /**
     * The one-pass and two-pass backward schedules give the same bits (which one runs depends on the thread count,
     * so this is what makes gradients independent of it), as does a repeated forward.
     */
    @Test
    void schedulesAreBitIdentical() {
        int variants = 0;
        for (boolean chunk : new boolean[] {false, true}) {
            for (int param : chunk ? new int[] {1, 5, 16, 300} : new int[] {0, 70, 200, Integer.MAX_VALUE}) {
                int B = 2, T = 3 * VectorAttention.QB + 7, H = 2, D = 37, rows = B * T, width = H * D;
                Random rnd = new Random(param + (chunk ? 1 : 0));
                float scale = 0.2f;
                Strided q = AttentionFixtures.random(rnd, B, T, H, D, 1, 0), k = AttentionFixtures.random(rnd, B, T, H, D, 0, 2);
                Strided v = AttentionFixtures.random(rnd, B, T, H, D, 3, 0), dout = AttentionFixtures.random(rnd, B, T, H, D, 0, 0);
                Strided out = AttentionFixtures.random(rnd, B, T, H, D, 0, 0), again = AttentionFixtures.copy(out);
                float[] lse = new float[B * H * T], lseAgain = new float[B * H * T];
                if (chunk) {
                    fast.chunkForward(B, T, H, D, param, scale, q, k, v, out, lse);
                    fast.chunkForward(B, T, H, D, param, scale, q, k, v, again, lseAgain);
                } else {
                    fast.causalForward(B, T, H, D, param, scale, q, k, v, out, lse);
                    fast.causalForward(B, T, H, D, param, scale, q, k, v, again, lseAgain);
                }
                assertArrayEquals(out.data(), again.data());
                assertArrayEquals(lse, lseAgain);
                Strided[] init = grads(rnd, B, T, H, D), one = copies(init), two = copies(init);
                if (chunk) {
                    VectorAttention.chunkBackward(true, B, T, H, D, param, scale, q, k, v, out, lse, dout, one[0], one[1], one[2]);
                    VectorAttention.chunkBackward(false, B, T, H, D, param, scale, q, k, v, out, lse, dout, two[0], two[1], two[2]);
                } else {
                    VectorAttention.causalBackward(true, B, T, H, D, param, scale, q, k, v, out, lse, dout, one[0], one[1], one[2]);
                    VectorAttention.causalBackward(false, B, T, H, D, param, scale, q, k, v, out, lse, dout, two[0], two[1], two[2]);
                }
                for (int w = 0; w < 3; w++) assertArrayEquals(one[w].data(), two[w].data(), (chunk ? "chunk L=" : "causal W=") + param + " d" + "qkv".charAt(w));
                variants++;
            }
        }
        assertEquals(8, variants);
    }

    /**
     * L = 1 is full causal attention (each query's own key included); window >= T-1 is full attention. The same
     * arithmetic runs in both, but not bit for bit: the Vector API's interpreted fallback and its JIT intrinsics sum a
     * reduction in different orders, so a call made before and one made after compilation differ by a few ulps
     * (1.7e-6 on outputs of size 3 was seen), and these compare with the tolerances above.
     */
    @Test
    void identities() {
        int B = 2, T = 150, H = 3, D = 18, rows = B * T, width = H * D, variants = 0;
        float scale = 0.3f;
        Random rnd = new Random(9);
        Strided q = AttentionFixtures.random(rnd, B, T, H, D, 2, 1), k = AttentionFixtures.random(rnd, B, T, H, D, 0, 0);
        Strided v = AttentionFixtures.random(rnd, B, T, H, D, 1, 4), dout = AttentionFixtures.random(rnd, B, T, H, D, 0, 0);
        Strided full = AttentionFixtures.random(rnd, B, T, H, D, 0, 0);
        float[] fullLse = new float[B * H * T];
        fast.causalForward(B, T, H, D, Integer.MAX_VALUE, scale, q, k, v, full, fullLse);
        Strided[] init = grads(rnd, B, T, H, D), fullG = copies(init);
        fast.causalBackward(B, T, H, D, Integer.MAX_VALUE, scale, q, k, v, full, fullLse, dout, fullG[0], fullG[1], fullG[2]);

        for (int W : new int[] {T - 1, T, 10 * T}) {
            Strided out = AttentionFixtures.random(rnd, B, T, H, D, 0, 0);
            float[] lse = new float[B * H * T];
            fast.causalForward(B, T, H, D, W, scale, q, k, v, out, lse);
            assertTrue(AttentionFixtures.maxDiff(out, full, rows, width) < 1e-5, "window " + W);
            assertTrue(AttentionFixtures.relDiff(lse, fullLse, lse.length) < 1e-5, "window " + W);
            Strided[] g = copies(init);
            fast.causalBackward(B, T, H, D, W, scale, q, k, v, out, lse, dout, g[0], g[1], g[2]);
            for (int w = 0; w < 3; w++) assertTrue(AttentionFixtures.relDiff(g[w], fullG[w], init[w], rows, width) < TOL, "window " + W);
            variants++;
        }

        Strided out = AttentionFixtures.random(rnd, B, T, H, D, 0, 0);
        float[] lse = new float[B * H * T];
        fast.chunkForward(B, T, H, D, 1, scale, q, k, v, out, lse);
        assertTrue(AttentionFixtures.maxDiff(out, full, rows, width) < 1e-5, "L=1 out");
        assertTrue(AttentionFixtures.relDiff(lse, fullLse, lse.length) < 1e-5, "L=1 lse");
        Strided[] g = copies(init);
        fast.chunkBackward(B, T, H, D, 1, scale, q, k, v, out, lse, dout, g[0], g[1], g[2]);
        for (int w = 0; w < 3; w++) assertTrue(AttentionFixtures.relDiff(g[w], fullG[w], init[w], rows, width) < TOL, "L=1 gradient " + w);
        variants++;

        // L >= T: the only key is the own state, weight 1: out = v exactly, dv += dout, dq and dk unchanged (up to
        // the few ulps by which two evaluations of a dot product may differ, see above)
        for (int L : new int[] {T, T + 7}) {
            fast.chunkForward(B, T, H, D, L, scale, q, k, v, out, lse);
            assertEquals(0, AttentionFixtures.maxDiff(out, v, rows, width), "L=" + L);
            Strided[] gl = copies(init);
            fast.chunkBackward(B, T, H, D, L, scale, q, k, v, out, lse, dout, gl[0], gl[1], gl[2]);
            assertTrue(AttentionFixtures.maxDiff(gl[0], init[0], rows, width) < 1e-5, "dq, L=" + L);
            assertTrue(AttentionFixtures.maxDiff(gl[1], init[1], rows, width) < 1e-5, "dk, L=" + L);
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < width; c++) {
                    float want = init[2].data()[init[2].row(r) + c] + dout.data()[dout.row(r) + c];
                    assertEquals(want, gl[2].data()[gl[2].row(r) + c], 1e-5f, "dv, L=" + L);
                }
            }
            variants++;
        }
        assertEquals(6, variants);
    }

    /** One decoding step equals the reference decode and the corresponding row of the full forward. */
    @Test
    void decodeMatchesReferenceAndForward() {
        int variants = 0;
        Random rnd = new Random(21);
        // {B, H, D, n, capacity, cacheOff, own}
        int[][] cases = {{1, 1, 2, 1, 1, 0, 0}, {2, 3, 18, 0, 4, 5, 1}, {1, 4, 64, 65, 70, 0, 1}, {3, 2, 16, 200, 200, 1, 0}, {2, 1, 5, 7, 9, 2, 1}};
        for (int[] c : cases) {
            int B = c[0], H = c[1], D = c[2], n = c[3], cap = c[4], off = c[5];
            boolean own = c[6] == 1;
            float[] kc = new float[off + B * H * cap * D], vc = new float[kc.length];
            for (int i = 0; i < kc.length; i++) {
                kc[i] = (float) rnd.nextGaussian();
                vc[i] = (float) rnd.nextGaussian();
            }
            Strided q = AttentionFixtures.random(rnd, B, 1, H, D, 3, 1);
            Strided ok = own ? AttentionFixtures.random(rnd, B, 1, H, D, 0, 2) : null, ov = own ? AttentionFixtures.random(rnd, B, 1, H, D, 1, 0) : null;
            Strided ref = AttentionFixtures.random(rnd, B, 1, H, D, 0, 0), out = AttentionFixtures.random(rnd, B, 1, H, D, 2, 0);
            float scale = (float) (1 / Math.sqrt(D));
            naive.decode(B, H, D, n, cap, scale, q, kc, vc, off, ok, ov, ref);
            fast.decode(B, H, D, n, cap, scale, q, kc, vc, off, ok, ov, out);
            assertTrue(AttentionFixtures.maxDiff(out, ref, B, H * D) < 1e-5, "decode " + Arrays.toString(c));
            variants++;
        }
        // chunk attention at position t = the decode of q_t against the finals of chunks 0..c-1 plus the own state
        int B = 2, T = 45, H = 2, D = 16, L = 8;
        float scale = 0.25f;
        Strided q = AttentionFixtures.random(rnd, B, T, H, D, 0, 0), k = AttentionFixtures.random(rnd, B, T, H, D, 0, 0);
        Strided v = AttentionFixtures.random(rnd, B, T, H, D, 0, 0), out = AttentionFixtures.random(rnd, B, T, H, D, 0, 0);
        float[] lse = new float[B * H * T];
        fast.chunkForward(B, T, H, D, L, scale, q, k, v, out, lse);
        for (int t : new int[] {0, 7, 8, 30, 44}) {
            int n = t / L, cap = T / L + 1;
            float[] kc = new float[B * H * cap * D], vc = new float[kc.length];
            float[] qt = new float[B * H * D], kt = new float[B * H * D], vt = new float[B * H * D], ot = new float[B * H * D];
            for (int b = 0; b < B; b++) {
                System.arraycopy(q.data(), q.row(b * T + t), qt, b * H * D, H * D);
                System.arraycopy(k.data(), k.row(b * T + t), kt, b * H * D, H * D);
                System.arraycopy(v.data(), v.row(b * T + t), vt, b * H * D, H * D);
                for (int h = 0; h < H; h++) {
                    for (int j = 0; j < n; j++) {
                        System.arraycopy(k.data(), k.row(b * T + j * L + L - 1) + h * D, kc, ((b * H + h) * cap + j) * D, D);
                        System.arraycopy(v.data(), v.row(b * T + j * L + L - 1) + h * D, vc, ((b * H + h) * cap + j) * D, D);
                    }
                }
            }
            Strided step = Strided.dense(ot, H * D);
            fast.decode(B, H, D, n, cap, scale, Strided.dense(qt, H * D), kc, vc, 0, Strided.dense(kt, H * D), Strided.dense(vt, H * D), step);
            for (int b = 0; b < B; b++) {
                for (int i = 0; i < H * D; i++) assertEquals(out.data()[out.row(b * T + t) + i], ot[b * H * D + i], 1e-5f, "t=" + t);
            }
            variants++;
        }
        assertEquals(10, variants);
    }

    /**
     * 64K tokens: a T x T score matrix would need 16 GiB, over the test JVM's heap, so passing shows memory linear in T.
     * Windowed causal and chunk attention (the costs O(T W D) and O(T T/L D) keep it quick) against the reference.
     */
    @Test
    void longSequences() {
        int B = 1, T = 65536, H = 1, D = 16, rows = B * T, width = H * D;
        Random rnd = new Random(64);
        Strided q = AttentionFixtures.random(rnd, B, T, H, D, 0, 0), k = AttentionFixtures.random(rnd, B, T, H, D, 0, 0);
        Strided v = AttentionFixtures.random(rnd, B, T, H, D, 0, 0), dout = AttentionFixtures.random(rnd, B, T, H, D, 0, 0);
        float scale = 0.25f;
        for (boolean chunk : new boolean[] {false, true}) {
            int param = chunk ? 1024 : 40;
            Strided outRef = AttentionFixtures.random(rnd, B, T, H, D, 0, 0), out = AttentionFixtures.random(rnd, B, T, H, D, 0, 0);
            float[] lseRef = new float[T], lse = new float[T];
            Strided[] init = grads(rnd, B, T, H, D), gRef = copies(init), g = copies(init);
            if (chunk) {
                naive.chunkForward(B, T, H, D, param, scale, q, k, v, outRef, lseRef);
                fast.chunkForward(B, T, H, D, param, scale, q, k, v, out, lse);
                naive.chunkBackward(B, T, H, D, param, scale, q, k, v, outRef, lseRef, dout, gRef[0], gRef[1], gRef[2]);
                fast.chunkBackward(B, T, H, D, param, scale, q, k, v, out, lse, dout, g[0], g[1], g[2]);
            } else {
                naive.causalForward(B, T, H, D, param, scale, q, k, v, outRef, lseRef);
                fast.causalForward(B, T, H, D, param, scale, q, k, v, out, lse);
                naive.causalBackward(B, T, H, D, param, scale, q, k, v, outRef, lseRef, dout, gRef[0], gRef[1], gRef[2]);
                fast.causalBackward(B, T, H, D, param, scale, q, k, v, out, lse, dout, g[0], g[1], g[2]);
            }
            assertTrue(AttentionFixtures.maxDiff(out, outRef, rows, width) < 1e-4, "out");
            assertTrue(AttentionFixtures.relDiff(lse, lseRef, T) < TOL, "lse");
            for (int w = 0; w < 3; w++) assertTrue(AttentionFixtures.relDiff(g[w], gRef[w], init[w], rows, width) < TOL, "gradient " + w);
        }
    }

    @Test
    void zeroSizesDoNothing() {
        float[] empty = new float[0];
        Strided e = Strided.dense(empty, 8);
        fast.causalForward(0, 5, 2, 4, 3, 1f, e, e, e, e, empty);
        fast.causalBackward(3, 0, 2, 4, 3, 1f, e, e, e, e, empty, e, e, e, e);
        fast.chunkForward(0, 7, 2, 4, 3, 1f, e, e, e, e, empty);
        fast.chunkBackward(2, 0, 2, 4, 3, 1f, e, e, e, e, empty, e, e, e, e);
        fast.decode(0, 2, 4, 1, 1, 1f, e, empty, empty, 0, null, null, e);
    }

    @Test
    void zigzagVisitsEveryBlockOnce() {
        for (int n = 1; n <= 9; n++) {
            boolean[] seen = new boolean[n];
            for (int r = 0; r < n; r++) seen[VectorAttention.zigzag(r, n)] = true;
            for (boolean b : seen) assertTrue(b, "n=" + n);
        }
    }
}
