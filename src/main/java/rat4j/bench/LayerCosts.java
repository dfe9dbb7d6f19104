package rat4j.bench;

import rat4j.model.LayerKind;

import java.util.ArrayList;
import java.util.List;

/**
 * FLOP and byte counts of the benchmarked layer, from its algorithm (not from how our kernels happen to run it).
 * Letters: B batch, T time, N = B*T tokens, C model dim, H heads, D = C/H, W = in_proj rows (3C, RAT 3C + 2GD),
 * P = (query, key) pairs per (sequence, head), {@link BenchLayer#pairs}. Floats are 4 bytes.
 * <ul>
 * <li>A linear layer (N, in) -> (N, out): 2*N*in*out FLOPs forward, and twice that backward (dX = dY W, dW = dY^T X);
 *     bytes are its operands read once and its result written once (read and written when it accumulates).
 * <li>Attention: 4D FLOPs per (query, key, head) forward (q.k and p*v), 10D backward (s, dP, dv, dk, dq: as
 *     flash-attention recomputes s); q, k, v, out streamed once forward; q, k, v, out, dout read and dq, dk, dv
 *     accumulated backward. Per token that is ~2TC forward for full attention and ~2TC/L for RAT.
 * <li>Element-wise passes (norm, RoPE, gates, scans, residuals, zeroing of gradient scratch) are counted by bytes
 *     only: their few FLOPs per element never bind here. The float counts per (token, channel) are listed in
 *     {@link #elementwiseFloats}.
 * <li>A decode step at position p reads the whole cache it attends to: keysAt(p) keys and values per (sequence, head).
 * </ul>
 */
public final class LayerCosts {
    private static final double F32 = 4;

    private LayerCosts() {}

    /** The work of one timed call of {@code phase} at (batch, seqLen); decode phases step at position seqLen - 1. */
    public static Cost of(BenchLayer layer, Phase phase, int c, int heads, int batch, int seqLen) {
        return switch (phase) {
            case TRAIN -> forward(layer, c, heads, batch, seqLen).plus(backward(layer, c, heads, batch, seqLen));
            case PREFILL -> forward(layer, c, heads, batch, seqLen).plus(fill(layer, c, batch, seqLen));
            case GENERATE, GENERATE_ONE -> decode(layer, c, heads, batch, seqLen - 1);
        };
    }

    /** Floats moved per (token, channel) by the element-wise passes, forward or backward. */
    static double elementwiseFloats(BenchLayer layer, boolean backward) {
        // forward, common to all: norm reads x and writes xn (2), residual out += inp (3)
        // attention: RoPE on q and k in place (4)
        // RAT: gates and q/k tiling write z, g, q, k and read z, g (6), two scans read g, u and write h (6),
        //      hk copied for rotation (2), RoPE on q and k (4), y = z * att (3)
        // RNN: gates (4), one scan (3), y = z * h (3)
        // backward: residual (3), zeroing of scratch (attention 5, RAT 11, RNN 7), norm backward and its weight
        //      pass (7), RoPE inverse (4, attention and RAT), z/att pass (5), scans (8 each), gate pass (3),
        //      RAT's q/k group sums (2), gate-bias sums (1)
        return switch (layer.kind()) {
            case ATTENTION, LOCAL_ATTENTION -> backward ? 3 + 5 + 7 + 4 : 5 + 4;
            case RAT -> backward ? 3 + 11 + 7 + 4 + 5 + 16 + 3 + 2 + 1 : 5 + 6 + 6 + 2 + 4 + 3;
            case RNN -> backward ? 3 + 7 + 7 + 5 + 8 + 3 + 1 : 5 + 4 + 3 + 3;
        };
    }

    static Cost forward(BenchLayer layer, int c, int heads, int batch, int seqLen) {
        double n = (double) batch * seqLen;
        int w = layer.projWidth(c, heads);
        List<Cost.Part> parts = new ArrayList<>();
        parts.add(linearForward("in_proj", n, c, w));
        double pairs = layer.pairs(seqLen);
        if (pairs > 0) parts.add(new Cost.Part(Cost.ATTENTION, "attention", 4.0 * batch * c * pairs, F32 * 4 * n * c));
        parts.add(new Cost.Part(Cost.ELEMENTWISE, "element-wise", 0, F32 * n * c * elementwiseFloats(layer, false)));
        parts.add(linearForward("out_proj", n, c, c));
        return new Cost(parts);
    }

