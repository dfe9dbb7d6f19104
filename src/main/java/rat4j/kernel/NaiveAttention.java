package rat4j.kernel;

import rat4j.tensor.Sizes;

/**
 * The scalar reference for {@link Attention}: obviously correct, slow, used by the tests. Inputs are copied into
 * packed (B, T, H, D) double arrays, each query's softmax is computed over an explicit list of the keys it sees
 * (a score row of up to T+1 entries, never a T x T matrix), and results are rounded to float once at the end.
 * The backward recomputes the softmax from q and k; it checks the out and lse arguments but does not read them,
 * so it stays independent of the forward it is compared with.
 */
public final class NaiveAttention implements Attention {

    @Override public String name() { return "naive"; }

    /** The key positions a query sees, in increasing order. */
    @FunctionalInterface
    interface KeySet {
        /** Writes the positions query i sees into rows and returns how many. */
        int fill(int i, int[] rows);
    }

    static KeySet causalKeys(int window) {
        return (i, rows) -> {
            int n = 0;
            for (int j = Math.max(0, i - window); j <= i; j++) rows[n++] = j;
            return n;
        };
    }

    static KeySet chunkKeys(int L) {
        return (t, rows) -> {
            int n = 0;
            for (int j = 0; j < t / L; j++) rows[n++] = j * L + L - 1; // final states of the earlier chunks
            rows[n++] = t;                                            // own running state
            return n;
        };
    }

    @Override
    public void causalForward(int B, int T, int H, int D, int window, float scale,
                              Strided q, Strided k, Strided v, Strided out, float[] lse) {
        Attention.checkWindow(window);
        Attention.checkForward(B, T, H, D, scale, q, k, v, out, lse);
        forwardFloat(B, T, H, D, causalKeys(window), scale, q, k, v, out, lse);
    }

    @Override
    public void causalBackward(int B, int T, int H, int D, int window, float scale,
                               Strided q, Strided k, Strided v, Strided out, float[] lse,
                               Strided dout, Strided dq, Strided dk, Strided dv) {
        Attention.checkWindow(window);
        Attention.checkBackward(B, T, H, D, scale, q, k, v, out, lse, dout, dq, dk, dv);
        backwardFloat(B, T, H, D, causalKeys(window), scale, q, k, v, dout, dq, dk, dv);
    }

    @Override
    public void chunkForward(int B, int T, int H, int D, int L, float scale,
                             Strided q, Strided k, Strided v, Strided out, float[] lse) {
        Attention.checkChunk(L);
        Attention.checkForward(B, T, H, D, scale, q, k, v, out, lse);
        forwardFloat(B, T, H, D, chunkKeys(L), scale, q, k, v, out, lse);
    }

    @Override
    public void chunkBackward(int B, int T, int H, int D, int L, float scale,
                              Strided q, Strided k, Strided v, Strided out, float[] lse,
                              Strided dout, Strided dq, Strided dk, Strided dv) {
        Attention.checkChunk(L);
        Attention.checkBackward(B, T, H, D, scale, q, k, v, out, lse, dout, dq, dk, dv);
        backwardFloat(B, T, H, D, chunkKeys(L), scale, q, k, v, dout, dq, dk, dv);
    }

