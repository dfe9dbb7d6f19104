package rat4j.kernel;

/**
 * A GEMM backend that may or may not work on this machine, registered in META-INF/services so that this package
 * never imports the packages that implement it (kernel.simd, kernel.nativelib). {@link GemmBackends} chooses.
 */
public interface GemmProvider {
    /** The name a user selects it by: "openblas", "java", "naive". */
    String name();

    /** Higher is faster on the machines we measured; best() takes the highest-ranked available provider. */
    int rank();

    /**
     * Whether the backend rounds its operands to bf16 (the bf16 compute mode's products). Such a backend changes
     * results, so {@link GemmBackends#best()} never picks it; it is used by name or by {@link Compute#BF16}.
     */
    default boolean bf16Operands() { return false; }

    /** Whether create() will work here and, if not, why (with a hint how to fix it). Never throws. */
    Availability probe();

    /** The backend. Throws IllegalStateException with the probe's reason when it is unavailable. */
    Gemm create();

    /** The outcome of a probe: detail says what was found, or why nothing usable was. */
    record Availability(boolean available, String detail) {
        public static Availability yes(String detail) {
            return new Availability(true, detail);
        }

        public static Availability no(String reason) {
            return new Availability(false, reason);
        }
    }
}
