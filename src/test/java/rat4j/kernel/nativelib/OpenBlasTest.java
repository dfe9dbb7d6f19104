package rat4j.kernel.nativelib;

import java.util.List;
import java.util.Locale;
import java.util.Set;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import rat4j.kernel.GemmConformance;
import rat4j.kernel.Parallel;
import rat4j.kernel.GemmConformance.Shape;
import rat4j.kernel.GemmProvider.Availability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

class OpenBlasTest {
    /** OpenBLAS's kernel families without AVX2: what 0.3.21 falls back to on CPUs it does not know. */
    private static final Set<String> PRE_AVX2 = Set.of("prescott", "core2", "penryn", "dunnington", "nehalem",
            "sandybridge", "atom", "nano", "opteron", "opteron_sse3", "barcelona", "bobcat", "bulldozer", "piledriver",
            "steamroller", "excavator", "katmai", "coppermine", "northwood", "banias", "athlon", "generic", "unknown");

    private static OpenBlas blas;

    @BeforeAll
    static void load() {
        Availability av = OpenBlas.probe();
        // Skip only when the library is not installed; any other failure to load it is a test failure.
        assumeFalse(!av.available() && av.detail().startsWith(OpenBlas.LIBRARY + " not found"), av.detail());
        assertTrue(av.available(), av.detail());
        blas = OpenBlas.create();
    }

    @Test
    void matchesNaive() {
        List<Shape> shapes = GemmConformance.shapes(
                0, 5, 3, 5, 0, 3, 4, 6, 0,
                1, 1, 1,
                1, 33, 17,
                13, 1, 9,
                13, 33, 7,
                25, 47, 31,
                11, 31, 257,
                200, 70, 300,
                37, 65, 513);
        assertEquals(12 * shapes.size(), GemmConformance.check(blas, shapes, 11));
    }

    @Test
    void usesVectorKernelsOnThisCpu() {
        Set<String> flags = OpenBlas.cpuFlags();
        String core = blas.coreName().toLowerCase(Locale.ROOT);
        if (flags.contains("avx2") && flags.contains("fma")) {
            assertFalse(PRE_AVX2.contains(core), "OpenBLAS fell back to " + blas.coreName() + " kernels on a CPU with avx2");
        }
        assertTrue(blas.threads() >= 1, "threads " + blas.threads());
        assertTrue(blas.name().startsWith("openblas " + blas.version() + " (" + blas.coreName()), blas.name());
    }

    @Test
    void threadCountSwitchesSafelyUnderConcurrentCalls() throws Exception {
        // 40^3 runs on one OpenBLAS thread, 200^3 on all of them; calls from the pool always on one.
        Shape[] sizes = {new Shape(40, 40, 40), new Shape(200, 200, 200), new Shape(9, 130, 70)};
        assertTrue(2L * 40 * 40 * 40 < OpenBlas.SINGLE_THREAD_FLOPS && 2L * 200 * 200 * 200 >= OpenBlas.SINGLE_THREAD_FLOPS);
        int callers = 3, rounds = 4;
        assertEquals((callers + Parallel.threads()) * rounds * sizes.length,
                GemmConformance.checkConcurrent(blas, sizes, callers, rounds));
    }

    @Test
    void rejectsBadArguments() {
        GemmConformance.checkRejectsBadArguments(blas);
    }
}
