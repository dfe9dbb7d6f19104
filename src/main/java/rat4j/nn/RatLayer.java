package rat4j.nn;

import rat4j.kernel.Elementwise;
import rat4j.kernel.Kernels;
import rat4j.kernel.WeightFormat;
import rat4j.kernel.Parallel;
import rat4j.kernel.Strided;
import rat4j.tensor.Sizes;
import rat4j.tensor.Tensor;

/**
 * The RAT layer (the reference's rat.py), with chunk length L, H heads of size D, G shared q/k groups:
 * <pre>
 *   z, x, g, q, k = split(in_proj(rmsnorm(inp)), [C, C, C, G*D, G*D])
 *   z = sigmoid(z); g = sigmoid(g + gate_bias); q, k tiled over heads (head h uses group h mod G)
 *   hx_t = g_t hx_{t-1} + (1 - g_t) x_t, hk_t likewise on k, both restarting at every chunk start
 *   q, hk rotated by chunk index (inter-chunk RoPE)
 *   att_t = softmax over {hk at the final positions of earlier chunks} + {hk_t} of (q_t . key / sqrt(D)), applied to hx
 *   out = inp + out_proj(z * att)
 * </pre>
 * Any T works: a partial last chunk is the natural causal extension (the reference asserts T % L == 0).
 */
public final class RatLayer implements SequenceMixer {
    private final int c, heads, d, groups, chunkLen, width; // width = 3C + 2GD, the in_proj rows
    private final float scale;
    private final Tensor norm, inProj, gateBias, outProj;  // (C), (3C+2GD, C), (C), (C, C)
    private final DecodeMatrix inProjDecode, outProjDecode;
    private final Rope rope;
    private float[] inp;                                   // (N, C) by reference
    // proj's z and g columns hold sigmoid(z) and sigmoid(g + gate_bias) once forward has run: no separate z, g copies
    private float[] rstd, proj;                            // (N), (N, width)
    private float[] hk, kr, hv, qr, att, lse;              // (N, C) each but lse (B, H, T)
    private float[] dy, dproj, dq, dk, dhv;                // backward scratch, reused: (N, C), (N, width), (N, C) x 3
    // Between a forward and its backward, dhv holds xn = rmsnorm(inp) (N, C) and dk holds y = z * att (N, C): each is
    // read once, by the backward of its GEMM, at a time when that scratch is free (y first; xn, recomputed, last).
    private int batch, seqLen;

    public RatLayer(int heads, int groups, int chunkLen, Rope rope, Tensor norm, Tensor inProj, Tensor gateBias, Tensor outProj) {
        this(heads, groups, chunkLen, rope, norm, inProj, gateBias, outProj, new DecodeWeights(WeightFormat.FP32));
    }

    /** @param decode where the decode path's copies of the matrices come from (their format, their packing) */
    public RatLayer(int heads, int groups, int chunkLen, Rope rope, Tensor norm, Tensor inProj, Tensor gateBias, Tensor outProj, DecodeWeights decode) {
        this.c = norm.dim(0);
        this.heads = heads;
        this.d = c / heads;
        this.groups = groups;
        this.chunkLen = chunkLen;
        this.width = 3 * c + 2 * groups * d;
        this.scale = (float) (1.0 / Math.sqrt(d));
        this.rope = rope;
        this.norm = norm;
        this.inProj = inProj;
        this.gateBias = gateBias;
        this.outProj = outProj;
        this.inProjDecode = decode.of(inProj);
        this.outProjDecode = decode.of(outProj);
    }

    /**
     * Activations for (batch, seqLen). Every (N, C) buffer is kept few: on a machine where first touching fresh memory
     * costs ~8 ms per MiB (page faults in a VM), a first call at N = 16K paid seconds per buffer (issue 5).
     */
    private void ensure(int batch, int seqLen) {
        int n = Sizes.product(batch, seqLen), nc = Sizes.product(n, c);
        if (hk == null || hk.length < nc || lse.length < Sizes.product(batch, heads, seqLen)) {
            dhv = new float[nc];
            dk = new float[nc];
            rstd = new float[n];
            proj = new float[Sizes.product(n, width)];
            hk = new float[nc];
            kr = new float[nc];
            hv = new float[nc];
            qr = new float[nc];
            att = new float[nc];
            lse = new float[Sizes.product(batch, heads, seqLen)];
        }
    }

