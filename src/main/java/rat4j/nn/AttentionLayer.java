package rat4j.nn;

import rat4j.kernel.Attention;
import rat4j.kernel.Kernels;
import rat4j.kernel.Strided;
import rat4j.tensor.Sizes;
import rat4j.tensor.Tensor;

/**
 * The reference's full causal attention and sliding-window attention (one class; the window is the only difference):
 * x, q, k = split(in_proj(rmsnorm(inp))) (in that row order), RoPE on q and k by token position,
 * softmax(q k^T / sqrt(D)) over keys j with 0 <= i - j <= window, out = inp + out_proj(attention).
 */
public final class AttentionLayer implements SequenceMixer {
    /** Window of full attention. */
    public static final int FULL = Integer.MAX_VALUE;

    private final int c, heads, d, window;
    private final float scale;
    private final Tensor norm, inProj, outProj; // (C), (3C, C), (C, C)
    private final Rope rope;
    private float[] inp;                        // (N, C) by reference
    private float[] xn, rstd, proj, att, lse;   // (N,C) (N) (N,3C: v | q rotated | k rotated) (N,C) (B,H,T)
    private float[] datt, dproj, dxn; // backward scratch, reused
    private int batch, seqLen;

    public AttentionLayer(int heads, int window, Rope rope, Tensor norm, Tensor inProj, Tensor outProj) {
        this.c = norm.dim(0);
        this.heads = heads;
        this.d = c / heads;
        this.window = window;
        this.scale = (float) (1.0 / Math.sqrt(d));
        this.rope = rope;
        this.norm = norm;
        this.inProj = inProj;
        this.outProj = outProj;
    }

    private void ensure(int batch, int seqLen) {
        int n = Sizes.product(batch, seqLen);
        if (xn == null || xn.length < Sizes.product(n, c) || lse.length < Sizes.product(batch, heads, seqLen)) {
            xn = new float[Sizes.product(n, c)];
            rstd = new float[n];
            proj = new float[Sizes.product(n, 3 * c)];
            att = new float[Sizes.product(n, c)];
            lse = new float[Sizes.product(batch, heads, seqLen)];
        }
    }

    @Override
    public void forward(float[] inp, float[] out, int batch, int seqLen) {
        ensure(batch, seqLen);
        int n = batch * seqLen;
        this.inp = inp;
        this.batch = batch;
        this.seqLen = seqLen;
        RmsNorm.forward(xn, rstd, inp, norm.data(), norm.offset(), n, c);
        Linear.forward(proj, xn, inProj.data(), inProj.offset(), n, c, 3 * c);
        rope.rotate(proj, c, 3 * c, batch, seqLen, heads, 0, 1, false);     // q
        rope.rotate(proj, 2 * c, 3 * c, batch, seqLen, heads, 0, 1, false); // k
        Attention k = Kernels.attention();
        k.causalForward(batch, seqLen, heads, d, window, scale,
                new Strided(proj, c, 3 * c), new Strided(proj, 2 * c, 3 * c), new Strided(proj, 0, 3 * c),
                new Strided(att, 0, c), lse);
        Linear.forward(out, att, outProj.data(), outProj.offset(), n, c, c);
        Buffers.addInto(out, inp, n * c);
    }

