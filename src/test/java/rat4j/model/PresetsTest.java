package rat4j.model;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PresetsTest {
    @Test void thePapersModelsAreAsTheReferenceConfigsSay() {
        for (String name : List.of("rat-xl", "attention-xl", "rnn-xl", "attention_localattention_interleave-xl", "rat_localattention_interleave-xl")) {
            ModelConfig c = Presets.get(name);
            assertEquals(32000, c.vocabSize(), name);
            assertEquals(2048, c.dModel(), name);
            assertEquals(24, c.numLayers(), name);
            assertEquals(8192, c.dFfn(), name);
            assertTrue(c.tieEmbedding(), name);
            assertEquals(10000.0, c.ropeBase(), name);
            long params = ParameterLayout.of(c).totalSize();
            assertTrue(params > 1.25e9 && params < 1.32e9, name + " has " + params + " parameters; the paper's models are ~1.3B");
            for (int i = 0; i < c.numLayers(); i++) {
                if (c.layer(i).kind() != LayerKind.RNN) assertEquals(128, c.layer(i).headDim(2048), name + " head dim");
            }
        }
        assertEquals(LayerSpec.rat(16, 16, 2), Presets.get("rat-xl").seqCell());
        assertEquals(PositionEncoding.INTERROPE, Presets.get("rat-xl").pe());
        assertEquals(LayerSpec.rnn(4096), Presets.get("rnn-xl").seqCell());
        assertEquals(PositionEncoding.NONE, Presets.get("rnn-xl").pe());
        assertNull(Presets.get("attention-xl").seqCell1());
        assertEquals(PositionEncoding.ROPE, Presets.get("attention-xl").pe());

        ModelConfig hybrid = Presets.get("rat_localattention_interleave-xl");
        assertEquals(LayerSpec.localAttention(16, 1024), hybrid.seqCell());
        assertEquals(LayerSpec.rat(16, 16, 2), hybrid.seqCell1());
        assertEquals(2, hybrid.interleaveStep());
        assertEquals(LayerKind.RAT, hybrid.layer(0).kind(), "blocks 0, 2, ... use seq_cell1");
        assertEquals(LayerKind.LOCAL_ATTENTION, hybrid.layer(1).kind());
        assertEquals(PositionEncoding.ROPE_INTERROPE, hybrid.pe());
        ModelConfig attnHybrid = Presets.get("attention_localattention_interleave-xl");
        assertEquals(LayerSpec.attention(16), attnHybrid.seqCell1());
        assertEquals(LayerSpec.localAttention(16, 1024), attnHybrid.seqCell());
        assertEquals(PositionEncoding.ROPE, attnHybrid.pe());
    }

    @Test void smallPresetsAreSmallAndCoverEveryKind() {
        int tiny = 0;
        for (String name : Presets.names()) {
            if (!name.endsWith("-tiny")) continue;
            tiny++;
            ModelConfig c = Presets.get(name);
            assertTrue(c.dModel() >= 64 && c.dModel() <= 256, name);
            assertTrue(ParameterLayout.of(c).totalSize() < 2_000_000, name);
        }
        assertEquals(6, tiny);
        for (LayerKind k : LayerKind.values()) {
            assertTrue(Presets.names().stream().anyMatch(n -> n.endsWith("-tiny") && Presets.get(n).seqCell().kind() == k), k.refName);
        }
    }

    @Test void unknownNameListsTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Presets.get("rat-xxl"));
        assertTrue(e.getMessage().startsWith("unknown preset 'rat-xxl' (known: rat-xl, attention-xl, rnn-xl, "), e.getMessage());
        assertTrue(e.getMessage().contains("rat-tiny"));
    }
}
