package rat4j.kernel;

import java.util.Arrays;
import java.util.Random;

/** Seeded strided activations for the attention tests, and error measures that ignore the padding between rows. */
public final class AttentionFixtures {
    private AttentionFixtures() {}

    /**
     * A (B, T, H, D) activation as rows of width H*D with pad extra floats per row and off floats before the first
     * row, every float of the array (padding too) drawn from N(0, 1), so a kernel that reads or writes the padding
     * shows up.
     */
    public static Strided random(Random rnd, int B, int T, int H, int D, int pad, int off) {
        int stride = H * D + pad;
        float[] a = new float[off + B * T * stride + 3];
        for (int i = 0; i < a.length; i++) a[i] = (float) rnd.nextGaussian();
        return new Strided(a, off, stride);
    }

    /** The same layout holding a copy of the data. */
    public static Strided copy(Strided x) {
        return new Strided(x.data().clone(), x.offset(), x.stride());
    }

    /** max |a - b| over the rows x width region; a and b may have different layouts. */
    public static double maxDiff(Strided a, Strided b, int rows, int width) {
        double m = 0;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < width; c++) m = Math.max(m, Math.abs((double) a.data()[a.row(r) + c] - b.data()[b.row(r) + c]));
        }
        return m;
    }

    /**
     * max |a - b| over the region, relative to max |b - base| (the size of what a kernel added to base) floored at 1:
     * float kernels round intermediates of size about 1 (scores, dP and delta of N(0, 1) inputs), so an error of a
     * few 1e-7 is expected even where the exact gradient is 0 (a query seeing one key has dq = 0).
     */
    public static double relDiff(Strided a, Strided b, Strided base, int rows, int width) {
        double scale = 0;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < width; c++) scale = Math.max(scale, Math.abs((double) b.data()[b.row(r) + c] - base.data()[base.row(r) + c]));
        }
        return maxDiff(a, b, rows, width) / Math.max(scale, 1);
    }

    /** max |a - b| relative to max |b| floored at 1, as above. */
    public static double relDiff(float[] a, float[] b, int n) {
        double m = 0, scale = 0;
        for (int i = 0; i < n; i++) {
            m = Math.max(m, Math.abs((double) a[i] - b[i]));
            scale = Math.max(scale, Math.abs(b[i]));
        }
        return m / Math.max(scale, 1);
    }

    /** True when every float outside the rows x width region equals the one in before (bitwise, so NaN == NaN). */
    public static boolean paddingUntouched(Strided after, float[] before, int rows, int width) {
        boolean[] inside = new boolean[before.length];
        for (int r = 0; r < rows; r++) Arrays.fill(inside, after.row(r), after.row(r) + width, true);
        for (int i = 0; i < before.length; i++) {
            if (!inside[i] && Float.floatToRawIntBits(after.data()[i]) != Float.floatToRawIntBits(before[i])) return false;
        }
        return true;
    }
}
