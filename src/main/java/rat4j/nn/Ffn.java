package rat4j.nn;

import rat4j.kernel.Elementwise;
import rat4j.kernel.Kernels;
import rat4j.kernel.WeightFormat;
import rat4j.kernel.Parallel;
import rat4j.tensor.Sizes;
import rat4j.tensor.Tensor;

/** The reference's FFN hidden layer: y = x + fc2(gelu(fc1(rmsnorm(x)))), no biases, exact GELU. */
public final class Ffn implements Block {
    private final int c, hidden;
    private final Tensor ln, fc1, fc2; // (C), (F, C), (F... C)
    private final DecodeMatrix fc1Decode, fc2Decode;
    // saved activations, N = B*T rows
    private float[] inp;                 // (N, C) the input, by reference
    private float[] xn, rstd, pre, act;  // (N, C), (N), (N, F), (N, F)
    private float[] dact, dxn;           // backward scratch: (N, F), (N, C)
    private int n;

    /** @param ln (C) norm weight, fc1 (F, C), fc2 (C, F): views into the model's parameter storage */
    public Ffn(Tensor ln, Tensor fc1, Tensor fc2) {
        this(ln, fc1, fc2, new DecodeWeights(WeightFormat.FP32));
    }

    /** @param decode where the decode path's copies of the matrices come from (their format, their packing) */
    public Ffn(Tensor ln, Tensor fc1, Tensor fc2, DecodeWeights decode) {
        this.c = ln.dim(0);
        this.hidden = fc1.dim(0);
        this.ln = ln;
        this.fc1 = fc1;
        this.fc2 = fc2;
        this.fc1Decode = decode.of(fc1);
        this.fc2Decode = decode.of(fc2);
    }

    public int hidden() { return hidden; }

    private void ensure(int rows) {
        if (xn == null || xn.length < Sizes.product(rows, c)) {
            xn = new float[Sizes.product(rows, c)];
            rstd = new float[rows];
            pre = new float[Sizes.product(rows, hidden)];
            act = new float[Sizes.product(rows, hidden)];
        }
    }

    @Override
    public void forward(float[] inp, float[] out, int batch, int seqLen) {
        n = Sizes.product(batch, seqLen);
        ensure(n);
        this.inp = inp;
        RmsNorm.forward(xn, rstd, inp, ln.data(), ln.offset(), n, c);
        Linear.forward(pre, xn, fc1.data(), fc1.offset(), n, c, hidden);
        int total = n * hidden;
        Elementwise ew = Kernels.elementwise();
        Parallel.forRange(total, 4096, (from, to) -> ew.gelu(pre, act, from, to));
        Linear.forward(out, act, fc2.data(), fc2.offset(), n, hidden, c);
        int nc = n * c;
        Buffers.addInto(out, inp, nc); // residual
    }

    @Override
    public void backward(float[] dout, float[] dinp, float[] grads) {
        int nc = n * c;
        Buffers.addInto(dinp, dout, nc); // out = inp + ...
        dact = Buffers.zeroed(dact, Sizes.product(n, hidden));
        Linear.backward(dact, grads, fc2.offset(), dout, act, fc2.data(), fc2.offset(), n, hidden, c);
        Elementwise ew = Kernels.elementwise();
        Parallel.forRange(n * hidden, 4096, (from, to) -> ew.geluBackward(pre, dact, from, to)); // act = gelu(pre)
        dxn = Buffers.zeroed(dxn, nc);
        Linear.backward(dxn, grads, fc1.offset(), dact, xn, fc1.data(), fc1.offset(), n, c, hidden);
        RmsNorm.backward(dinp, grads, ln.offset(), dxn, inp, ln.data(), ln.offset(), rstd, n, c);
    }

    /**
     * The forward of n decoding rows, saving nothing: out (n, C) = inp + fc2(gelu(fc1(rmsnorm(inp)))), with the
     * caller's scratch xn (n, C) and act (n, F), and the matrices in their decode format.
     */
    public void step(float[] inp, float[] out, int n, float[] xn, float[] act) {
        RmsNorm.forward(xn, null, inp, ln.data(), ln.offset(), n, c);
        fc1Decode.apply(act, xn, n);
        int total = n * hidden;
        Elementwise ew = Kernels.elementwise();
        Parallel.forRange(total, 4096, (from, to) -> ew.gelu(act, act, from, to));
        fc2Decode.apply(out, act, n);
        Buffers.addInto(out, inp, n * c);
    }

    /** Bytes of weights one step reads. */
    public long stepWeightBytes() {
        return fc1Decode.bytes() + fc2Decode.bytes() + 4L * ln.size();
    }
}
