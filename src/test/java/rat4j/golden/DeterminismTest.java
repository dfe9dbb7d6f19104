package rat4j.golden;

import org.junit.jupiter.api.Test;
import rat4j.model.LanguageModel;
import rat4j.model.io.Goldens;
import rat4j.model.io.SafetensorsFile;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * Repeated passes give bit-identical results, before and after the JIT compiles the kernels: a resumed training run
 * starts in a cold JVM and must reproduce the uninterrupted one exactly.
 */
class DeterminismTest {
    @Test
    void repeatedPassesAreBitIdentical() throws IOException {
        for (String name : new String[] {"interleave_rat4_local8_L4_T32", "attention_L2_T32", "rat_c16_L3_T64"}) {
            LanguageModel m = GoldenParityTest.load(name);
            int[] tokens, labels;
            int b, t;
            try (SafetensorsFile io = SafetensorsFile.open(Goldens.io(name))) {
                tokens = io.readInts("input_ids");
                labels = io.readInts("labels");
                b = io.info("input_ids").shape()[0];
                t = io.info("input_ids").shape()[1];
            }
            float[] first = m.score(tokens, labels, b, t).logits();
            float[] firstGrads = new float[m.parameters().length];
            m.forwardBackward(tokens, labels, b, t, firstGrads);
            for (int round = 0; round < 30; round++) {
                assertArrayEquals(first, m.score(tokens, labels, b, t).logits(), name + " logits, round " + round);
            }
            float[] grads = new float[m.parameters().length];
            m.forwardBackward(tokens, labels, b, t, grads);
            assertArrayEquals(firstGrads, grads, name + " gradients");
        }
    }
}
