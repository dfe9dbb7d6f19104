package rat4j.bench;

import rat4j.kernel.Attention;
import rat4j.kernel.Bf16Gemm;
import rat4j.kernel.Gemm;
import rat4j.kernel.Gemv;
import rat4j.kernel.Kernels;
import rat4j.kernel.Strided;

import java.util.concurrent.atomic.LongAdder;

/**
 * Where a layer's time goes, measured in place without touching the layers: while installed, the process-wide GEMM
 * (with the decode path's products, fp32 and bf16, counted as GEMM) and attention backends are wrapped in decorators that add each call's wall time to a counter (two System.nanoTime
 * per kernel call; nothing at all when not installed). What the layer spends outside the two kernels (norm, RoPE,
 * gates, scans, residuals, scratch zeroing) is the remainder.
 */
public final class Breakdown implements AutoCloseable {
    private final Gemm previousGemm;
    private final Gemv previousGemv;
    private final Bf16Gemm previousBf16;
    private final Attention previousAttention;
    private final LongAdder gemmNanos = new LongAdder(), attentionNanos = new LongAdder();

    private Breakdown() {
        previousGemm = Kernels.gemm();
        previousGemv = Kernels.gemv();
        previousBf16 = Kernels.bf16Gemm();
        previousAttention = Kernels.attention();
        Kernels.useGemm(new TimedGemm(previousGemm, gemmNanos));
        Kernels.useGemv(new TimedGemv(previousGemv, gemmNanos));
        Kernels.useBf16Gemm(new TimedBf16Gemm(previousBf16, gemmNanos));
        Kernels.useAttention(new TimedAttention(previousAttention, attentionNanos));
    }

    /** Wraps the current backends until {@link #close}. */
    public static Breakdown install() {
        return new Breakdown();
    }

    public void reset() {
        gemmNanos.reset();
        attentionNanos.reset();
    }

    public double gemmMs() { return gemmNanos.sum() / 1e6; }

    public double attentionMs() { return attentionNanos.sum() / 1e6; }

    /** Restores the backends that were in place at install. */
    @Override public void close() {
        Kernels.useGemm(previousGemm);
        Kernels.useGemv(previousGemv);
        Kernels.useBf16Gemm(previousBf16);
        Kernels.useAttention(previousAttention);
    }

    record TimedGemv(Gemv inner, LongAdder nanos) implements Gemv {
        @Override public String name() { return inner.name(); }

        @Override public void gemv(int n, int rows, int cols, float[] x, int xOff, float[] w, int wOff, float[] out, int outOff) {
            long t0 = System.nanoTime();
            inner.gemv(n, rows, cols, x, xOff, w, wOff, out, outOff);
            nanos.add(System.nanoTime() - t0);
        }
    }

    record TimedBf16Gemm(Bf16Gemm inner, LongAdder nanos) implements Bf16Gemm {
        @Override public String name() { return inner.name(); }

        @Override public void gemm(int n, int rows, int cols, float[] x, int xOff, short[] w, int wOff, float[] out, int outOff) {
            long t0 = System.nanoTime();
            inner.gemm(n, rows, cols, x, xOff, w, wOff, out, outOff);
            nanos.add(System.nanoTime() - t0);
        }
    }

    static final class TimedGemm implements Gemm {
        private final Gemm inner;
        private final LongAdder nanos;

        TimedGemm(Gemm inner, LongAdder nanos) {
            this.inner = inner;
            this.nanos = nanos;
        }

        @Override public String name() { return inner.name(); }

        @Override public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                                    float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
            long t0 = System.nanoTime();
            inner.sgemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            nanos.add(System.nanoTime() - t0);
        }
    }

    static final class TimedAttention implements Attention {
        private final Attention inner;
        private final LongAdder nanos;

        TimedAttention(Attention inner, LongAdder nanos) {
            this.inner = inner;
            this.nanos = nanos;
        }

        @Override public String name() { return inner.name(); }

        @Override public void causalForward(int B, int T, int H, int D, int window, float scale,
                                            Strided q, Strided k, Strided v, Strided out, float[] lse) {
            long t0 = System.nanoTime();
            inner.causalForward(B, T, H, D, window, scale, q, k, v, out, lse);
            nanos.add(System.nanoTime() - t0);
        }

        @Override public void causalBackward(int B, int T, int H, int D, int window, float scale,
                                             Strided q, Strided k, Strided v, Strided out, float[] lse,
                                             Strided dout, Strided dq, Strided dk, Strided dv) {
            long t0 = System.nanoTime();
            inner.causalBackward(B, T, H, D, window, scale, q, k, v, out, lse, dout, dq, dk, dv);
            nanos.add(System.nanoTime() - t0);
        }

        @Override public void chunkForward(int B, int T, int H, int D, int L, float scale,
                                           Strided q, Strided k, Strided v, Strided out, float[] lse) {
            long t0 = System.nanoTime();
            inner.chunkForward(B, T, H, D, L, scale, q, k, v, out, lse);
            nanos.add(System.nanoTime() - t0);
        }

        @Override public void chunkBackward(int B, int T, int H, int D, int L, float scale,
                                            Strided q, Strided k, Strided v, Strided out, float[] lse,
                                            Strided dout, Strided dq, Strided dk, Strided dv) {
            long t0 = System.nanoTime();
            inner.chunkBackward(B, T, H, D, L, scale, q, k, v, out, lse, dout, dq, dk, dv);
            nanos.add(System.nanoTime() - t0);
        }

        @Override public void decode(int B, int H, int D, int n, int capacity, float scale, Strided q,
                                     float[] kCache, float[] vCache, int cacheOff, Strided ownK, Strided ownV, Strided out) {
            long t0 = System.nanoTime();
            inner.decode(B, H, D, n, capacity, scale, q, kCache, vCache, cacheOff, ownK, ownV, out);
            nanos.add(System.nanoTime() - t0);
        }
    }
}
