package rat4j.kernel;

import java.util.List;

import org.junit.jupiter.api.Test;

import rat4j.kernel.GemmConformance.Shape;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Bf16AutocastTest {
    private static final List<Shape> SHAPES = GemmConformance.shapes(
            0, 5, 3, 5, 0, 3, 4, 6, 0,
            1, 1, 1,
            13, 33, 7,
            25, 47, 31,
            11, 31, 257,
            37, 65, 129);

    @Test
    void overNaiveMatchesTheBf16Reference() {
        assertEquals(12 * SHAPES.size(), GemmConformance.check(new Bf16Autocast(new NaiveGemm()), new Bf16Reference(), SHAPES, 31));
    }

    @Test
    void overTheDefaultBackendMatchesTheBf16Reference() {
        assertEquals(12 * SHAPES.size(), GemmConformance.check(new Bf16Autocast(GemmBackends.best()), new Bf16Reference(), SHAPES, 37));
    }

    @Test
    void roundsTheStoredWindowOnly() {
        // (2, 3) window at offset 1 with row stride 4; the NaN around it is never read.
        float n = Float.NaN, up = 1f + 0x1p-8f + 0x1p-10f, tie = 1f + 0x1p-8f;
        float[] x = {n, up, tie, -up, n, 3f, 0x1p-140f, 65504.5f, n};
        assertArrayEquals(new float[] {1f + 0x1p-7f, 1f, -(1f + 0x1p-7f), 3f, Bf16.round(0x1p-140f), 65536f},
                Bf16Autocast.rounded(x, 1, 4, 2, 3));
    }

    @Test
    void computeModesParseAndFallBack() {
        assertEquals(Compute.BF16, Compute.parse(" BF16 ", "a test"));
        assertEquals(Compute.FP32, Compute.parse("fp32", "a test"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Compute.parse("fp16", "--compute"));
        assertEquals("unknown compute mode 'fp16' (known: fp32, bf16), from --compute", e.getMessage());
        assertEquals(GemmBackends.best(), Compute.FP32.choose().gemm());
        // BF16 takes a backend that rounds operands to bf16: oneDNN where installed, else the Java autocast.
        Gemm bf16 = Compute.BF16.choose().gemm();
        assertTrue(bf16 instanceof Bf16Autocast || bf16.name().startsWith("onednn-bf16"), bf16.name());
    }
}
