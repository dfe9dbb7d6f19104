package rat4j.kernel;

import org.junit.jupiter.api.Test;
import rat4j.kernel.simd.VectorElementwise;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The Vector API element-wise kernels against the scalar references, on odd lengths and offsets. */
class ElementwiseTest {
    final Elementwise fast = new VectorElementwise(), naive = new NaiveElementwise();

    @Test
    void maxFindsTheLargestAtEveryPosition() { // every lane of the four chains, the single-vector loop and the tail
        for (int n = 1; n <= 150; n++) {
            for (int p = 0; p < n; p++) {
                float[] x = new float[n + 2];
                java.util.Arrays.fill(x, -1f);
                x[1 + p] = 7f;
                assertEquals(7f, fast.max(x, 1, n), "n=" + n + ", largest at " + p);
            }
        }
    }

    @Test
    void maxAndExpShiftedMatchTheReference() {
        SplittableRandom rng = new SplittableRandom(3);
        int variants = 0;
        for (int n : new int[] {1, 2, 15, 16, 17, 31, 33, 100, 1000, 32000}) {
            for (int off : new int[] {0, 3}) {
                float[] x = new float[off + n];
                for (int i = 0; i < x.length; i++) x[i] = (float) ((rng.nextDouble() - 0.5) * 40);
                float m = fast.max(x, off, n);
                assertEquals(naive.max(x, off, n), m, "max n=" + n);
                float[] a = new float[n + 5], b = new float[n + 5];
                float sa = fast.expShifted(x, off, m, a, 5, n), sb = naive.expShifted(x, off, m, b, 5, n);
                assertEquals(sb, sa, 1e-6 * sb, "sum n=" + n);
                for (int i = 0; i < n; i++) assertEquals(b[5 + i], a[5 + i], 3e-7 * b[5 + i] + 1e-30, "exp at " + i);
                variants++;
            }
        }
        assertEquals(20, variants);
    }

