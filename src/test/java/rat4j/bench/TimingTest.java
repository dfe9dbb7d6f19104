package rat4j.bench;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Timing's robust summaries and the Sampler's stopping rule, on a fake clock. */
class TimingTest {
    @Test void medianAndMadIgnoreOneOutlier() {
        Timing t = new Timing(new double[] {10, 11, 9, 500, 10});
        assertEquals(10, t.median());
        assertEquals(1, t.mad(), "deviations 0, 1, 1, 490, 0");
        assertEquals(0.1, t.spread(), 1e-12);
        assertEquals(9, t.min());
        assertEquals(500, t.max());
        assertEquals(108, t.mean());
        assertEquals(10.5, new Timing(new double[] {11, 10}).median(), "even count: mean of the middle two");
        assertEquals(0, new Timing(new double[] {7}).spread());
        assertEquals(5, new Timing(new double[] {7, 3, 8, 1}).median());
    }

    @Test void samplesAreCopiedAndValidated() {
        double[] s = {1, 2, 3};
        Timing t = new Timing(s);
        s[0] = 100;
        t.samplesMs()[1] = 100;
        assertArrayEquals(new double[] {1, 2, 3}, t.samplesMs());
        assertEquals(t, new Timing(new double[] {1, 2, 3}));
        assertThrows(IllegalArgumentException.class, () -> new Timing(new double[0]));
        assertThrows(IllegalArgumentException.class, () -> new Timing(new double[] {1, -1}));
        assertThrows(IllegalArgumentException.class, () -> new Timing(new double[] {Double.NaN}));
        assertThrows(IllegalArgumentException.class, () -> new Timing(new double[] {Double.POSITIVE_INFINITY}));
    }

    /** A clock that advances by the given call durations (ms), one per call of the timed body. */
    static final class FakeClock {
        final List<Long> marks = new ArrayList<>();
        long now;

        Runnable call(double... ms) {
            AtomicInteger i = new AtomicInteger();
            return () -> now += (long) (ms[Math.min(i.getAndIncrement(), ms.length - 1)] * 1e6);
        }
    }

    @Test void samplerStopsAtRepsOrAtTheBudgetOnceMinRepsAreDone() {
        FakeClock clock = new FakeClock();
        AtomicInteger resets = new AtomicInteger();
        // 2 warm-up calls of 100 ms, then 10 ms calls: 5 reps in 50 ms, well inside a 1 s budget
        AtomicInteger evictions = new AtomicInteger();
        Timing t = new Sampler(2, 5, 1, 1.0).measure(clock.call(100, 100, 10), resets::incrementAndGet, evictions::incrementAndGet, () -> clock.now);
        assertArrayEquals(new double[] {10, 10, 10, 10, 10}, t.samplesMs());
        assertEquals(1, resets.get());
        assertEquals(7, evictions.get()); // before every call, warm-up included
        // 400 ms calls against a 1 s budget: the third call passes it
        t = new Sampler(0, 10, 1, 1.0).measure(clock.call(400), () -> {}, () -> {}, () -> clock.now);
        assertEquals(3, t.reps());
        // a call longer than the budget: min reps still run
        t = new Sampler(0, 10, 2, 1.0).measure(clock.call(5000), () -> {}, () -> {}, () -> clock.now);
        assertEquals(2, t.reps());
        t = new Sampler(0, 10, 1, 1.0).measure(clock.call(5000), () -> {}, () -> {}, () -> clock.now);
        assertEquals(1, t.reps());
    }

    @Test void expectedCallsFollowTheSameRule() {
        Sampler s = new Sampler(1, 10, 2, 1.0);
        assertEquals(1 + 10, s.expectedCalls(0.01));
        assertEquals(1 + 4, s.expectedCalls(0.25));
        assertEquals(1 + 2, s.expectedCalls(30));
        assertEquals(1 + 10, s.expectedCalls(0));
    }

    @Test void samplerRejectsBadPolicies() {
        assertThrows(IllegalArgumentException.class, () -> new Sampler(-1, 1, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(0, 0, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(0, 3, 4, 1));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(0, 3, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(0, 3, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(0, 3, 1, Double.NaN));
    }
}
