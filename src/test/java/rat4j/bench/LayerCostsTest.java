package rat4j.bench;

import org.junit.jupiter.api.Test;
import rat4j.nn.SequenceMixer;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The FLOP/byte model against closed forms and against the layers' own cache sizes. */
class LayerCostsTest {
    /** A fixed machine, so that ideal times are reproducible: 300 GFLOP/s, 20 GB/s. */
    static final Machine M = new Machine("test", "test", 2, 300, 20);

    static double groupFlops(Cost c, String group) {
        return c.parts().stream().filter(p -> p.group().equals(group)).mapToDouble(Cost.Part::flops).sum();
    }

    @Test void pairsMatchClosedForms() {
        for (int t : new int[] {1, 2, 7, 16, 33, 1024}) {
            assertEquals((long) t * (t + 1) / 2, BenchLayer.attention().pairs(t), "attention T=" + t);
            assertEquals(0, BenchLayer.rnn().pairs(t));
            for (int w : new int[] {1, 3, 16, 5000}) {
                long want = 0; // query i sees keys i-w..i: min(i, w) + 1
                for (int i = 0; i < t; i++) want += Math.min(i, w) + 1;
                assertEquals(want, BenchLayer.window(w).pairs(t), "window " + w + " T=" + t);
            }
            for (int l : new int[] {1, 4, 16}) {
                long full = t / l, rest = t % l; // n full chunks: chunk j's L queries see j finals and their own state
                long want = l * (full * (full + 1) / 2) + rest * (full + 1);
                assertEquals(want, BenchLayer.rat(l).pairs(t), "rat L=" + l + " T=" + t);
            }
        }
        assertEquals(256, BenchLayer.rat(16).keysAt(4095), "255 finals and the own state");
        assertEquals(4096, BenchLayer.attention().keysAt(4095));
        assertEquals(1025, BenchLayer.window(1024).keysAt(4095));
        assertEquals(3, BenchLayer.window(1024).keysAt(2));
    }

    @Test void forwardCountsTheProjectionsAndTheScores() {
        int b = 3, t = 40, c = 32, h = 4, n = b * t;
        Cost f = LayerCosts.forward(BenchLayer.attention(), c, h, b, t);
        assertEquals(2.0 * n * c * 3 * c + 2.0 * n * c * c, groupFlops(f, Cost.GEMM), "8 C^2 per token");
        assertEquals(4.0 * b * c * t * (t + 1) / 2, groupFlops(f, Cost.ATTENTION), "2 C (T+1) per token");
        Cost r = LayerCosts.forward(BenchLayer.rat(8), c, h, b, t);
        int width = 3 * c + 2 * BenchLayer.RAT_GROUPS * (c / h);
        assertEquals(2.0 * n * c * width + 2.0 * n * c * c, groupFlops(r, Cost.GEMM), "RAT's in_proj has the 2GD q/k rows");
        assertEquals(4.0 * b * c * BenchLayer.rat(8).pairs(t), groupFlops(r, Cost.ATTENTION));
        assertEquals(0, groupFlops(LayerCosts.forward(BenchLayer.rnn(), c, h, b, t), Cost.ATTENTION));
        assertEquals(0, f.parts().stream().filter(p -> p.group().equals(Cost.ELEMENTWISE)).mapToDouble(Cost.Part::flops).sum(), "bytes only");
    }

    @Test void trainIsForwardPlusATwiceAsCostlyGemmAndTwoAndAHalfTimesAttentionBackward() {
        int b = 2, t = 64, c = 64, h = 4;
        for (BenchLayer l : BenchLayer.paperSet()) {
            Cost fwd = LayerCosts.forward(l, c, h, b, t), train = LayerCosts.of(l, Phase.TRAIN, c, h, b, t);
            assertEquals(3 * groupFlops(fwd, Cost.GEMM), groupFlops(train, Cost.GEMM), 1e-6, l.name());
            assertEquals(3.5 * groupFlops(fwd, Cost.ATTENTION), groupFlops(train, Cost.ATTENTION), 1e-6, l.name());
            assertTrue(train.bytes() > 2 * fwd.bytes(), l.name());
            Cost prefill = LayerCosts.of(l, Phase.PREFILL, c, h, b, t);
            assertEquals(fwd.flops(), prefill.flops(), l.name() + ": filling the cache is a copy");
            assertTrue(prefill.bytes() > fwd.bytes(), l.name());
        }
    }