    /**
     * From projected rows (n, width): z = sigmoid(z), g = sigmoid(g + gate_bias), and q, k tiled to all heads.
     * The decode step's version, into separate buffers.
     */
    private void prepare(float[] p, int n, float[] zOut, float[] gOut, float[] qOut, float[] kOut) {
        Elementwise ew = Kernels.elementwise();
        float[] bias = gateBias.data();
        int bo = gateBias.offset(), qOff = 3 * c, kOff = 3 * c + groups * d;
        Parallel.forRange(n, 64, (from, to) -> {
            for (int i = from; i < to; i++) {
                int pr = i * width, r = i * c;
                ew.sigmoid(p, pr, null, 0, zOut, r, c);
                ew.sigmoid(p, pr + 2 * c, bias, bo, gOut, r, c);
                for (int h = 0; h < heads; h++) { // the reference's Tensor.repeat on the last dimension
                    int src = (h % groups) * d;
                    System.arraycopy(p, pr + qOff + src, qOut, r + h * d, d);
                    System.arraycopy(p, pr + kOff + src, kOut, r + h * d, d);
                }
            }
        });
    }

    @Override
    public void forward(float[] inp, float[] out, int batch, int seqLen) {
        ensure(batch, seqLen);
        int n = batch * seqLen, nc = n * c, qOff = 3 * c, kOff = 3 * c + groups * d;
        this.inp = inp;
        this.batch = batch;
        this.seqLen = seqLen;
        float[] xn = dhv, y = dk;
        RmsNorm.forward(xn, rstd, inp, norm.data(), norm.offset(), n, c);
        Linear.forward(proj, xn, inProj.data(), inProj.offset(), n, c, width);
        Elementwise ew = Kernels.elementwise();
        float[] bias = gateBias.data();
        int bo = gateBias.offset();
        Parallel.forRange(n, 64, (from, to) -> {
            for (int i = from; i < to; i++) {
                int pr = i * width, r = i * c;
                ew.sigmoid(proj, pr, null, 0, proj, pr, c);                 // z = sigmoid(z), in place
                ew.sigmoid(proj, pr + 2 * c, bias, bo, proj, pr + 2 * c, c); // g = sigmoid(g + gate_bias), in place
                for (int h = 0; h < heads; h++) {                            // q tiled over heads (Tensor.repeat)
                    System.arraycopy(proj, pr + qOff + (h % groups) * d, qr, r + h * d, d);
                }
            }
        });
        GatedScan.forward(hv, 0, c, proj, 2 * c, width, proj, c, width, batch, seqLen, c, chunkLen); // over x
        // over k, read tiled from proj (head h uses group h mod G: column j mod G*D)
        GatedScan.forward(hk, 0, c, proj, 2 * c, width, proj, kOff, width, groups * d, batch, seqLen, c, chunkLen);
        Parallel.forRange(n, 256, (from, to) -> System.arraycopy(hk, from * c, kr, from * c, (to - from) * c));
        rope.rotate(qr, 0, c, batch, seqLen, heads, 0, chunkLen, false);
        rope.rotate(kr, 0, c, batch, seqLen, heads, 0, chunkLen, false);
        Kernels.attention().chunkForward(batch, seqLen, heads, d, chunkLen, scale,
                new Strided(qr, 0, c), new Strided(kr, 0, c), new Strided(hv, 0, c), new Strided(att, 0, c), lse);
        Parallel.forRange(n, 64, (from, to) -> {
            for (int i = from; i < to; i++) {
                int pr = i * width, r = i * c;
                for (int j = 0; j < c; j++) y[r + j] = proj[pr + j] * att[r + j]; // y = z * att
            }
        });
        Linear.forward(out, y, outProj.data(), outProj.offset(), n, c, c);
        Buffers.addInto(out, inp, nc);
    }

