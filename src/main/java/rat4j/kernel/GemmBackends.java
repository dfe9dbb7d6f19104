package rat4j.kernel;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.ServiceLoader;
import java.util.stream.Collectors;

/**
 * Chooses the GEMM backend among the {@link GemmProvider}s registered with ServiceLoader: the fastest available one,
 * or the one named by -Drat4j.gemm=NAME or the environment variable RAT4J_GEMM (the property wins). Backends that
 * round operands to bf16 are never the default (see {@link Compute}).
 */
public final class GemmBackends {
    public static final String PROPERTY = "rat4j.gemm";
    public static final String ENV = "RAT4J_GEMM";

    private static volatile Gemm best;

    private GemmBackends() {}

    /** The registered providers, highest rank first. */
    public static List<GemmProvider> providers() {
        List<GemmProvider> all = new ArrayList<>();
        ServiceLoader.load(GemmProvider.class, GemmBackends.class.getClassLoader()).forEach(all::add);
        all.sort(Comparator.comparingInt(GemmProvider::rank).reversed());
        return all;
    }

    /**
     * The backend to use when nobody chose one: the override if set, else the fastest available. Chosen once per
     * process; the choice and the reason are printed once to stderr.
     */
    public static Gemm best() {
        Gemm g = best;
        if (g == null) {
            synchronized (GemmBackends.class) {
                if (best == null) {
                    String prop = System.getProperty(PROPERTY), env = System.getenv(ENV);
                    Choice choice = prop != null && !prop.isBlank() ? choose(prop, "-D" + PROPERTY, providers())
                            : env != null && !env.isBlank() ? choose(env, ENV, providers())
                            : choose(null, null, providers());
                    System.err.println("rat4j: gemm " + choice.gemm().name() + ": " + choice.why());
                    best = choice.gemm();
                }
                g = best;
            }
        }
        return g;
    }

    /** The backend called name ("openblas", "java", "naive"); throws a one-line hint when it is unknown or missing. */
    public static Gemm byName(String name) {
        return byName(name, providers());
    }

    /** A chosen backend and why it was chosen. */
    record Choice(Gemm gemm, String why) {}

    /** requested: a backend name or null for the fastest available; source: where the name came from. */
    static Choice choose(String requested, String source, List<GemmProvider> providers) {
        if (requested != null) {
            try {
                return new Choice(byName(requested, providers), "requested by " + source);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(e.getMessage() + ", requested by " + source, e);
            } catch (IllegalStateException e) {
                throw new IllegalStateException(e.getMessage() + ", requested by " + source, e);
            }
        }
        List<String> skipped = new ArrayList<>();
        for (GemmProvider p : providers) {
            if (p.bf16Operands()) continue; // fp32 stays the default; bf16 products only when asked for
            GemmProvider.Availability av = p.probe();
            if (av.available()) {
                String why = skipped.isEmpty() ? "fastest available; " + av.detail() : String.join("; ", skipped);
                return new Choice(p.create(), why + alsoAvailable(providers, p));
            }
            skipped.add(p.name() + " unavailable: " + av.detail());
        }
        throw new IllegalStateException("no gemm backend available: " + String.join("; ", skipped));
    }

    /** Says which faster-by-design backends were ranked below the choice here, and why (their probe's detail). */
    private static String alsoAvailable(List<GemmProvider> providers, GemmProvider chosen) {
        StringBuilder sb = new StringBuilder();
        for (GemmProvider p : providers) {
            if (p == chosen || p.rank() >= chosen.rank() || !p.name().equals("openblas")) continue;
            GemmProvider.Availability av = p.probe();
            if (av.available()) sb.append("; openblas ranked lower here: ").append(av.detail());
        }
        return sb.toString();
    }

    static Gemm byName(String name, List<GemmProvider> providers) {
        String wanted = name.trim().toLowerCase(Locale.ROOT);
        for (GemmProvider p : providers) {
            if (!p.name().equals(wanted)) continue;
            GemmProvider.Availability av = p.probe();
            if (!av.available()) {
                throw new IllegalStateException("gemm backend '" + wanted + "' unavailable: " + av.detail());
            }
            return p.create();
        }
        throw new IllegalArgumentException("unknown gemm backend '" + name + "' (known: "
                + providers.stream().map(GemmProvider::name).collect(Collectors.joining(", ")) + ")");
    }
}
