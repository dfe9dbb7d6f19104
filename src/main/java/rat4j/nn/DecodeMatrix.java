package rat4j.nn;

import rat4j.kernel.Kernels;
import rat4j.tensor.Tensor;

/**
 * A weight matrix W (rows, cols) as the decode path reads it: the float32 view of the model's parameters, or the same
 * entries of a bf16 copy of them (laid out like the parameters, so the view's offset addresses both).
 *
 * @param bf16 the model's parameters in bf16, or null to read the float32 view
 */
public record DecodeMatrix(Tensor f32, short[] bf16) {
    public DecodeMatrix {
        if (f32.rank() != 2) throw new IllegalArgumentException("a decode matrix is 2-D, got " + f32.shapeString());
        if (bf16 != null && bf16.length != f32.data().length) {
            throw new IllegalArgumentException("the bf16 copy holds " + bf16.length + " values, the parameters " + f32.data().length);
        }
    }

    public int rows() { return f32.dim(0); }

    public int cols() { return f32.dim(1); }

    /**
     * out (n, rows) = inp (n, cols) W^T, with the decode kernels: they read W once for all n rows, on every thread,
     * and give each row the same bits whatever n is (the packing GEMM of Linear would copy W every step).
     */
    public void apply(float[] out, float[] inp, int n) {
        if (bf16 == null) Kernels.gemv().gemv(n, rows(), cols(), inp, 0, f32.data(), f32.offset(), out, 0);
        else Kernels.bf16Gemm().gemm(n, rows(), cols(), inp, 0, bf16, f32.offset(), out, 0);
    }

    /** Bytes of W one application reads. */
    public long bytes() {
        return (long) rows() * cols() * (bf16 == null ? Float.BYTES : Short.BYTES);
    }
}
