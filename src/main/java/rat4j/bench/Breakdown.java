package rat4j.bench;

import rat4j.kernel.Attention;
import rat4j.kernel.DecodeGemm;
import rat4j.kernel.Gemm;
import rat4j.kernel.Kernels;
import rat4j.kernel.PanelMatrix;
import rat4j.kernel.Strided;

/**
 * Where a layer's time goes, measured in place without touching the layers: while installed, the process-wide GEMM
 * (with the decode path's products, fp32 and bf16, counted as GEMM) and attention backends are wrapped in decorators that
 * count the wall time during which at least one call of each kind runs (a lock and two System.nanoTime per kernel call;
 * nothing at all when not installed). Calls running at once on several threads (a decode step's per-sequence attention)
 * count once, so the parts never add up to more than the call. What the layer spends outside the two kernels (norm, RoPE,
 * gates, scans, residuals, scratch zeroing) is the remainder.
 */
public final class Breakdown implements AutoCloseable {
    private final Gemm previousGemm;
    private final DecodeGemm previousDecode;
    private final Attention previousAttention;
    private final Busy gemmTime = new Busy(), attentionTime = new Busy();

    private Breakdown() {
        previousGemm = Kernels.gemm();
        previousDecode = Kernels.decodeGemm();
        previousAttention = Kernels.attention();
        Kernels.useGemm(new TimedGemm(previousGemm, gemmTime));
        Kernels.useDecodeGemm(new TimedDecodeGemm(previousDecode, gemmTime));
        Kernels.useAttention(new TimedAttention(previousAttention, attentionTime));
    }

    /** Wraps the current backends until {@link #close}. */
    public static Breakdown install() {
        return new Breakdown();
    }

    public void reset() {
        gemmTime.reset();
        attentionTime.reset();
    }

    public double gemmMs() { return gemmTime.nanos() / 1e6; }

    public double attentionMs() { return attentionTime.nanos() / 1e6; }

    /** Restores the backends that were in place at install. */
    @Override public void close() {
        Kernels.useGemm(previousGemm);
        Kernels.useDecodeGemm(previousDecode);
        Kernels.useAttention(previousAttention);
    }

    record TimedDecodeGemm(DecodeGemm inner, Busy busy) implements DecodeGemm {
        @Override public String name() { return inner.name(); }

        @Override public void apply(int n, float[] x, int xOff, PanelMatrix w, float[] out, int outOff) {
            busy.time(() -> inner.apply(n, x, xOff, w, out, outOff));
        }
    }

    static final class TimedGemm implements Gemm {
        private final Gemm inner;
        private final Busy busy;

        TimedGemm(Gemm inner, Busy busy) {
            this.inner = inner;
            this.busy = busy;
        }

        @Override public String name() { return inner.name(); }

        @Override public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                                    float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
            busy.time(() -> inner.sgemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc));
        }
    }

    static final class TimedAttention implements Attention {
        private final Attention inner;
        private final Busy busy;

        TimedAttention(Attention inner, Busy busy) {
            this.inner = inner;
            this.busy = busy;
        }

        @Override public String name() { return inner.name(); }

        @Override public void causalForward(int B, int T, int H, int D, int window, float scale,
                                            Strided q, Strided k, Strided v, Strided out, float[] lse) {
            busy.time(() -> inner.causalForward(B, T, H, D, window, scale, q, k, v, out, lse));
        }

        @Override public void causalBackward(int B, int T, int H, int D, int window, float scale,
                                             Strided q, Strided k, Strided v, Strided out, float[] lse,
                                             Strided dout, Strided dq, Strided dk, Strided dv) {
            busy.time(() -> inner.causalBackward(B, T, H, D, window, scale, q, k, v, out, lse, dout, dq, dk, dv));
        }

        @Override public void chunkForward(int B, int T, int H, int D, int L, float scale,
                                           Strided q, Strided k, Strided v, Strided out, float[] lse) {
            busy.time(() -> inner.chunkForward(B, T, H, D, L, scale, q, k, v, out, lse));
        }

        @Override public void chunkBackward(int B, int T, int H, int D, int L, float scale,
                                            Strided q, Strided k, Strided v, Strided out, float[] lse,
                                            Strided dout, Strided dq, Strided dk, Strided dv) {
            busy.time(() -> inner.chunkBackward(B, T, H, D, L, scale, q, k, v, out, lse, dout, dq, dk, dv));
        }

        @Override public void decode(int B, int H, int D, int n, int capacity, float scale, Strided q,
                                     float[] kCache, float[] vCache, int cacheOff, Strided ownK, Strided ownV, Strided out) {
            busy.time(() -> inner.decode(B, H, D, n, capacity, scale, q, kCache, vCache, cacheOff, ownK, ownV, out));
        }
    }

    /** Wall time during which at least one call is running: overlapping calls from several threads count once. */
    static final class Busy {
        private int active;
        private long since, total;

        /** Runs call, counting the wall time while it runs. */
        void time(Runnable call) {
            enter();
            try {
                call.run();
            } finally {
                exit();
            }
        }

        synchronized void enter() {
            if (active++ == 0) since = System.nanoTime();
        }

        synchronized void exit() {
            if (--active == 0) total += System.nanoTime() - since;
        }

        synchronized void reset() {
            total = 0;
            if (active > 0) since = System.nanoTime();
        }

        synchronized long nanos() {
            return total;
        }
    }
}
