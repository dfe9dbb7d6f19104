package rat4j.nn;

import rat4j.kernel.Elementwise;
import rat4j.kernel.Kernels;
import rat4j.kernel.WeightFormat;
import rat4j.kernel.Parallel;
import rat4j.tensor.Sizes;
import rat4j.tensor.Tensor;

/**
 * The reference's RNN layer, RAT's L = T limit: z, x, g = split(in_proj(rmsnorm(inp))); g = sigmoid(g + gate_bias);
 * h_t = g_t h_{t-1} + (1 - g_t) x_t over the whole sequence; out = inp + out_proj(sigmoid(z) * h).
 */
public final class RnnLayer implements SequenceMixer {
    private final int c;
    private final Tensor norm, inProj, gateBias, outProj; // (C), (3C, C), (C), (C, C)
    private final DecodeMatrix inProjDecode, outProjDecode;
    private float[] inp;                                  // (N, C) by reference
    private float[] xn, rstd, proj, z, g, h, y;           // (N,C) (N) (N,3C) (N,C) (N,C) (N,C) (N,C)
    private float[] dy, dproj, dh, dg, dxn; // backward scratch, reused
    private int batch, seqLen;

    public RnnLayer(Tensor norm, Tensor inProj, Tensor gateBias, Tensor outProj) {
        this(norm, inProj, gateBias, outProj, new DecodeWeights(WeightFormat.FP32));
    }

    /** @param decode where the decode path's copies of the matrices come from (their format, their packing) */
    public RnnLayer(Tensor norm, Tensor inProj, Tensor gateBias, Tensor outProj, DecodeWeights decode) {
        this.c = norm.dim(0);
        this.norm = norm;
        this.inProj = inProj;
        this.gateBias = gateBias;
        this.outProj = outProj;
        this.inProjDecode = decode.of(inProj);
        this.outProjDecode = decode.of(outProj);
    }

    private void ensure(int rows) {
        int nc = Sizes.product(rows, c);
        if (xn == null || xn.length < nc) {
            xn = new float[nc];
            rstd = new float[rows];
            proj = new float[Sizes.product(rows, 3 * c)];
            z = new float[nc];
            g = new float[nc];
            h = new float[nc];
            y = new float[nc];
        }
    }

    /** z = sigmoid(proj_z), g = sigmoid(proj_g + gate_bias) for rows [0, n). */
    private void gates(float[] projRows, float[] zOut, float[] gOut, int n) {
        Elementwise ew = Kernels.elementwise();
        float[] bias = gateBias.data();
        int bo = gateBias.offset();
        Parallel.forRange(n, 64, (from, to) -> {
            for (int i = from; i < to; i++) {
                ew.sigmoid(projRows, i * 3 * c, null, 0, zOut, i * c, c);
                ew.sigmoid(projRows, i * 3 * c + 2 * c, bias, bo, gOut, i * c, c);
            }
        });
    }

    @Override
    public void forward(float[] inp, float[] out, int batch, int seqLen) {
        int n = Sizes.product(batch, seqLen);
        ensure(n);
        this.inp = inp;
        this.batch = batch;
        this.seqLen = seqLen;
        RmsNorm.forward(xn, rstd, inp, norm.data(), norm.offset(), n, c);
        Linear.forward(proj, xn, inProj.data(), inProj.offset(), n, c, 3 * c);
        gates(proj, z, g, n);
        GatedScan.forward(h, 0, c, g, 0, c, proj, c, 3 * c, batch, seqLen, c, Math.max(1, seqLen));
        for (int i = 0; i < n * c; i++) y[i] = z[i] * h[i];
        Linear.forward(out, y, outProj.data(), outProj.offset(), n, c, c);
        Buffers.addInto(out, inp, n * c);
    }