    @Test
    void geluAndItsBackwardMatchTheReference() {
        SplittableRandom rng = new SplittableRandom(4);
        int n = 10007;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) ((rng.nextDouble() - 0.5) * 20);
        x[0] = 0f;
        x[1] = -30f;
        x[2] = 30f;
        float[] a = new float[n], b = new float[n];
        fast.gelu(x, a, 3, n - 2); // an odd range: head and tail untouched
        naive.gelu(x, b, 3, n - 2);
        assertEquals(0f, a[0]);
        assertEquals(0f, a[n - 1]);
        for (int i = 3; i < n - 2; i++) assertEquals(b[i], a[i], 1e-6 * Math.abs(b[i]) + 1e-7, "gelu(" + x[i] + ")");
        float[] da = new float[n], db = new float[n];
        for (int i = 0; i < n; i++) da[i] = db[i] = (float) (rng.nextDouble() - 0.5);
        fast.geluBackward(x, da, 0, n);
        naive.geluBackward(x, db, 0, n);
        for (int i = 0; i < n; i++) assertEquals(db[i], da[i], 1e-6 * Math.abs(db[i]) + 1e-7, "gelu'(" + x[i] + ")");
    }

    static float[] random(SplittableRandom rng, int n, double spread) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) ((rng.nextDouble() - 0.5) * spread);
        return a;
    }

    @Test
    void sigmoidMatchesTheReferenceWithAndWithoutBiasAndInPlace() {
        SplittableRandom rng = new SplittableRandom(5);
        int variants = 0;
        for (int n : new int[] {0, 1, 7, 15, 16, 17, 33, 1000, 1029}) {
            float[] x = random(rng, n + 3, 60), bias = random(rng, n + 2, 4);
            x[3 % x.length] = -200f; // saturates to 0 and 1 without NaN
            if (n > 2) x[5] = 200f;
            for (float[] b : new float[][] {null, bias}) {
                float[] a = new float[n + 1], r = new float[n + 1];
                fast.sigmoid(x, 3, b, 2, a, 1, n);
                naive.sigmoid(x, 3, b, 2, r, 1, n);
                assertEquals(0f, a[0]);
                for (int i = 1; i <= n; i++) assertEquals(r[i], a[i], 1e-6 * r[i] + 1e-30, "sigmoid n=" + n + " at " + i);
                float[] inPlace = x.clone();
                fast.sigmoid(inPlace, 3, b, 2, inPlace, 3, n);
                assertArrayEquals(java.util.Arrays.copyOfRange(a, 1, n + 1), java.util.Arrays.copyOfRange(inPlace, 3, n + 3), "in place n=" + n);
                variants++;
            }
        }
        assertEquals(18, variants);
    }

    /** Rows of width n at an odd offset and a stride wider than n, as RAT's column slices of its projection. */
    static Strided strided(float[] a, int off, int stride) {
        return new Strided(a, off, stride);
    }

    @Test
    void scanForwardAndBackwardMatchTheReferenceBitForBit() {
        SplittableRandom rng = new SplittableRandom(6);
        int variants = 0;
        for (int rows : new int[] {1, 2, 5, 16, 37}) {
            for (int chunk : new int[] {1, 4, 16, 64}) { // several chunks per call, a partial last one, one chunk
                for (int n : new int[] {1, 15, 16, 17, 40}) {
                    int stride = n + 3, len = 2 + rows * stride;
                    float[] g = random(rng, len, 1), u = random(rng, len, 4), dh = random(rng, len, 2);
                    for (int i = 0; i < len; i++) g[i] += 0.5f; // gates in (0, 1)
                    float[] ha = new float[len], hb = new float[len];
                    fast.scanForward(strided(ha, 2, stride), strided(g, 2, stride), strided(u, 1, stride), rows, chunk, n);
                    naive.scanForward(strided(hb, 2, stride), strided(g, 2, stride), strided(u, 1, stride), rows, chunk, n);
                    String where = "rows=" + rows + " chunk=" + chunk + " n=" + n;
                    assertArrayEquals(hb, ha, "forward " + where);
                    float[] dua = random(new SplittableRandom(rows * 100 + n), len, 1), dub = dua.clone();
                    float[] dga = random(new SplittableRandom(rows * 100 + n + 1), len, 1), dgb = dga.clone();
                    fast.scanBackward(strided(dua, 1, stride), strided(dga, 0, stride), strided(dh, 2, stride), strided(ha, 2, stride),
                            strided(g, 2, stride), strided(u, 1, stride), rows, chunk, n);
                    naive.scanBackward(strided(dub, 1, stride), strided(dgb, 0, stride), strided(dh, 2, stride), strided(hb, 2, stride),
                            strided(g, 2, stride), strided(u, 1, stride), rows, chunk, n);
                    assertArrayEquals(dub, dua, "du " + where);
                    assertArrayEquals(dgb, dga, "dg " + where);
                    variants++;
                }
            }
        }
        assertEquals(100, variants);
    }

    /** The reference backward against finite differences of the reference forward: the formulas, not just the twins. */
    @Test
    void scanBackwardIsTheGradientOfScanForward() {
        SplittableRandom rng = new SplittableRandom(7);
        int rows = 6, n = 3;
        double[] g = new double[rows * n], u = new double[rows * n], w = new double[rows * n]; // loss = sum w * h
        for (int i = 0; i < g.length; i++) {
            g[i] = 0.1 + 0.8 * rng.nextDouble();
            u[i] = rng.nextDouble() - 0.5;
            w[i] = rng.nextDouble() - 0.5;
        }
        float[] gf = toFloat(g), uf = toFloat(u), h = new float[g.length];
        naive.scanForward(Strided.dense(h, n), Strided.dense(gf, n), Strided.dense(uf, n), rows, rows, n);
        float[] du = new float[g.length], dg = new float[g.length];
        naive.scanBackward(Strided.dense(du, n), Strided.dense(dg, n), Strided.dense(toFloat(w), n), Strided.dense(h, n),
                Strided.dense(gf, n), Strided.dense(uf, n), rows, rows, n);
        double eps = 1e-3;
        for (int i = 0; i < g.length; i++) {
            assertEquals(numeric(g, u, w, rows, n, i, eps, false), du[i], 1e-4, "du " + i);
            assertEquals(numeric(g, u, w, rows, n, i, eps, true), dg[i], 1e-4, "dg " + i);
        }
    }

    private static float[] toFloat(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) f[i] = (float) a[i];
        return f;
    }

    /** d(sum w h)/d(u[i] or g[i]) by central differences, in double. */
    private static double numeric(double[] g, double[] u, double[] w, int rows, int n, int i, double eps, boolean wrtG) {
        double[] target = wrtG ? g : u;
        double keep = target[i];
        target[i] = (float) keep + eps;
        double plus = loss(g, u, w, rows, n);
        target[i] = (float) keep - eps;
        double minus = loss(g, u, w, rows, n);
        target[i] = keep;
        return (plus - minus) / (2 * eps);
    }

    private static double loss(double[] g, double[] u, double[] w, int rows, int n) {
        double sum = 0;
        for (int j = 0; j < n; j++) {
            double h = 0;
            for (int r = 0; r < rows; r++) {
                int k = r * n + j;
                double gv = (float) g[k];
                h = gv * h + (1 - gv) * (float) u[k];
                sum += w[k] * (float) h;
            }
        }
        return sum;
    }

    @Test
    void rotateHalfMatchesTheReferenceAndInverts() {
        SplittableRandom rng = new SplittableRandom(8);
        int variants = 0;
        for (int half : new int[] {1, 3, 8, 16, 17, 32, 40}) {
            for (int heads : new int[] {1, 3}) {
                float[] cos = new float[half + 5], sin = new float[half + 5];
                for (int i = 0; i < cos.length; i++) {
                    double angle = rng.nextDouble() * 6;
                    cos[i] = (float) Math.cos(angle);
                    sin[i] = (float) Math.sin(angle);
                }
                float[] x = random(rng, 4 + heads * 2 * half, 4), a = x.clone(), b = x.clone();
                fast.rotateHalf(a, 4, heads, half, cos, sin, 5, false);
                naive.rotateHalf(b, 4, heads, half, cos, sin, 5, false);
                assertArrayEquals(b, a, "rotate half=" + half + " heads=" + heads);
                fast.rotateHalf(a, 4, heads, half, cos, sin, 5, true);
                naive.rotateHalf(b, 4, heads, half, cos, sin, 5, true);
                assertArrayEquals(b, a, "inverse half=" + half + " heads=" + heads);
                for (int i = 0; i < x.length; i++) assertEquals(x[i], a[i], 1e-5, "round trip at " + i);
                variants++;
            }
        }
        assertEquals(14, variants);
    }
}