    @Override
    public void decode(int B, int H, int D, int n, int capacity, float scale, Strided q,
                       float[] kCache, float[] vCache, int cacheOff, Strided ownK, Strided ownV, Strided out) {
        Attention.checkDecode(B, H, D, n, capacity, scale, q, kCache, vCache, cacheOff, ownK, ownV, out);
        double[] s = new double[n + 1];
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < H; h++) {
                int qi = q.row(b) + h * D;
                int cache = cacheOff + (b * H + h) * capacity * D; // fits: checkDecode bounded it by the array length
                int m = 0;
                for (int j = 0; j < n; j++) s[m++] = scale * dot(q.data(), qi, kCache, cache + j * D, D);
                if (ownK != null) s[m++] = scale * dot(q.data(), qi, ownK.data(), ownK.row(b) + h * D, D);
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int a = 0; a < m; a++) max = Math.max(max, s[a]);
                for (int a = 0; a < m; a++) sum += s[a] = Math.exp(s[a] - max);
                for (int d = 0; d < D; d++) {
                    double acc = 0;
                    for (int j = 0; j < n; j++) acc += s[j] * vCache[cache + j * D + d];
                    if (ownV != null) acc += s[n] * ownV.data()[ownV.row(b) + h * D + d];
                    out.data()[out.row(b) + h * D + d] = (float) (acc / sum);
                }
            }
        }
    }

    private static double dot(float[] a, int ai, float[] b, int bi, int n) {
        double acc = 0;
        for (int d = 0; d < n; d++) acc += (double) a[ai + d] * b[bi + d];
        return acc;
    }

    // ---- float entry points: copy to packed doubles, run the double reference, round once ----

    private static void forwardFloat(int B, int T, int H, int D, KeySet keys, float scale,
                                     Strided q, Strided k, Strided v, Strided out, float[] lse) {
        double[] out64 = new double[Sizes.product(B, T, H, D)]; // (B, T, H, D)
        double[] lse64 = new double[B * H * T];      // (B, H, T)
        forward(B, T, H, D, keys, scale, unpack(q, B * T, H * D), unpack(k, B * T, H * D), unpack(v, B * T, H * D), out64, lse64);
        for (int r = 0; r < B * T; r++) {
            for (int c = 0; c < H * D; c++) out.data()[out.row(r) + c] = (float) out64[r * H * D + c];
        }
        for (int i = 0; i < B * H * T; i++) lse[i] = (float) lse64[i];
    }

    private static void backwardFloat(int B, int T, int H, int D, KeySet keys, float scale,
                                      Strided q, Strided k, Strided v, Strided dout, Strided dq, Strided dk, Strided dv) {
        int rows = B * T, width = H * D, size = Sizes.product(B, T, H, D);
        double[] dq64 = new double[size], dk64 = new double[size], dv64 = new double[size]; // (B, T, H, D)
        backward(B, T, H, D, keys, scale, unpack(q, rows, width), unpack(k, rows, width), unpack(v, rows, width),
                unpack(dout, rows, width), dq64, dk64, dv64);
        addInto(dq, dq64, rows, width);
        addInto(dk, dk64, rows, width);
        addInto(dv, dv64, rows, width);
    }

    private static double[] unpack(Strided x, int rows, int width) {
        double[] y = new double[rows * width];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < width; c++) y[r * width + c] = x.data()[x.row(r) + c];
        }
        return y;
    }

    private static void addInto(Strided x, double[] g, int rows, int width) {
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < width; c++) x.data()[x.row(r) + c] += (float) g[r * width + c];
        }
    }

    // ---- the double reference on packed arrays; q, k, v, out, dout, dq, dk, dv are (B, T, H, D), lse (B, H, T) ----

    static void forward(int B, int T, int H, int D, KeySet keys, double scale,
                        double[] q, double[] k, double[] v, double[] out, double[] lse) {
        int[] rows = new int[T + 1];
        double[] p = new double[T + 1];
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < H; h++) {
                for (int i = 0; i < T; i++) {
                    int n = keys.fill(i, rows);
                    int qi = ((b * T + i) * H + h) * D;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int a = 0; a < n; a++) {
                        int kj = ((b * T + rows[a]) * H + h) * D;
                        double s = 0;
                        for (int d = 0; d < D; d++) s += q[qi + d] * k[kj + d];
                        p[a] = scale * s;
                        max = Math.max(max, p[a]);
                    }
                    double sum = 0;
                    for (int a = 0; a < n; a++) sum += p[a] = Math.exp(p[a] - max);
                    for (int a = 0; a < n; a++) p[a] /= sum;
                    for (int d = 0; d < D; d++) {
                        double acc = 0;
                        for (int a = 0; a < n; a++) acc += p[a] * v[((b * T + rows[a]) * H + h) * D + d];
                        out[qi + d] = acc;
                    }
                    lse[(b * H + h) * T + i] = max + Math.log(sum);
                }
            }
        }
    }

    static void backward(int B, int T, int H, int D, KeySet keys, double scale,
                         double[] q, double[] k, double[] v, double[] dout,
                         double[] dq, double[] dk, double[] dv) {
        int[] rows = new int[T + 1];
        double[] p = new double[T + 1], dp = new double[T + 1];
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < H; h++) {
                for (int i = 0; i < T; i++) {
                    int n = keys.fill(i, rows);
                    int qi = ((b * T + i) * H + h) * D;
                    // recompute the softmax: p_a = exp(s_a - max) / sum, s_a = scale * q_i . k_a
                    double max = Double.NEGATIVE_INFINITY;
                    for (int a = 0; a < n; a++) {
                        int kj = ((b * T + rows[a]) * H + h) * D;
                        double s = 0;
                        for (int d = 0; d < D; d++) s += q[qi + d] * k[kj + d];
                        p[a] = scale * s;
                        max = Math.max(max, p[a]);
                    }
                    double sum = 0;
                    for (int a = 0; a < n; a++) sum += p[a] = Math.exp(p[a] - max);
                    for (int a = 0; a < n; a++) p[a] /= sum;
                    // out_i = sum_a p_a v_a  ->  dp_a = dout_i . v_a, dv_a += p_a dout_i
                    double delta = 0;
                    for (int a = 0; a < n; a++) {
                        int vj = ((b * T + rows[a]) * H + h) * D;
                        double acc = 0;
                        for (int d = 0; d < D; d++) {
                            acc += dout[qi + d] * v[vj + d];
                            dv[vj + d] += p[a] * dout[qi + d];
                        }
                        dp[a] = acc;
                        delta += p[a] * acc;
                    }
                    // p = softmax(s)  ->  ds_a = p_a (dp_a - sum_b p_b dp_b); s_a = scale * q_i . k_a
                    for (int a = 0; a < n; a++) {
                        int kj = ((b * T + rows[a]) * H + h) * D;
                        double ds = p[a] * (dp[a] - delta);
                        for (int d = 0; d < D; d++) {
                            dq[qi + d] += scale * ds * k[kj + d];
                            dk[kj + d] += scale * ds * q[qi + d];
                        }
                    }
                }
            }
        }
    }
}
