package rat4j.kernel;

import java.util.List;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class GemmBackendsTest {
    /** A provider that is never available, to check the messages. */
    private static final GemmProvider MISSING = new GemmProvider() {
        @Override public String name() { return "missing"; }
        @Override public int rank() { return 99; }
        @Override public Availability probe() { return Availability.no("libmissing.so not found (apt-get install it)"); }
        @Override public Gemm create() { throw new IllegalStateException("unavailable"); }
    };

    @Test
    void registersTheProvidersFastestFirst() {
        List<GemmProvider> providers = GemmBackends.providers();
        assertEquals(java.util.Set.of("openblas", "java", "naive", "onednn-bf16"), providers.stream().map(GemmProvider::name).collect(java.util.stream.Collectors.toSet()));
        for (int i = 1; i < providers.size(); i++) assertTrue(providers.get(i - 1).rank() >= providers.get(i).rank(), "ranked order");
        // openblas ranks first among the fp32 ones unless the environment pins OPENBLAS_CORETYPE below this CPU's
        // AVX-512 (see OpenBlasProvider); only onednn-bf16 rounds operands, which keeps it out of the default choice.
        assertEquals("naive", providers.getLast().name());
        assertEquals(List.of("onednn-bf16"), providers.stream().filter(GemmProvider::bf16Operands).map(GemmProvider::name).toList());
    }

    @Test
    void theDefaultNeverRoundsOperandsToBf16() {
        GemmProvider bf16First = new GemmProvider() {
            @Override public String name() { return "bf16-first"; }
            @Override public int rank() { return 99; }
            @Override public boolean bf16Operands() { return true; }
            @Override public Availability probe() { return Availability.yes("always"); }
            @Override public Gemm create() { return new Bf16Autocast(new NaiveGemm()); }
        };
        GemmBackends.Choice c = GemmBackends.choose(null, null, List.of(bf16First, new NaiveGemmProvider()));
        assertInstanceOf(NaiveGemm.class, c.gemm());
        assertInstanceOf(Bf16Autocast.class, GemmBackends.choose("bf16-first", "a test", List.of(bf16First, new NaiveGemmProvider())).gemm());
    }

    @Test
    void byNameFindsNaiveAndJava() {
        assertInstanceOf(NaiveGemm.class, GemmBackends.byName("naive"));
        assertTrue(GemmBackends.byName(" Java ").name().startsWith("java-vector("));
    }

    @Test
    void unknownNameListsTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GemmBackends.byName("cublas"));
        String known = String.join(", ", GemmBackends.providers().stream().map(GemmProvider::name).toList());
        assertEquals("unknown gemm backend 'cublas' (known: " + known + ")", e.getMessage());
    }

    @Test
    void missingBackendFailsWithItsHint() {
        List<GemmProvider> providers = List.of(MISSING, new NaiveGemmProvider());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> GemmBackends.byName("missing", providers));
        assertEquals("gemm backend 'missing' unavailable: libmissing.so not found (apt-get install it)", e.getMessage());
    }

    @Test
    void bestSkipsUnavailableAndSaysWhy() {
        GemmBackends.Choice c = GemmBackends.choose(null, null, List.of(MISSING, new NaiveGemmProvider()));
        assertInstanceOf(NaiveGemm.class, c.gemm());
        assertTrue(c.why().contains("missing unavailable: libmissing.so not found"), c.why());
    }

    @Test
    void overrideWinsOverRank() {
        GemmBackends.Choice c = GemmBackends.choose("naive", "-Drat4j.gemm", GemmBackends.providers());
        assertInstanceOf(NaiveGemm.class, c.gemm());
        assertEquals("requested by -Drat4j.gemm", c.why());
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> GemmBackends.choose("missing", "RAT4J_GEMM", List.of(MISSING, new NaiveGemmProvider())));
        assertEquals("gemm backend 'missing' unavailable: libmissing.so not found (apt-get install it), requested by RAT4J_GEMM",
                e.getMessage());
    }

    @Test
    void bestIsTheFirstAvailableFp32BackendAndStable() {
        assumeTrue(System.getProperty(GemmBackends.PROPERTY) == null && System.getenv(GemmBackends.ENV) == null,
                "a backend is requested explicitly");
        Gemm best = GemmBackends.best();
        GemmProvider first = GemmBackends.providers().stream().filter(p -> !p.bf16Operands() && p.probe().available()).findFirst().orElseThrow();
        assertEquals(first.create().name(), best.name());
        assertTrue(best == GemmBackends.best(), "best() chooses once");
    }
}
