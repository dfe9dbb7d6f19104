package rat4j.kernel;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checks a GEMM backend against {@link NaiveGemm} on seeded random inputs. Per shape it runs all four transpose
 * combinations times beta in {0, 1, 0.5}, and varies alpha (1 or -0.75), the offsets (0, 3 or 7) and the padding of
 * lda/ldb/ldc (0, 5 or 10 beyond the minimum) from one variant to the next.
 *
 * <p>Tolerance: |fast - naive| <= 1e-5 * (|alpha| * sum_p |op(A)[i,p]| |op(B)[p,j]| + |beta| |C0[i,j]|), i.e. relative
 * to the sum of magnitudes that float rounding acts on, so it holds for any k while a wrong index (an error of the
 * order of one term) fails it. Naive accumulates in double.
 *
 * <p>Padding of A and B (between rows and around the matrices) holds NaN, so a read outside op(A) or op(B) poisons
 * the result; padding of C holds a sentinel that must survive bit for bit. With beta == 0, C starts as NaN.
 */
public final class GemmConformance {
    public static final double TOLERANCE = 1e-5;
    private static final float[] BETAS = {0f, 1f, 0.5f};
    private static final float SENTINEL = -12345.5f;

    /** op(A) is (m, k), op(B) is (k, n), C is (m, n). */
    public record Shape(int m, int n, int k) {}

    private GemmConformance() {}

    public static List<Shape> shapes(int... mnk) {
        if (mnk.length % 3 != 0) throw new IllegalArgumentException("sizes come in (m, n, k) triples");
        List<Shape> s = new ArrayList<>();
        for (int i = 0; i < mnk.length; i += 3) s.add(new Shape(mnk[i], mnk[i + 1], mnk[i + 2]));
        return s;
    }

    /** Runs every variant of every shape; returns how many ran (12 per shape). */
    public static int check(Gemm fast, List<Shape> shapes, long seed) {
        return check(fast, new NaiveGemm(), shapes, seed);
    }

    /** As {@link #check(Gemm, List, long)} against another reference (e.g. bf16-rounded operands into naive). */
    public static int check(Gemm fast, Gemm naive, List<Shape> shapes, long seed) {
        Random rnd = new Random(seed);
        int variant = 0;
        for (Shape s : shapes) {
            for (int t = 0; t < 4; t++) {
                for (float beta : BETAS) {
                    boolean transA = (t & 1) != 0, transB = (t & 2) != 0;
                    float alpha = variant % 2 == 0 ? 1f : -0.75f;
                    int off = new int[] {0, 3, 7}[variant % 3], pad = new int[] {0, 5, 10}[(variant / 3) % 3];
                    checkOne(fast, naive, rnd, s, transA, transB, alpha, beta, off, pad);
                    variant++;
                }
            }
        }
        return variant;
    }

