package rat4j.bench;

import org.junit.jupiter.api.Test;
import rat4j.kernel.Kernels;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The sweep on tiny sizes: what it measures, at which batch, and that the breakdown leaves the backends as it found them. */
class LayerBenchTest {
    static final List<BenchLayer> LAYERS = List.of(BenchLayer.attention(), BenchLayer.rat(4), BenchLayer.rnn(), BenchLayer.window(5));

    static LayerBench.Options tiny(boolean breakdown) {
        return new LayerBench.Options(16, 2, 48, 96, List.of(16, 8, 12), LAYERS, List.of(Phase.values()),
                new Sampler(0, 2, 1, 1e-3), breakdown, 5, Machine.Probe.QUICK);
    }

    @Test void measuresEveryLayerPhaseAndLengthAtTheRightBatch() {
        LayerBench.Options o = tiny(false);
        assertEquals(List.of(8, 12, 16), o.lengths(), "sorted");
        StringWriter log = new StringWriter();
        LayerBench.Result r = LayerBench.run(o, LayerCostsTest.M, new PrintWriter(log, true));
        assertEquals(LAYERS.size() * 3 * Phase.values().length, r.rows().size());
        for (LayerBench.Row x : r.rows()) {
            assertTrue(x.measured(), x.toString());
            int want = switch (x.phase()) {
                case TRAIN, PREFILL -> 48 / x.seqLen();
                case GENERATE -> 96 / x.seqLen();
                case GENERATE_ONE -> 1;
            };
            assertEquals(want, x.batch(), x.layer() + " " + x.phase());
            assertEquals(LayerCostsTest.M.idealMs(x.cost()), x.idealMs(), 1e-12);
            assertTrue(x.timing().reps() >= 1 && x.timing().reps() <= 2);
            assertNull(x.split());
            double s = r.speedup(x);
            if (x.layer().equals(BenchLayer.attention())) {
                assertEquals(1, s, 1e-12);
                assertEquals(1, r.idealSpeedup(x), 1e-12);
            } else {
                assertTrue(s > 0 && Double.isFinite(s));
            }
        }
        // lengths outermost: at each T all layers, each with all phases
        assertEquals(8, r.rows().get(0).seqLen());
        assertEquals(BenchLayer.rat(4), r.rows().get(Phase.values().length).layer());
        String progress = log.toString();
        assertTrue(progress.contains("warming up the JIT"), progress);
        assertTrue(progress.contains("[ 48/48] window-5"), progress);
        assertTrue(progress.contains("ETA ~"), progress);
    }

    @Test void breakdownSplitsEachCallAndRestoresTheBackends() {
        var gemm = Kernels.gemm();
        var attention = Kernels.attention();
        LayerBench.Result r = LayerBench.run(tiny(true), LayerCostsTest.M, null);
        assertEquals(gemm, Kernels.gemm());
        assertEquals(attention, Kernels.attention());
        for (LayerBench.Row x : r.rows()) {
            LayerBench.Split s = x.split();
            assertNotNull(s, x.toString());
            assertTrue(s.gemmMs() > 0, x + ": every layer projects");
            assertEquals(x.timing().mean(), s.gemmMs() + s.attentionMs() + s.otherMs(), 1e-9);
            if (x.layer().equals(BenchLayer.rnn())) assertEquals(0, s.attentionMs(), x.toString());
            else assertTrue(s.attentionMs() > 0, x.toString());
            boolean scans = (x.layer().equals(BenchLayer.rnn()) || x.layer().equals(BenchLayer.rat(4))) && !x.phase().decodes();
            assertEquals(scans, !Double.isNaN(s.scanAloneMs()), x.toString());
        }
    }

    @Test void theTimedBackendsDelegate() {
        try (Breakdown bd = Breakdown.install()) {
            assertInstanceOf(Breakdown.TimedGemm.class, Kernels.gemm());
            float[] a = {1, 2, 3, 4}, b = {5, 6, 7, 8}, c = new float[4];
            Kernels.gemm().sgemm(false, false, 2, 2, 2, 1f, a, 0, 2, b, 0, 2, 0f, c, 0, 2);
            assertEquals(List.of(19f, 22f, 43f, 50f), List.of(c[0], c[1], c[2], c[3]));
            assertTrue(bd.gemmMs() > 0);
            bd.reset();
            assertEquals(0, bd.gemmMs());
        }
        assertFalse(Kernels.gemm() instanceof Breakdown.TimedGemm);
    }

