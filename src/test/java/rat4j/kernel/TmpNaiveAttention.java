package rat4j.kernel;




/** Temporary: plain-loop attention until the kernel package's references land. */
public final class TmpNaiveAttention implements AttentionKernels {
    public String name() { return "tmp"; }

    interface Visible { boolean[] keys(int t); } // which key positions query t sees; key index seqLen = own

    private static int at(Strided s, int b, int t, int h, int T, int D) { return s.off() + (b * T + t) * s.stride() + h * D; }

    private void fwd(int B, int T, int H, int D, float scale, Strided q, Strided k, Strided v, Strided out, float[] lse, Visible vis,
                     Strided dout, Strided dq, Strided dk, Strided dv) {
        for (int b = 0; b < B; b++) for (int h = 0; h < H; h++) for (int t = 0; t < T; t++) {
            boolean[] m = vis.keys(t);
            double[] s = new double[T];
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < T; j++) if (m[j]) {
                double acc = 0;
                for (int d = 0; d < D; d++) acc += (double) q.a()[at(q, b, t, h, T, D) + d] * k.a()[at(k, b, j, h, T, D) + d];
                s[j] = acc * scale; max = Math.max(max, s[j]);
            }
            double sum = 0;
            for (int j = 0; j < T; j++) if (m[j]) { s[j] = Math.exp(s[j] - max); sum += s[j]; }
            if (dout == null) {
                lse[(b * H + h) * T + t] = (float) (max + Math.log(sum));
                for (int d = 0; d < D; d++) {
                    double acc = 0;
                    for (int j = 0; j < T; j++) if (m[j]) acc += s[j] / sum * v.a()[at(v, b, j, h, T, D) + d];
                    out.a()[at(out, b, t, h, T, D) + d] = (float) acc;
                }
            } else {
                double[] dp = new double[T];
                double delta = 0;
                for (int j = 0; j < T; j++) if (m[j]) {
                    double p = s[j] / sum, acc = 0;
                    for (int d = 0; d < D; d++) {
                        acc += (double) dout.a()[at(dout, b, t, h, T, D) + d] * v.a()[at(v, b, j, h, T, D) + d];
                        dv.a()[at(dv, b, j, h, T, D) + d] += (float) (p * dout.a()[at(dout, b, t, h, T, D) + d]);
                    }
                    dp[j] = acc; delta += p * acc;
                }
                for (int j = 0; j < T; j++) if (m[j]) {
                    double ds = s[j] / sum * (dp[j] - delta) * scale;
                    for (int d = 0; d < D; d++) {
                        dq.a()[at(dq, b, t, h, T, D) + d] += (float) (ds * k.a()[at(k, b, j, h, T, D) + d]);
                        dk.a()[at(dk, b, j, h, T, D) + d] += (float) (ds * q.a()[at(q, b, t, h, T, D) + d]);
                    }
                }
            }
        }
    }

    static Visible causal(int T, int window) {
        return t -> { boolean[] m = new boolean[T]; for (int j = 0; j <= t; j++) m[j] = (long) t - j <= window; return m; };
    }

    static Visible chunk(int T, int L) {
        return t -> { boolean[] m = new boolean[T]; for (int c = 0; c < t / L; c++) m[c * L + L - 1] = true; m[t] = true; return m; };
    }

    public void causalForward(int B, int T, int H, int D, int w, float sc, Strided q, Strided k, Strided v, Strided o, float[] lse) {
        fwd(B, T, H, D, sc, q, k, v, o, lse, causal(T, w), null, null, null, null);
    }
    public void causalBackward(int B, int T, int H, int D, int w, float sc, Strided q, Strided k, Strided v, Strided o, float[] lse,
                               Strided dout, Strided dq, Strided dk, Strided dv) {
        fwd(B, T, H, D, sc, q, k, v, o, lse, causal(T, w), dout, dq, dk, dv);
    }
    public void chunkForward(int B, int T, int H, int D, int L, float sc, Strided q, Strided k, Strided v, Strided o, float[] lse) {
        fwd(B, T, H, D, sc, q, k, v, o, lse, chunk(T, L), null, null, null, null);
    }
    public void chunkBackward(int B, int T, int H, int D, int L, float sc, Strided q, Strided k, Strided v, Strided o, float[] lse,
                              Strided dout, Strided dq, Strided dk, Strided dv) {
        fwd(B, T, H, D, sc, q, k, v, o, lse, chunk(T, L), dout, dq, dk, dv);
    }
}
