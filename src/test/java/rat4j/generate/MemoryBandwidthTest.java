package rat4j.generate;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MemoryBandwidthTest {
    @Test
    void measuresCopyTriadAndReads() {
        MemoryBandwidth.Result r = MemoryBandwidth.measure(1 << 20, 3);
        assertTrue(r.copy() > 0 && r.triad() > 0 && r.read() > 0, r.toString());
        assertTrue(r.best() == Math.max(r.copy(), r.triad()), r.toString());
        assertTrue(r.summary().contains("reads alone"), r.summary());
    }

    @Test
    void refusesEmptyMeasurements() {
        assertThrows(IllegalArgumentException.class, () -> MemoryBandwidth.measure(0, 3));
        assertThrows(IllegalArgumentException.class, () -> MemoryBandwidth.measure(16, 0));
    }
}
