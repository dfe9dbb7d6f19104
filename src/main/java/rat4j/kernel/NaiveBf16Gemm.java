package rat4j.kernel;

/** The scalar reference of {@link Bf16Gemm}: widen each weight, sum in double. */
public final class NaiveBf16Gemm implements Bf16Gemm {
    @Override public String name() { return "naive"; }

    @Override
    public void gemm(int n, int rows, int cols, float[] x, int xOff, short[] w, int wOff, float[] out, int outOff) {
        Bf16Gemm.check(n, rows, cols, x, xOff, w, wOff, out, outOff);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < rows; j++) {
                double acc = 0;
                for (int p = 0; p < cols; p++) acc += (double) x[xOff + i * cols + p] * Bf16.toFloat(w[wOff + j * cols + p]);
                out[outOff + i * rows + j] = (float) acc;
            }
        }
    }
}
