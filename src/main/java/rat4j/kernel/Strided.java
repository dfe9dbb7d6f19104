package rat4j.kernel;

/**
 * Strided addressing of a (B, T, H, D) activation stored as rows: element (b, t, h, d) is at
 * a[off + (b*T + t) * stride + h*D + d]. Lets kernels read q/k/v as column slices of one projection without copies.
 */
public record Strided(float[] a, int off, int stride) {}
