package rat4j.kernel;

import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * Chooses the bf16-weight product of the decode path: the Vector API implementation (registered in
 * META-INF/services) unless it cannot load or RAT4J_BF16_GEMM / -Drat4j.bf16gemm says "naive". Says which it took.
 */
public final class Bf16GemmBackends {
    private Bf16GemmBackends() {}

    public static Bf16Gemm best() {
        String requested = System.getProperty("rat4j.bf16gemm", System.getenv("RAT4J_BF16_GEMM"));
        if ("naive".equals(requested)) return announce(new NaiveBf16Gemm(), "requested by RAT4J_BF16_GEMM");
        if (requested != null && !requested.isEmpty() && !requested.equals("java")) {
            throw new IllegalArgumentException("bf16 gemm backend '" + requested + "' unknown (RAT4J_BF16_GEMM takes java or naive)");
        }
        String why;
        try {
            for (Bf16Gemm g : ServiceLoader.load(Bf16Gemm.class)) return announce(g, "");
            why = "no implementation registered";
        } catch (ServiceConfigurationError | LinkageError e) {
            why = "the Vector API did not load (run with --add-modules jdk.incubator.vector): " + e.getMessage();
        }
        return announce(new NaiveBf16Gemm(), why);
    }

    private static Bf16Gemm announce(Bf16Gemm g, String why) {
        System.err.println("rat4j: bf16 gemm " + g.name() + (why.isEmpty() ? "" : " (" + why + ")"));
        return g;
    }
}
