package rat4j.kernel;

import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * Chooses the attention kernels: the Vector API implementation (registered in META-INF/services, so this package
 * never imports kernel.simd) unless it cannot load or RAT4J_ATTENTION / -Drat4j.attention says "naive".
 * Says at start-up which it took.
 */
public final class AttentionBackends {
    private AttentionBackends() {}

    public static Attention best() {
        String requested = System.getProperty("rat4j.attention", System.getenv("RAT4J_ATTENTION"));
        if ("naive".equals(requested)) return announce(new NaiveAttention(), "requested by RAT4J_ATTENTION");
        if (requested != null && !requested.isEmpty() && !requested.equals("java")) {
            throw new IllegalArgumentException("attention backend '" + requested + "' unknown (RAT4J_ATTENTION takes java or naive)");
        }
        String why;
        try {
            for (Attention a : ServiceLoader.load(Attention.class)) return announce(a, "");
            why = "no implementation registered";
        } catch (ServiceConfigurationError | LinkageError e) {
            why = "the Vector API did not load (run with --add-modules jdk.incubator.vector): " + e.getMessage();
        }
        return announce(new NaiveAttention(), why);
    }

    private static Attention announce(Attention a, String why) {
        System.err.println("rat4j: attention " + a.name() + (why.isEmpty() ? "" : " (" + why + ")"));
        return a;
    }
}
