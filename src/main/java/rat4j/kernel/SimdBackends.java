package rat4j.kernel;

import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Chooses between the Vector API implementation of a kernel interface (registered in META-INF/services, so this
 * package never imports kernel.simd) and its naive reference: the Vector API one unless it cannot load or the
 * environment variable / system property names "naive". Says at start-up which it took.
 */
final class SimdBackends {
    private SimdBackends() {}

    /**
     * @param what     the kernel family, e.g. "attention"; the override is RAT4J_WHAT / -Drat4j.what
     * @param naive    the scalar reference
     * @param nameOf   the chosen implementation's name, for the start-up line
     */
    static <T> T best(Class<T> type, String what, Supplier<T> naive, Function<T, String> nameOf) {
        String env = "RAT4J_" + what.toUpperCase(java.util.Locale.ROOT);
        String requested = System.getProperty("rat4j." + what, System.getenv(env));
        if ("naive".equals(requested)) return announce(what, naive.get(), nameOf, "requested by " + env);
        if (requested != null && !requested.isEmpty() && !requested.equals("java")) {
            throw new IllegalArgumentException(what + " backend '" + requested + "' unknown (" + env + " takes java or naive)");
        }
        String why;
        try {
            for (T t : ServiceLoader.load(type, SimdBackends.class.getClassLoader())) return announce(what, t, nameOf, "");
            why = "no implementation registered";
        } catch (ServiceConfigurationError | LinkageError e) {
            why = "the Vector API did not load (run with --add-modules jdk.incubator.vector): " + e.getMessage();
        }
        return announce(what, naive.get(), nameOf, why);
    }

    private static <T> T announce(String what, T t, Function<T, String> nameOf, String why) {
        System.err.println("rat4j: " + what + " " + nameOf.apply(t) + (why.isEmpty() ? "" : " (" + why + ")"));
        return t;
    }
}
