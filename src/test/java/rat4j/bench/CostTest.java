package rat4j.bench;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CostTest {
    static final Cost C = new Cost(List.of(
            new Cost.Part(Cost.GEMM, "a", 1e9, 1e6),          // compute-bound: 1e9 / 1e10 = 0.1 s
            new Cost.Part(Cost.ELEMENTWISE, "b", 0, 4e9),     // memory-bound: 4e9 / 1e10 = 0.4 s
            new Cost.Part(Cost.GEMM, "c", 2e9, 1e9)));        // compute-bound: 0.2 s against 0.1 s of bytes

    @Test void idealTimeIsTheSumOfEachPartsRoofline() {
        assertEquals(0.1 + 0.4 + 0.2, C.idealSeconds(1e10, 1e10), 1e-12);
        assertEquals(3e9, C.flops());
        assertEquals(1e6 + 4e9 + 1e9, C.bytes());
        assertEquals(0.3, C.idealSecondsByGroup(1e10, 1e10).get(Cost.GEMM), 1e-12);
        assertEquals(0.4, C.idealSecondsByGroup(1e10, 1e10).get(Cost.ELEMENTWISE), 1e-12);
        assertTrue(C.memoryBound(1e10, 1e10), "0.4 s bound by bytes against 0.1 + 0.2 by FLOPs");
        assertFalse(C.memoryBound(1e10, 2e10), "0.2 s of bytes against 0.3 of FLOPs");
    }

    @Test void plusAndTimesKeepEveryPart() {
        Cost d = C.plus(C).times(0.5);
        assertEquals(6, d.parts().size());
        assertEquals(C.flops(), d.flops(), 1e-3);
        assertEquals(C.idealSeconds(1e10, 1e10), d.idealSeconds(1e10, 1e10), 1e-12);
    }

    @Test void negativeOrNaNWorkIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> new Cost.Part(Cost.GEMM, "x", -1, 0));
        assertThrows(IllegalArgumentException.class, () -> new Cost.Part(Cost.GEMM, "x", 0, Double.NaN));
        assertEquals(0, new Cost(List.of()).idealSeconds(1, 1));
    }
}