    @Override
    public void backward(float[] dout, float[] dinp, float[] grads) {
        int n = batch * seqLen, nc = n * c, qOff = 3 * c, kOff = 3 * c + groups * d;
        Buffers.addInto(dinp, dout, nc); // out = inp + ...
        dy = Buffers.zeroed(dy, nc);
        Linear.backward(dy, grads, outProj.offset(), dout, dk, outProj.data(), outProj.offset(), n, c, c); // dk holds y
        dproj = Buffers.zeroed(dproj, Sizes.product(n, width));
        Parallel.forRange(n, 64, (from, to) -> {
            for (int i = from; i < to; i++) {
                int pr = i * width, r = i * c;
                for (int j = 0; j < c; j++) {
                    float zz = proj[pr + j], dyv = dy[r + j];
                    dproj[pr + j] = dyv * att[r + j] * zz * (1f - zz); // y = sigmoid(zpre) * att
                    dy[r + j] = dyv * zz;                              // dy becomes d att
                }
            }
        });
        dq = Buffers.zeroed(dq, nc); dk = Buffers.zeroed(dk, nc); dhv = Buffers.zeroed(dhv, nc);
        Kernels.attention().chunkBackward(batch, seqLen, heads, d, chunkLen, scale,
                new Strided(qr, 0, c), new Strided(kr, 0, c), new Strided(hv, 0, c), new Strided(att, 0, c), lse,
                new Strided(dy, 0, c), new Strided(dq, 0, c), new Strided(dk, 0, c), new Strided(dhv, 0, c));
        rope.rotate(dq, 0, c, batch, seqLen, heads, 0, chunkLen, true); // qr = R q
        rope.rotate(dk, 0, c, batch, seqLen, heads, 0, chunkLen, true); // kr = R hk
        // d g accumulates in dproj's g columns; d x and the group sums of d k go straight to their dproj columns
        GatedScan.backward(dproj, c, width, dproj, 2 * c, width, dhv, 0, c, hv, 0, c, proj, 2 * c, width, proj, c, width,
                batch, seqLen, c, chunkLen);
        GatedScan.backward(dproj, kOff, width, dproj, 2 * c, width, dk, 0, c, hk, 0, c, proj, 2 * c, width, proj, kOff, width,
                groups * d, batch, seqLen, c, chunkLen);
        Parallel.forRange(n, 64, (from, to) -> {
            for (int i = from; i < to; i++) {
                int pr = i * width, r = i * c;
                for (int j = 0; j < c; j++) {
                    float gg = proj[pr + 2 * c + j];
                    dproj[pr + 2 * c + j] = dproj[pr + 2 * c + j] * gg * (1f - gg); // g = sigmoid(gpre + gate_bias)
                }
                for (int h = 0; h < heads; h++) { // q tiled: each group sums its heads' gradients
                    int dst = pr + qOff + (h % groups) * d, src = r + h * d;
                    for (int e = 0; e < d; e++) dproj[dst + e] += dq[src + e];
                }
            }
        });
        Buffers.sumRowsInto(grads, gateBias.offset(), dproj, 2 * c, width, n, c); // d gate_bias = sum over tokens of d gpre
        float[] xn = dk, dxn = Buffers.zeroed(dq, nc); // dk and dq are spent: they hold xn (recomputed, same bits) and d xn
        RmsNorm.forward(xn, null, inp, norm.data(), norm.offset(), n, c);
        Linear.backward(dxn, grads, inProj.offset(), dproj, xn, inProj.data(), inProj.offset(), n, c, width);
        RmsNorm.backward(dinp, grads, norm.offset(), dxn, inp, norm.data(), norm.offset(), rstd, n, c);
    }

    /**
     * RAT's decoding state: per (sequence, head) the rotated final key and value of every completed chunk, and per
     * sequence the running (unrotated) key/value state of its current chunk. It grows by one key/value per L tokens.
     */
    public static final class RatCache implements Cache {
        final float[] finalK, finalV; // (B, H, maxChunks, D)
        final float[] runK, runV;     // (B, C)
        final int batch, maxChunks;
        // step scratch, n <= B rows
        final float[] xn, proj;       // (B, C), (B, width)
        final float[] z, g, q, k;     // (B, C) each
        final float[] kcur, att;      // (B, C) rotated running key, attention output

        RatCache(int batch, int heads, int maxChunks, int d, int width) {
            this.batch = batch;
            this.maxChunks = maxChunks;
            int bc = Sizes.product(batch, heads, d);
            finalK = new float[Sizes.product(batch, heads, maxChunks, d)];
            finalV = new float[finalK.length];
            runK = new float[bc];
            runV = new float[bc];
            xn = new float[bc];
            proj = new float[Sizes.product(batch, width)];
            z = new float[bc];
            g = new float[bc];
            q = new float[bc];
            k = new float[bc];
            kcur = new float[bc];
            att = new float[bc];
        }

        @Override public long bytes() { return 4L * (finalK.length + finalV.length + runK.length + runV.length); }

        @Override public int batch() { return batch; }

        @Override public void copy(int from, int to) {
            int per = finalK.length / batch, c = runK.length / batch;
            System.arraycopy(finalK, from * per, finalK, to * per, per);
            System.arraycopy(finalV, from * per, finalV, to * per, per);
            System.arraycopy(runK, from * c, runK, to * c, c);
            System.arraycopy(runV, from * c, runV, to * c, c);
        }
    }

    @Override
    public Cache newCache(int batch, int maxLen) {
        return new RatCache(batch, heads, Math.max(1, (maxLen + chunkLen - 1) / chunkLen), d, width);
    }

