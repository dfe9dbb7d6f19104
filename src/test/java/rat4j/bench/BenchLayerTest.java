package rat4j.bench;

import org.junit.jupiter.api.Test;
import rat4j.model.LayerKind;
import rat4j.model.LayerSpec;
import rat4j.model.ParameterLayout;
import rat4j.nn.AttentionLayer;
import rat4j.nn.RatLayer;
import rat4j.nn.RnnLayer;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BenchLayerTest {
    @Test void parsesTheNamesItPrints() {
        assertEquals(BenchLayer.rat(16), BenchLayer.parse("rat-16"));
        assertEquals(BenchLayer.rat(16), BenchLayer.parse(" RAT16 "));
        assertEquals(BenchLayer.window(1024), BenchLayer.parse("window-1024"));
        assertEquals(BenchLayer.window(512), BenchLayer.parse("swa-512"));
        assertEquals(BenchLayer.attention(), BenchLayer.parse("attention"));
        assertEquals(BenchLayer.rnn(), BenchLayer.parse("rnn"));
        for (BenchLayer l : BenchLayer.paperSet()) assertEquals(l, BenchLayer.parse(l.name()));
        assertEquals(List.of("attention", "rat-16", "rat-64", "rat-128", "rnn", "window-1024"),
                BenchLayer.paperSet().stream().map(BenchLayer::name).toList());
    }

    @Test void badNamesSayWhatIsExpected() {
        assertEquals("unknown layer 'mamba' (expected attention, rat-L, rnn or window-W)",
                assertThrows(IllegalArgumentException.class, () -> BenchLayer.parse("mamba")).getMessage());
        assertEquals("layer 'rat-x': expected rat-N with a positive integer N",
                assertThrows(IllegalArgumentException.class, () -> BenchLayer.parse("rat-x")).getMessage());
        assertEquals("layer 'window-0': N must be >= 1",
                assertThrows(IllegalArgumentException.class, () -> BenchLayer.parse("window-0")).getMessage());
        assertThrows(IllegalArgumentException.class, () -> new BenchLayer(LayerKind.RNN, 3));
        assertThrows(IllegalArgumentException.class, () -> new BenchLayer(LayerKind.RAT, 0));
    }

    @Test void fromAConfigCell() {
        assertEquals(BenchLayer.rat(16), BenchLayer.of(LayerSpec.rat(4, 16, 2)));
        assertEquals(BenchLayer.window(64), BenchLayer.of(LayerSpec.localAttention(4, 64)));
        assertEquals(BenchLayer.rnn(), BenchLayer.of(LayerSpec.rnn(100)));
        assertEquals(BenchLayer.attention(), BenchLayer.of(LayerSpec.attention(8)));
    }

    @Test void buildsTheModelsLayerWithItsParameters() {
        int c = 32, h = 4;
        assertInstanceOf(RatLayer.class, BenchLayer.rat(8).build(c, h, 1).mixer());
        assertInstanceOf(AttentionLayer.class, BenchLayer.window(8).build(c, h, 1).mixer());
        assertInstanceOf(RnnLayer.class, BenchLayer.rnn().build(c, h, 1).mixer());
        for (BenchLayer l : BenchLayer.paperSet()) {
            BenchLayer.Built b = l.build(c, h, 7);
            ParameterLayout layout = ParameterLayout.of(l.config(c, h));
            assertEquals(layout.totalSize(), b.params().length, l.name());
            assertEquals(b.params().length, b.grads().length);
            int inProj = layout.entry("backbone.layers.0.seq_layer.in_proj.weight").shape()[0];
            assertEquals(l.projWidth(c, h), inProj, l + ": the cost model's in_proj width");
            // the layer runs: forward, backward and a step on its own weights
            float[] inp = LayerBench.gaussian(2 * 5 * c, 3, 0.02f), out = new float[inp.length];
            b.mixer().forward(inp, out, 2, 5);
            float[] dout = new float[inp.length], dinp = new float[inp.length];
            java.util.Arrays.fill(dout, 1f);
            b.mixer().backward(dout, dinp, b.grads());
            assertNotEquals(0f, b.grads()[layout.entry("backbone.layers.0.seq_layer.out_proj.weight").offset()], l.name());
            assertTrue(Float.isFinite(out[out.length - 1]));
        }
    }
}