    @Test void callsOverlappingOnSeveralThreadsCountOnce() throws Exception {
        Breakdown.Busy busy = new Breakdown.Busy();
        java.util.concurrent.CountDownLatch bothIn = new java.util.concurrent.CountDownLatch(2);
        Runnable call = () -> {
            busy.enter();
            try {
                bothIn.countDown();
                bothIn.await();
                Thread.sleep(50);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            } finally {
                busy.exit();
            }
        };
        long t0 = System.nanoTime();
        Thread a = new Thread(call), b = new Thread(call);
        a.start();
        b.start();
        a.join();
        b.join();
        long wall = System.nanoTime() - t0;
        // Two 50 ms calls side by side: the busy time lies within the wall time, not near 100 ms as a sum would.
        assertTrue(busy.nanos() >= 50_000_000L && busy.nanos() <= wall, busy.nanos() + " ns busy in " + wall + " ns");
    }

    @Test void withMachineRejudgesEveryRow() {
        LayerBench.Options o = new LayerBench.Options(16, 2, 16, 16, List.of(8), List.of(BenchLayer.attention()), List.of(Phase.PREFILL),
                new Sampler(0, 1, 1, 1e-3), false, 5, Machine.Probe.QUICK);
        LayerBench.Result r = LayerBench.run(o, LayerCostsTest.M, null);
        Machine faster = new Machine("x", "y", 2, 600, 40);
        LayerBench.Result r2 = r.withMachine(faster);
        assertEquals(r.rows().getFirst().idealMs() / 2, r2.rows().getFirst().idealMs(), 1e-12);
        assertEquals(r.rows().getFirst().timing(), r2.rows().getFirst().timing());
        Machine best = LayerCostsTest.M.best(new Machine("x", "y", 2, 100, 40));
        assertEquals(List.of(300.0, 40.0), List.of(best.gemmGflops(), best.bandwidthGBs()));
    }

    @Test void heapShortfallNamesWhatIsMissing() {
        assertNull(LayerBench.heapShortfall(1));
        String m = LayerBench.heapShortfall(Long.MAX_VALUE / 2);
        assertTrue(m.startsWith("needs ~") && m.contains("GiB free") && m.contains("-Xmx"), m);
    }

    @Test void optionsAreValidated() {
        LayerBench.Options p = LayerBench.Options.paper();
        assertEquals(List.of(1024, 2048, 4096, 8192, 16384), p.lengths());
        assertEquals(64, p.batch(Phase.GENERATE, 4096), "the paper's batch 64 at 4K");
        assertEquals(4, p.batch(Phase.TRAIN, 4096));
        assertEquals(1, p.batch(Phase.TRAIN, 131072));
        assertEquals("heads must divide d_model 16, got 3", assertThrows(IllegalArgumentException.class,
                () -> new LayerBench.Options(16, 3, 16, 16, List.of(8), LAYERS, List.of(Phase.TRAIN), p.sampler(), false, 1, p.probe())).getMessage());
        assertEquals("head dim 3 must be even (RoPE)", assertThrows(IllegalArgumentException.class,
                () -> new LayerBench.Options(12, 4, 16, 16, List.of(8), LAYERS, List.of(Phase.TRAIN), p.sampler(), false, 1, p.probe())).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new LayerBench.Options(16, 2, 16, 16, List.of(1), LAYERS, List.of(Phase.TRAIN), p.sampler(), false, 1, p.probe())).getMessage()
                .startsWith("sequence lengths must be >= 2"));
        assertThrows(IllegalArgumentException.class,
                () -> new LayerBench.Options(16, 2, 16, 16, List.of(), LAYERS, List.of(Phase.TRAIN), p.sampler(), false, 1, p.probe()));
        assertThrows(ArithmeticException.class, () -> new LayerBench.Options(1 << 14, 16, 1 << 20, 16, List.of(1 << 12), LAYERS,
                List.of(Phase.TRAIN), p.sampler(), false, 1, p.probe()), "(B*T, C) floats beyond one Java array");
    }
}