    @Override
    public void backward(float[] dout, float[] dinp, float[] grads) {
        int n = batch * seqLen, nc = n * c;
        Buffers.addInto(dinp, dout, nc); // out = inp + ...
        dy = Buffers.zeroed(dy, nc);
        Linear.backward(dy, grads, outProj.offset(), dout, y, outProj.data(), outProj.offset(), n, c, c);
        dproj = Buffers.zeroed(dproj, Sizes.product(n, 3 * c));
        dh = Buffers.zeroed(dh, nc);
        dg = Buffers.zeroed(dg, nc);
        Parallel.forRange(n, 64, (from, to) -> {
            for (int i = from; i < to; i++) {
                for (int j = 0; j < c; j++) {
                    int k = i * c + j;
                    float zz = z[k];
                    dproj[i * 3 * c + j] = dy[k] * h[k] * zz * (1f - zz); // y = sigmoid(zpre) * h
                    dh[k] = dy[k] * zz;
                }
            }
        });
        // the x slice of dproj receives du directly
        GatedScan.backward(dproj, c, 3 * c, dg, 0, c, dh, 0, c, h, 0, c, g, 0, c, proj, c, 3 * c,
                batch, seqLen, c, Math.max(1, seqLen));
        Parallel.forRange(n, 64, (from, to) -> {
            for (int i = from; i < to; i++) {
                for (int j = 0; j < c; j++) {
                    float gg = g[i * c + j];
                    dproj[i * 3 * c + 2 * c + j] = dg[i * c + j] * gg * (1f - gg); // g = sigmoid(gpre + gate_bias)
                }
            }
        });
        Buffers.sumRowsInto(grads, gateBias.offset(), dproj, 2 * c, 3 * c, n, c); // d gate_bias = sum over tokens of d gpre
        dxn = Buffers.zeroed(dxn, nc);
        Linear.backward(dxn, grads, inProj.offset(), dproj, xn, inProj.data(), inProj.offset(), n, c, 3 * c);
        RmsNorm.backward(dinp, grads, norm.offset(), dxn, inp, norm.data(), norm.offset(), rstd, n, c);
    }

    /** The RNN's whole context is its state h (B, C). */
    public static final class RnnCache implements Cache {
        final float[] h;                 // (B, C)
        final int batch;
        final float[] xn, proj, z, g, y; // step scratch: (B, C), (B, 3C), (B, C) x 3

        RnnCache(int batch, int c) {
            this.batch = batch;
            h = new float[Sizes.product(batch, c)];
            xn = new float[h.length];
            proj = new float[Sizes.product(h.length, 3)];
            z = new float[h.length];
            g = new float[h.length];
            y = new float[h.length];
        }

        public float[] state() { return h; }

        @Override public long bytes() { return 4L * h.length; }

        @Override public int batch() { return batch; }

        @Override public void copy(int from, int to) {
            int c = h.length / batch;
            System.arraycopy(h, from * c, h, to * c, c);
        }
    }

    @Override
    public Cache newCache(int batch, int maxLen) {
        return new RnnCache(batch, c);
    }

    @Override
    public void fillCache(Cache cache, int slot, int row, int prefix) {
        RnnCache rc = (RnnCache) cache;
        if (prefix < 1 || prefix > seqLen) throw new IllegalArgumentException("prefill of " + prefix + " tokens after a forward of " + seqLen);
        if (row < 0 || row >= batch) throw new IllegalArgumentException("row " + row + " outside the forward's batch of " + batch);
        System.arraycopy(h, (row * seqLen + prefix - 1) * c, rc.h, slot * c, c);
    }

    @Override
    public void step(float[] inp, float[] out, Cache cache, int n, int[] slots, int[] positions) {
        RnnCache rc = (RnnCache) cache;
        RmsNorm.forward(rc.xn, null, inp, norm.data(), norm.offset(), n, c);
        inProjDecode.apply(rc.proj, rc.xn, n);
        gates(rc.proj, rc.z, rc.g, n);
        for (int r = 0; r < n; r++) {
            int state = slots[r] * c;
            boolean first = positions[r] == 0;
            for (int j = 0; j < c; j++) {
                int k = r * c + j;
                float prev = first ? 0f : rc.h[state + j];
                float hv = rc.g[k] * prev + (1f - rc.g[k]) * rc.proj[r * 3 * c + c + j]; // h_t = g h_{t-1} + (1 - g) x_t
                rc.h[state + j] = hv;
                rc.y[k] = rc.z[k] * hv;
            }
        }
        outProjDecode.apply(out, rc.y, n);
        Buffers.addInto(out, inp, n * c);
    }

    @Override
    public long stepWeightBytes() {
        return inProjDecode.bytes() + outProjDecode.bytes() + 4L * (norm.size() + gateBias.size());
    }

    @Override
    public long stepCacheBytes(int pos) {
        return 4L * c;
    }
}
