package rat4j.kernel;

/**
 * The process-wide kernel backends, chosen once. The GEMM backend defaults to the fastest available one
 * ({@link GemmBackends#best()}), which says at start-up which it took; the CLI may choose another explicitly.
 */
public final class Kernels {
    private static volatile Gemm gemm;
    private static volatile Attention attention;
    private static volatile Elementwise elementwise;
    private static volatile Bf16Gemm bf16Gemm;
    private static volatile Gemv gemv;

    private Kernels() {}

    public static Gemm gemm() {
        Gemm g = gemm;
        if (g == null) {
            synchronized (Kernels.class) {
                if (gemm == null) gemm = GemmBackends.best();
                g = gemm;
            }
        }
        return g;
    }

    public static void useGemm(Gemm g) {
        gemm = g;
    }

    public static Attention attention() {
        Attention a = attention;
        if (a == null) {
            synchronized (Kernels.class) {
                if (attention == null) attention = SimdBackends.best(Attention.class, "attention", NaiveAttention::new, Attention::name);
                a = attention;
            }
        }
        return a;
    }

    public static void useAttention(Attention a) {
        attention = a;
    }

    public static Elementwise elementwise() {
        Elementwise e = elementwise;
        if (e == null) {
            synchronized (Kernels.class) {
                if (elementwise == null) {
                    elementwise = SimdBackends.best(Elementwise.class, "elementwise", NaiveElementwise::new, Elementwise::name);
                }
                e = elementwise;
            }
        }
        return e;
    }

    /** The product with bf16 weights of the decode path, chosen on first use (RAT4J_BF16GEMM=naive forces the reference). */
    public static Bf16Gemm bf16Gemm() {
        Bf16Gemm g = bf16Gemm;
        if (g == null) {
            synchronized (Kernels.class) {
                if (bf16Gemm == null) bf16Gemm = SimdBackends.best(Bf16Gemm.class, "bf16gemm", NaiveBf16Gemm::new, Bf16Gemm::name);
                g = bf16Gemm;
            }
        }
        return g;
    }

    public static void useBf16Gemm(Bf16Gemm g) {
        bf16Gemm = g;
    }

    /** The decode path's product with float32 weights, chosen on first use (RAT4J_GEMV=naive forces the reference). */
    public static Gemv gemv() {
        Gemv g = gemv;
        if (g == null) {
            synchronized (Kernels.class) {
                if (gemv == null) gemv = SimdBackends.best(Gemv.class, "gemv", NaiveGemv::new, Gemv::name);
                g = gemv;
            }
        }
        return g;
    }

    public static void useGemv(Gemv g) {
        gemv = g;
    }
}
