package rat4j.kernel.nativelib;

import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import rat4j.kernel.Bf16Reference;
import rat4j.kernel.Compute;
import rat4j.kernel.GemmBackends;
import rat4j.kernel.GemmConformance;
import rat4j.kernel.GemmConformance.Shape;
import rat4j.kernel.GemmProvider.Availability;
import rat4j.kernel.Parallel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

class OneDnnTest {
    private static OneDnn dnnl;

    @BeforeAll
    static void load() {
        Availability av = OneDnn.probe();
        // Skip only when the library is not installed (bin/setup installs it, so CI runs these); any other failure fails.
        assumeFalse(!av.available() && av.detail().startsWith(OneDnn.LIBRARY + " not found"), av.detail());
        assertTrue(av.available(), av.detail());
        dnnl = OneDnn.create();
    }

    @Test
    void aMissingLibraryIsReportedNotThrown() {
        assertEquals("libdnnl-absent.so.2 not found (apt-get install libdnnl2)", OneDnn.load("libdnnl-absent.so.2"));
        assertEquals("libm.so.6 could not be used: no symbol dnnl_memory_desc_init_by_strides", OneDnn.load("libm.so.6"));
    }

    @Test
    void matchesTheBf16ReferenceForAllTransposesBetasOffsetsAndOddSizes() {
        List<Shape> shapes = GemmConformance.shapes(
                0, 5, 3, 5, 0, 3, 4, 6, 0,
                1, 1, 1,
                1, 33, 17,
                13, 1, 9,
                13, 33, 7,
                25, 47, 31,
                11, 31, 257,
                200, 70, 300,
                37, 65, 513,
                9, 17, 4099); // a long reduction, which oneDNN may split over threads
        assertEquals(12 * shapes.size(), GemmConformance.check(dnnl, new Bf16Reference(), shapes, 23));
    }

    @Test
    void roundsOperandsToNearestEvenBf16() {
        // 1 + 2^-8 + 2^-10 lies between the bf16 neighbours 1 and 1 + 2^-7, nearer the upper: the product is exact.
        // 1 + 2^-8 is a tie and rounds to even (1); fp32 would keep both.
        float up = 1f + 0x1p-8f + 0x1p-10f, tie = 1f + 0x1p-8f;
        float[] a = {up, tie}, b = {1f, 1f}, c = {Float.NaN};
        dnnl.sgemm(false, false, 1, 1, 2, 1f, a, 0, 2, b, 0, 1, 0f, c, 0, 1);
        assertEquals(1f + 0x1p-7f + 1f, c[0]);
        assertNotEquals(up + tie, c[0]);
    }

    @Test
    void runsFromThePoolAndFromSeveralThreads() throws Exception {
        float[] a = new float[64 * 96], b = new float[96 * 80];
        for (int i = 0; i < a.length; i++) a[i] = (i % 13) / 7f - 0.9f;
        for (int i = 0; i < b.length; i++) b[i] = (i % 11) / 5f - 1.1f;
        float[] want = new float[64 * 80];
        new Bf16Reference().sgemm(false, true, 64, 80, 96, 1f, a, 0, 96, b, 0, 96, 0f, want, 0, 80);
        float[][] got = new float[4][64 * 80];
        Parallel.forRange(4, 1, (from, to) -> {
            for (int t = from; t < to; t++) dnnl.sgemm(false, true, 64, 80, 96, 1f, a, 0, 96, b, 0, 96, 0f, got[t], 0, 80);
        });
        for (float[] g : got) {
            for (int i = 0; i < g.length; i++) assertEquals(want[i], g[i], 1e-4f * (1 + Math.abs(want[i])), "element " + i);
        }
    }

    @Test
    void saysWhatItDispatchesTo() {
        assertTrue(dnnl.version().startsWith("2."), dnnl.version());
        assertTrue(dnnl.name().startsWith("onednn-bf16 " + dnnl.version() + " (" + dnnl.isa()), dnnl.name());
        if (OpenBlas.cpuFlags().contains("avx512_bf16")) {
            assertTrue(dnnl.hasBf16Instructions(), "avx512_bf16 CPU but oneDNN dispatches " + dnnl.isa());
        }
    }

    @Test
    void isTheBf16ModesGemmButNeverTheDefault() {
        assertSame(dnnl, Compute.BF16.choose().gemm());
        assertTrue(!(GemmBackends.best() instanceof OneDnn), GemmBackends.best().name());
        assertSame(dnnl, GemmBackends.byName("onednn-bf16"));
    }
}