    @Override
    public void fillCache(Cache cache, int slot, int row, int prefix) {
        RatCache rc = (RatCache) cache;
        if (prefix < 1 || prefix > seqLen) throw new IllegalArgumentException("prefill of " + prefix + " tokens after a forward of " + seqLen);
        if (row < 0 || row >= batch) throw new IllegalArgumentException("row " + row + " outside the forward's batch of " + batch);
        int done = prefix / chunkLen;
        if (done > rc.maxChunks || (done == rc.maxChunks && prefix % chunkLen != 0)) {
            throw new IllegalArgumentException("prefill of " + prefix + " tokens exceeds the RAT cache's " + rc.maxChunks * chunkLen);
        }
        for (int j = 0; j < done; j++) {
            int src = (row * seqLen + j * chunkLen + chunkLen - 1) * c;
            for (int h = 0; h < heads; h++) {
                int dst = ((slot * heads + h) * rc.maxChunks + j) * d;
                System.arraycopy(kr, src + h * d, rc.finalK, dst, d);
                System.arraycopy(hv, src + h * d, rc.finalV, dst, d);
            }
        }
        int last = (row * seqLen + prefix - 1) * c;
        System.arraycopy(hk, last, rc.runK, slot * c, c);
        System.arraycopy(hv, last, rc.runV, slot * c, c);
    }

    @Override
    public void step(float[] inp, float[] out, Cache cache, int n, int[] slots, int[] positions) {
        RatCache rc = (RatCache) cache;
        for (int r = 0; r < n; r++) {
            if (positions[r] / chunkLen >= rc.maxChunks) throw new IllegalStateException("RAT cache full at " + rc.maxChunks * chunkLen + " tokens");
        }
        int nc = n * c;
        RmsNorm.forward(rc.xn, null, inp, norm.data(), norm.offset(), n, c);
        inProjDecode.apply(rc.proj, rc.xn, n);
        prepare(rc.proj, n, rc.z, rc.g, rc.q, rc.k);
        for (int r = 0; r < n; r++) { // hk_t = g hk_{t-1} + (1 - g) k_t, likewise hx on x; restart at a chunk start
            boolean restart = positions[r] % chunkLen == 0;
            int row = r * c, state = slots[r] * c;
            for (int j = 0; j < c; j++) {
                float gv = rc.g[row + j];
                float pk = restart ? 0f : rc.runK[state + j], pv = restart ? 0f : rc.runV[state + j];
                rc.runK[state + j] = gv * pk + (1f - gv) * rc.k[row + j];
                rc.runV[state + j] = gv * pv + (1f - gv) * rc.proj[r * width + c + j];
            }
            System.arraycopy(rc.runK, state, rc.kcur, row, c);
        }
        rope.rotateRows(rc.q, 0, c, n, heads, positions, chunkLen); // angle index = chunk
        rope.rotateRows(rc.kcur, 0, c, n, heads, positions, chunkLen);
        Parallel.forRange(n, 1, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int slot = slots[r];
                Kernels.attention().decode(1, heads, d, positions[r] / chunkLen, rc.maxChunks, scale, new Strided(rc.q, r * c, c),
                        rc.finalK, rc.finalV, slot * heads * rc.maxChunks * d, new Strided(rc.kcur, r * c, c),
                        new Strided(rc.runV, slot * c, c), new Strided(rc.att, r * c, c));
            }
        });
        for (int r = 0; r < n; r++) {
            int chunk = positions[r] / chunkLen, slot = slots[r];
            if (positions[r] % chunkLen != chunkLen - 1) continue;
            for (int h = 0; h < heads; h++) { // the running state becomes this chunk's final key/value
                int dst = ((slot * heads + h) * rc.maxChunks + chunk) * d;
                System.arraycopy(rc.kcur, r * c + h * d, rc.finalK, dst, d);
                System.arraycopy(rc.runV, slot * c + h * d, rc.finalV, dst, d);
            }
        }
        for (int i = 0; i < nc; i++) rc.att[i] *= rc.z[i];
        outProjDecode.apply(out, rc.att, n);
        Buffers.addInto(out, inp, nc);
    }

    @Override
    public long stepWeightBytes() {
        return inProjDecode.bytes() + outProjDecode.bytes() + 4L * (norm.size() + gateBias.size());
    }

    @Override
    public long stepCacheBytes(int pos) {
        return 4L * (2L * (pos / chunkLen) * c + 2L * c); // the earlier chunks' finals and the running state
    }
}
