package rat4j.nn;

import rat4j.kernel.Attention;
import rat4j.kernel.Kernels;
import rat4j.kernel.WeightFormat;
import rat4j.kernel.Parallel;
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
    private final DecodeMatrix inProjDecode, outProjDecode;
    private final Rope rope;
    private float[] inp;                        // (N, C) by reference
    private float[] xn, rstd, proj, att, lse;   // (N,C) (N) (N,3C: v | q rotated | k rotated) (N,C) (B,H,T)
    private float[] datt, dproj, dxn; // backward scratch, reused
    private int batch, seqLen;

    public AttentionLayer(int heads, int window, Rope rope, Tensor norm, Tensor inProj, Tensor outProj) {
        this(heads, window, rope, norm, inProj, outProj, new DecodeWeights(WeightFormat.FP32));
    }

    /** @param decode where the decode path's copies of the matrices come from (their format, their packing) */
    public AttentionLayer(int heads, int window, Rope rope, Tensor norm, Tensor inProj, Tensor outProj, DecodeWeights decode) {
        this.c = norm.dim(0);
        this.heads = heads;
        this.d = c / heads;
        this.window = window;
        this.scale = (float) (1.0 / Math.sqrt(d));
        this.rope = rope;
        this.norm = norm;
        this.inProj = inProj;
        this.outProj = outProj;
        this.inProjDecode = decode.of(inProj);
        this.outProjDecode = decode.of(outProj);
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
        final int batch, slots;
        final float[] xn, proj, att; // step scratch: (B, C), (B, 3C: v | q | k), (B, C)

        KvCache(int batch, int heads, int slots, int d) {
            this.batch = batch;
            this.slots = slots;
            keys = new float[Sizes.product(batch, heads, slots, d)];
            values = new float[keys.length];
            int bc = Sizes.product(batch, heads, d);
            xn = new float[bc];
            proj = new float[Sizes.product(bc, 3)];
            att = new float[bc];
        }

        @Override public long bytes() { return 8L * keys.length; }

        @Override public int batch() { return batch; }

        @Override public void copy(int from, int to) {
            int per = keys.length / batch;
            System.arraycopy(keys, from * per, keys, to * per, per);
            System.arraycopy(values, from * per, values, to * per, per);
        }
    }

    @Override
    public Cache newCache(int batch, int maxLen) {
        int slots = window == FULL ? maxLen : (int) Math.min(maxLen, (long) window + 1);
        return new KvCache(batch, heads, Math.max(1, slots), d);
    }

    @Override
    public void fillCache(Cache cache, int slot, int row, int prefix) {
        KvCache kv = (KvCache) cache;
        if (prefix < 1 || prefix > seqLen) throw new IllegalArgumentException("prefill of " + prefix + " tokens after a forward of " + seqLen);
        if (row < 0 || row >= batch) throw new IllegalArgumentException("row " + row + " outside the forward's batch of " + batch);
        if (window == FULL && prefix > kv.slots) throw new IllegalArgumentException("prefill of " + prefix + " tokens exceeds the attention cache's " + kv.slots);
        for (int t = Math.max(0, prefix - kv.slots); t < prefix; t++) {
            int src = (row * seqLen + t) * 3 * c;
            for (int h = 0; h < heads; h++) {
                int dst = ((slot * heads + h) * kv.slots + t % kv.slots) * d;
                System.arraycopy(proj, src + 2 * c + h * d, kv.keys, dst, d);
                System.arraycopy(proj, src + h * d, kv.values, dst, d);
            }
        }
    }

    @Override
    public void step(float[] inp, float[] out, Cache cache, int n, int[] slots, int[] positions) {
        KvCache kv = (KvCache) cache;
        for (int r = 0; r < n; r++) {
            if (window == FULL && positions[r] >= kv.slots) throw new IllegalStateException("attention cache full at " + kv.slots + " tokens");
        }
        RmsNorm.forward(kv.xn, null, inp, norm.data(), norm.offset(), n, c);
        inProjDecode.apply(kv.proj, kv.xn, n);
        rope.rotateRows(kv.proj, c, 3 * c, n, heads, positions, 1);
        rope.rotateRows(kv.proj, 2 * c, 3 * c, n, heads, positions, 1);
        for (int r = 0; r < n; r++) {
            int pos = positions[r], slot = slots[r];
            for (int h = 0; h < heads; h++) {
                int dst = ((slot * heads + h) * kv.slots + pos % kv.slots) * d;
                System.arraycopy(kv.proj, r * 3 * c + 2 * c + h * d, kv.keys, dst, d);
                System.arraycopy(kv.proj, r * 3 * c + h * d, kv.values, dst, d);
            }
        }
        // a sequence's ring holds positions max(0, pos - slots + 1)..pos (order is irrelevant to softmax)
        Parallel.forRange(n, 1, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int count = (int) Math.min(positions[r] + 1L, kv.slots);
                Kernels.attention().decode(1, heads, d, count, kv.slots, scale, new Strided(kv.proj, r * 3 * c + c, 3 * c),
                        kv.keys, kv.values, slots[r] * heads * kv.slots * d, null, null, new Strided(kv.att, r * c, c));
            }
        });
        outProjDecode.apply(out, kv.att, n);
        Buffers.addInto(out, inp, n * c);
    }

    @Override
    public long stepWeightBytes() {
        return inProjDecode.bytes() + outProjDecode.bytes() + 4L * norm.size();
    }

    @Override
    public long stepCacheBytes(int pos) {
        long count = window == FULL ? pos + 1L : Math.min(pos + 1L, (long) window + 1);
        return 8L * count * c; // a key and a value per visible position
    }
}
