package rat4j.kernel;

/** The scalar reference of {@link Gemv}: one dot product per output, summed in double. */
public final class NaiveGemv implements Gemv {
    @Override public String name() { return "naive"; }

    @Override
    public void gemv(int n, int rows, int cols, float[] x, int xOff, float[] w, int wOff, float[] out, int outOff) {
        Gemv.check(n, rows, cols, x, xOff, w, wOff, out, outOff);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < rows; j++) {
                double acc = 0;
                for (int p = 0; p < cols; p++) acc += (double) x[xOff + i * cols + p] * w[wOff + j * cols + p];
                out[outOff + i * rows + j] = (float) acc;
            }
        }
    }
}