    @Test void decodeReadsTheWholeCacheItAttendsTo() {
        int c = 64, h = 4, b = 5, t = 100;
        Cost a = LayerCosts.of(BenchLayer.attention(), Phase.GENERATE, c, h, b, t);
        Cost.Part att = a.parts().stream().filter(p -> p.group().equals(Cost.ATTENTION)).findFirst().orElseThrow();
        assertEquals(4.0 * 2 * b * c * t + 4.0 * 2 * b * c, att.bytes(), "keys and values at positions 0..T-1, plus q and out");
        assertEquals(4.0 * b * c * t, att.flops());
        Cost.Part weights = a.parts().getFirst();
        assertEquals(2.0 * b * c * 3 * c, weights.flops());
        assertTrue(weights.bytes() >= 4.0 * 3 * c * c, "a decode step reads every weight");
    }

    /**
     * The arithmetic: at d_model 1024 and T = 16K the FFN-free RAT(16) layer ideally runs ~3.9x faster, counting
     * 8 C^2 + 2 T C against 8 C^2 + 2 T C / L FLOPs per token; RAT's 2GD extra in_proj rows and its element-wise passes
     * (two scans, the gates) bring that to ~3.4x here.
     */
    @Test void idealSpeedupsAtThePaperSizes() {
        int c = 1024, h = 16;
        double prefill = M.idealMs(LayerCosts.of(BenchLayer.attention(), Phase.PREFILL, c, h, 1, 16384))
                / M.idealMs(LayerCosts.of(BenchLayer.rat(16), Phase.PREFILL, c, h, 1, 16384));
        assertTrue(prefill > 3.0 && prefill < 4.2, "prefill ideal " + prefill);
        double train = M.idealMs(LayerCosts.of(BenchLayer.attention(), Phase.TRAIN, c, h, 1, 16384))
                / M.idealMs(LayerCosts.of(BenchLayer.rat(16), Phase.TRAIN, c, h, 1, 16384));
        assertTrue(train > prefill && train < 4.6, "train ideal " + train + ": attention's backward costs 2.5x its forward");
        double gen = M.idealMs(LayerCosts.of(BenchLayer.attention(), Phase.GENERATE, c, h, 64, 4096))
                / M.idealMs(LayerCosts.of(BenchLayer.rat(16), Phase.GENERATE, c, h, 64, 4096));
        assertTrue(gen > 8 && gen < 16, "generation ideal " + gen + ": a 16x smaller cache, plus the weights");
        assertTrue(LayerCosts.of(BenchLayer.attention(), Phase.GENERATE, c, h, 64, 4096).memoryBound(M.flopsPerSecond(), M.bytesPerSecond()));
        assertTrue(!LayerCosts.of(BenchLayer.rat(16), Phase.TRAIN, c, h, 1, 16384).memoryBound(M.flopsPerSecond(), M.bytesPerSecond()));
    }

    @Test void cacheBytesAreWhatTheLayersAllocate() {
        int c = 16, h = 2;
        for (BenchLayer l : List.of(BenchLayer.attention(), BenchLayer.rat(4), BenchLayer.rat(5), BenchLayer.rnn(),
                BenchLayer.window(3), BenchLayer.window(100))) {
            SequenceMixer m = l.build(c, h, 1).mixer();
            for (int b : new int[] {1, 3}) {
                for (int len : new int[] {1, 7, 8, 20}) {
                    assertEquals(m.newCache(b, len).bytes(), LayerCosts.cacheBytes(l, c, b, len), l + " b=" + b + " len=" + len);
                }
            }
        }
    }

    @Test void activationEstimatesGrowWithTrainingAndTokens() {
        for (BenchLayer l : BenchLayer.paperSet()) {
            long f = LayerCosts.activationBytes(l, 64, 4, 2, 100, false), t = LayerCosts.activationBytes(l, 64, 4, 2, 100, true);
            assertTrue(f >= 4L * 2 * 100 * 64 * 4, l + ": at least xn, proj, inp, out");
            assertTrue(t > f, l.name());
            assertEquals(2 * f, LayerCosts.activationBytes(l, 64, 4, 4, 100, false), 4, l + ": linear in the batch");
        }
    }
}