    static Cost backward(BenchLayer layer, int c, int heads, int batch, int seqLen) {
        double n = (double) batch * seqLen;
        int w = layer.projWidth(c, heads);
        List<Cost.Part> parts = new ArrayList<>(linearBackward("out_proj", n, c, c));
        double pairs = layer.pairs(seqLen);
        if (pairs > 0) parts.add(new Cost.Part(Cost.ATTENTION, "attention backward", 10.0 * batch * c * pairs, F32 * 11 * n * c));
        parts.add(new Cost.Part(Cost.ELEMENTWISE, "element-wise backward", 0, F32 * n * c * elementwiseFloats(layer, true)));
        parts.addAll(linearBackward("in_proj", n, c, w));
        return new Cost(parts);
    }

    /** Copying the forward's keys/values (or states) into the cache: read once, written once. */
    static Cost fill(BenchLayer layer, int c, int batch, int seqLen) {
        double rows = switch (layer.kind()) {
            case ATTENTION -> 2.0 * seqLen;
            case LOCAL_ATTENTION -> 2.0 * Math.min(seqLen, layer.param() + 1L);
            case RAT -> 2.0 * (seqLen / layer.param()) + 2;
            case RNN -> 1;
        };
        return new Cost(List.of(new Cost.Part(Cost.ELEMENTWISE, "cache fill", 0, 2 * F32 * batch * rows * c)));
    }

    /** One decode step of a batch at position pos. */
    static Cost decode(BenchLayer layer, int c, int heads, int batch, int pos) {
        int w = layer.projWidth(c, heads);
        List<Cost.Part> parts = new ArrayList<>();
        parts.add(linearForward("in_proj", batch, c, w));
        double keys = layer.keysAt(pos);
        if (keys > 0) {
            parts.add(new Cost.Part(Cost.ATTENTION, "decode attention", 4.0 * batch * c * keys, F32 * (2.0 * batch * c * keys + 2.0 * batch * c)));
        }
        // norm, residual, RoPE or the state update, gates: a few dozen floats per (sequence, channel)
        double floats = layer.kind() == LayerKind.RAT ? 25 : layer.kind() == LayerKind.RNN ? 15 : 12;
        parts.add(new Cost.Part(Cost.ELEMENTWISE, "element-wise", 0, F32 * floats * batch * c));
        parts.add(linearForward("out_proj", batch, c, c));
        return new Cost(parts);
    }

    static Cost.Part linearForward(String name, double n, int in, int out) {
        return new Cost.Part(Cost.GEMM, name, 2.0 * n * in * out, F32 * (n * in + (double) in * out + n * out));
    }

    static List<Cost.Part> linearBackward(String name, double n, int in, int out) {
        return List.of(
                new Cost.Part(Cost.GEMM, name + " dX", 2.0 * n * in * out, F32 * (n * out + (double) in * out + 2 * n * in)),
                new Cost.Part(Cost.GEMM, name + " dW", 2.0 * n * in * out, F32 * (n * out + n * in + 2.0 * in * out)));
    }

    /** Bytes of a decode cache of batch sequences of up to maxLen tokens, as the layers allocate it. */
    public static long cacheBytes(BenchLayer layer, int c, int batch, int maxLen) {
        long bc = (long) batch * c;
        return switch (layer.kind()) {
            case ATTENTION -> 8 * bc * maxLen;
            case LOCAL_ATTENTION -> 8 * bc * Math.min(maxLen, layer.param() + 1L);
            case RAT -> 8 * bc * Math.max(1, (maxLen + (long) layer.param() - 1) / layer.param()) + 8 * bc;
            case RNN -> 4 * bc;
        };
    }

    /**
     * About the heap one point needs beyond what it already holds: the layer's activations for (batch, seqLen)
     * (forward buffers, plus backward scratch when training, plus the bench's input/output arrays), in bytes.
     */
    public static long activationBytes(BenchLayer layer, int c, int heads, int batch, int seqLen, boolean train) {
        double w = layer.projWidth(c, heads) / (double) c; // in_proj width in units of C
        // forward: xn, proj, the kind's saved (N, C) arrays, the bench's input and output
        double fwd = switch (layer.kind()) {
            case ATTENTION, LOCAL_ATTENTION -> 1 + w + 1 + 2;
            case RAT -> 1 + w + 9 + 2;
            case RNN -> 1 + w + 4 + 2;
        };
        double bwd = switch (layer.kind()) {
            case ATTENTION, LOCAL_ATTENTION -> 1 + w + 1 + 2;
            case RAT -> 7 + w + 1 + 2;
            case RNN -> 4 + w + 2;
        };
        return (long) (F32 * batch * (double) seqLen * c * (train ? fwd + bwd : fwd));
    }
}
