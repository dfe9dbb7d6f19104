package rat4j.kernel;

import org.junit.jupiter.api.Test;
import rat4j.kernel.simd.VectorElementwise;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The Vector API element-wise kernels against the scalar references, on odd lengths and offsets. */
class ElementwiseTest {
    final Elementwise fast = new VectorElementwise(), naive = new NaiveElementwise();

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
}
