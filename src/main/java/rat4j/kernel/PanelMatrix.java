package rat4j.kernel;

/**
 * A weight matrix W (rows, cols) laid out for the decode products ({@link DecodeGemm}): cut into panels of
 * {@link #PANEL} rows (the last one padded with zero rows), each stored column by column. One step of a product's
 * inner loop then reads the 32 weights W[j0 .. j0+32, k] as adjacent values, each one multiplies a broadcast x[i, k]
 * (an outer product, as in a BLIS micro-kernel), and the matrix streams from memory in one sequential pass.
 *
 * <p>float32 keeps the weights as they are: (panels, cols, 32) floats. bf16 packs two per int, (panels, cols, 16):
 * the int at r holds W[j0 + r, k] in its low half and W[j0 + 16 + r, k] in its high half, so one int load gives both
 * halves of the panel's column as floats with a shift and a mask (both exact).
 *
 * <p>The packed copy is made once from the model's float32 parameters and does not follow later changes to them.
 */
public final class PanelMatrix {
    /** Rows of W per panel. */
    public static final int PANEL = 32;
    /** bf16 ints per panel column: each holds two weights. */
    public static final int HALF = PANEL / 2;

    private final int rows, cols;
    private final float[] f32; // FP32: (panels, cols, PANEL)
    private final int[] bf16;  // BF16: (panels, cols, HALF), two weights per int

    private PanelMatrix(int rows, int cols, float[] f32, int[] bf16) {
        this.rows = rows;
        this.cols = cols;
        this.f32 = f32;
        this.bf16 = bf16;
    }

    /** W = w[off, off + rows * cols) read as (rows, cols) row-major, packed in format (bf16 rounds to nearest even). */
    public static PanelMatrix pack(float[] w, int off, int rows, int cols, WeightFormat format) {
        if (rows < 0 || cols < 0 || off < 0) throw new IllegalArgumentException("bad matrix (" + rows + ", " + cols + ") at " + off);
        if (off + (long) rows * cols > w.length) {
            throw new IllegalArgumentException("matrix (" + rows + ", " + cols + ") at " + off + " exceeds " + w.length + " floats");
        }
        int panels = Math.ceilDiv(rows, PANEL);
        long size = (long) panels * cols * (format == WeightFormat.BF16 ? HALF : PANEL);
        if (size > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("matrix (" + rows + ", " + cols + ") too large to pack");
        int grain = Math.max(1, (1 << 16) / Math.max(1, PANEL * cols));
        if (format == WeightFormat.FP32) {
            float[] packed = new float[(int) size];
            Parallel.forRange(panels, grain, (t0, t1) -> {
                for (int t = t0; t < t1; t++) {
                    for (int r = 0; r < PANEL && t * PANEL + r < rows; r++) {
                        int src = off + (t * PANEL + r) * cols, dst = t * cols * PANEL + r;
                        for (int k = 0; k < cols; k++) packed[dst + k * PANEL] = w[src + k];
                    }
                }
            });
            return new PanelMatrix(rows, cols, packed, null);
        }
        int[] packed = new int[(int) size];
        Parallel.forRange(panels, grain, (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                for (int r = 0; r < HALF; r++) {
                    int lo = t * PANEL + r, hi = lo + HALF, dst = t * cols * HALF + r;
                    for (int k = 0; k < cols; k++) {
                        int low = lo < rows ? Bf16.fromFloat(w[off + lo * cols + k]) & 0xffff : 0;
                        int high = hi < rows ? Bf16.fromFloat(w[off + hi * cols + k]) << 16 : 0;
                        packed[dst + k * HALF] = high | low;
                    }
                }
            }
        });
        return new PanelMatrix(rows, cols, null, packed);
    }

    public int rows() { return rows; }

    public int cols() { return cols; }

    public int panels() { return Math.ceilDiv(rows, PANEL); }

    public WeightFormat format() { return f32 != null ? WeightFormat.FP32 : WeightFormat.BF16; }

    /** FP32 storage, (panels, cols, PANEL); null for bf16. */
    public float[] f32() { return f32; }

    /** BF16 storage, (panels, cols, HALF) ints of two weights; null for float32. */
    public int[] bf16() { return bf16; }

    /** W[j, k] as the products read it (for bf16, the rounded value). */
    public float weight(int j, int k) {
        int t = j / PANEL, r = j % PANEL;
        if (f32 != null) return f32[(t * cols + k) * PANEL + r];
        int pair = bf16[(t * cols + k) * HALF + r % HALF];
        return Float.intBitsToFloat(r < HALF ? pair << 16 : pair & 0xffff0000);
    }

    /** Bytes one product reads from W: the packed storage, padding rows included. */
    public long bytes() {
        return bytes(rows, cols, format());
    }

    /** Bytes of a (rows, cols) matrix packed in format. */
    public static long bytes(int rows, int cols, WeightFormat format) {
        return (long) Math.ceilDiv(rows, PANEL) * PANEL * cols * (format == WeightFormat.BF16 ? Short.BYTES : Float.BYTES);
    }
}
