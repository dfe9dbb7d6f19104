package rat4j.kernel;

/**
 * The process-wide kernel backends, chosen once. The GEMM backend defaults to the fastest available one
 * ({@link GemmBackends#best()}), which says at start-up which it took; the CLI may choose another explicitly.
 */
public final class Kernels {
    private static volatile Gemm gemm;
    private static volatile Attention attention;
    private static volatile Bf16Gemm bf16Gemm;

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
                if (attention == null) attention = AttentionBackends.best();
                a = attention;
            }
        }
        return a;
    }

    public static void useAttention(Attention a) {
        attention = a;
    }

    /** The product with bf16 weights of the decode path, chosen on first use ({@link Bf16GemmBackends#best()}). */
    public static Bf16Gemm bf16Gemm() {
        Bf16Gemm g = bf16Gemm;
        if (g == null) {
            synchronized (Kernels.class) {
                if (bf16Gemm == null) bf16Gemm = Bf16GemmBackends.best();
                g = bf16Gemm;
            }
        }
        return g;
    }

    public static void useBf16Gemm(Bf16Gemm g) {
        bf16Gemm = g;
    }
}
