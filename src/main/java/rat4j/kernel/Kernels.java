package rat4j.kernel;

/**
 * The process-wide kernel backends, chosen once. The GEMM backend defaults to the fastest available one
 * ({@link GemmBackends#best()}), which says at start-up which it took; the CLI may choose another explicitly.
 */
public final class Kernels {
    private static volatile Gemm gemm;
    private static volatile Compute compute;
    private static volatile Attention attention;
    private static volatile Elementwise elementwise;
    private static volatile DecodeGemm decodeGemm;

    private Kernels() {}

    /** The GEMM of the compute mode ({@link #compute()}), chosen on first use. */
    public static Gemm gemm() {
        Gemm g = gemm;
        if (g == null) {
            synchronized (Kernels.class) {
                if (gemm == null) useCompute(compute());
                g = gemm;
            }
        }
        return g;
    }

    public static void useGemm(Gemm g) {
        gemm = g;
    }

    /** The compute mode: the one set by {@link #useCompute}, else the environment's ({@link Compute#fromEnvironment()}). */
    public static Compute compute() {
        Compute c = compute;
        if (c == null) {
            synchronized (Kernels.class) {
                if (compute == null) compute = Compute.fromEnvironment();
                c = compute;
            }
        }
        return c;
    }

    /**
     * Switches the GEMM to mode's and says so on stderr when it is not the fp32 default (whose backend choice
     * {@link GemmBackends#best()} prints). Returns the GEMM now in use.
     */
    public static synchronized Gemm useCompute(Compute mode) {
        Compute.Choice choice = mode.choose();
        if (mode != Compute.FP32) System.err.println("rat4j: compute " + mode.label() + ": gemm " + choice.gemm().name() + ": " + choice.why());
        compute = mode;
        gemm = choice.gemm();
        return gemm;
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

    /** The decode path's matrix product on packed weights, chosen on first use (RAT4J_DECODEGEMM=naive forces the reference). */
    public static DecodeGemm decodeGemm() {
        DecodeGemm g = decodeGemm;
        if (g == null) {
            synchronized (Kernels.class) {
                if (decodeGemm == null) decodeGemm = SimdBackends.best(DecodeGemm.class, "decodegemm", NaiveDecodeGemm::new, DecodeGemm::name);
                g = decodeGemm;
            }
        }
        return g;
    }

    public static void useDecodeGemm(DecodeGemm g) {
        decodeGemm = g;
    }

    /** Chooses every backend now, so that their start-up lines come before a command's own output (streamed text). */
    public static void chooseAll() {
        gemm();
        attention();
        elementwise();
        decodeGemm();
    }
}