    @Override
    public void backward(float[] dout, float[] dinp, float[] grads) {
        int n = batch * seqLen, nc = n * c;
        Buffers.addInto(dinp, dout, nc); // out = inp + ...
        datt = Buffers.zeroed(datt, nc);
        Linear.backward(datt, grads, outProj.offset(), dout, att, outProj.data(), outProj.offset(), n, c, c);
        dproj = Buffers.zeroed(dproj, Sizes.product(n, 3 * c)); // v | q | k
        Kernels.attention().causalBackward(batch, seqLen, heads, d, window, scale,
                new Strided(proj, c, 3 * c), new Strided(proj, 2 * c, 3 * c), new Strided(proj, 0, 3 * c),
                new Strided(att, 0, c), lse, new Strided(datt, 0, c),
                new Strided(dproj, c, 3 * c), new Strided(dproj, 2 * c, 3 * c), new Strided(dproj, 0, 3 * c));
        rope.rotate(dproj, c, 3 * c, batch, seqLen, heads, 0, 1, true);     // q = R q0
        rope.rotate(dproj, 2 * c, 3 * c, batch, seqLen, heads, 0, 1, true); // k = R k0
        dxn = Buffers.zeroed(dxn, nc);
        Linear.backward(dxn, grads, inProj.offset(), dproj, xn, inProj.data(), inProj.offset(), n, c, 3 * c);
        RmsNorm.backward(dinp, grads, norm.offset(), dxn, inp, norm.data(), norm.offset(), rstd, n, c);
    }

    /**
     * Keys (rotated) and values per (sequence, head): full attention keeps every position (slots = maxLen), sliding
     * window a ring of window + 1 slots, slot = position mod slots.
     */
    public static final class KvCache implements Cache {
        final float[] keys, values; // (B, H, slots, D)
        final int slots;

        KvCache(int batch, int heads, int slots, int d) {
            this.slots = slots;
            keys = new float[Sizes.product(batch, heads, slots, d)];
            values = new float[keys.length];
        }

        @Override public long bytes() { return 8L * keys.length; }
    }

    @Override
    public Cache newCache(int batch, int maxLen) {
        int slots = window == FULL ? maxLen : (int) Math.min(maxLen, (long) window + 1);
        return new KvCache(batch, heads, slots, d);
    }

    @Override
    public void fillCache(Cache cache, int prefix) {
        KvCache kv = (KvCache) cache;
        if (prefix < 1 || prefix > seqLen) throw new IllegalArgumentException("prefill of " + prefix + " tokens after a forward of " + seqLen);
        for (int b = 0; b < batch; b++) {
            for (int t = Math.max(0, prefix - kv.slots); t < prefix; t++) {
                int row = (b * seqLen + t) * 3 * c;
                for (int h = 0; h < heads; h++) {
                    int dst = ((b * heads + h) * kv.slots + t % kv.slots) * d;
                    System.arraycopy(proj, row + 2 * c + h * d, kv.keys, dst, d);
                    System.arraycopy(proj, row + h * d, kv.values, dst, d);
                }
            }
        }
    }

    @Override
    public void step(float[] inp, float[] out, Cache cache, int batch, int pos) {
        KvCache kv = (KvCache) cache;
        if (window == FULL && pos >= kv.slots) throw new IllegalStateException("attention cache full at " + kv.slots + " tokens");
        float[] sxn = new float[batch * c], sproj = new float[batch * 3 * c], satt = new float[batch * c];
        RmsNorm.forward(sxn, null, inp, norm.data(), norm.offset(), batch, c);
        Linear.forward(sproj, sxn, inProj.data(), inProj.offset(), batch, c, 3 * c);
        rope.rotate(sproj, c, 3 * c, batch, 1, heads, pos, 1, false);
        rope.rotate(sproj, 2 * c, 3 * c, batch, 1, heads, pos, 1, false);
        // the ring holds positions max(0, pos - slots + 1)..pos, in slots 0..count-1 (order is irrelevant to softmax)
        int count = (int) Math.min(pos + 1L, kv.slots);
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                int slot = ((b * heads + h) * kv.slots + pos % kv.slots) * d;
                System.arraycopy(sproj, b * 3 * c + 2 * c + h * d, kv.keys, slot, d);
                System.arraycopy(sproj, b * 3 * c + h * d, kv.values, slot, d);
            }
        }
        Kernels.attention().decode(batch, heads, d, count, kv.slots, scale, new Strided(sproj, c, 3 * c),
                kv.keys, kv.values, 0, null, null, Strided.dense(satt, c));
        Linear.forward(out, satt, outProj.data(), outProj.offset(), batch, c, c);
        Buffers.addInto(out, inp, batch * c);
    }
}