    private static void checkOne(Gemm fast, Gemm naive, Random rnd, Shape s, boolean transA, boolean transB,
                                 float alpha, float beta, int off, int pad) {
        int m = s.m(), n = s.n(), k = s.k();
        int aRows = transA ? k : m, aCols = transA ? m : k, bRows = transB ? n : k, bCols = transB ? k : n;
        int lda = Math.max(1, aCols) + pad, ldb = Math.max(1, bCols) + pad, ldc = Math.max(1, n) + pad;
        float[] a = matrix(rnd, off, aRows, aCols, lda, Float.NaN);
        float[] b = matrix(rnd, off, bRows, bCols, ldb, Float.NaN);
        float[] c = matrix(rnd, off, m, n, ldc, SENTINEL);
        if (beta == 0f) {
            for (int i = 0; i < m; i++) Arrays.fill(c, off + i * ldc, off + i * ldc + n, Float.NaN);
        }
        float[] c0 = c.clone(), expected = c.clone();
        String what = String.format("%s %s%s m=%d n=%d k=%d alpha=%s beta=%s off=%d pad=%d", fast.name(),
                transA ? "T" : "N", transB ? "T" : "N", m, n, k, alpha, beta, off, pad);

        fast.sgemm(transA, transB, m, n, k, alpha, a, off, lda, b, off, ldb, beta, c, off, ldc);
        naive.sgemm(transA, transB, m, n, k, alpha, a, off, lda, b, off, ldb, beta, expected, off, ldc);

        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double mag = 0;
                for (int p = 0; p < k; p++) {
                    float av = transA ? a[off + p * lda + i] : a[off + i * lda + p];
                    float bv = transB ? b[off + j * ldb + p] : b[off + p * ldb + j];
                    mag += Math.abs((double) av * bv);
                }
                int ci = off + i * ldc + j;
                double bound = TOLERANCE * (Math.abs(alpha) * mag + (beta == 0f ? 0 : Math.abs(beta * c0[ci])));
                double err = Math.abs((double) c[ci] - expected[ci]);
                if (!(err <= bound)) {
                    throw new AssertionError(what + ": C[" + i + "," + j + "] = " + c[ci] + ", naive " + expected[ci]
                            + ", error " + err + " > bound " + bound);
                }
                c[ci] = c0[ci] = 0f;
            }
        }
        // Everything outside the (m, n) window, now zeroed above, must be untouched.
        for (int i = 0; i < c.length; i++) {
            if (Float.floatToRawIntBits(c[i]) != Float.floatToRawIntBits(c0[i])) {
                throw new AssertionError(what + ": wrote C padding at array index " + i + " (" + c0[i] + " -> " + c[i] + ")");
            }
        }
    }

    /** An array holding a (rows, cols) matrix with row stride ld at off, random in [-1, 1); everything else fill. */
    private static float[] matrix(Random rnd, int off, int rows, int cols, int ld, float fill) {
        float[] x = new float[off + rows * ld + 3];
        Arrays.fill(x, fill);
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) x[off + i * ld + j] = rnd.nextFloat() * 2f - 1f;
        }
        return x;
    }

    /**
     * Calls g from several threads at once, and from inside the {@link Parallel} pool, on products of several sizes
     * (both sides of any single/multi-thread cut-off), each compared with naive. Returns the number of products checked.
     */
    public static int checkConcurrent(Gemm g, Shape[] sizes, int callers, int rounds) throws Exception {
        Gemm naive = new NaiveGemm();
        float[][] as = new float[sizes.length][], bs = new float[sizes.length][], want = new float[sizes.length][];
        Random rnd = new Random(5);
        for (int s = 0; s < sizes.length; s++) {
            Shape z = sizes[s];
            as[s] = matrix(rnd, 0, z.m(), z.k(), z.k(), 0f);
            bs[s] = matrix(rnd, 0, z.k(), z.n(), z.n(), 0f);
            want[s] = new float[z.m() * z.n()];
            naive.sgemm(false, false, z.m(), z.n(), z.k(), 1f, as[s], 0, z.k(), bs[s], 0, z.n(), 0f, want[s], 0, z.n());
        }
        AtomicInteger checked = new AtomicInteger();
        Runnable work = () -> {
            for (int r = 0; r < rounds; r++) {
                for (int s = 0; s < sizes.length; s++) {
                    int i = (s + r) % sizes.length;
                    Shape z = sizes[i];
                    float[] c = new float[z.m() * z.n()];
                    g.sgemm(false, false, z.m(), z.n(), z.k(), 1f, as[i], 0, z.k(), bs[i], 0, z.n(), 0f, c, 0, z.n());
                    for (int e = 0; e < c.length; e++) {
                        if (!(Math.abs(c[e] - want[i][e]) <= TOLERANCE * z.k())) {
                            throw new AssertionError(g.name() + " concurrent " + z + ": element " + e + " = " + c[e]
                                    + ", naive " + want[i][e]);
                        }
                    }
                    checked.incrementAndGet();
                }
            }
        };
        ExecutorService pool = Executors.newFixedThreadPool(callers);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < callers; t++) fs.add(pool.submit(work));
            fs.add(pool.submit(() -> Parallel.forRange(Parallel.threads(), 1, (from, to) -> work.run())));
            for (Future<?> f : fs) f.get();
        } finally {
            pool.shutdown();
        }
        return checked.get();
    }

    /** Asserts bad arguments fail with a one-line message naming the problem, before anything is written. */
    public static void checkRejectsBadArguments(Gemm g) {
        float[] a = new float[6], b = new float[6], c = new float[4];
        expect(g, "lda=2 < 3", () -> g.sgemm(false, false, 2, 2, 3, 1f, a, 0, 2, b, 0, 2, 0f, c, 0, 2));
        expect(g, "ldc=1 < 2", () -> g.sgemm(false, false, 2, 2, 3, 1f, a, 0, 3, b, 0, 2, 0f, c, 0, 1));
        expect(g, "B (3 x 2, ld 2) at offset 1 needs 7 elements, array has 6",
                () -> g.sgemm(false, false, 2, 2, 3, 1f, a, 0, 3, b, 1, 2, 0f, c, 0, 2));
        expect(g, "negative size", () -> g.sgemm(false, false, -1, 2, 3, 1f, a, 0, 3, b, 0, 2, 0f, c, 0, 2));
        expect(g, "A is null", () -> g.sgemm(false, false, 2, 2, 3, 1f, null, 0, 3, b, 0, 2, 0f, c, 0, 2));
        expect(g, "negative offset", () -> g.sgemm(true, false, 2, 2, 3, 1f, a, -1, 2, b, 0, 2, 0f, c, 0, 2));
        assertTrue(Arrays.equals(c, new float[4]), "C written by a rejected call");
    }

    private static void expect(Gemm g, String fragment, Runnable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
        assertTrue(e.getMessage().contains(fragment), g.name() + ": message '" + e.getMessage() + "' lacks '" + fragment + "'");
        assertEquals(-1, e.getMessage().indexOf('\n'), "message is one line");
    }
}
