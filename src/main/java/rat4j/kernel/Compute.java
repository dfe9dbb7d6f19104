package rat4j.kernel;

import java.util.Locale;

/**
 * The precision of the GEMMs of training and prefill. FP32 (the default): fp32 operands. BF16: torch autocast's
 * numbers, operands rounded to bf16, products summed in fp32, fp32 outputs; weights, gradients and optimizer state
 * stay fp32 (the GEMM rounds its copies), and the attention kernels stay fp32. Chosen by -Drat4j.compute, the
 * environment variable RAT4J_COMPUTE (the property wins) or the CLI's --compute.
 */
public enum Compute {
    FP32, BF16;

    public static final String PROPERTY = "rat4j.compute";
    public static final String ENV = "RAT4J_COMPUTE";

    /** "fp32" or "bf16" (any case); source names where the text came from, for the one-line error (null: unnamed). */
    public static Compute parse(String text, String source) {
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "fp32" -> FP32;
            case "bf16" -> BF16;
            default -> throw new IllegalArgumentException("unknown compute mode '" + text + "' (known: fp32, bf16)" + (source == null ? "" : ", from " + source));
        };
    }

    /** The mode the property or environment asks for; FP32 when neither is set. */
    public static Compute fromEnvironment() {
        String prop = System.getProperty(PROPERTY), env = System.getenv(ENV);
        if (prop != null && !prop.isBlank()) return parse(prop, "-D" + PROPERTY);
        if (env != null && !env.isBlank()) return parse(env, ENV);
        return FP32;
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** A GEMM for this mode and why it was chosen. */
    public record Choice(Gemm gemm, String why) {}

    /**
     * FP32: the default backend ({@link GemmBackends#best()}). BF16: the highest-ranked available backend that rounds
     * its operands to bf16 (oneDNN), else {@link Bf16Autocast} over the default fp32 backend, with the reason.
     */
    public Choice choose() {
        if (this == FP32) return new Choice(GemmBackends.best(), "the default");
        StringBuilder missing = new StringBuilder();
        for (GemmProvider p : GemmBackends.providers()) {
            if (!p.bf16Operands()) continue;
            GemmProvider.Availability av = p.probe();
            if (av.available()) return new Choice(p.create(), av.detail());
            missing.append(missing.isEmpty() ? "" : "; ").append(p.name()).append(" unavailable: ").append(av.detail());
        }
        return new Choice(new Bf16Autocast(GemmBackends.best()), (missing.isEmpty() ? "no bf16 library registered" : missing)
                + "; rounding operands in Java, no faster than fp32");
    }
}
