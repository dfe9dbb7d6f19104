package rat4j.kernel;

/** The scalar reference of {@link DecodeGemm}: one fma chain per output, in column order, as the contract says. */
public final class NaiveDecodeGemm implements DecodeGemm {
    @Override public String name() { return "naive"; }

    @Override
    public void apply(int n, float[] x, int xOff, PanelMatrix w, float[] out, int outOff) {
        DecodeGemm.check(n, x, xOff, w, out, outOff);
        int rows = w.rows(), cols = w.cols();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < rows; j++) {
                float s = 0f;
                for (int k = 0; k < cols; k++) s = Math.fma(x[xOff + i * cols + k], w.weight(j, k), s);
                out[outOff + i * rows + j] = s;
            }
        }
    }
}
