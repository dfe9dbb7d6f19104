package rat4j.train;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class CosineScheduleTest {
    @Test void keyStepsFollowTheReferenceFormula() {
        double lr = 8e-4, eta = 1e-6;
        CosineSchedule s = CosineSchedule.of(lr, 0.05, 1000, eta);
        assertEquals(50, s.warmupSteps(), "int(0.05 * 1000)");
        assertEquals(lr / 50, s.at(0), 1e-15, "warmup starts at 1/W of the peak, not 0");
        assertEquals(lr * 25 / 50, s.at(24), 1e-15);
        assertEquals(lr, s.at(49), 1e-15, "the last warmup step reaches the peak");
        assertEquals(lr, s.at(50), 1e-15, "the cosine starts at the peak");
        assertEquals(eta + (lr - eta) / 2, s.at(50 + 475), 1e-15, "half way through the cosine");
        assertEquals(eta + (lr - eta) * (1 + Math.cos(Math.PI * 949 / 950)) / 2, s.at(999), 1e-15);
        for (long t = 51; t < 1000; t++) assertEquals(true, s.at(t) < s.at(t - 1), "decreasing after warmup, step " + t);
    }

    @Test void warmupIsTruncatedLikePythonsInt() {
        assertEquals(0, CosineSchedule.of(1e-3, 0.05, 19, 0).warmupSteps());
        assertEquals(1, CosineSchedule.of(1e-3, 0.05, 20, 0).warmupSteps());
        CosineSchedule none = CosineSchedule.of(1e-3, 0, 10, 1e-5);
        assertEquals(1e-3, none.at(0), 1e-18, "no warmup: the first step is the peak");
        CosineSchedule one = CosineSchedule.of(1e-3, 0.05, 1, 0);
        assertEquals(1e-3, one.at(0), 1e-18, "a one-step run");
    }

    @Test void badSchedulesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> CosineSchedule.of(1e-3, 1.0, 10, 0));
        assertThrows(IllegalArgumentException.class, () -> CosineSchedule.of(1e-3, 0.1, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> CosineSchedule.of(1e-3, 0.1, 10, 1e-2));
        assertThrows(IllegalArgumentException.class, () -> CosineSchedule.of(1e-3, 0.1, 10, 0).at(10));
    }
}
