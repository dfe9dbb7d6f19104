package rat4j.nn;

import rat4j.kernel.Kernels;
import rat4j.kernel.PanelMatrix;
import rat4j.kernel.WeightFormat;
import rat4j.tensor.Tensor;

/**
 * A weight matrix W (rows, cols) as the decode path reads it: a copy of the model's parameters packed in panels
 * ({@link PanelMatrix}), float32 or bf16, made on first use (or by {@link DecodeWeights#pack}) and kept. Training
 * never decodes, so it never pays for the copy; a model whose parameters change after it decoded must be built again.
 */
public final class DecodeMatrix {
    private final Tensor f32;
    private final WeightFormat format;
    private volatile PanelMatrix packed;

    DecodeMatrix(Tensor f32, WeightFormat format) {
        if (f32.rank() != 2) throw new IllegalArgumentException("a decode matrix is 2-D, got " + f32.shapeString());
        this.f32 = f32;
        this.format = format;
    }

    public int rows() { return f32.dim(0); }

    public int cols() { return f32.dim(1); }

    /** out (n, rows) = inp (n, cols) W^T with the decode kernel: W read once for all n rows, each row the same bits whatever n is. */
    public void apply(float[] out, float[] inp, int n) {
        Kernels.decodeGemm().apply(n, inp, 0, packed(), out, 0);
    }

    PanelMatrix packed() {
        PanelMatrix p = packed;
        if (p == null) {
            synchronized (this) {
                if (packed == null) packed = PanelMatrix.pack(f32.data(), f32.offset(), rows(), cols(), format);
                p = packed;
            }
        }
        return p;
    }

    /** Bytes of W one application reads. */
    public long bytes() {
        return PanelMatrix.bytes(rows(), cols(), format);
    }
}
