package rat4j.kernel;

/** The scalar reference as a selectable backend ("naive"): always available, never chosen by best() over another. */
public final class NaiveGemmProvider implements GemmProvider {
    @Override public String name() { return "naive"; }

    @Override public int rank() { return 0; }

    @Override public Availability probe() { return Availability.yes("scalar reference"); }

    @Override public Gemm create() { return new NaiveGemm(); }
}
