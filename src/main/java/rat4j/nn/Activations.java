package rat4j.nn;

/** Scalar activation functions shared by the layers (forward value and derivative). */
public final class Activations {
    private Activations() {}

    private static final double INV_SQRT2 = 0.7071067811865476;
    private static final double INV_SQRT_2PI = 0.3989422804014327;

    public static float sigmoid(float x) {
        return (float) (1.0 / (1.0 + Math.exp(-x)));
    }

    /**
     * Complementary error function with fractional error below 1.2e-7 everywhere (Chebyshev fit, Press et al.,
     * Numerical Recipes 2nd ed. sec. 6.2): float32 accuracy for exact GELU without an erf in java.lang.Math.
     */
    static double erfc(double x) {
        double z = Math.abs(x);
        double t = 1.0 / (1.0 + 0.5 * z);
        double ans = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? ans : 2.0 - ans;
    }

    /** Exact GELU, torch.nn.GELU(): x * Phi(x), Phi the standard normal CDF. */
    public static float gelu(float x) {
        return (float) (x * 0.5 * erfc(-x * INV_SQRT2));
    }

    /** d gelu / dx = Phi(x) + x * phi(x). */
    public static float geluGrad(float x) {
        double cdf = 0.5 * erfc(-x * INV_SQRT2);
        double pdf = INV_SQRT_2PI * Math.exp(-0.5 * (double) x * x);
        return (float) (cdf + x * pdf);
    }
}
