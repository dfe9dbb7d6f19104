package rat4j.kernel;

/** Scalar reference element-wise kernels, in double where it is cheap. */
public final class NaiveElementwise implements Elementwise {
    private static final double INV_SQRT2 = 0.7071067811865476, INV_SQRT_2PI = 0.3989422804014327;

    @Override public String name() { return "naive"; }

    @Override public float max(float[] x, int off, int n) {
        float m = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) m = Math.max(m, x[off + i]);
        return m;
    }

    @Override public float expShifted(float[] x, int xOff, float shift, float[] out, int outOff, int n) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(x[xOff + i] - shift);
            out[outOff + i] = e;
            sum += e;
        }
        return (float) sum;
    }

    /**
     * Complementary error function with fractional error below 1.2e-7 everywhere (Chebyshev fit, Press et al.,
     * Numerical Recipes 2nd ed. sec. 6.2): float32 accuracy for exact GELU without an erf in java.lang.Math.
     */
    public static double erfc(double x) {
        double z = Math.abs(x);
        double t = 1.0 / (1.0 + 0.5 * z);
        double ans = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? ans : 2.0 - ans;
    }

    @Override public void gelu(float[] x, float[] out, int from, int to) {
        for (int i = from; i < to; i++) out[i] = (float) (x[i] * 0.5 * erfc(-x[i] * INV_SQRT2));
    }

    @Override public void geluBackward(float[] x, float[] d, int from, int to) {
        for (int i = from; i < to; i++) {
            double v = x[i];
            d[i] *= (float) (0.5 * erfc(-v * INV_SQRT2) + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v));
        }
    }

    @Override public void sigmoid(float[] x, int xOff, float[] bias, int bOff, float[] out, int outOff, int n) {
        for (int i = 0; i < n; i++) {
            float v = bias == null ? x[xOff + i] : x[xOff + i] + bias[bOff + i]; // the sum rounded to float, as the layers had it
            out[outOff + i] = (float) (1.0 / (1.0 + Math.exp(-v)));
        }
    }

    @Override public void scanForward(Strided h, Strided g, Strided u, int rows, int chunkLen, int n) {
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < n; j++) {
                float gv = g.data()[g.row(r) + j];
                float prev = r % chunkLen == 0 ? 0f : h.data()[h.row(r - 1) + j];
                h.data()[h.row(r) + j] = gv * prev + (1f - gv) * u.data()[u.row(r) + j]; // h_t = g h_{t-1} + (1-g) u_t
            }
        }
    }

    @Override public void scanBackward(Strided du, Strided dg, Strided dh, Strided h, Strided g, Strided u, int rows, int chunkLen, int n) {
        for (int j = 0; j < n; j++) {
            float carry = 0f; // g_{r+1} dH_{r+1}
            for (int r = rows - 1; r >= 0; r--) {
                if (r % chunkLen == chunkLen - 1) carry = 0f; // a chunk's last row: nothing flows back from the next chunk
                float gv = g.data()[g.row(r) + j];
                float dH = dh.data()[dh.row(r) + j] + carry;
                float prev = r % chunkLen == 0 ? 0f : h.data()[h.row(r - 1) + j];
                du.data()[du.row(r) + j] += (1f - gv) * dH;
                dg.data()[dg.row(r) + j] += dH * (prev - u.data()[u.row(r) + j]);
                carry = gv * dH;
            }
        }
    }

    @Override public void rotateHalf(float[] a, int off, int heads, int half, float[] cos, float[] sin, int tab, boolean inverse) {
        for (int hd = 0; hd < heads; hd++) {
            int o = off + hd * 2 * half;
            for (int i = 0; i < half; i++) {
                float c = cos[tab + i], s = inverse ? -sin[tab + i] : sin[tab + i];
                float x1 = a[o + i], x2 = a[o + i + half];
                a[o + i] = x1 * c - x2 * s;
                a[o + i + half] = x2 * c + x1 * s;
            }
        }
    }
}
