package rat4j.bench;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InterferenceTest {
    @Test void parsesTheAggregateCpuLine() {
        assertArrayEquals(new long[] {789617, 0, 139179, 207770, 954, 0, 1802, 0},
                Interference.parseCpuLine("cpu  789617 0 139179 207770 954 0 1802 0 0 0"));
        assertThrows(IllegalArgumentException.class, () -> Interference.parseCpuLine("cpu0 1 2 3 4 5"));
        assertThrows(IllegalArgumentException.class, () -> Interference.parseCpuLine("cpu 1 2"));
    }

    @Test void othersAreTheBusyShareWeDidNotUse() {
        // 1 s on 2 CPUs: 200 ticks, 150 busy; we used 0.5 CPU-s of the 2 available: others used 0.75 - 0.25 = 0.5
        Interference.Snapshot a = new Interference.Snapshot(1000, 5000, 0, 0);
        Interference.Snapshot b = new Interference.Snapshot(1150, 5200, 500_000_000L, 1_000_000_000L);
        assertEquals(0.5, Interference.othersShare(a, b, 2), 1e-12);
        // we used everything the counters saw: nothing left for others (clamped at 0, never negative)
        assertEquals(0, Interference.othersShare(a, new Interference.Snapshot(1150, 5200, 2_000_000_000L, 1_000_000_000L), 2));
        assertTrue(Double.isNaN(Interference.othersShare(new Interference.Snapshot(-1, -1, 0, 0), b, 2)), "unknown without /proc/stat");
        assertTrue(Double.isNaN(Interference.othersShare(a, a, 2)), "no time passed");
        Interference.Snapshot now = Interference.now();
        assertTrue(now.wallNanos() > 0);
    }
}
